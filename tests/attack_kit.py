"""What an attack on the built blog is made of (tests/test_attacks.py builds and judges them).

An attack is a post: front matter plus cells (code cells; `markdown`, `raw` and `with_metadata`
make the others). Every payload that would run script sets
`top.__pwned` to its own tag (`pwn`), so the browser check can name the one that ran.
Families of attacks live in tests/attack_families/, one module each, every module with a
`POSTS` dict (and optionally `CLICKS`: a post's CSS selector of what to hover and click, and
`FILES`: files written beside the posts, {name relative to posts/: text}).
"""

from __future__ import annotations

import json
import re
from typing import Any

# A code cell: its source and its tags.
Cell = tuple[str, list[str]]
# slug -> (front matter, cells)
Posts = dict[str, tuple[dict[str, Any], list[Cell]]]


def pwn(tag: str) -> str:
    """Return JavaScript that marks attack `tag` as having run.

    An expression without quotes or spaces (a regular expression's source is the tag), so it
    survives as a Markdown link's destination (Python-Markdown reads `='x'` as a link title),
    and of value undefined, so a `javascript:` link that runs it does not replace the page
    with its result (which would also take the mark away).
    """
    assert re.fullmatch(r"[A-Za-z0-9._-]+", tag), tag
    return f"void(top.__pwned=/{tag}/.source)"


def show(kind: str, *payloads: str) -> str:
    """Return a cell that displays each payload as an IPython.display `kind` (HTML, Markdown...)."""
    return f"from IPython.display import display, {kind}\n" + "".join(
        f"display({kind}({p!r}))\n" for p in payloads
    )


def prints(*lines: str, stream: str = "stdout") -> str:
    """Return a cell that prints each line to `stream`."""
    return "import sys\n" + "".join(f"print({line!r}, file=sys.{stream})\n" for line in lines)


# A tag of this prefix is no tag: it tells tests/test_attacks.py how to write the cell.
CELL_KIND = "nbpress-attack-cell:"


def markdown(source: str) -> Cell:
    """Return a Markdown cell (the author's own writing)."""
    return source, [f"{CELL_KIND}markdown"]


def raw(source: str, mimetype: str, key: str = "raw_mimetype") -> Cell:
    """Return a raw cell whose format is `mimetype`, under metadata `key` (or the older "format")."""
    return source, [f"{CELL_KIND}raw:" + json.dumps({key: mimetype})]


def with_metadata(source: str, metadata: dict[str, Any], tags: list[str] | None = None) -> Cell:
    """Return a code cell carrying extra cell `metadata` (myst-nb captions, magics_language...)."""
    return source, [*(tags or []), f"{CELL_KIND}metadata:" + json.dumps(metadata)]
