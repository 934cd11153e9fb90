"""The Python that runs build.py: an unsupported version, packages it cannot import, a version change.

Each case as a user meets it: one line on stderr saying what to do, exit code 2 (never 1, which
says a post failed or is stale), no traceback.
"""

from __future__ import annotations

import ast
import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
from importlib.util import find_spec
from pathlib import Path

import pytest

import build
from nbpress import record as records
from nbpress.execution import environment, keys
from nbpress.sources.posts import read_post
from tests.helpers import HANG, REPO, build_cli, build_command, write_post

ACTIVATE = "activate the blog's environment (. .venv/bin/activate)"
INSTALL = "install the requirements (pip install -r requirements.txt)"


def one_line(proc: subprocess.CompletedProcess[str]) -> str:
    """Return the one stderr line of a run that stopped with exit code 2 and printed nothing else."""
    assert (proc.returncode, proc.stdout) == (2, ""), proc.stdout + proc.stderr
    lines = proc.stderr.splitlines()
    assert len(lines) == 1 and "Traceback" not in proc.stderr, proc.stderr
    return lines[0]


def test_the_required_python_is_pyproject_s() -> None:
    required = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["requires-python"]
    assert required == ">=" + ".".join(map(str, build.REQUIRES_PYTHON))


def test_every_pin_installs_on_the_required_python() -> None:
    """requires-python is no older than what each pinned distribution declares (as installed here)."""
    from importlib.metadata import PackageNotFoundError, metadata

    from packaging.specifiers import SpecifierSet

    oldest = ".".join(map(str, build.REQUIRES_PYTHON))
    refused = {}
    for name in environment.read_pins(REPO / "requirements.txt"):
        try:
            needs = (metadata(name).get_all("Requires-Python") or [""])[0]
        except PackageNotFoundError:
            continue
        if needs and not SpecifierSet(needs).contains(oldest):
            refused[name] = needs
    assert refused == {}


@pytest.mark.parametrize("version", [(3, 11, 5), (3, 11, 9), (3, 12, 1), (3, 14, 0), (4, 0, 0)])
def test_a_supported_python_passes(version: tuple[int, int, int]) -> None:
    assert build.python_problem(version) is None


@pytest.mark.parametrize("version", [(3, 11, 2), (3, 11, 4), (3, 10, 14), (3, 9, 2), (3, 6, 15), (2, 7, 18)])
def test_an_older_python_is_named_in_one_line(version: tuple[int, int, int]) -> None:
    problem = build.python_problem(version)
    have = ".".join(map(str, version))
    assert problem == (
        f"nbpress needs Python 3.11.5 or newer, and this is Python {have} ({sys.executable}): "
        f"{ACTIVATE} or run build.py with Python 3.11.5 or newer"
    )


def test_build_py_reaches_its_version_check_on_any_python_3() -> None:
    """Python 3.6 can parse build.py and define its functions: nothing newer stops it before main()."""
    source = (REPO / "build.py").read_text()
    tree = ast.parse(source, feature_version=(3, 6))  # raises SyntaxError on newer syntax
    import __future__

    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module == "__future__":
            for alias in node.names:
                assert getattr(__future__, alias.name).getOptionalRelease() <= (3, 6), alias.name
        if isinstance(node, ast.FunctionDef):
            args = node.args
            annotations = [a.annotation for a in [*args.posonlyargs, *args.args, *args.kwonlyargs]]
            for annotation in [*annotations, node.returns]:
                # Evaluated when the function is defined: list[str] or X | None fails before 3.9/3.10.
                assert (
                    annotation is None
                    or isinstance(annotation, ast.Name | ast.Attribute)
                    or (isinstance(annotation, ast.Constant) and isinstance(annotation.value, str))
                ), f"build.py line {node.lineno}: quote the annotation {ast.unparse(annotation)}"


# Runs build.py as Python 3.9 would (the version it reports), then says what it imported.
# Prints what was imported as the process exits (build.py ends with os._exit, after atexit).
AS_OLD_PYTHON = """
import atexit, json, runpy, sys
sys.version_info = (3, 9, 18, "final", 0)
sys.argv = sys.argv[1:]
ours = lambda: sorted(m for m in sys.modules if m.startswith("nbpress"))
atexit.register(lambda: print(json.dumps({"nbpress": ours()})))
runpy.run_path(sys.argv[0], run_name="__main__")
"""


def test_an_older_python_stops_before_importing_nbpress(blog: Path) -> None:
    command = build_command(blog, jobs=None)
    proc = subprocess.run(
        [sys.executable, "-c", AS_OLD_PYTHON, *command[1:]], capture_output=True, text=True, timeout=HANG
    )
    assert proc.returncode == 2 and json.loads(proc.stdout) == {"nbpress": []}, proc.stdout + proc.stderr
    assert proc.stderr == (
        f"error: nbpress needs Python 3.11.5 or newer, and this is Python 3.9.18 ({sys.executable}): "
        f"{ACTIVATE} or run build.py with Python 3.11.5 or newer\n"
    )


