"""Shared fixtures: a throwaway blog folder laid out like the real one."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import settings

from tests.skeleton import REPO as REPO
from tests.skeleton import copy_skeleton as copy_skeleton

# CI replays the same examples every run, so a landing never hinges on a lucky draw; local
# runs keep exploring new ones (a failure found there becomes an @example). No deadline:
# time is for the benchmarks, and a shared machine makes any per-example limit flaky.
settings.register_profile("ci", derandomize=True, deadline=None)
settings.register_profile("dev", deadline=None)
settings.load_profile("ci" if os.environ.get("CI") else "dev")

FIXTURES = Path(__file__).resolve().parent / "fixtures"
GOLDEN = Path(__file__).resolve().parent / "golden"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-golden", action="store_true", help="rewrite golden files from the current output"
    )


@pytest.fixture
def update_golden(request: pytest.FixtureRequest) -> bool:
    return bool(request.config.getoption("--update-golden"))


@pytest.fixture
def blog(tmp_path: Path) -> Path:
    """Return an empty blog folder with the real skeleton and an empty posts/."""
    return copy_skeleton(tmp_path / "blog")


@pytest.fixture
def add_post(blog: Path) -> Callable[..., Path]:
    """Return a function that writes a notebook into blog/posts from code cells and front matter."""
    import nbformat
    from nbformat.v4 import new_code_cell, new_notebook, new_raw_cell

    def add(slug: str, *cells: str, front: str = "", tags: dict[int, list[str]] | None = None) -> Path:
        nb = new_notebook(
            metadata={"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}}
        )
        nb.cells.append(new_raw_cell(f"---\ntitle: {slug}\ndate: 2024-01-01\n{front}---"))
        for i, src in enumerate(cells):
            cell = new_code_cell(src)
            if tags and i in tags:
                cell.metadata["tags"] = tags[i]
            nb.cells.append(cell)
        for i, cell in enumerate(nb.cells):
            cell["id"] = f"cell-{i}"
        path = blog / "posts" / f"{slug}.ipynb"
        nbformat.write(nb, path)
        return path

    return add


CHROMIUM = "/usr/bin/chromium"
# Debian's Chromium, headless as root, with no traffic of its own to the closed network.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def build_cli(blog: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Return the finished `python build.py --root BLOG -j 2 ARGS` run."""
    return subprocess.run(
        [sys.executable, str(REPO / "build.py"), "--root", str(blog), "-j", "2", *args],
        capture_output=True,
        text=True,
        timeout=300,
    )


def published(root: Path) -> dict[str, bytes]:
    """Return {path relative to root: bytes} of every file the build publishes."""
    files = [*(root / "site_src" / "posts").rglob("*"), *(root / "assets" / "images").rglob("*")]
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(files) if p.is_file()}


def mkdocs(root: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Return the finished `python -m mkdocs ARGS` run in the blog `root`, with `env` added."""
    return subprocess.run(
        [sys.executable, "-m", "mkdocs", *args],
        cwd=root,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1", **(env or {})},
        capture_output=True,
        text=True,
        timeout=300,
    )


GITHUB_REMOTE = "https://github.com/nbpress/nbpress-blog.git"
# What hooks/reader.py makes of that remote when mkdocs.yml leaves repo_url and site_url unset.
GITHUB_REPO_URL = "https://github.com/nbpress/nbpress-blog"
GITHUB_SITE_URL = "https://nbpress.github.io/nbpress-blog/"


def build_real_blog(root: Path) -> Path:
    """Return `root`, a copy of the real blog's sources built from scratch (every post executed)."""
    from nbpress.pipeline import Options, build

    copy_skeleton(root)
    # A GitHub remote, as a clone of the real blog has: repo_url and site_url come from it.
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    subprocess.run(["git", "-C", str(root), "remote", "add", "origin", GITHUB_REMOTE], check=True)
    for nb in (REPO / "posts").glob("*.ipynb"):
        shutil.copy2(nb, root / "posts" / nb.name)
    results = build(Options(root=root, jobs=2))
    assert {r.name: r.status for r in results} == {
        f"posts/{nb.name}": "executed" for nb in (REPO / "posts").glob("*.ipynb")
    }, [str(r.error) for r in results]
    return root


@pytest.fixture(scope="session")
def real_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Return a copy of the real blog built from scratch, then by `mkdocs build --strict` into site/."""
    root = build_real_blog(tmp_path_factory.mktemp("site") / "blog")
    proc = mkdocs(root, "build", "--strict")
    assert proc.returncode == 0, proc.stderr
    return root


# When a post ran is the one thing two executions of it never share (its provenance line).
EXECUTED_AT = re.compile(r"^\*Executed \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC ", re.M)


DIGEST = re.compile(r"^  digest: sha256:[0-9a-f]{64}$", re.M)


def without_execution_time(markdown: str) -> str:
    """Return a generated post with the time on its provenance line masked (and so its digest)."""
    return DIGEST.sub("  digest: <digest>", EXECUTED_AT.sub("*Executed <time> ", markdown))
