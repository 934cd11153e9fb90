"""The build: read every post, execute what is stale, render, then publish.

Data flows one way, post by post: posts -> execute (or cache) -> outputs -> render -> write.
A post is published only when every earlier stage of it succeeded, so a failing post
keeps its last good version and the other posts still build.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import signal
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from . import backends, cache, posts, provenance
from .errors import ConfigError, NbpressError, SourceError, WriteError

STATUSES = ("executed", "cached", "unchanged", "removed", "failed")


@dataclass
class PostResult:
    """What the build did with one post: a status of STATUSES ("cached": rendered from the cache)."""

    name: str
    status: str
    seconds: float = 0.0
    error: NbpressError | None = None
    detail: str = ""
    warnings: tuple[str, ...] = ()
    reason: str = ""  # why it was executed or rendered again: which part of its key changed


def default_jobs() -> int:
    """Return how many kernels to run at once: one more than the CPUs.

    A kernel spends part of its start waiting on its handshake, so one extra keeps both
    cores busy (measured with bench/bench.py).
    """
    return (os.cpu_count() or 1) + 1


@dataclass
class Options:
    """What to build: the blog root, which slugs (all when empty), and how."""

    root: Path
    slugs: tuple[str, ...] = ()
    force: bool = False
    shard: tuple[int, int] | None = None
    jobs: int = field(default_factory=lambda: default_jobs())


@dataclass
class _Plan:
    post: posts.Post
    exec_key: str
    render_key: str
    outputs: list[Any] | None = None
    executed: Any | None = None
    provenance: dict[str, Any] | None = None
    parts: dict[str, Any] = field(default_factory=dict)
    previous_key: str | None = None  # the execution key of the published version
    reason: str = ""
    warnings: list[str] = field(default_factory=list)


def _authors(root: Path) -> dict[str, str]:
    """Return {author name or key: key} from site_src/.authors.yml (Material's blog authors)."""
    path = root / "site_src" / ".authors.yml"
    if not path.is_file():
        return {}
    data = load_authors(path, root)
    table: dict[str, str] = {}
    for key, info in (data.get("authors") or {}).items():
        table[str(key)] = str(key)
        if isinstance(info, dict) and info.get("name"):
            table[str(info["name"])] = str(key)
    return table


def load_authors(path: Path, root: Path) -> dict[str, Any]:
    """Return the mapping in site_src/.authors.yml; raise ConfigError (one line, with its line) if broken."""
    rel = path.relative_to(root).as_posix() if path.is_relative_to(root) else path.name
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f", line {mark.line + 1}" if mark is not None else ""
        problem = getattr(err, "problem", None) or "not valid YAML"
        raise ConfigError(f"{rel}{where}: {problem}; fix the YAML, then build again.") from None
    except (OSError, UnicodeDecodeError) as err:
        raise ConfigError(f"{rel}: cannot be read ({err}); fix the file, then build again.") from None
    authors = data.get("authors", {}) if isinstance(data, dict) else None
    if not isinstance(authors, dict):
        raise ConfigError(
            f"{rel}: expected a mapping with an 'authors:' mapping of author keys; fix it, then build again."
        )
    return data


class Reporter:
    """Receives the build's events; the default ignores them. cli.py prints them."""

    def started(self, name: str) -> None:
        """Called when a post's kernel starts."""

    def finished(self, result: PostResult) -> None:
        """Called once per post when the build is done with it."""

    def waiting(self, line: str) -> None:
        """Called once if another build holds the blog's lock: `line` says which (its PID)."""


def shard_of(slug: str, count: int) -> int:
    """Return the shard (0-based, of `count`) a post belongs to; stable as posts come and go."""
    return int(hashlib.sha256(slug.encode()).hexdigest(), 16) % count


def build(
    options: Options,
    reporter: Reporter | None = None,
    then: Callable[[list[PostResult]], None] | None = None,
) -> list[PostResult]:
    """Build the blog; return one PostResult per post, reporting each as it ends.

    With `options.shard` = (k, n) only the k-th of n stable subsets is executed into the
    cache and nothing is published: a last job with every shard's cache then renders.
    `then(results)` runs after the last post, still under the blog's lock (the execution
    report merges each build's results into one file).
    """
    from .lock import build_lock
    from .write import Site

    events = reporter or Reporter()
    root = options.root.resolve()
    if options.jobs < 1:
        raise ConfigError(f"-j {options.jobs}: the number of kernels to run at once must be 1 or more.")
    # Checked before the lock is taken, so a refused layout leaves the blog as it was.
    site = Site(root, root / "posts")
    # One build at a time: recover() below settles journals and deletes temporary files,
    # which must never be those of a build that is still running.
    with build_lock(root, events.waiting):
        results = _build(options, root, site, events)
        if then is not None:
            then(results)
        return results


def _build(options: Options, root: Path, site: Any, events: Reporter) -> list[PostResult]:
    """Build the blog at `root` under its lock; return one PostResult per post."""
    posts_dir = root / "posts"
    # A build killed mid-write leaves dot-named temporary files and journals (MkDocs skips
    # them); finish its work before deciding what is unchanged.
    site.recover()
    results: list[PostResult] = []

    def done(result: PostResult) -> None:
        results.append(result)
        events.finished(result)

    sources = _select_sources(posts.discover(posts_dir), options.slugs, done)
    unique = _read_unique(sources, root, done)
    if options.shard is not None:
        k, n = options.shard
        unique = [p for p in unique if shard_of(p.slug, n) == k - 1]
    plans = _plan(unique, options, site, root, done)
    store = cache.Store(root / cache.CACHE_DIR_NAME)
    publish = options.shard is None
    authors = _authors(root)

    def finish(plan: _Plan, status: str, seconds: float) -> None:
        start = time.perf_counter()
        warnings: list[str] = []
        if publish:
            try:
                warnings = _publish(plan, site, root, authors)
            except NbpressError as err:
                done(PostResult(plan.post.rel_path, "failed", seconds, err))
                return
        elapsed = seconds + time.perf_counter() - start
        done(
            PostResult(
                plan.post.rel_path,
                status,
                elapsed,
                warnings=(*plan.warnings, *warnings),
                reason=plan.reason,
            )
        )

    to_run = []
    for plan in plans:
        if plan.outputs is None:
            to_run.append(plan)
        else:
            finish(plan, "cached", 0.0)

    from .charts import attach_widget_state
    from .execute import Executed, execute_all
    from .outputs import limit_outputs

    by_post = {id(p.post): p for p in to_run}
    durations = store.durations()

    def executed(outcome: Executed) -> None:
        # On the main thread: the executor hands each finished notebook over a queue, so
        # capping, probing versions, caching and publishing never stall the kernels' loop.
        plan = by_post[id(outcome.post)]
        if outcome.error is not None:
            detail = getattr(outcome.error, "traceback", "")
            warnings = tuple(plan.warnings)
            done(PostResult(plan.post.rel_path, "failed", outcome.seconds, outcome.error, detail, warnings))
            return
        # Capped before caching, so a runaway cell costs no more memory or disk than a normal one.
        # Widget state lives in notebook metadata, which the cache does not keep: into the outputs.
        plan.executed = attach_widget_state(limit_outputs(outcome.notebook))
        # Outputs that differ from the previous run's only in volatile tokens keep its bytes.
        _settle(plan, store)
        # Recorded now, with the outputs, so a later re-render shows the same line.
        plan.provenance = provenance.collect(plan.executed, plan.post.front_matter.kernel)
        durations[plan.post.slug] = round(outcome.seconds, 1)
        try:
            store.save(plan.exec_key, plan.executed, plan.provenance, plan.parts)
        except WriteError as err:  # a full disk fails this post, not the build
            error = WriteError(f"{plan.post.rel_path}: {err}")
            done(PostResult(plan.post.rel_path, "failed", outcome.seconds, error))
            return
        finish(plan, "executed", outcome.seconds)

    # Longest first (by the last build's times) so the slowest post never starts last.
    to_run.sort(key=lambda p: -durations.get(p.post.slug, 0.0))
    execute_all(
        [p.post for p in to_run],
        posts_dir,
        options.jobs,
        on_start=lambda post: events.started(post.rel_path),
        on_done=executed,
    )
    if to_run:
        # Only an ordering hint for the next build: losing it (a full disk) costs nothing.
        with contextlib.suppress(NbpressError):
            store.save_durations(durations)

    if publish and not options.slugs:
        kept = {p.relative_to(root).as_posix() for p in sources}
        for slug in site.prune(kept):
            done(PostResult(f"site_src/posts/{slug}.md", "removed"))
        for name in site.edited_orphans(kept):
            error = WriteError(
                f"{name}: its source is gone, but it was edited by hand since the build wrote it, "
                "so nbpress keeps it; move the edit into a source in posts/, or delete the file."
            )
            done(PostResult(name, "failed", error=error))
    return results


def _select_sources(
    sources: list[Path], slugs: tuple[str, ...], done: Callable[[PostResult], None]
) -> list[Path]:
    """Return the sources to build: all, or those named by `slugs` (unknown names fail)."""
    if not slugs:
        return sources
    wanted = set(slugs)
    for slug in sorted(wanted - {posts.name_slug(p) for p in sources}):
        done(PostResult(slug, "failed", error=SourceError(f"posts/{slug}: no such post in posts/.")))
    return [p for p in sources if posts.name_slug(p) in wanted]


def _read_unique(sources: list[Path], root: Path, done: Callable[[PostResult], None]) -> list[posts.Post]:
    """Return the readable posts whose file slug and URL slug no other post shares; fail the rest.

    Names compare case-insensitively: two names differing in case are one file on macOS.
    """
    read: list[posts.Post] = []
    for path in sources:
        try:
            read.append(posts.read_post(path, root))
        except NbpressError as err:
            done(PostResult(path.relative_to(root).as_posix(), "failed", error=err))
    clashes: dict[tuple[str, str], list[posts.Post]] = {}
    for post in read:
        url = str(post.front_matter.data.get("slug", post.slug)).lower()
        for key in {("file", post.slug.lower()), ("url", url)}:
            clashes.setdefault(key, []).append(post)
    failed: dict[str, str] = {}
    for (_, name), group in sorted(clashes.items()):
        if len(group) > 1:
            members = ", ".join(p.rel_path for p in group)
            for post in group:
                failed.setdefault(
                    post.rel_path,
                    f"{post.rel_path}: the slug {name!r} is used by several sources ({members}); "
                    "rename one, or give it another slug: in its front matter.",
                )
    for post in read:
        if post.rel_path in failed:
            done(PostResult(post.rel_path, "failed", error=SourceError(failed[post.rel_path])))
    return [p for p in read if p.rel_path not in failed]


def _plan(
    unique: list[posts.Post], options: Options, site: Any, root: Path, done: Callable[[PostResult], None]
) -> list[_Plan]:
    """Return what to do for each post that is not already published as it stands."""
    from .render import renderer_fingerprint

    env = cache.environment_fingerprint(root)
    store = cache.Store(root / cache.CACHE_DIR_NAME)
    renderer = renderer_fingerprint()
    plans = []
    for post in unique:
        try:
            parts = cache.key_parts(post, root / "posts", env)
        except NbpressError as err:
            done(PostResult(post.rel_path, "failed", error=err))
            continue
        exec_key = cache.digest_parts(parts)
        render_key = cache.render_key(post, exec_key, renderer)
        record = site.record(post.slug)
        if (
            not options.force
            and cache.is_current(record, post, exec_key, render_key)
            and site.whole(post.slug, record)
        ):
            # Its warnings, recorded when it was rendered, still hold: --strict still fails on them.
            kept = (record or {}).get("warnings") or []
            done(PostResult(post.rel_path, "unchanged", warnings=tuple(str(w) for w in kept)))
            continue
        plan = _Plan(post, exec_key, render_key, parts=parts)
        if record is not None and isinstance(record.get("exec_key"), str):
            plan.previous_key = record["exec_key"]
        if not options.force:
            plan.outputs, problem = store.lookup(exec_key)
            if problem:
                plan.warnings.append(problem)
            plan.provenance = store.provenance(exec_key) if plan.outputs is not None else None
        plan.reason = _reason(plan, record, options.force)
        plans.append(plan)
    return plans


def _reason(plan: _Plan, record: dict[str, Any] | None, force: bool) -> str:
    """Return why a post is built again, naming the part of its key that changed."""
    if force:
        return "--force"
    if record is None:
        return "not published yet"
    if record.get("exec_key") != plan.exec_key:
        return cache.explain(record.get("executed_with"), plan.parts, plan.post)
    if record.get("render_key") == plan.render_key and record.get("source") == plan.post.rel_path:
        why = "a published figure is missing"
    else:
        why = "prose, front matter or the renderer changed"
    return why if plan.outputs is not None else f"{why}; its outputs are not in the cache"


def _settle(plan: _Plan, store: cache.Store) -> None:
    """Keep the previous run's bytes of every output that differs from it only in volatile tokens.

    The previous outputs are the cache entry of the published version (its record's key), else
    the entry under the current key (`--force`); without either (a fresh clone), the new outputs
    stand as they are and the drift check still masks their volatile tokens.
    """
    from .volatile import settle

    for key in dict.fromkeys(k for k in (plan.previous_key, plan.exec_key) if k):
        previous = store.load(key)
        if previous is not None:
            parts = store.parts(key)
            cells = parts.get("code") if parts else None
            settle(plan.executed, previous, cells if isinstance(cells, list) else None, plan.parts["code"])
            return


def used_cache_keys(root: Path) -> set[str]:
    """Return the cache keys a current post uses: its key now, and that of its published version."""
    from .write import Site

    root = root.resolve()
    site = Site(root, root / "posts")
    env = cache.environment_fingerprint(root)
    used: set[str] = set()
    for post in _read_unique(posts.discover(root / "posts"), root, lambda result: None):
        record = site.record(post.slug) or {}
        if isinstance(record.get("exec_key"), str):
            used.add(record["exec_key"])
        with contextlib.suppress(NbpressError):
            used.add(cache.execution_key(post, root / "posts", env))
    return used


def prune_cache(root: Path) -> tuple[list[str], tuple[int, int]]:
    """Remove the cache entries no current post uses; return (removed keys, (entries, bytes) left)."""
    store = cache.Store(root.resolve() / cache.CACHE_DIR_NAME)
    removed = store.prune(used_cache_keys(root))
    return removed, store.size()


def _publish(plan: _Plan, site: Any, root: Path, authors: dict[str, str]) -> list[str]:
    """Render and write one post; return its warnings (outputs not shown, `stderr: warn`)."""
    from .cells import apply_display
    from .outputs import clean_notebook
    from .render import published_front_matter, render
    from .write import DIGEST_PLACEHOLDER

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
    warnings: list[str] = []
    cleaned = clean_notebook(
        executed,
        post.front_matter_cell,
        roots=[root],
        raw_html=post.front_matter.raw_html,
        warnings=warnings,
        where=post.rel_path,
    )
    warnings[:0] = [*post.warnings, *backends.warnings(post, cleaned)]
    downloads = _downloads(post, cleaned, root)
    warnings += apply_display(cleaned, post.front_matter.stderr, post.rel_path)
    record: dict[str, Any] = {
        "source": post.rel_path,
        "exec_key": plan.exec_key,
        "render_key": plan.render_key,
        "executed_with": plan.parts,
        # write.seal replaces it with the digest of the Markdown as written, so a hand edit shows.
        "digest": DIGEST_PLACEHOLDER,
    }
    record["downloads"] = sorted(downloads)
    front_matter = published_front_matter(post, authors, record)
    rendered = render(
        post, cleaned, front_matter, f"/assets/images/{post.slug}/", plan.provenance, tuple(warnings)
    )
    with _signals_deferred():
        try:
            site.check_publishable(rendered)
            stale = site.publish_downloads(post.slug, downloads)
            site.publish(rendered)
            site.remove_downloads(post.slug, stale)
        except WriteError as err:
            raise WriteError(f"{post.rel_path}: {err}") from None
    return list(rendered.warnings)  # the post's warnings (given to render), then its own


def _downloads(post: Any, cleaned: Any, root: Path) -> dict[str, bytes]:
    """Return {name: bytes} a reader downloads: the executed notebook and the declared inputs.

    The notebook is the source with the cleaned outputs (sanitized, machine paths shortened),
    named <slug>.ipynb, without execution counts: the same bytes whether the post was just
    executed or re-rendered from the cache. An input keeps its path relative to posts/ (its
    folder name if it lies outside), so the notebook finds it where it looked.
    """
    import copy
    import json

    import nbformat

    # A text source's metadata may hold YAML values JSON has no type for (dates): as text.
    notebook = nbformat.from_dict(json.loads(json.dumps(post.notebook, default=str)))
    for cell, done in zip(notebook.cells, cleaned.cells, strict=False):
        if cell.cell_type == "code":
            cell.execution_count = None
            cell.outputs = copy.deepcopy(done.get("outputs", []))
            for output in cell.outputs:
                if "execution_count" in output:
                    output["execution_count"] = None
    files = {f"{post.slug}.ipynb": nbformat.writes(notebook).encode("utf-8")}
    posts_dir = (root / "posts").resolve()
    for name in post.front_matter.inputs:
        path = (posts_dir / name).resolve()
        if not path.is_file():
            continue
        rel = path.relative_to(posts_dir).as_posix() if path.is_relative_to(posts_dir) else path.name
        files[rel] = path.read_bytes()
    return files


@contextlib.contextmanager
def _signals_deferred() -> Iterator[None]:
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
    previous = {sig: signal.getsignal(sig) or signal.SIG_DFL for sig in (signal.SIGINT, signal.SIGTERM)}
    for sig in previous:
        signal.signal(sig, lambda signum, _frame: caught.append(signum))
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    if caught:
        raise KeyboardInterrupt
