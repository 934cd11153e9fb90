"""MkDocs hook: only files the blog owns, and nothing of a draft, reach `mkdocs build`'s site.

- A draft post (`draft: true`) keeps its figures (assets/images/<post>/) and downloads
  (assets/notebooks/<post>/) out of the built site, as the blog plugin keeps its page out:
  they are marked as MkDocs drafts (InclusionLevel.DRAFT), which `mkdocs build` leaves out
  and `mkdocs serve` still serves, like the draft's page (`draft_on_serve`). When the blog
  plugin is told to publish drafts (its `draft: true`), nothing is held back.
- A file reached through a symbolic link (other than site_src/assets, the committed link to
  assets/) is left out with a warning (an error under --strict): MkDocs would copy whatever
  the link points at. `build.py` refuses such links before it builds (nbpress.write.Site);
  this keeps them out of a site built without it.

The folders are nbpress's (nbpress/layout.py: IMAGES, DOWNLOADS, a folder per post named by
the post's file name); the hook reads only the posts' own front matter.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from mkdocs.plugins import event_priority
from mkdocs.structure.files import InclusionLevel
from mkdocs.utils.meta import get_data

log = logging.getLogger("mkdocs.hooks.ownership")

POSTS = "posts"  # the blog's post folder in site_src/ (the blog plugin's post_dir, blog_dir ".")
# A post's files in the site, relative to site_src/ (through site_src/assets -> ../assets).
POST_FOLDERS = ("assets/images", "assets/notebooks")
ASSETS_LINK = "assets"  # site_src/assets: the one symbolic link the site may hold


def _draft_slugs(docs_dir: Path, files: Any) -> set[str]:
    """Return the file names (without .md) of the posts whose front matter says draft: true."""
    slugs: set[str] = set()
    for file in files.documentation_pages():
        uri = str(file.src_uri)
        if not uri.startswith(POSTS + "/") or uri.count("/") != 1:
            continue
        try:
            _, meta = get_data((docs_dir / uri).read_text(encoding="utf-8-sig"))
        except (OSError, UnicodeDecodeError):
            continue
        if meta.get("draft") is True:
            slugs.add(uri[len(POSTS) + 1 : -len(".md")])
    return slugs


def _publishes_drafts(config: Any) -> bool:
    """Return True if the blog plugin publishes drafts in this run (`draft: true` in mkdocs.yml)."""
    plugins = config.get("plugins") or {}
    for name in ("material/blog", "blog"):
        plugin = plugins.get(name) if hasattr(plugins, "get") else None
        if plugin is not None:
            return bool(getattr(plugin.config, "draft", False))
    return False


def _through_link(docs_dir: Path, uri: str, real_assets: Path, seen: dict[Path, bool]) -> str | None:
    """Return the first symbolic link on the way from docs_dir to the file `uri`, or None."""
    path = docs_dir
    for part in uri.split("/"):
        path = path / part
        linked = seen.get(path)
        if linked is None:
            linked = path.is_symlink() and not (
                path == docs_dir / ASSETS_LINK and path.resolve() == real_assets
            )
            seen[path] = linked
        if linked:
            return path.relative_to(docs_dir).as_posix()
    return None


@event_priority(100)  # before the blog plugin (-50) reads the posts: a linked post is never read
def on_files(files: Any, config: Any) -> Any:
    """Leave out files reached through a symbolic link; mark a draft's figures and downloads as drafts."""
    docs_dir = Path(config["docs_dir"])
    real_assets = (docs_dir.parent / "assets").resolve()
    seen: dict[Path, bool] = {}
    for file in list(files):
        if not file.abs_src_path or not Path(file.abs_src_path).is_relative_to(docs_dir):
            continue  # the theme's own files
        link = _through_link(docs_dir, str(file.src_uri), real_assets, seen)
        if link is not None:
            files.remove(file)
            log.warning(
                "nbpress: %s is reached through the symbolic link %s and was left out of the site; "
                "remove the link, or put a copy of the file there",
                file.src_uri,
                link,
            )
    if _publishes_drafts(config):
        return files
    drafts = _draft_slugs(docs_dir, files)
    if not drafts:
        return files
    prefixes = tuple(f"{folder}/{slug}/" for folder in POST_FOLDERS for slug in sorted(drafts))
    for file in files:
        if str(file.src_uri).startswith(prefixes):
            file.inclusion = InclusionLevel.DRAFT
    return files
