"""What a post's page shows of its cells: the cells the author hid, and the title heading.

Read by the transform chain's hide and title_heading steps, and by links.post_page, so the
page another post will have is decided by the same rules as its own render.
"""

from __future__ import annotations

import copy
import re
from typing import TYPE_CHECKING

from ..notebook import Key, Notebook, outputs_of

if TYPE_CHECKING:
    from ..sources import Post


def hide_cells(notebook: Notebook, front_matter_cell: int | None) -> None:
    """Mark the cells not to show and empty the outputs not to show, in place.

    Cells are never deleted, so figure names keep the source's cell numbers: the front matter
    cell, a `remove-cell` and an empty code cell are marked Key.REMOVE (the template skips
    them); `remove-output` empties a cell's outputs. The other display tags are cells.py's.
    """
    for index, cell in enumerate(notebook.cells):
        tags = set(cell.get("metadata", {}).get("tags", []))
        empty_code = cell.cell_type == "code" and not cell.source.strip() and not outputs_of(cell)
        if index == front_matter_cell or "remove-cell" in tags or empty_code:
            cell.metadata[Key.REMOVE] = True
            if cell.cell_type == "code":
                cell.outputs = []
        elif cell.cell_type == "code" and "remove-output" in tags:
            cell.outputs = []


_TITLE_HEADING = re.compile(r"^#[ \t]+(.*?)[ \t]*$")


def mark_title_heading(nb: Notebook, title: str) -> None:
    """Leave out the `# <title>` heading a post's first visible Markdown cell starts with, in place.

    The page shows the title as its h1 already, so the heading would say it twice. The cell
    is marked (Key.TITLE: links to that heading mean the page's top, links.page_of); a cell that
    was only the heading is hidden like any hidden cell (never deleted, so figure numbers hold).
    """
    title = title.strip()
    for cell in nb.cells:
        if cell.metadata.get(Key.REMOVE) or cell.cell_type == "raw":
            continue
        if cell.cell_type == "markdown":
            lines = cell.source.strip("\n").split("\n")
            heading = _TITLE_HEADING.match(lines[0].rstrip())
            if heading and heading[1].rstrip("#").strip() == title:
                cell.metadata[Key.TITLE] = True
                cell.source = "\n".join(lines[1:]).strip("\n")
                if not cell.source.strip():
                    cell.metadata[Key.REMOVE] = True
        break


def source_copy(post: Post) -> Notebook:
    """Return a copy of a post's cells without outputs, the cells its hide step hides marked (hide_cells)."""
    import nbformat

    cells: list[dict[str, object]] = [
        {"cell_type": c.cell_type, "source": c.source, "metadata": copy.deepcopy(dict(c.get("metadata", {})))}
        | ({"outputs": [], "execution_count": None} if c.cell_type == "code" else {})
        for c in post.notebook.cells
    ]
    nb: Notebook = nbformat.from_dict({"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5})
    hide_cells(nb, post.front_matter_cell)
    return nb
