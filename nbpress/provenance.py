"""What a post was executed with: when, which Python, and the versions of the packages it imports.

Recorded once, when the post runs, and stored with its cached outputs, so re-rendering a post
never changes the line. The versions are those of the environment running the build, which
is the kernel's for the default `python3` kernel of the same virtual environment.
"""

from __future__ import annotations

import ast
import datetime as dt
import importlib.metadata
import platform
import re
import sys
from typing import Any

# IPython syntax that is not Python: magics, shell escapes, help.
_IPYTHON_LINE = re.compile(r"^\s*(%|!|\?)|\?\s*$")
_IMPORT_LINE = re.compile(
    r"^\s*(?:from\s+([A-Za-z_][\w]*)|import\s+([A-Za-z_][\w]*(?:\s*,\s*[A-Za-z_][\w]*)*))"
)


def imported_modules(sources: list[str]) -> set[str]:
    """Return the top-level module names that the code cells import."""
    names: set[str] = set()
    for source in sources:
        code = "\n".join("" if _IPYTHON_LINE.search(line) else line for line in source.splitlines())
        try:
            tree = ast.parse(code)
        except SyntaxError:
            # A cell that is not plain Python (a cell magic, say): read its import lines only.
            for line in code.splitlines():
                match = _IMPORT_LINE.match(line)
                if match:
                    names.update(n.strip() for n in (match.group(1) or match.group(2)).split(","))
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                names.add(node.module.split(".")[0])
    return names


def package_versions(modules: set[str]) -> dict[str, str]:
    """Return {distribution name: version} for the installed distributions providing `modules`."""
    providers = importlib.metadata.packages_distributions()
    versions: dict[str, str] = {}
    for module in sorted(modules - set(sys.stdlib_module_names)):
        for dist in providers.get(module, []):
            try:
                meta = importlib.metadata.distribution(dist).metadata
            except importlib.metadata.PackageNotFoundError:
                continue
            versions[meta["Name"] or dist] = meta["Version"]
    return dict(sorted(versions.items(), key=lambda item: item[0].lower()))


def collect(notebook: Any, now: dt.datetime | None = None) -> dict[str, Any]:
    """Return the provenance of a notebook executed now: {executed, python, packages}."""
    sources = [cell.source for cell in notebook.cells if cell.cell_type == "code"]
    when = (now or dt.datetime.now(dt.UTC)).astimezone(dt.UTC).replace(microsecond=0)
    return {
        "executed": when.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "python": platform.python_version(),
        "packages": package_versions(imported_modules(sources)),
    }


def markdown(provenance: dict[str, Any]) -> str:
    """Return the post's closing provenance line as a Markdown paragraph (class nbpress-provenance)."""
    when = str(provenance.get("executed", "")).replace("T", " ").replace("Z", " UTC")
    parts = [f"Python {provenance.get('python', '?')}"]
    parts += [f"{name} {version}" for name, version in (provenance.get("packages") or {}).items()]
    return f"*Executed {when} with {', '.join(parts)}.*\n{{: .nbpress-provenance }}\n"