def _named_module(line: str) -> str:
    match = re.search(r"cannot import '([\w.]+)', which nbpress needs", line)
    assert match, line
    return match.group(1)


@pytest.mark.parametrize("args", [(), ("--check",), ("--report",), ("new", "A title")])
def test_outside_the_environment_says_to_activate_it(blog: Path, args: tuple[str, ...]) -> None:
    """`python3 build.py` with no environment active: -S leaves every site-packages off sys.path."""
    if args[:1] == ("new",):
        proc = build_cli(blog, *args[1:], command="new", jobs=None, python=("-S", "-E", "-s"), timeout=HANG)
    else:
        proc = build_cli(blog, *args, jobs=None, python=("-S", "-E", "-s"), timeout=HANG)
    line = one_line(proc)
    assert line.startswith(f"error: this Python ({sys.executable}) cannot import '"), line
    assert line.endswith(f"which nbpress needs: {ACTIVATE} or {INSTALL}"), line
    assert find_spec(_named_module(line)) is not None  # a package the blog's environment holds


def _base_python() -> Path:
    """Return the Python this environment was made from: the one a user gets outside it."""
    version = "{}.{}".format(*sys.version_info[:2])
    return Path(sys.base_prefix) / "bin" / f"python{version}"


@pytest.mark.parametrize("args", [(), ("--check",)])
def test_the_system_python_says_to_activate_the_environment(blog: Path, args: tuple[str, ...]) -> None:
    """`python3 build.py` as typed outside the environment, by the Python it was made from, isolated
    (-I: no user site, no PYTHON* variables, and the script's folder left off sys.path)."""
    python = _base_python()
    if not python.is_file() or sys.prefix == sys.base_prefix:
        pytest.skip("the tests do not run in a virtual environment made from an installed Python")
    probe = subprocess.run([str(python), "-I", "-c", "import nh3, nbformat"], capture_output=True, timeout=60)
    if probe.returncode == 0:
        pytest.skip(f"{python} has the requirements installed system-wide")
    proc = subprocess.run(
        [str(python), "-I", str(REPO / "build.py"), "--root", str(blog), *args],
        capture_output=True,
        text=True,
        timeout=60,
    )
    line = one_line(proc)
    assert line.startswith(f"error: this Python ({python}) cannot import '"), line
    assert line.endswith(f"which nbpress needs: {ACTIVATE} or {INSTALL}"), line
    assert find_spec(_named_module(line)) is not None


def test_the_python3_a_user_types_outside_the_environment_is_one_line(blog: Path) -> None:
    """`python3 build.py --check` with the environment not active: the first python3 on PATH but
    this environment's. Too old (Debian 12's is 3.11.2): the version line; else the module line."""
    here = Path(sys.executable).parent
    path = os.pathsep.join(p for p in os.environ.get("PATH", "").split(os.pathsep) if Path(p) != here)
    found = shutil.which("python3", path=path)
    if found is None:
        pytest.skip("no python3 on PATH outside this environment")
    python = Path(found)
    proc = subprocess.run(
        [str(python), "-I", str(REPO / "build.py"), "--root", str(blog), "--check"],
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": path},
    )
    version = subprocess.run(
        [str(python), "-c", "import sys; print(*sys.version_info[:3], sys.executable)"],
        capture_output=True,
        text=True,
        timeout=60,
    ).stdout.split()
    have, executable = tuple(int(n) for n in version[:3]), version[3]
    if have < build.REQUIRES_PYTHON:
        assert one_line(proc) == (
            f"error: nbpress needs Python 3.11.5 or newer, and this is Python {'.'.join(version[:3])} "
            f"({executable}): {ACTIVATE} or run build.py with Python 3.11.5 or newer"
        )
    elif proc.returncode == 2:
        line = one_line(proc)
        assert line.startswith(f"error: this Python ({executable}) cannot import '"), line
        assert line.endswith(f"which nbpress needs: {ACTIVATE} or {INSTALL}"), line
    else:
        pytest.skip(f"{python} has the requirements installed system-wide")


def test_an_environment_without_the_requirements_says_to_install_them(blog: Path, tmp_path: Path) -> None:
    """An environment made but not filled (or one a `git pull` added a requirement to)."""
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=HANG)
    python = venv / "bin" / "python"
    proc = subprocess.run(
        [str(python), *build_command(blog, jobs=None)[1:]], capture_output=True, text=True, timeout=HANG
    )
    line = one_line(proc)
    assert line.startswith(f"error: this Python ({python}) cannot import '"), line
    assert line.endswith(f"which nbpress needs: the environment {venv} lacks it: {INSTALL}"), line
    assert find_spec(_named_module(line)) is not None


