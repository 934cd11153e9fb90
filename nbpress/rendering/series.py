"""A series' Markdown: the box near the top of each part, its previous/next links, the series pages.

Plain Markdown with attribute lists inside `markdown="1"` blocks (md_in_html), so MkDocs and
Zensical both render it and `mkdocs build --strict` checks every link: a part links its
siblings' generated Markdown (nbpress.layout.PostFiles.markdown_link) and its series page
(nbpress.layout.series_link). A part that has no page after this build (`gone`) is named,
unlinked. Every name and title is text (sanitize.html_text, math as readable Unicode): never
markup, on the page or in an attribute. What a part shows is its Listing
(nbpress.sources.series), which the render key holds.
"""

from __future__ import annotations

import datetime as dt
import html
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import yaml

from ..layout import Layout, series_link
from ..sources.series import Listing, Part, Series, SeriesIndex
from .mathtext import plain_text
from .sanitize import html_text

# Markdown's emphasis, code, math and escape characters, shown as typed (html_text does the rest).
_INLINE_INERT = str.maketrans({c: f"&#{ord(c)};" for c in "*_`$\\~^=|"})
# The key of a generated series page's front matter holding the digest of its text
# (nbpress.record.seal): a page without it is the author's, and never overwritten or removed.
PAGE_KEY = "nbpress_series"
ALL_SERIES = "index"  # series/index.md: the page listing every series


def text(value: str) -> str:
    """Return author text (a title, a series' name) as Markdown and HTML that shows it as typed."""
    return html_text(" ".join(plain_text(value).split())).translate(_INLINE_INERT)


def _attribute(value: str) -> str:
    """Return text for a double-quoted HTML attribute value."""
    return html.escape(" ".join(plain_text(value).split()), quote=True)


def box(listing: Listing, layout: Layout, gone: frozenset[str] = frozenset()) -> str:
    """Return the box a part opens with: "Part 2 of 5 · <series>" and every part, this one marked."""
    name = text(listing.name)
    head = f"[{name}]({series_link(listing.slug)})" if listing.has_page else name
    lines = [
        # Out of the search index: every part would match every sibling's title.
        f'<nav class="nbpress-series" aria-label="{_attribute("Series: " + listing.name)}"'
        ' data-search-exclude="" markdown="1">',
        "",
        f"Part {listing.current + 1} of {len(listing.parts)} \u00b7 {head}",
        "{: .nbpress-series__head }",
        "",
    ]
    for number, part in enumerate(listing.parts, 1):
        title = text(part.title)
        if number - 1 == listing.current:
            item = f'<span class="nbpress-series__current" aria-current="page">{title}</span>'
        elif part.file_slug in gone:
            item = title
        else:
            item = f"[{title}]({layout.post(part.file_slug).markdown_link})"
        lines.append(f"{number}. {item}")
    lines += ["", "</nav>", "", ""]
    return "\n".join(lines)


def _neighbour(listing: Listing, step: int, gone: frozenset[str]) -> Part | None:
    """Return the nearest part before (step -1) or after (+1) this one that has a page."""
    index = listing.current + step
    while 0 <= index < len(listing.parts):
        if listing.parts[index].file_slug not in gone:
            return listing.parts[index]
        index += step
    return None


def neighbours(listing: Listing, layout: Layout, gone: frozenset[str] = frozenset()) -> str:
    """Return the previous/next links a part closes with ("" for a series of one)."""
    links = []
    for step, rel, label in ((-1, "prev", "Previous"), (1, "next", "Next")):
        part = _neighbour(listing, step, gone)
        if part is not None:
            link = layout.post(part.file_slug).markdown_link
            links.append(
                f'[<span class="nbpress-series-nav__label">{label}</span> {text(part.title)}]({link})'
                f'{{: .nbpress-series-nav__{rel} rel="{rel}" }}'
            )
    if not links:
        return ""
    label = _attribute(f"Previous and next part of {listing.name}")
    return "\n".join(
        [
            "",
            f'<nav class="nbpress-series-nav" aria-label="{label}" data-search-exclude="" markdown="1">',
            "",
            *links,
            "",
            "</nav>",
            "",
        ]
    )


