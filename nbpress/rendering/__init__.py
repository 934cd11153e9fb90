"""Rendering: an executed notebook becomes Markdown text and figure bytes (nothing written).

The stage's public face: the other stages import these names from here. `transform.STEPS`
is the ordered list of steps (as nbconvert's preprocessors); `export` writes the Markdown.
"""

from .key import render_key
from .links import linked_posts
from .markup import bibliography_paths
from .render import RenderedPost, export, preload, published_front_matter, renderer_fingerprint

__all__ = [
    "RenderedPost",
    "bibliography_paths",
    "export",
    "linked_posts",
    "preload",
    "published_front_matter",
    "render_key",
    "renderer_fingerprint",
]
