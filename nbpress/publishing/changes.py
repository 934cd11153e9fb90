"""What a build changed in the published tree, page by page: the signal a site renderer rebuilds from.

A page is named by its Markdown's path relative to the blog (layout.PostFiles.markdown_rel):
`written` are the pages whose Markdown, figures or downloads a publish changed, `removed`
those whose post was withdrawn or whose source is gone. A build that changed nothing
reports no page.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from .. import interrupt
from ..errors import WriteError
from ..rendering import RenderedPost
from .write import Site


@dataclass(frozen=True)
class Changes:
    """The pages a build wrote (changed) and removed, by Markdown path relative to the blog."""

    written: frozenset[str] = frozenset()
    removed: frozenset[str] = frozenset()

    def __bool__(self) -> bool:
        return bool(self.written or self.removed)

    @property
    def pages(self) -> frozenset[str]:
        """Return every page that changed, written or removed."""
        return self.written | self.removed


class ChangeLog:
    """Collects the pages one build changed, as publishing reports them."""

    def __init__(self) -> None:
        self.written: set[str] = set()
        self.removed: set[str] = set()

    def wrote(self, page: str) -> None:
        """Note that `page` (a PostFiles.markdown_rel) changed."""
        self.written.add(page)
        self.removed.discard(page)

    def withdrew(self, pages: Iterable[str]) -> None:
        """Note that `pages` (PostFiles.markdown_rel each) are gone."""
        for page in pages:
            self.removed.add(page)
            self.written.discard(page)

    def changes(self) -> Changes:
        """Return what changed so far."""
        return Changes(frozenset(self.written), frozenset(self.removed))


def publish(site: Site, post: RenderedPost, downloads: dict[str, bytes], rel_path: str) -> bool:
    """Write one rendered post with its downloads, signals held; return True if any of its files changed.

    Raises WriteError naming `rel_path`, the post's source.
    """
    with signals_deferred():
        try:
            return site.publish(post, downloads)
        except WriteError as err:
            raise err.at(rel_path) from None


@contextlib.contextmanager
def signals_deferred() -> Iterator[None]:
    """Hold Ctrl-C and SIGTERM while one post is written, then act on them.

    Every file is replaced atomically anyway; holding the signal also keeps a post's figures
    and Markdown from the same version. Posts are published on the main thread (the
    executor hands them over), where signals arrive; elsewhere (a caller's own thread)
    there is nothing to hold.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    caught: list[int] = []

    def hold(signum: int, _frame: object) -> None:
        interrupt.REQUESTED.set()  # known at once to the build's checks (interrupt.check)
        caught.append(signum)

    previous = {sig: signal.getsignal(sig) or signal.SIG_DFL for sig in (signal.SIGINT, signal.SIGTERM)}
    for sig in previous:
        signal.signal(sig, hold)
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    if caught:
        raise KeyboardInterrupt
