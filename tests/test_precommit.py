"""The pre-commit hooks: outputs stripped from source notebooks, and the staleness check."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import nbformat
import pytest

from nbpress.pipeline import Options, build
from tests.helpers import REPO


def run(blog: Path, *args: str) -> subprocess.CompletedProcess[str]:
    # language: system hooks find python, nbstripout and ruff on PATH: this interpreter's.
    env = {
        **os.environ,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        "PRE_COMMIT_HOME": str(blog.parent / "pre-commit-home"),
    }
    return subprocess.run(args, cwd=blog, env=env, capture_output=True, text=True, timeout=600)


@pytest.mark.slow
def test_precommit_strips_outputs_and_checks_posts(blog: Path, add_post: Callable[..., Path]) -> None:
    for name in (".pre-commit-config.yaml", "build.py", "pyproject.toml"):
        shutil.copy2(REPO / name, blog / name)
    shutil.copytree(REPO / "nbpress", blog / "nbpress", ignore=shutil.ignore_patterns("__pycache__"))
    path = add_post("post", "print('hello')")
    assert all(r.error is None for r in build(Options(root=blog, jobs=1)))
    # The author saved the notebook from Jupyter, outputs and all.
    nb = nbformat.read(path, as_version=4)
    nb.cells[1].outputs = [nbformat.v4.new_output("stream", name="stdout", text="hello\n")]
    nb.cells[1].execution_count = 1
    nbformat.write(nb, path)
    assert run(blog, "git", "init", "-q").returncode == 0
    assert run(blog, "git", "add", "-A").returncode == 0

    first = run(blog, sys.executable, "-m", "pre_commit", "run", "--all-files")
    assert first.returncode == 1  # nbstripout changed a file
    assert "strip outputs from source notebooks" in first.stdout
    stripped = nbformat.read(path, as_version=4)
    assert stripped.cells[1].outputs == [] and stripped.cells[1].execution_count is None
    assert [c.id for c in stripped.cells] == [c.id for c in nb.cells]  # ids kept

    run(blog, "git", "add", "-A")
    second = run(blog, sys.executable, "-m", "pre_commit", "run", "--all-files")
    assert second.returncode == 0, second.stdout + second.stderr

    add_post("post", "print('changed without building')")
    run(blog, "git", "add", "-A")
    third = run(blog, sys.executable, "-m", "pre_commit", "run", "--all-files")
    assert third.returncode == 1
    assert "stale    posts/post.ipynb: code cell 2: the post runs again" in third.stdout
