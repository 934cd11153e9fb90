"""The render key: what decides a post's generated Markdown, given its execution key."""

from __future__ import annotations

from ..execution.store import json_digest
from ..sources.posts import Post
from . import links


def render_key(
    post: Post, exec_key: str, renderer_fingerprint: str, gone: frozenset[str] = frozenset()
) -> str:
    """Return the key that changes when the generated Markdown may change (`gone`: as links.render_term)."""
    from .markup import MARKUP_METADATA, bibliography_digest

    cells: list[list[object]] = []
    for c in post.notebook.cells:
        meta = c.get("metadata", {})
        cells.append([c.cell_type, c.source, sorted(meta.get("tags", []))])
        # Captions and labels live in cell metadata; added only when set, so other keys hold.
        markup = {k: meta[k] for k in MARKUP_METADATA if k in meta}
        if markup:
            cells[-1].append(markup)
    payload = {
        "exec": exec_key,
        "cells": cells,
        "front_matter": post.front_matter.data,
        "slug": post.file_slug,
        "renderer": renderer_fingerprint,
    }
    bibliography = bibliography_digest(post)
    if bibliography:
        # Only when the post has one, so the keys of other posts stay as they were.
        payload["bibliography"] = bibliography
    # Local images and linked posts (nbpress.rendering.links): only when there are some.
    linked = links.render_term(post, gone)
    if linked:
        payload["links"] = linked
    return json_digest(payload)
