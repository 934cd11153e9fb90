"""The one policy for what cannot be resolved: a link, a cross-reference, a citation key, a page.

Every step that resolves something a post names (nbpress.rendering.links for links and anchors,
nbpress.rendering.markup for labels, roles and citations) words its warning here, so that each
keeps its text, never publishes a broken link, and names its file, cell and target.
"""

from __future__ import annotations


def unresolved(where: str, what: str, problem: str, fix: str) -> str:
    """Return the one warning for a link or reference that leads nowhere, whatever its kind.

    A link to a missing post, page, heading or anchor, a cross-reference to a label no post
    defines, a citation key no bibliography holds: each keeps its text, loses its link (never
    a broken one on the page), and is named here with its file, cell and target.
    """
    return f"{where}: {what} {problem}, so its text is published without a link; {fix}."
