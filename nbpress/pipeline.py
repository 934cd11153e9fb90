"""The build: read every post, execute what is stale, render, then publish.

Data flows one way, post by post: posts -> execute (or cache) -> outputs -> render -> write.
A post is published only when every earlier stage of it succeeded, so a failing post
keeps its last good version and the other posts still build.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from . import cache, posts
from .errors import NbpressError, SourceError

STATUSES = ("executed", "rendered", "unchanged", "removed", "failed")


@dataclass
class PostResult:
    """What the build did with one post."""

    name: str
    status: str
    seconds: float = 0.0
    error: NbpressError | None = None
    detail: str = ""


@dataclass
class Options:
    """What to build: the blog root, which slugs (all when empty), and how."""

    root: Path
    slugs: tuple[str, ...] = ()
    force: bool = False
    jobs: int = field(default_factory=lambda: os.cpu_count() or 1)


@dataclass
class _Plan:
    post: posts.Post
    exec_key: str
    render_key: str
    outputs: list[Any] | None = None
    executed: Any | None = None


def _authors(root: Path) -> dict[str, str]:
    """Return {author name or key: key} from site_src/.authors.yml (Material's blog authors)."""
    path = root / "site_src" / ".authors.yml"
    if not path.is_file():
        return {}
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    table: dict[str, str] = {}
    for key, info in (data.get("authors") or {}).items():
        table[str(key)] = str(key)
        if isinstance(info, dict) and info.get("name"):
            table[str(info["name"])] = str(key)
    return table


def build(options: Options, report: Callable[[PostResult], None] = lambda _: None) -> list[PostResult]:
    """Build the blog; return one PostResult per post, calling `report` as each one ends."""
    from .write import Site

    root = options.root.resolve()
    posts_dir = root / "posts"
    site = Site(root, posts_dir)
    results: list[PostResult] = []

    def done(result: PostResult) -> None:
        results.append(result)
        report(result)

    sources = posts.discover(posts_dir)
    if options.slugs:
        wanted = set(options.slugs)
        unknown = wanted - {p.stem for p in sources}
        for slug in sorted(unknown):
            done(PostResult(slug, "failed", error=SourceError(f"posts/{slug}: no such post in posts/.")))
        sources = [p for p in sources if p.stem in wanted]

    read: list[posts.Post] = []
    for path in sources:
        try:
            read.append(posts.read_post(path, root))
        except NbpressError as err:
            done(PostResult(path.relative_to(root).as_posix(), "failed", error=err))
    by_slug: dict[str, list[posts.Post]] = {}
    for post in read:
        by_slug.setdefault(post.slug.lower(), []).append(post)
    unique = []
    for group in by_slug.values():
        if len(group) == 1:
            unique.append(group[0])
            continue
        names = ", ".join(p.rel_path for p in group)
        for post in group:
            msg = f"{post.rel_path}: the slug {post.slug!r} is used by several sources ({names}); rename one."
            done(PostResult(post.rel_path, "failed", error=SourceError(msg)))

    env = cache.environment_fingerprint(root)
    store = cache.Store(root / cache.CACHE_DIR_NAME)
    from .render import renderer_fingerprint

    renderer = renderer_fingerprint()
    plans: list[_Plan] = []
    for post in unique:
        try:
            exec_key = cache.execution_key(post, posts_dir, env)
        except NbpressError as err:
            done(PostResult(post.rel_path, "failed", error=err))
            continue
        render_key = cache.render_key(post, exec_key, renderer)
        record = site.record(post.slug) or {}
        if (
            not options.force
            and record.get("exec_key") == exec_key
            and record.get("render_key") == render_key
            and record.get("source") == post.rel_path
        ):
            done(PostResult(post.rel_path, "unchanged"))
            continue
        plan = _Plan(post, exec_key, render_key)
        if not options.force:
            plan.outputs = store.load(exec_key)
        plans.append(plan)

    to_run = [p for p in plans if p.outputs is None]
    from .execute import execute_all

    outcomes = {id(o.post): o for o in execute_all([p.post for p in to_run], posts_dir, options.jobs)}
    for plan in plans:
        start = time.perf_counter()
        outcome = outcomes.get(id(plan.post))
        status = "rendered"
        seconds = 0.0
        if outcome is not None:
            seconds = outcome.seconds
            status = "executed"
            if outcome.error is not None:
                detail = getattr(outcome.error, "traceback", "")
                done(PostResult(plan.post.rel_path, "failed", seconds, outcome.error, detail))
                continue
            store.save(plan.exec_key, outcome.notebook)
            plan.executed = outcome.notebook
        try:
            _publish(plan, site, root, _authors(root))
        except NbpressError as err:
            done(PostResult(plan.post.rel_path, "failed", seconds, err))
            continue
        done(PostResult(plan.post.rel_path, status, seconds + time.perf_counter() - start))

    if not options.slugs:
        for slug in site.prune(
            {p.rel_path for p in read} | {p.relative_to(root).as_posix() for p in sources}
        ):
            done(PostResult(f"site_src/posts/{slug}.md", "removed"))
    return results


def _publish(plan: _Plan, site: Any, root: Path, authors: dict[str, str]) -> None:
    from .outputs import clean_notebook
    from .render import published_front_matter, render

    post = plan.post
    if plan.executed is not None:
        executed = plan.executed
    else:
        try:
            executed = cache.with_outputs(post, plan.outputs or [])
        except ValueError:
            raise SourceError(
                f"{post.rel_path}: the cached outputs no longer fit; run with --force."
            ) from None
    cleaned = clean_notebook(executed, post.front_matter_cell, roots=[root])
    record = {"source": post.rel_path, "exec_key": plan.exec_key, "render_key": plan.render_key}
    front_matter = published_front_matter(post, authors, record)
    rendered = render(post, cleaned, front_matter, f"/assets/images/{post.slug}/")
    site.publish(rendered)
