"""MkDocs hook: only files the blog owns, and nothing of a draft, reach `mkdocs build`'s site.

- A draft post's figures (assets/images/<post>/.draft-*) and downloads
  (assets/notebooks/<post>/.draft/) are dot-files, which MkDocs (and Zensical) leave out of
  a site, as the blog plugin leaves out the draft's page (nbpress/layout.py: DRAFT_FIGURE,
  DRAFT_DOWNLOADS). When the blog plugin shows drafts (`mkdocs serve` with
  `draft_on_serve`, or its `draft: true`), this hook lets them in beside the page.
- A file reached through a symbolic link (other than site_src/assets, the committed link to
  assets/) is left out with a warning (an error under --strict): MkDocs would copy whatever
  the link points at. `build.py` refuses such links before it builds (nbpress.publishing.write.Site);
  this keeps them out of a site built without it.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Any

from mkdocs.plugins import event_priority
from mkdocs.structure.files import InclusionLevel

log = logging.getLogger("mkdocs.hooks.ownership")

# A draft's files in the site, relative to site_src/ (through site_src/assets -> ../assets).
DRAFT_FILES = re.compile(r"assets/images/[^/]+/\.draft-[^/]+|assets/notebooks/[^/]+/\.draft/.+")
ASSETS_LINK = "assets"  # site_src/assets: the one symbolic link the site may hold


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
    """Leave out files reached through a symbolic link; let a draft's files in when drafts are shown."""
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
        for file in files:
            if DRAFT_FILES.fullmatch(str(file.src_uri)):
                file.inclusion = InclusionLevel.INCLUDED
    return files