@pytest.mark.parametrize(
    ("statement", "shown"),
    [
        ("from .no_such_stage import run", "ModuleNotFoundError: No module named 'nbpress.no_such_stage'"),
        ("import nbpress.no_such_stage", "ModuleNotFoundError: No module named 'nbpress.no_such_stage'"),
    ],
)
def test_a_missing_module_of_nbpress_itself_keeps_its_traceback(
    tmp_path: Path, statement: str, shown: str
) -> None:
    """A bug in nbpress is not a missing package: its traceback shows where."""
    shutil.copy(REPO / "build.py", tmp_path / "build.py")
    (tmp_path / "nbpress").mkdir()
    (tmp_path / "posts").mkdir()  # a blog's folder, so the command reaches nbpress
    (tmp_path / "nbpress" / "__init__.py").write_text("")
    (tmp_path / "nbpress" / "cli.py").write_text(f"{statement}\n")
    proc = subprocess.run(
        [sys.executable, str(tmp_path / "build.py"), "--root", str(tmp_path), "--check"],
        capture_output=True,
        text=True,
        timeout=HANG,
    )
    assert proc.returncode == 1 and proc.stderr.startswith("Traceback"), proc.stderr
    assert proc.stderr.rstrip().endswith(shown) and "error: this Python" not in proc.stderr


@pytest.mark.skipif(sys.platform == "win32", reason="winreg is there on Windows")
def test_a_standard_module_this_python_lacks_is_named_as_such(tmp_path: Path) -> None:
    """A Python built without a standard module (no libsqlite3-dev, say): no environment has it."""
    shutil.copy(REPO / "build.py", tmp_path / "build.py")
    (tmp_path / "nbpress").mkdir()
    (tmp_path / "posts").mkdir()  # a blog's folder, so the command reaches nbpress
    (tmp_path / "nbpress" / "__init__.py").write_text("")
    (tmp_path / "nbpress" / "cli.py").write_text("import winreg\n")
    proc = subprocess.run(
        [sys.executable, str(tmp_path / "build.py"), "--root", str(tmp_path), "--check"],
        capture_output=True,
        text=True,
        timeout=HANG,
    )
    assert one_line(proc) == (
        f"error: this Python ({sys.executable}) was built without the standard module 'winreg', "
        "which nbpress needs: install a complete Python and make the environment with it"
    )


def _minor() -> str:
    return "{}.{}".format(*sys.version_info[:2])


def test_a_python_change_is_named(blog: Path) -> None:
    path = write_post(blog, "post", "import yaml\nprint(1)")
    post = read_post(path, blog)
    parts = keys.key_parts(post, blog / "posts", environment.environment_fingerprint(blog))
    assert parts["python"] == _minor()
    older: keys.KeyParts = {**parts, "python": "3.10"}
    assert keys.explain(older, parts, post) == f"Python 3.10 -> {_minor()}"
    newer: keys.KeyParts = {**parts, "python": "3.99"}
    assert keys.explain(newer, parts, post) == f"Python 3.99 -> {_minor()}"


@pytest.mark.slow
def test_check_names_the_python_a_committed_post_was_executed_with(blog: Path) -> None:
    """A committed post executed by Python 3.10, checked by this Python."""
    shutil.copy(REPO / "posts" / "SLR_NN.ipynb", blog / "posts" / "SLR_NN.ipynb")
    markdown = blog / "site_src" / "posts" / "SLR_NN.md"
    markdown.parent.mkdir(parents=True, exist_ok=True)
    text = (REPO / "site_src" / "posts" / "SLR_NN.md").read_text(encoding="utf-8")
    published = records.parse(text)
    assert published is not None and published.executed_with is not None
    executed_with: keys.KeyParts = {**published.executed_with, "python": "3.10"}  # type: ignore[typeddict-item]
    # The record such a build writes: its key from its parts, sealed with its own digest.
    text = re.sub(r"(?m)^(    python: ).*$", r"\1'3.10'", text, count=1)
    text = text.replace(published.exec_key, keys.digest_parts(executed_with), 1)
    text = text.replace(published.digest, records.DIGEST_PLACEHOLDER, 1)
    markdown.write_text(records.seal(text), encoding="utf-8")
    proc = build_cli(blog, "--check", jobs=None, timeout=HANG)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert re.search(
        rf"(?m)^stale +posts/SLR_NN\.ipynb: Python 3\.10 -> {re.escape(_minor())}[,:]", proc.stderr
    ), proc.stderr