@dataclass(frozen=True)
class Shown:
    """A published part as its series page lists it: from its generated Markdown's front matter."""

    part: Part
    description: str  # HTML text, as the published front matter holds it ("" if none)
    date: dt.date | dt.datetime | str


def _date(value: object) -> str:
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)[:10]


def _front(title: str, description: str) -> str:
    """Return a series page's front matter: its title and summary as text, and the digest key."""
    from ..record import DIGEST_PLACEHOLDER

    # Plain text (math as readable Unicode), then HTML text, as a post's title is published. Every
    # run of white space is one space (str.split's, Unicode line separators too): one YAML line each.
    data = {
        "title": html_text(" ".join(plain_text(title).split())),
        "description": html_text(" ".join(plain_text(description).split())),
        PAGE_KEY: DIGEST_PLACEHOLDER,
    }
    text = yaml.safe_dump(
        data, sort_keys=False, allow_unicode=True, default_flow_style=False, width=1_000_000
    )
    return f"---\n{text}---\n\n"


def series_page(series: Series, shown: list[Shown], layout: Layout) -> str:
    """Return the page of one series: its published parts in order, each with its date and summary."""
    count = f"{len(shown)} part" + ("" if len(shown) == 1 else "s")
    lines = [f"A series in {count}.", "{: .nbpress-series-page__count }", ""]
    for number, item in enumerate(shown, 1):
        link = layout.post(item.part.file_slug).link_from_series
        when = _date(item.date)
        stamp = f'<time datetime="{html.escape(when)}">{html.escape(when)}</time>'
        lines.append(f"{number}. [{text(item.part.title)}]({link}) \u00b7 {stamp}")
        summary = " ".join(html.unescape(item.description).split())
        if summary:
            lines += ["", f"    {text(summary)}", ""]
    lines += [
        "",
        f"[All series]({series_link(ALL_SERIES, from_post=False)})",
        "{: .nbpress-series-page__all }",
        "",
    ]
    return _front(series.name, f"A series in {count}: {', '.join(i.part.title for i in shown)}") + "\n".join(
        lines
    )


def all_series_page(series: list[tuple[Series, int]]) -> str:
    """Return series/index.md: every series with a page (and its number of parts), by name."""
    lines = []
    for one, count in sorted(series, key=lambda s: s[0].name.lower()):
        parts = f"{count} part" + ("" if count == 1 else "s")
        lines.append(f"- [{text(one.name)}]({series_link(one.slug, from_post=False)}) \u00b7 {parts}")
    return _front("Series", "Every series of posts on this blog.") + "\n".join(lines) + "\n"


def summary(front_matter: Mapping[str, object]) -> tuple[str, object]:
    """Return (description, date) of a generated post's front matter, as a series page lists it."""
    description = front_matter.get("description")
    return (description if isinstance(description, str) else ""), front_matter.get("date", "")


def pages_of(
    index: SeriesIndex, front_matter_of: Callable[[str], dict[str, object] | None], layout: Layout
) -> dict[str, str]:
    """Return {name: Markdown} of the series pages: one per series with a published part, and index.

    Listed are the parts whose generated page exists (`front_matter_of(file slug)`, its published
    front matter, else None) as built from that part's source, and is no draft: in the series'
    order, each with the date and summary that front matter gives.
    """
    pages: dict[str, str] = {}
    listed = []
    for slug, one in sorted(index.series.items()):
        shown = []
        for part in one.published:
            front = front_matter_of(part.file_slug)
            record = front.get("nbpress") if front else None
            if front is None or not isinstance(record, dict) or record.get("source") != part.rel_path:
                continue  # no page after this build (it failed before it was ever published)
            if front.get("draft") is True:
                continue
            description, date = summary(front)
            shown.append(Shown(part, description, _date(date)))
        if shown:
            pages[slug] = series_page(one, shown, layout)
            listed.append((one, len(shown)))
    if listed:
        pages[ALL_SERIES] = all_series_page(listed)
    return pages
