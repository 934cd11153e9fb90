"""MkDocs hook: Material's blog reads its posts' front matter with libyaml, as MkDocs does.

MkDocs reads a page's front matter with PyYAML's C loader (`CSafeLoader`, when libyaml is
there); Material's blog plugin reads each post's again with the pure-Python `SafeLoader`. At
300 posts that second read is 6-10 % of `mkdocs build` (4.9 s -> 4.5 s). Both loaders build
the same values from the same safe schema; only a broken front matter's message is worded
differently (libyaml's). tests/test_course.py builds a course with and without this hook and
compares the sites file by file.
"""

from __future__ import annotations

from typing import Any

import yaml


def on_startup(command: str, dirty: bool) -> None:
    """Give Material's blog plugin the C loader, where PyYAML has one."""
    loader: Any = getattr(yaml, "CSafeLoader", None)
    if loader is not None:
        import material.plugins.blog.structure as blog  # type: ignore[import-untyped]

        blog.SafeLoader = loader
