"""Print what a post's kernel interpreter has installed, as JSON: its Python version, which
distributions (name, version) provide each top-level module, and the state of its sys.path.

Run as a script by the interpreter of a post's kernel (nbpress.execution.provenance), so the versions
are those the post really ran with. Imports nothing from nbpress: the kernel's environment
need not have it. The state (each folder's times) is taken first, so an install while this
runs is seen by the next build, which compares it (provenance.path_state) before asking again.
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import platform
import site
import sys


def path_state(paths: list[str]) -> list[list[object]]:
    """Return [path, modified ns, changed ns] of each of `paths` (None, None if it is missing)."""
    state: list[list[object]] = []
    for path in paths:
        try:
            found = os.stat(path)
        except (OSError, ValueError):
            state.append([path, None, None])
            continue
        state.append([path, found.st_mtime_ns, found.st_ctime_ns])
    return state


def modules() -> dict[str, list[list[str]]]:
    """Return {top-level module: [[distribution name, version], ...]}, the standard library left out."""
    providers = importlib.metadata.packages_distributions()
    known: dict[str, list[str] | None] = {}
    found: dict[str, list[list[str]]] = {}
    for module in sorted(set(providers) - set(sys.stdlib_module_names)):
        for dist in providers[module]:
            if dist not in known:
                try:
                    meta = importlib.metadata.distribution(dist).metadata
                    known[dist] = [meta["Name"] or dist, meta["Version"]]
                except importlib.metadata.PackageNotFoundError:
                    known[dist] = None
            pair = known[dist]
            if pair is not None:
                found.setdefault(module, []).append(pair)
    return found


if __name__ == "__main__":
    paths = [p for p in sys.path if p] + [site.getusersitepackages()]
    state = path_state(paths)
    print(json.dumps({"python": platform.python_version(), "state": state, "modules": modules()}))
