"""Live preview: rebuild a post when its source or one of its declared inputs changes (watchfiles).

A preview server (`build.py --serve`, or `mkdocs serve` in another terminal) then reloads the page,
since the build rewrites the post; the build says which pages it changed (publishing.changes).
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterable
from pathlib import Path

from . import interrupt
from .errors import NbpressError, one_post
from .layout import Layout
from .rendering import bibliography_paths, links
from .sources import posts, series


def inputs_by_path(root: Path, fresh: Iterable[str] | None = None) -> dict[Path, set[str]]:
    """Return {resolved input file: slugs of the posts declaring it}; unreadable posts are skipped.

    The local images and files a post's Markdown cells show count as its inputs too. What a
    post adds to the table is found again only when its source changed since it was last found
    (its Post is another: nbpress.filestate) or its slug is in `fresh` (the posts just rebuilt;
    None: every post), so a watch's table costs what changed.
    """
    table: dict[Path, set[str]] = {}
    posts_dir = Layout(root).sources
    try:
        readable, _ = posts.read_sources(posts.discover(posts_dir), root)  # the build reports the others
    except NbpressError:  # a broken authors file: the build says so; its sources are still watched
        readable = []
    # A part of a series is shown by every other part: a change to its source rebuilds them all
    # (those it joins too: the build adds them, pipeline._build).
    for one in series.index(readable).series.values():
        for part in one.parts:
            table.setdefault((root / part.rel_path).resolve(), set()).update(p.file_slug for p in one.parts)
    # A readable source is a regular file in posts/: its resolved path is the folder's, then its name.
    folder = posts_dir.resolve()
    sources = {post.file_slug: folder / post.path.name for post in readable}
    again = None if fresh is None else set(fresh)
    for post in readable:
        files, linked = _inputs_of(post, posts_dir, again is None or post.file_slug in again)
        for path in files:
            table.setdefault(path, set()).add(post.file_slug)
        # A post shows what it links to or references in another post (a heading's id, a
        # label's number and text): a change to that post's source re-renders it too.
        for slug in linked:
            if slug in sources:
                table.setdefault(sources[slug], set()).add(post.file_slug)
    return table


# {source path: (the Post read, the files it reads, the posts it links to)}: what `_inputs_of` found.
_FOUND: dict[Path, tuple[posts.Post, tuple[Path, ...], frozenset[str]]] = {}


def _inputs_of(post: posts.Post, posts_dir: Path, again: bool) -> tuple[tuple[Path, ...], frozenset[str]]:
    """Return (the files `post` reads, the file slugs of the posts it links to), found once per Post.

    A post whose files cannot be listed is still watched by its source; the build says why.
    """
    known = _FOUND.get(post.path)
    if known is not None and known[0] is post and not again:
        return known[1], known[2]
    files: dict[Path, None] = {}
    linked: frozenset[str] = frozenset()
    with contextlib.suppress(NbpressError), one_post(post.rel_path, "listing its files"):
        _add_inputs(files, post, posts_dir)
        linked = frozenset(links.linked_posts(post))
    _FOUND[post.path] = (post, tuple(files), linked)
    return tuple(files), linked


def _add_inputs(files: dict[Path, None], post: posts.Post, posts_dir: Path) -> None:
    """Add the files `post` reads to `files`: declared inputs, local files, its BibTeX file."""
    for name in post.front_matter.inputs:
        files[(posts_dir / name).resolve()] = None
    for path in links.local_files(post):
        files[path] = None
    # A post's BibTeX file re-renders it too (its citations and References).
    with contextlib.suppress(NbpressError):
        for bib in bibliography_paths(post):
            files[bib.resolve()] = None


def affected(
    changes: Iterable[tuple[str, Path]], posts_dir: Path, inputs: dict[Path, set[str]]
) -> tuple[set[str], bool]:
    """Return (slugs to rebuild, whether a full build is needed) for (kind, path) file changes.

    `kind` is "added", "modified" or "deleted"; a deleted source needs the full build, which
    removes its generated post.
    """
    slugs: set[str] = set()
    full = False
    for kind, path in changes:
        path = path.resolve()
        if (
            path.parent == posts_dir
            and path.suffix in posts.SOURCE_SUFFIXES
            and not path.name.startswith(".")
        ):
            if kind == "deleted":
                full = True
            elif posts.is_source(path):
                slugs.add(posts.name_slug(path))
        slugs |= inputs.get(path, set())
    return slugs, full


def _watched_dirs(posts_dir: Path, inputs: dict[Path, set[str]]) -> list[Path]:
    outside = {p.parent for p in inputs if not p.is_relative_to(posts_dir) and p.parent.is_dir()}
    return [posts_dir, *sorted(outside)]


def snapshot(root: Path, inputs: dict[Path, set[str]] | None = None) -> dict[Path, int]:
    """Return {resolved file: mtime in ns} of every source and input (`inputs_by_path`) a watch follows."""
    posts_dir = Layout(root).sources.resolve()
    followed = inputs_by_path(root) if inputs is None else inputs
    found: dict[Path, int] = {}
    for path in {*(p.resolve() for p in posts.discover(posts_dir)), *followed}:
        with contextlib.suppress(OSError):  # gone meanwhile: not there to compare
            found[path] = path.stat().st_mtime_ns
    return found


def changes_since(before: dict[Path, int], now: dict[Path, int]) -> list[tuple[str, Path]]:
    """Return the (kind, path) changes from one snapshot to the next, as `affected` takes them."""
    kinds = [("deleted", p) for p in before if p not in now]
    kinds += [("added" if p not in before else "modified", p) for p in now if before.get(p) != now[p]]
    return sorted(kinds, key=lambda change: change[1])


def watch_posts(
    root: Path,
    rebuild: Callable[[tuple[str, ...]], None],
    stop: threading.Event | None = None,
    since: dict[Path, int] | None = None,
) -> None:
    """Call `rebuild(slugs)` after each batch of relevant changes (`()` means every post).

    `since` is a `snapshot` taken before the build that preceded the watch: what changed
    after it, before the watcher was armed, is rebuilt as soon as it is. Returns when `stop`
    is set; Ctrl-C raises KeyboardInterrupt.
    """
    import watchfiles

    posts_dir = Layout(root).sources.resolve()
    names = {watchfiles.Change.added: "added", watchfiles.Change.modified: "modified"}
    inputs = inputs_by_path(root)
    while True:
        dirs = _watched_dirs(posts_dir, inputs)
        # An empty batch each second while idle: the first one says the watcher is armed.
        # A save is a burst of a few writes (a temporary file, a rename): it is taken once 30 ms
        # pass without another (watchfiles' default waits 50 ms).
        for batch in watchfiles.watch(
            *dirs, stop_event=stop, step=30, yield_on_timeout=True, rust_timeout=1000
        ):
            interrupt.check()  # a Ctrl-C whose KeyboardInterrupt was swallowed still ends the watch
            changes = [(names.get(change, "deleted"), Path(path)) for change, path in batch]
            if since is not None:
                # Saved while the first build ran: seen by no watcher, so compared by time.
                changes += changes_since(since, snapshot(root, inputs))
                since = None
            if not changes:
                continue
            slugs, full = affected(changes, posts_dir, inputs)
            if full or slugs:
                rebuild(() if full else tuple(sorted(slugs)))
            # Front matter may declare other inputs now: found again for the posts just rebuilt.
            inputs = inputs_by_path(root, None if full else slugs)
            if _watched_dirs(posts_dir, inputs) != dirs:
                break  # watch the new folders too
        else:
            return
