"""Print {"python": version, "packages": {distribution: version}} for the modules named in argv[1].

Run as a script by the interpreter of a post's kernel (nbpress.execution.provenance), so the versions
are those the post really ran with. Imports nothing from nbpress: the kernel's environment
need not have it.
"""

from __future__ import annotations

import importlib.metadata
import json
import platform
import sys


def versions(modules: list[str]) -> dict[str, str]:
    """Return {distribution name: version} for the installed distributions providing `modules`."""
    providers = importlib.metadata.packages_distributions()
    found: dict[str, str] = {}
    for module in sorted(set(modules) - set(sys.stdlib_module_names)):
        for dist in providers.get(module, []):
            try:
                meta = importlib.metadata.distribution(dist).metadata
            except importlib.metadata.PackageNotFoundError:
                continue
            found[meta["Name"] or dist] = meta["Version"]
    return dict(sorted(found.items(), key=lambda item: item[0].lower()))


if __name__ == "__main__":
    print(json.dumps({"python": platform.python_version(), "packages": versions(json.loads(sys.argv[1]))}))
