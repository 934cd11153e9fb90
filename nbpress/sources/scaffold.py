"""Start a post: posts/<slug>.ipynb (or .md, .py) with front matter filled in and a first cell."""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from pathlib import Path

import yaml

from ..errors import SourceError
from ..layout import Layout
from ..notebook import Notebook
from .authors import first_author, read_authors
from .posts import discover, name_slug, safe_slug

INTRO = (
    "Write the introduction here. Everything above the first code cell is the excerpt "
    "shown on the blog's front page."
)
FIRST_CODE = 'import sys\n\nprint(f"Python {sys.version.split()[0]}")'


def slugify(title: str) -> str:
    """Return a URL-safe slug for `title`: ASCII letters and digits joined by '-', lower case."""
    ascii_title = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_title.lower()).strip("-")[:80].strip("-")


def _notebook(title: str, author: str | None, today: dt.date) -> Notebook:
    from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_raw_cell

    front: dict[str, object] = {"title": title, "date": today}
    if author:
        front["author"] = author
    front.update({"tags": [], "categories": [], "draft": True})
    header = yaml.safe_dump(front, sort_keys=False, allow_unicode=True, default_flow_style=None)
    nb: Notebook = new_notebook(
        metadata={"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}}
    )
    nb.cells = [new_raw_cell(f"---\n{header}---"), new_markdown_cell(INTRO), new_code_cell(FIRST_CODE)]
    for index, cell in enumerate(nb.cells):
        cell["id"] = f"cell-{index}"
    return nb


def new_post(
    root: Path,
    title: str,
    fmt: str = "ipynb",
    slug: str | None = None,
    author: str | None = None,
    today: dt.date | None = None,
) -> Path:
    """Create a post source and return its path; raise SourceError rather than overwrite one."""
    import nbformat

    if not title.strip():
        raise SourceError('the title is empty; give the post a title, e.g. build.py new "My title".')
    slug = slug or slugify(title)
    if not safe_slug(slug):
        raise SourceError(
            f"cannot make a post name from {slug or title!r}; "
            "pass --slug with letters, digits, '.', '_' and '-'."
        )
    layout = Layout(root)
    posts_dir = layout.sources
    taken = [p for p in discover(posts_dir) if name_slug(p).lower() == slug.lower()]
    if taken:
        raise SourceError(
            f"posts/{taken[0].name} already holds the post {slug!r}; nothing was written "
            "(pick another title or --slug)."
        )
    nb = _notebook(
        title.strip(),
        author if author is not None else first_author(read_authors(layout)),
        today or dt.date.today(),
    )
    if fmt == "ipynb":
        text = nbformat.writes(nb) + "\n"
    else:
        import jupytext

        nb.metadata["jupytext"] = {"formats": fmt if fmt == "md" else "py:percent"}
        text = jupytext.writes(nb, fmt="md" if fmt == "md" else "py:percent")
    path = posts_dir / f"{slug}.{fmt}"
    posts_dir.mkdir(parents=True, exist_ok=True)
    try:
        with path.open("x", encoding="utf-8") as handle:  # "x": never replace a file
            handle.write(text)
    except FileExistsError:
        raise SourceError(f"posts/{path.name} already exists; nothing was written.") from None
    return path
