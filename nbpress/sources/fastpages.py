"""Read fastpages notebooks as they are: dated file names and the front matter markdown cell.

fastpages put a post's front matter in its first markdown cell::

    # Title
    > summary

    - toc: true
    - categories: [a, b]

and named files `YYYY-MM-DD-slug.ipynb`. This module maps both to nbpress front matter;
the cell flags (`#hide`, `#collapse`...) are handled with the other cell options in cells.py,
and the callouts (`> Note: text`) when the post is rendered (rendering.transform).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable

import yaml

from ..errors import SourceError
from ..notebook import Cell
from ..yamlload import safe_load

_DATED = re.compile(r"^(\d{4}-\d{2}-\d{2})-(.+)$")
_TITLE = re.compile(r"^#\s+(.+?)\s*#*\s*$")
_ITEM = re.compile(r"^[-*]\s+([A-Za-z_][\w-]*)\s*:\s*(.*)$")
# fastpages' callouts, `> Note: text`, and the Material admonition each becomes.
# fastpages keys with no meaning (or another meaning) in Material's blog: not carried over.
_DROPPED = {"badges", "branch", "comments", "hide", "toc", "published", "search_exclude", "nb_path"}


def split_dated_name(stem: str) -> tuple[dt.date | None, str]:
    """Return (date, rest) for a Jekyll-style `YYYY-MM-DD-rest` name, else (None, stem)."""
    match = _DATED.match(stem)
    if match:
        try:
            return dt.date.fromisoformat(match.group(1)), match.group(2)
        except ValueError:
            pass
    return None, stem


def add_fastpages_item(file_name: str) -> Callable[[str, str], str]:
    """Return how to add a missing key to the fastpages cell of the source `file_name`.

    A date may also come from the file's name, as fastpages dated every post.
    """

    def add(key: str, example: str) -> str:
        item = f"add a line '- {key}: {example}' under the title in the first cell"
        return (
            f"{item}, or start the file's name with the date ({example}-{file_name})"
            if key == "date"
            else item
        )

    return add


def is_front_matter_cell(cell: Cell) -> bool:
    """Return True if `cell` is a fastpages front matter cell: `# Title`, then `>` and `- key:` lines."""
    if cell.get("cell_type") != "markdown":
        return False
    lines = [line.strip() for line in cell.get("source", "").splitlines() if line.strip()]
    if not lines or not _TITLE.match(lines[0]):
        return False
    return all(line.startswith(">") or _ITEM.match(line) for line in lines[1:])


def parse_front_matter_cell(source: str, rel: str) -> dict[str, object]:
    """Return nbpress front matter for a fastpages cell, keys mapped as README describes."""
    lines = [line.strip() for line in source.splitlines() if line.strip()]
    title_match = _TITLE.match(lines[0])
    data: dict[str, object] = {"title": title_match.group(1) if title_match else ""}
    summary = " ".join(line[1:].strip() for line in lines[1:] if line.startswith(">"))
    if summary:
        data["description"] = summary
    raw: dict[str, object] = {}
    for line in lines[1:]:
        item = _ITEM.match(line)
        if item is None:
            continue
        key, value = item.group(1), item.group(2)
        try:
            raw[key] = safe_load(value) if value.strip() else None
        except yaml.YAMLError:
            raise SourceError(
                f"the fastpages front matter line '- {key}: {value}' is not valid YAML; quote the value.",
                path=rel,
            ) from None
    for key, value in raw.items():
        if key not in _DROPPED:
            data[key] = str(value) if key == "date" and isinstance(value, dt.date) else value
    if raw.get("toc") is False:
        data["hide"] = ["toc"]
    if raw.get("published") is False:
        data["draft"] = True
    if raw.get("search_exclude") is True:
        data["search"] = {"exclude": True}
    return data
