"""Attack families beyond issue 9's (issue 20): one module per family, merged here.

Each module defines `POSTS` (tests.attack_kit.Posts) and may define `CLICKS`
(slug -> CSS selector of elements the browser check hovers and clicks on that post's page)
and `FILES` (name relative to posts/ -> text: a bibliography the posts name, say).
Slugs must be unique across families; `collect` says which module repeats one.
"""

from __future__ import annotations

import importlib
import pkgutil

from tests.attack_kit import Posts


def _modules() -> list[object]:
    return [
        importlib.import_module(f"{__name__}.{info.name}")
        for info in sorted(pkgutil.iter_modules(__path__), key=lambda i: i.name)
    ]


def collect_files() -> dict[str, str]:
    """Return every family's files to write beside the posts, merged."""
    files: dict[str, str] = {}
    for module in _modules():
        for name, text in getattr(module, "FILES", {}).items():
            assert name not in files, f"{module}: the file {name!r} is written twice"
            files[name] = text
    return files


def collect() -> tuple[Posts, dict[str, str]]:
    """Return every family's posts and click selectors, merged."""
    posts: Posts = {}
    clicks: dict[str, str] = {}
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda i: i.name):
        module = importlib.import_module(f"{__name__}.{info.name}")
        for slug, post in module.POSTS.items():
            assert slug not in posts, f"{info.name}: attack post {slug!r} is defined twice"
            posts[slug] = post
        clicks.update(getattr(module, "CLICKS", {}))
    return posts, clicks
