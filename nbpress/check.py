"""Is the committed Markdown current? Compare each post's recorded keys with its sources.

Executes nothing and imports neither nbclient nor nbconvert: the keys come from the sources
(cache.execution_key, cache.render_key) and the record comes from the generated Markdown's
front matter, so the check takes a fraction of a second.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from . import cache, posts
from .errors import NbpressError
from .pipeline import PostResult, _read_unique
from .render import renderer_fingerprint
from .write import Site, edited, read_record


@dataclass(frozen=True)
class Finding:
    """One post that `python build.py` would change: its name, what is wrong, and why."""

    name: str
    problem: str  # "missing", "stale", "edited", "orphan" or "error"
    reason: str


def check(root: Path) -> tuple[int, list[Finding]]:
    """Return (number of current posts, findings for every post that is not current)."""
    root = root.resolve()
    posts_dir = root / "posts"
    site = Site(root, posts_dir)
    findings: list[Finding] = []

    def failed(result: PostResult) -> None:
        # Unreadable sources and shared slugs, found exactly as the build finds them.
        findings.append(Finding(result.name, "error", str(result.error)))

    sources = posts.discover(posts_dir)
    env = cache.environment_fingerprint(root)
    renderer = renderer_fingerprint()
    current = 0
    for post in _read_unique(sources, root, failed):
        finding = _check_post(post, site, posts_dir, env, renderer)
        if finding is None:
            current += 1
        else:
            findings.append(finding)
    findings += _orphans(site, {p.relative_to(root).as_posix() for p in sources})
    return current, findings


def _check_post(
    post: posts.Post, site: Site, posts_dir: Path, env: cache.Environment, renderer: str
) -> Finding | None:
    try:
        parts = cache.key_parts(post, posts_dir, env)
    except NbpressError as err:
        return Finding(post.rel_path, "error", str(err))
    exec_key = cache.digest_parts(parts)
    render_key = cache.render_key(post, exec_key, renderer)
    record = site.record(post.slug)
    if record is None:
        return Finding(post.rel_path, "missing", f"no generated site_src/posts/{post.slug}.md")
    if edited(site.markdown_path(post.slug), record):
        return Finding(
            post.rel_path,
            "edited",
            f"site_src/posts/{post.slug}.md was edited by hand since the build wrote it; move the "
            f"edit into {post.rel_path}, or delete the file, and build again",
        )
    if cache.is_current(record, post, exec_key, render_key):
        fig_dir = site.figure_dir(post.slug)
        gone = [str(n) for n in record.get("figures", []) or [] if not (fig_dir / str(n)).is_file()]
        if gone:
            return Finding(post.rel_path, "missing", f"figure assets/images/{post.slug}/{gone[0]} is missing")
        return None
    if record.get("source") != post.rel_path:
        reason = f"site_src/posts/{post.slug}.md was built from {record.get('source')}"
    elif record.get("exec_key") != exec_key:
        reason = f"{cache.explain(record.get('executed_with'), parts, post)}: the post runs again"
    else:
        reason = "prose, front matter or the renderer changed: the post is rendered again"
    return Finding(post.rel_path, "stale", reason)


def _orphans(site: Site, sources: set[str]) -> list[Finding]:
    """Return findings for generated posts whose source is gone (the build would remove them)."""
    found = []
    if site.posts_dir.is_dir():
        for md in sorted(site.posts_dir.glob("*.md")):
            record = read_record(md)
            if record is not None and record.get("source") not in sources:
                name = f"site_src/posts/{md.name}"
                found.append(Finding(name, "orphan", f"its source {record.get('source')} is gone"))
    return found
