"""The one place where text from a notebook is made safe to put in a page.

Front matter values become HTML text (MkDocs and Material print page titles, tags and
descriptions as HTML, unescaped); outputs become markup nothing later re-interprets.
"""

from __future__ import annotations

import re
from typing import Any

# An "&" that starts a character reference ("&lt;", "&#60;", "&copy"); a lone "&" ("R & D")
# is text to every HTML parser and stays as typed, so ordinary titles are published unchanged.
_REFERENCE_AMP = re.compile(r"&(?=[#A-Za-z])")
# Front matter keys that are not shown as text: MkDocs and nbpress read them as values.
_STRUCTURAL_KEYS = ("date", "slug", "nbpress", "authors", "hide", "search", "template", "draft")


def html_text(text: str) -> str:
    """Return `text` as HTML text that shows as typed, in element content and in quoted attributes."""
    text = _REFERENCE_AMP.sub("&amp;", text)
    return text.replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")


def _html_values(value: Any) -> Any:
    if isinstance(value, str):
        return html_text(value)
    if isinstance(value, list):
        return [_html_values(v) for v in value]
    if isinstance(value, dict):
        return {k: _html_values(v) for k, v in value.items()}
    return value


def front_matter_text(data: dict[str, Any]) -> dict[str, Any]:
    """Return published front matter whose shown values (title, tags, author...) are HTML text.

    Material's templates print these values unescaped, in element content and in attributes
    (`<title>`, `<meta content="...">`, headings, listing cards, tags), so a title
    `</title><script>` would be markup; escaped once here, every template shows it as typed.
    """
    return {k: v if k in _STRUCTURAL_KEYS else _html_values(v) for k, v in data.items()}
