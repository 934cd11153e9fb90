"""Is the committed Markdown current? Compare each post's recorded keys with its sources.

Executes nothing and imports neither nbclient nor nbconvert: the build's own decision
(plan.decide) compares the keys of the sources with the generated Markdown's record, so
the check takes a fraction of a second.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from .errors import NbpressError, one_post
from .layout import Layout
from .plan import Action, Context, Decision, context, decide
from .publishing import Site, hand_edit_message
from .sources import posts


class Problem(StrEnum):
    """Why a post is not current."""

    MISSING = "missing"  # no generated Markdown, or a figure it links is gone
    STALE = "stale"  # its keys changed: it would run again, or be rendered again
    EDITED = "edited"  # its Markdown was changed by hand since the build wrote it
    ORPHAN = "orphan"  # generated Markdown whose source is gone
    FAILED = "failed"  # its last build failed (and left its log): what the build would do again
    ERROR = "error"  # the source cannot be read, or its keys cannot be computed


@dataclass(frozen=True)
class Finding:
    """One post that `python build.py` would change: its name, what is wrong, and why."""

    name: str
    problem: Problem
    reason: str


def find_stale(root: Path) -> tuple[int, list[Finding]]:
    """Return (number of current posts, findings for every post that is not current)."""
    root = root.resolve()
    site = Site(root, Layout(root).sources)
    sources = posts.discover(site.layout.sources)
    # Unreadable sources and shared slugs, found exactly as the build finds them.
    unique, failures = posts.read_unique(sources, root)
    findings = [Finding(f.name, Problem.ERROR, str(f.error)) for f in failures]
    ctx = context(site, unique)
    current = 0
    for post in unique:
        try:
            with one_post(post.rel_path, "checking it"):
                finding = _finding(decide(post, ctx), site)
        except NbpressError as err:
            finding = Finding(post.rel_path, Problem.ERROR, str(err))
        if finding is None:
            current += 1
        else:
            findings.append(finding)
    kept = {p.relative_to(root).as_posix() for p in sources}
    for md, record in site.orphans(kept):
        name = md.relative_to(root).as_posix()
        findings.append(Finding(name, Problem.ORPHAN, f"its source {record.source} is gone"))
    findings += _series_findings(site, ctx)
    return current, findings


_SERIES_PROBLEMS = {
    "missing": (Problem.MISSING, "the page of a series is not written yet"),
    "stale": (Problem.STALE, "the series' parts changed: the page is written again"),
    "orphan": (Problem.ORPHAN, "no post names this series any more"),
    "edited": (
        Problem.EDITED,
        "edited by hand since the build wrote it; delete the file to have it written again",
    ),
    "not ours": (Problem.ERROR, "not written by nbpress, where the page of a series goes; move it away"),
}


def _series_findings(site: Site, ctx: Context) -> list[Finding]:
    """Return what `--check` says of the series pages a build would change (nbpress.rendering.series)."""
    from .rendering.series import pages_of

    pages = pages_of(ctx.series, site.published_front_matter, site.layout)
    return [Finding(page, *_SERIES_PROBLEMS[what]) for page, what in site.series_differences(pages)]


def _finding(decision: Decision, site: Site) -> Finding | None:
    """Return what `--check` says of a post the build would not leave alone (None if it would)."""
    post = decision.post
    files = site.files(post.file_slug)
    if decision.record is not None and decision.edited:
        source = decision.record.source or post.rel_path
        return Finding(post.rel_path, Problem.EDITED, hand_edit_message(files.markdown_rel, source))
    if decision.record is not None and decision.action is Action.UNCHANGED:
        return None
    log = site.layout.post(post.file_slug).log
    if log.is_file():  # the build writes it when the post fails, and removes it when it builds
        return Finding(
            post.rel_path,
            Problem.FAILED,
            f"its last build failed; the traceback is in {site.layout.rel(log)} "
            f"(fix it, then run python build.py {post.file_slug})",
        )
    if decision.record is None:
        return Finding(post.rel_path, Problem.MISSING, f"no generated {files.markdown_rel}")
    if decision.missing_figure:
        figure = files.figure_rel(decision.missing_figure)
        return Finding(post.rel_path, Problem.MISSING, f"figure {figure} is missing")
    if decision.action is Action.EXECUTE:
        return Finding(post.rel_path, Problem.STALE, f"{decision.reason}: the post runs again")
    return Finding(post.rel_path, Problem.STALE, f"{decision.reason}: the post is rendered again")
