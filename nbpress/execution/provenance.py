"""What a post was executed with: when, which Python, and the versions of the packages it imports.

Recorded once, when the post runs, and stored with its cached outputs, so re-rendering a post
never changes the line. Python and the versions are asked of the interpreter the post's
kernel runs in, not assumed from the build's own.
"""

from __future__ import annotations

import ast
import datetime as dt
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

from ..notebook import Notebook

# Run by the kernel's interpreter; it imports nothing from nbpress.
_PROBE = Path(__file__).with_name("versions_probe.py")

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


def kernel_python(kernel: str) -> str | None:
    """Return the interpreter a Python kernel runs in, resolved as jupyter_client does, or None."""
    from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel

    try:
        spec = KernelSpecManager().get_kernel_spec(kernel)
    except NoSuchKernel:
        return None
    if str(spec.language).lower() != "python" or not spec.argv:
        return None
    command = str(spec.argv[0])
    major, minor = sys.version_info[:2]
    if command in {"python", f"python{major}", f"python{major}.{minor}"}:
        return sys.executable
    return command if Path(command).is_absolute() else shutil.which(command)


def package_versions(modules: set[str], python: str | None = None) -> tuple[str | None, dict[str, str]]:
    """Return (Python version, {distribution: version} of the providers of `modules`) in `python`.

    `python` is an interpreter (default: this one); (None, {}) if it cannot be asked.
    """
    try:
        proc = subprocess.run(
            [python or sys.executable, str(_PROBE), json.dumps(sorted(modules))],
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        )
        found = json.loads(proc.stdout)
        return str(found["python"]), {str(k): str(v) for k, v in found["packages"].items()}
    except (OSError, subprocess.SubprocessError, ValueError, KeyError, TypeError, AttributeError):
        return None, {}


def collect(notebook: Notebook, kernel: str = "python3", now: dt.datetime | None = None) -> dict[str, object]:
    """Return the provenance of a notebook executed now by `kernel`: {executed, python, packages}."""
    sources = [cell.source for cell in notebook.cells if cell.cell_type == "code"]
    when = (now or dt.datetime.now(dt.UTC)).astimezone(dt.UTC).replace(microsecond=0)
    python = kernel_python(kernel)
    version, packages = package_versions(imported_modules(sources), python) if python else (None, {})
    return {
        "executed": when.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "kernel": kernel,
        "python": version,
        "packages": packages,
    }
