"""The render key: what decides a post's generated Markdown, given its execution key."""

from __future__ import annotations

from collections.abc import Mapping

from ..execution import json_digest
from ..sources import Post, frontmatter
from ..sources.series import Listing
from . import links


def render_key(
    post: Post,
    exec_key: str,
    renderer_fingerprint: str,
    gone: frozenset[str] = frozenset(),
    series: Listing | None = None,
    bibliography: Mapping[str, str] | None = None,
) -> str:
    """Return the key that changes when the generated Markdown may change (`gone`: as links.render_term).

    `series` is what the post shows of its series (nbpress.sources.series.SeriesIndex.listing):
    a sibling renamed, added, reordered or made a draft renders every part again, unexecuted.
    `bibliography` stands for the post's BibTeX files' term (markup.bibliography_terms): with
    the one its record holds, plan.decide asks whether they alone changed, and names them.
    """
    from .markup import MARKUP_METADATA, bibliography_terms, references_term

    cells: list[list[object]] = []
    for index, c in enumerate(post.notebook.cells):
        if index == post.front_matter_cell:
            # Its values are in the payload as the front matter table says (render_values); its
            # place still counts (figures are named by cell index), and its kind (fastpages).
            cells.append([c.cell_type, post.origin])
            continue
        meta = c.get("metadata", {})
        cells.append([c.cell_type, c.source, sorted(meta.get("tags", []))])
        # Captions and labels live in cell metadata; added only when set, so other keys hold.
        markup = {k: meta[k] for k in MARKUP_METADATA if k in meta}
        if markup:
            cells[-1].append(markup)
    payload: dict[str, object] = {
        "exec": exec_key,
        "cells": cells,
        "front_matter": frontmatter.render_values(post.front_matter),  # the keys the table puts here
        "slug": post.file_slug,
        "renderer": renderer_fingerprint,
    }
    bibliography = bibliography_terms(post) if bibliography is None else bibliography
    if bibliography:
        # Only when the post has one, so the keys of other posts stay as they were.
        payload["bibliography"] = dict(bibliography)
    # Local images and linked posts (nbpress.rendering.links): only when there are some.
    linked = links.render_term(post, gone)
    if linked:
        payload["links"] = linked
    if series is not None:
        # Only for a part of a series, so the keys of other posts stay as they were.
        payload["series"] = series.term(gone)
    # Labels and pages of other posts its cross-references name (the label index): only when some.
    referenced = references_term(post, gone)
    if referenced:
        payload["references"] = referenced
    return json_digest(payload)
