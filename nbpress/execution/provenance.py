"""What a post was executed with: when, which Python, and the versions of the packages it imports.

Recorded once, when the post runs, and stored with its cached outputs, so re-rendering a post
never changes the line. Python and the versions are asked of the interpreter the post's
kernel runs in, not assumed from the build's own.
"""

from __future__ import annotations

import ast
import contextlib
import datetime as dt
import json
import os
import re
import shutil
import subprocess
import sys
import threading
from pathlib import Path

from ..errors import WriteError
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


# What a kernel's interpreter has installed (versions_probe.py's answer), asked once per
# environment: {interpreter: answer} in this process, and in the build cache
# (VERSIONS_FILE) while the state of every folder on its sys.path (modified and changed
# times: an install or removal adds or removes entries there), the interpreter itself and the
# environment variables that move sys.path are unchanged.
VERSIONS_FILE = "versions.json"
_ENV_VARIABLES = ("PYTHONPATH", "PYTHONHOME", "PYTHONUSERBASE", "PYTHONNOUSERSITE", "PYTHONSAFEPATH")
_PROBED: dict[str, dict[str, object]] = {}
_PROBING = threading.Lock()


def _interpreter_state(python: str) -> list[object]:
    """Return what, besides its sys.path, decides what the interpreter `python` imports."""
    from .versions_probe import path_state

    return [path_state([python]), [os.environ.get(name) for name in _ENV_VARIABLES]]


def _still_current(answer: object, python: str) -> bool:
    """Return True if a saved probe `answer` of `python` still describes its environment."""
    from .versions_probe import path_state

    if not isinstance(answer, dict) or answer.get("interpreter") != _interpreter_state(python):
        return False
    state = answer.get("state")
    if not isinstance(state, list) or not all(isinstance(e, list) and e for e in state):
        return False
    return path_state([str(entry[0]) for entry in state]) == state


def _probe(python: str, cache: Path | None) -> dict[str, object] | None:
    """Return versions_probe.py's answer for the interpreter `python` (None if it cannot be asked).

    Asked once per environment (see VERSIONS_FILE); `cache` is the build cache folder, if any.
    """
    from .store import Store

    with _PROBING:
        answer = _PROBED.get(python)
        if answer is not None and _still_current(answer, python):
            return answer
        store = Store(cache) if cache is not None else None
        saved = store.read_json(VERSIONS_FILE) if store is not None else None
        answer = saved.get(python) if isinstance(saved, dict) else None
        if not isinstance(answer, dict) or not _still_current(answer, python):
            interpreter = _interpreter_state(python)  # taken first: a change meanwhile asks again
            try:
                proc = subprocess.run(
                    [python, str(_PROBE)], capture_output=True, text=True, timeout=120, check=True
                )
                answer = json.loads(proc.stdout)
            except (OSError, subprocess.SubprocessError, ValueError):
                return None
            if not isinstance(answer, dict):
                return None
            answer["interpreter"] = interpreter
            if store is not None:
                with contextlib.suppress(WriteError):  # a read-only cache asks again next time
                    others = saved if isinstance(saved, dict) else {}
                    store.write_json(VERSIONS_FILE, {**others, python: answer})
        _PROBED[python] = answer
        return answer


def probe_kernels(kernels: set[str], cache: Path) -> None:
    """Probe the environment of each kernel in `kernels` now, keeping the answers in `cache`.

    The build calls it before any kernel starts: the provenance of each post executed then
    (`collect`) reads the answers, and nothing is written to the cache while kernels run.
    """
    for kernel in sorted(kernels):
        python = kernel_python(kernel)
        if python is not None:
            _probe(python, cache)


def package_versions(
    modules: set[str], python: str | None = None, cache: Path | None = None
) -> tuple[str | None, dict[str, str]]:
    """Return (Python version, {distribution: version} of the providers of `modules`) in `python`.

    `python` is an interpreter (default: this one); (None, {}) if it cannot be asked. Its
    environment is probed once (`_probe`; `cache`: the build cache folder that keeps the answer).
    """
    answer = _probe(python or sys.executable, cache)
    providers = answer.get("modules") if answer is not None else None
    version = answer.get("python") if answer is not None else None
    if not isinstance(providers, dict) or not isinstance(version, str):
        return None, {}
    found: dict[str, str] = {}
    for module in sorted(modules):
        pairs = providers.get(module)
        for pair in pairs if isinstance(pairs, list) else []:
            if isinstance(pair, list) and len(pair) == 2:
                found[str(pair[0])] = str(pair[1])
    return version, dict(sorted(found.items(), key=lambda item: item[0].lower()))


def collect(notebook: Notebook, kernel: str = "python3", now: dt.datetime | None = None) -> dict[str, object]:
    """Return the provenance of a notebook executed now by `kernel`: {executed, python, packages}.

    The kernel's environment is probed once per process (the build probes it before kernels
    start, keeping the answer in its cache: probe_kernels).
    """
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
