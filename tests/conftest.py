"""Shared fixtures: a throwaway blog folder laid out like the real one."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"
GOLDEN = Path(__file__).resolve().parent / "golden"
# What a blog needs besides its posts; copied into every temporary blog.
SKELETON = [
    "requirements.txt",
    "mkdocs.yml",
    "hooks",
    "site_src/index.md",
    "site_src/about.md",
    "site_src/.authors.yml",
    "assets/images/avatar.svg",
]


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-golden", action="store_true", help="rewrite golden files from the current output"
    )


@pytest.fixture
def update_golden(request: pytest.FixtureRequest) -> bool:
    return bool(request.config.getoption("--update-golden"))


def copy_skeleton(dest: Path) -> Path:
    """Copy the blog skeleton (config, site pages, hooks) into `dest`; return `dest`."""
    for name in SKELETON:
        src = REPO / name
        target = dest / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if src.is_dir():
            shutil.copytree(src, target, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(src, target)
    (dest / "posts").mkdir(exist_ok=True)
    return dest


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
