"""What a build would do with each post, decided in one place.

The build (pipeline), `--check` (check.py) and the cache pruner all ask `decide`, so a post
that `--check` calls current is one the build leaves alone, and the reason a build line
gives is the one `--check` gives. Nothing is executed, rendered or written here: the keys
come from the sources (execution.keys.key_parts, rendering.key.render_key) and the published side from the
generated Markdown's `nbpress:` record.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

from .execution import Environment, environment_fingerprint, keys
from .layout import Layout
from .publishing import Site, hand_edit_message
from .record import Record
from .sources import Post
from .sources.series import Listing, SeriesIndex, read_index


class Action(StrEnum):
    """What a build does with one post."""

    UNCHANGED = "unchanged"  # published, and its keys and figures are current
    EXECUTE = "execute"  # never published, --force, or what decides its outputs changed
    RENDER = "render"  # its outputs stand (from the cache when it holds them); render again
    REFUSE = "refuse"  # its generated Markdown was edited by hand: never overwritten


@dataclass(frozen=True)
class Context:
    """What every post's decision shares, read once per build."""

    site: Site
    posts_dir: Path
    env: Environment
    renderer: str
    series: SeriesIndex  # every series of the blog, from every source's front matter


def context(site: Site, known: list[Post] | None = None, sources: list[Path] | None = None) -> Context:
    """Return the decision context of the blog whose published tree is `site`.

    `known`: posts read already; `sources`: the sources in posts/, when listed already.
    """
    from .rendering import renderer_fingerprint

    series = read_index(site.layout.sources, site.root, known, sources)
    return Context(
        site, site.layout.sources, environment_fingerprint(site.root), renderer_fingerprint(), series
    )


@dataclass(frozen=True)
class Decision:
    """One post's decision: the action, why, and the keys it was decided from."""

    post: Post
    action: Action
    reason: str  # the part of its key that changed, or what else makes it not current ("" if unchanged)
    exec_key: str
    render_key: str
    parts: keys.KeyParts  # recorded with the post, so a later change can be named
    record: Record | None  # the published version's `nbpress:` record
    edited: bool = False  # its Markdown was changed by hand since the build wrote it
    missing_figure: str = ""  # a figure the record lists that is gone (keys otherwise current)
    series: Listing | None = None  # what it shows of its series (nbpress.sources.series)
    # Its BibTeX files' digests (rendering.markup.bibliography_terms), recorded with the post.
    bibliography: Mapping[str, str] = field(default_factory=dict)

    @property
    def previous_key(self) -> str | None:
        """Return the execution key of the published version, if it records one."""
        return published_key(self.record)


def published_key(record: Record | None) -> str | None:
    """Return the execution key a published post's record names, if it names one."""
    return (record.exec_key or None) if record is not None else None


def decide(post: Post, ctx: Context, force: bool = False) -> Decision:
    """Return what a build does with `post`; raise NbpressError if its keys cannot be computed."""
    from .rendering import render_key as rendering_key
    from .rendering.markup import bibliography_terms

    ctx.series.check(post)  # a part its series cannot place (a series_order two parts share) fails
    listing = ctx.series.listing(post)
    parts = keys.key_parts(post, ctx.posts_dir, ctx.env)
    exec_key = keys.digest_parts(parts)
    bibliography = bibliography_terms(post)
    render_key = rendering_key(post, exec_key, ctx.renderer, series=listing, bibliography=bibliography)
    site = ctx.site
    files = site.files(post.file_slug)
    record = site.record(post.file_slug)
    edited = site.edited(post.file_slug, record)
    gone = [n for n in (record.figures if record else ()) if not site.figure_exists(post.file_slug, n)]

    def decision(action: Action, reason: str, missing: str = "") -> Decision:
        return Decision(
            post, action, reason, exec_key, render_key, parts, record, edited, missing, listing, bibliography
        )

    current = keys.is_current(record, post, exec_key, render_key)
    if not force and current and not gone:
        return decision(Action.UNCHANGED, "")
    if edited:
        source = (record.source if record else "") or post.rel_path
        return decision(Action.REFUSE, hand_edit_message(files.markdown_rel, source))
    if force:
        return decision(Action.EXECUTE, "--force")
    if record is None:
        return decision(Action.EXECUTE, "not published yet")
    if keys.recorded_key(record) != exec_key:
        return decision(Action.EXECUTE, keys.explain(record.executed_with, parts, post))
    if record.source != post.rel_path:
        return decision(Action.RENDER, f"{files.markdown_rel} was built from {record.source}")
    if current:
        return decision(Action.RENDER, "a published figure is missing", gone[0])
    recorded = record.bibliography or {}
    if recorded != bibliography and record.render_key == rendering_key(
        post, exec_key, ctx.renderer, series=listing, bibliography=recorded
    ):
        # With the bibliography it was rendered with, its key is the published one: only that changed.
        return decision(Action.RENDER, bibliography_changes(recorded, bibliography))
    return decision(Action.RENDER, "prose, front matter or the renderer changed")


def bibliography_changes(before: Mapping[str, str], now: Mapping[str, str]) -> str:
    """Return what changed between two bibliography terms: "posts/references.bib changed", say."""
    said = [
        f"{name} {'changed' if name in before else 'added'}" for name in now if now[name] != before.get(name)
    ]
    said += [f"{name} removed" for name in before if name not in now]
    return ", ".join(said)


def used_keys(root: Path) -> set[str]:
    """Return the cache keys a current post uses: its key now, and that of its published version."""
    from .errors import NbpressError, one_post
    from .sources import posts

    root = root.resolve()
    site = Site(root, Layout(root).sources)
    read = posts.read_unique(posts.discover(site.layout.sources), root)[0]
    ctx = context(site, read)
    used: set[str] = set()
    for post in read:
        try:
            with one_post(post.rel_path, "computing its keys"):
                decision = decide(post, ctx)
        except NbpressError:
            # Its keys cannot be computed now (a missing input): keep what its published version used.
            key = published_key(site.record(post.file_slug))
            used |= {key} if key else set()
            continue
        used |= {k for k in (decision.exec_key, decision.previous_key) if k}
    return used
