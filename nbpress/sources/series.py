"""Series: posts that name the same `series:` in their front matter are the parts of one course.

The one index of a blog's series (`SeriesIndex`), made once per build from every source's front
matter (`read_index`): each series' parts in order (`series_order`, then date, then file slug),
and the problems that fail a part (two parts of one series with the same `series_order`, two
spellings of one series' name). What a part shows of its series is its `Listing`: the parts a
reader of its page can open (drafts left out, a draft part sees itself among them); the render
key holds its `term`, and nbpress.rendering.series writes the box and the previous/next links.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import SourceError
from .posts import Post, discover, read_sources

SERIES_INDEX = "index"  # series/index.md lists every series: no series may be called so


def series_slug(name: str) -> str:
    """Return the file name (without .md) of the page of the series `name`: ASCII letters, digits, '-'."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")[:80].strip("-")
    if not slug or slug == SERIES_INDEX:
        # A name with no ASCII letter ("数学"): named by its characters' code points instead.
        slug = "series-" + "-".join(f"{ord(c):x}" for c in name if not c.isspace())[:70]
    return slug


@dataclass(frozen=True)
class Part:
    """One post of a series, as its siblings show it."""

    file_slug: str
    rel_path: str
    title: str
    date: str  # ISO text, as ordered
    draft: bool
    order: int | None

    @property
    def sort_key(self) -> tuple[bool, int, str, str]:
        """Return its place: series_order first (parts without one after), then date, then file slug."""
        return (self.order is None, self.order or 0, self.date, self.file_slug)


@dataclass(frozen=True)
class Series:
    """One series: its name, its page's slug and every part (drafts too), in order."""

    name: str
    slug: str
    parts: tuple[Part, ...]

    @property
    def published(self) -> tuple[Part, ...]:
        """Return the parts a built site shows (drafts left out)."""
        return tuple(p for p in self.parts if not p.draft)


@dataclass(frozen=True)
class Listing:
    """What one part shows of its series: the parts its reader can open, and which one it is."""

    name: str
    slug: str
    parts: tuple[Part, ...]  # published parts, and the part itself if it is a draft
    current: int  # index of the part itself in `parts`
    has_page: bool  # the series page exists (it has a published part)

    @property
    def previous(self) -> Part | None:
        """Return the part before this one, if any."""
        return self.parts[self.current - 1] if self.current > 0 else None

    @property
    def next(self) -> Part | None:
        """Return the part after this one, if any."""
        return self.parts[self.current + 1] if self.current + 1 < len(self.parts) else None

    @property
    def siblings(self) -> set[str]:
        """Return the file slugs of the other parts it links to."""
        return {p.file_slug for i, p in enumerate(self.parts) if i != self.current}

    def term(self, gone: frozenset[str] = frozenset()) -> list[object]:
        """Return what decides the box and links it renders (nbpress.rendering.key's render key).

        The parts in their order (a changed date or series_order counts only when it reorders
        them), each one's file slug (its link), title and draft state; a part in `gone` (no page
        after this build) is shown unlinked, so it counts too.
        """
        parts = [[p.file_slug, p.title, p.draft, p.file_slug in gone] for p in self.parts]
        return [self.name, self.slug, self.current, self.has_page, parts]


@dataclass
class SeriesIndex:
    """Every series of a blog (by slug), and the problem that fails each part that cannot be placed."""

    series: dict[str, Series] = field(default_factory=dict)
    problems: dict[str, SourceError] = field(default_factory=dict)  # {source rel_path: error}
    of_post: dict[str, str] = field(default_factory=dict)  # {file slug: series slug}
    posts: dict[str, Post] = field(default_factory=dict)  # {file slug: post} of every part

    def listing(self, post: Post) -> Listing | None:
        """Return what `post` shows of its series, or None if it is in none (or fails on its own)."""
        slug = self.of_post.get(post.file_slug)
        if slug is None or post.rel_path in self.problems:
            return None
        series = self.series[slug]
        parts = tuple(p for p in series.parts if not p.draft or p.file_slug == post.file_slug)
        current = next(i for i, p in enumerate(parts) if p.file_slug == post.file_slug)
        return Listing(series.name, series.slug, parts, current, bool(series.published))

    def parts_beside(self, chosen: list[Post]) -> list[Post]:
        """Return the other parts of the series the `chosen` posts are parts of: they show them."""
        have = {p.file_slug for p in chosen}
        series = {self.of_post[slug] for slug in have if slug in self.of_post}
        return [
            self.posts[part.file_slug]
            for slug in sorted(series)
            for part in self.series[slug].parts
            if part.file_slug not in have
        ]

    def check(self, post: Post) -> None:
        """Raise the SourceError that fails `post` as a part of its series, if there is one."""
        problem = self.problems.get(post.rel_path)
        if problem is not None:
            raise problem


def index(posts: list[Post]) -> SeriesIndex:
    """Return the SeriesIndex of `posts` (every post of the blog that can be read)."""
    found = SeriesIndex()
    groups: dict[str, list[Post]] = {}
    for post in sorted(posts, key=lambda p: p.rel_path):
        name = post.front_matter.series
        if name is not None:
            groups.setdefault(series_slug(name), []).append(post)
    for slug, group in groups.items():
        first = group[0]
        for post in group[1:]:
            name = post.front_matter.series
            if name != first.front_matter.series:
                found.problems[post.rel_path] = SourceError(
                    f"front matter: series {name!r} is spelled {first.front_matter.series!r} in "
                    f"{first.rel_path}, and both name the same series page; spell the series' name "
                    "the same in every part.",
                    path=post.rel_path,
                )
        by_order: dict[int, list[Post]] = {}
        for post in group:
            if post.front_matter.series_order is not None:
                by_order.setdefault(post.front_matter.series_order, []).append(post)
        for order, same in by_order.items():
            for post in same if len(same) > 1 else ():
                other = next(p for p in same if p is not post)
                found.problems.setdefault(
                    post.rel_path,
                    SourceError(
                        f"front matter: series_order {order} is also that of {other.rel_path} in the "
                        f"series {first.front_matter.series!r}; give each part its own number.",
                        path=post.rel_path,
                    ),
                )
        parts = sorted(
            (
                Part(
                    p.file_slug,
                    p.rel_path,
                    p.front_matter.title,
                    p.front_matter.date.isoformat(),
                    p.front_matter.draft,
                    p.front_matter.series_order,
                )
                for p in group
                if p.rel_path not in found.problems
            ),
            key=lambda part: part.sort_key,
        )
        if not parts:
            continue
        found.series[slug] = Series(str(first.front_matter.series), slug, tuple(parts))
        found.of_post.update({part.file_slug: slug for part in parts})
        found.posts.update({p.file_slug: p for p in group if p.rel_path not in found.problems})
    return found


def read_index(
    sources_dir: Path, root: Path, known: list[Post] | None = None, sources: list[Path] | None = None
) -> SeriesIndex:
    """Return the SeriesIndex of every source in `sources_dir` (`sources` if listed), reading all but `known`.

    A source that cannot be read is left out (it fails on its own, naming its problem); one
    whose file slug another source shares is too (read_unique fails both).
    """
    known = known or []
    have = {p.path for p in known}
    listed = discover(sources_dir) if sources is None else sources
    others, _ = read_sources([p for p in listed if p not in have], root)
    everything = [*known, *others]
    counts: dict[str, int] = {}
    for post in everything:
        counts[post.file_slug.lower()] = counts.get(post.file_slug.lower(), 0) + 1
    return index([p for p in everything if counts[p.file_slug.lower()] == 1])
