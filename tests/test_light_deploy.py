"""A light deploy: `build.py --check` decides staleness with only requirements-site.txt installed.

The execution key holds, for each distribution a post imports, the version it executes with: the
installed one, else (not installed here) its exact pin, which the execute job installs. So the
check needs the sources, the pins and the committed records, not torch or TensorFlow.
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from packaging.requirements import Requirement

from nbpress.execution import environment, keys
from nbpress.sources.posts import read_post
from tests.helpers import REPO, write_post

SITE = REPO / "requirements-site.txt"


def test_requirements_txt_includes_the_site_s_so_their_pins_cannot_drift() -> None:
    """One pin per distribution: the site's pins are read through requirements.txt's `-r`."""
    full = (REPO / "requirements.txt").read_text(encoding="utf-8").splitlines()
    assert "-r requirements-site.txt" in full
    site = environment.read_pins(SITE)
    assert site and {"mkdocs", "mkdocs-material", "nbformat", "packaging"} <= set(site)
    pins = environment.read_pins(REPO / "requirements.txt")
    assert {d: pins[d] for d in site} == site
    assert {"torch", "nbclient", "ipykernel"} <= set(pins) - set(site)
    named = [environment.canonical_name(Requirement(line).name) for line in full if line[:1].isalnum()]
    assert not set(named) & set(site), "pinned in both files"
    assert all(spec.startswith("==") for spec in pins.values())


def _closure(names: set[str]) -> set[str]:
    """Return `names` and every distribution they require (installed here), canonical names."""
    found: set[str] = set()
    todo = list(names)
    while todo:
        name = todo.pop()
        if name in found:
            continue
        found.add(name)
        for line in importlib.metadata.requires(name) or []:
            req = Requirement(line)
            if req.marker is None or req.marker.evaluate({"extra": ""}):
                todo.append(environment.canonical_name(req.name))
    return found


# Prints what was imported as the process exits (build.py ends with os._exit, after atexit).
PROBE = """
import atexit, json, runpy, sys
sys.argv = sys.argv[1:]
atexit.register(lambda: print(json.dumps(sorted({m.partition(".")[0] for m in sys.modules}))))
runpy.run_path(sys.argv[0], run_name="__main__")
"""


@pytest.mark.slow
def test_check_imports_nothing_the_site_requirements_do_not_install() -> None:
    """The real blog, whose posts import torch and TensorFlow: --check imports none of the compute stack."""
    proc = subprocess.run(
        [sys.executable, "-c", PROBE, str(REPO / "build.py"), "--check"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    started = subprocess.run(  # what the interpreter imports before build.py (site's .pth hooks)
        [sys.executable, "-c", "import json, sys; print(json.dumps(sorted(sys.modules)))"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    imported = set(json.loads(proc.stdout.splitlines()[-1])) - set(json.loads(started.stdout))
    allowed = _closure(set(environment.read_pins(SITE)))
    providers = importlib.metadata.packages_distributions()
    outside = {
        module: providers[module]
        for module in imported
        if module in providers and not {environment.canonical_name(d) for d in providers[module]} & allowed
    }
    assert outside == {}
    assert not {"torch", "tensorflow", "numpy", "nbclient", "nbconvert", "ipykernel"} & imported


def _parts(blog: Path, source: str, requirements: str) -> keys.KeyParts:
    (blog / "requirements.txt").write_text(requirements, encoding="utf-8")
    path = write_post(blog, "post", source)
    return keys.key_parts(read_post(path, blog), blog / "posts", environment.Environment(blog))


@pytest.mark.parametrize(
    ("source", "requirements", "pins", "installed"),
    [
        # Not installed, pinned exactly: the pin's version, its local label left out.
        (
            "import nbpress_absent",
            "nbpress-absent==1.2.3+cpu\n",
            {"nbpress-absent": "==1.2.3+cpu"},
            {"nbpress-absent": "1.2.3"},
        ),
        # A build of it named <module>-<variant> (as tensorflow-cpu provides tensorflow).
        (
            "import nbpress_absent",
            "nbpress-absent-cpu==4.0\n",
            {"nbpress-absent-cpu": "==4.0"},
            {"nbpress-absent-cpu": "4.0"},
        ),
        # Pinned loosely or not at all: no version to say.
        ("import nbpress_absent", "nbpress-absent>=1\n", {"nbpress-absent": ">=1"}, {"nbpress-absent": ""}),
        ("import nbpress_absent", "", {}, {"nbpress-absent": ""}),
        # Installed: its own version, whatever the pin says.
        (
            "import yaml",
            "PyYAML==0.1\n",
            {"pyyaml": "==0.1"},
            {"pyyaml": importlib.metadata.version("PyYAML")},
        ),
    ],
)
@pytest.mark.slow
def test_a_distribution_not_installed_is_its_exact_pin(
    blog: Path, source: str, requirements: str, pins: dict[str, str], installed: dict[str, str]
) -> None:
    parts = _parts(blog, source, requirements)
    assert (parts["pins"], parts["installed"]) == (pins, installed)


def test_a_requirement_file_s_includes_are_read_and_change_the_pins(blog: Path) -> None:
    (blog / "requirements-site.txt").write_text("nbpress-absent==2.0\n", encoding="utf-8")
    parts = _parts(blog, "import nbpress_absent", "-r requirements-site.txt\n")
    assert parts["installed"] == {"nbpress-absent": "2.0"}
    (blog / "requirements-site.txt").write_text("nbpress-absent==2.1\n", encoding="utf-8")
    again = keys.key_parts(
        read_post(blog / "posts" / "post.ipynb", blog), blog / "posts", environment.Environment(blog)
    )
    assert again["installed"] == {"nbpress-absent": "2.1"}
    assert keys.digest_parts(again) != keys.digest_parts(parts)


def _run(*command: str | Path, cwd: Path, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME")}
    return subprocess.run(
        [str(c) for c in command], cwd=cwd, capture_output=True, text=True, timeout=timeout, env=env
    )


@pytest.mark.slow
def test_a_fresh_clone_checks_with_only_the_site_requirements(tmp_path: Path) -> None:
    """As the deploy's first job: a fresh clone, a fresh environment of requirements-site.txt only."""
    clone = tmp_path / "clone"
    assert _run("git", "clone", "--quiet", REPO, clone, cwd=tmp_path).returncode == 0
    venv = tmp_path / "site-venv"
    # No pip of its own (installing it takes longer than installing the site): this pip installs into it.
    assert _run(sys.executable, "-m", "venv", "--without-pip", venv, cwd=tmp_path).returncode == 0
    python = venv / "bin" / "python"
    installed = _run(
        sys.executable,
        *("-m", "pip", "--python", python, "install", "--quiet", "-r", "requirements-site.txt"),
        cwd=clone,
        timeout=900,
    )
    assert installed.returncode == 0, installed.stdout + installed.stderr
    heavy = ("torch", "tensorflow", "numpy", "nbclient", "ipykernel")
    absent = f"import importlib.util as u; print([m for m in {heavy!r} if u.find_spec(m)])"
    assert _run(python, "-c", absent, cwd=clone).stdout == "[]\n"

    def both() -> tuple[subprocess.CompletedProcess[str], subprocess.CompletedProcess[str]]:
        light = _run(python, "build.py", "--check", cwd=clone)
        full = _run(sys.executable, "build.py", "--check", cwd=clone)
        return light, full

    # The committed posts: the light environment decides exactly as the full one (both fresh once
    # the committed posts are rebuilt by this nbpress: tests/test_check.py holds that).
    light, full = both()
    assert (light.returncode, light.stdout, light.stderr) == (full.returncode, full.stdout, full.stderr)
    assert light.returncode in (0, 1) and "runs again" not in light.stderr, light.stderr
    if full.returncode == 0:
        assert light.stdout == "2 posts current\n"
    # A code cell changed: stale, the cell named, exit 1, in both.
    path = clone / "posts" / "SLR_NN.ipynb"
    nb = nbformat.read(path, as_version=4)
    [number, cell] = next((n, c) for n, c in enumerate(nb.cells, 1) if c.cell_type == "code")
    cell.source += "\n# an edit"
    nbformat.write(nb, path)
    light, full = both()
    assert (light.returncode, light.stdout, light.stderr) == (full.returncode, full.stdout, full.stderr)
    assert light.returncode == 1
    assert re.search(
        rf"(?m)^stale +posts/SLR_NN\.ipynb: code cell {number}: the post runs again$", light.stderr
    ), light.stderr
