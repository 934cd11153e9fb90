"""Publishing: the only writer of the published tree (site_src/posts/, assets/images/, downloads).

The stage's public face: the build imports these names from here. Publishing reports which
pages changed (`Changes`), and a `SiteRenderer` (MkDocs or Zensical) renders the tree.
"""

from .changes import ChangeLog, Changes, publish
from .downloads import downloads, published_outputs
from .lock import build_lock
from .preview import Preview
from .renderers import RENDERERS, Prepared, SiteRenderer, render_site, serve_site, site_is_current, site_state
from .write import Site, hand_edit_message

__all__ = [
    "RENDERERS",
    "ChangeLog",
    "Changes",
    "Prepared",
    "Preview",
    "Site",
    "SiteRenderer",
    "build_lock",
    "downloads",
    "hand_edit_message",
    "publish",
    "published_outputs",
    "render_site",
    "serve_site",
    "site_is_current",
    "site_state",
]
