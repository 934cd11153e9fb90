"""The build: read every post, execute what is stale, render, then publish.

Data flows one way, post by post: posts -> execute (or cache) -> outputs -> render -> write.
A post is published only when every earlier stage of it succeeded, so a failing post
keeps its last good version and the other posts still build. While kernels run, the build
alone may write the guarded tree (nbpress.execution.guard): after each execution, what a post's code
changed there is undone and that post fails (`_Run.inspect`); every process it started has
ended by then (nbpress.execution.reaper).
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import os
import signal
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING

from .errors import ConfigError, IsolationError, NbpressError, RenderError, SourceError, WriteError, one_post
from .execution import cache, provenance
from .execution.guard import PYCACHE, QUARANTINE, Change, Guard
from .layout import CACHE, Layout, PostFiles, read_owned
from .notebook import CachedOutputs, Notebook
from .plan import Action, Context, Decision, context, decide, published_key
from .publishing.write import Site
from .record import DIGEST_PLACEHOLDER, Input, Record
from .sources import posts
from .sources.authors import keys_by_name, read_authors

if TYPE_CHECKING:
    from .execution.execute import Executed


class Status(StrEnum):
    """What the build did with one post."""

    EXECUTED = "executed"
    CACHED = "cached"  # rendered from the cached outputs, no kernel started
    UNCHANGED = "unchanged"
    REMOVED = "removed"  # a generated post whose source is gone
    FAILED = "failed"


@dataclass
class PostResult:
    """What the build did with one post."""

    name: str
    status: Status
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
class _Work:
    """A post the build renders (from the cache) or executes, and what it gathers on the way."""

    decision: Decision
    outputs: CachedOutputs | None = None  # from the cache, when it holds them
    executed: Notebook | None = None  # from its kernel, when it ran in this build
    provenance: dict[str, object] | None = None
    reason: str = ""
    warnings: list[str] = field(default_factory=list)
    gone: frozenset[str] = frozenset()  # the posts it links to that have no page after this build
    _linked: set[str] | None = None

    @property
    def post(self) -> posts.Post:
        """Return the post this work is for."""
        return self.decision.post

    @property
    def linked(self) -> set[str]:
        """Return the file slugs of the other posts it links to (nbpress.rendering.links.linked_posts)."""
        if self._linked is None:
            from .rendering.links import linked_posts

            self._linked = linked_posts(self.post)
        return self._linked


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
    from .publishing.lock import build_lock

    events = reporter or Reporter()
    root = options.root.resolve()
    if options.jobs < 1:
        raise ConfigError(f"-j {options.jobs}: the number of kernels to run at once must be 1 or more.")
    # Checked before the lock is taken, so a refused layout leaves the blog as it was.
    site = Site(root, Layout(root).sources)
    # One build at a time: recover() below settles journals and deletes temporary files,
    # which must never be those of a build that is still running.
    with build_lock(root, events.waiting):
        results = _build(options, root, site, events)
        if then is not None:
            then(results)
        return results


def _build(options: Options, root: Path, site: Site, events: Reporter) -> list[PostResult]:
    """Build the blog at `root` under its lock; return one PostResult per post."""
    layout = Layout(root)
    # A build killed mid-write leaves dot-named temporary files and journals (MkDocs skips
    # them); finish its work before deciding what is unchanged.
    site.recover()
    run = _Run(root, site, cache.Store(layout.cache), events, publish=options.shard is None)
    discovered = posts.discover(layout.sources)
    sources, unique, failures = _read(options, layout, discovered)
    for failure in failures:
        run.done(PostResult(failure.name, Status.FAILED, error=failure.error))
    run.ctx = context(site)
    run.by_slug = {p.file_slug: p for p in unique}
    run.slug_of = {p.rel_path: p.file_slug for p in unique}
    run.every_slug = frozenset(posts.name_slug(path) for path in discovered)
    plans = _plan(unique, options, run.ctx, run.store, run.publish, run.done)
    run.authors = keys_by_name(read_authors(layout))
    run.pending = {plan.post.file_slug for plan in plans}
    for plan in plans:
        if plan.outputs is not None:
            run.finish(plan, Status.CACHED, 0.0)
    run.execute([plan for plan in plans if plan.outputs is None], layout.sources, options.jobs)
    run.release(everything=True)  # posts that link each other in a ring: each to the other's page
    if run.publish and not options.slugs:
        for result in _remove_orphans(site, {layout.rel(p) for p in sources}):
            run.done(result)
    return run.results


@dataclass
class _Run:
    """One build under the blog's lock: what its posts share, and their results so far."""

    root: Path
    site: Site
    store: cache.Store
    events: Reporter
    publish: bool  # False for a shard: execute into the cache only
    authors: dict[str, str] = field(default_factory=dict)  # keys_by_name of .authors.yml
    results: list[PostResult] = field(default_factory=list)
    durations: dict[str, float] = field(default_factory=dict)  # {file slug: seconds} of the last runs
    running: dict[int, _Work] = field(default_factory=dict)  # {id(post): its work} while executing
    ctx: Context | None = None  # what every post's decision shares
    by_slug: dict[str, posts.Post] = field(default_factory=dict)  # {file slug: post} this build read
    slug_of: dict[str, str] = field(default_factory=dict)  # {source's rel_path: file slug} of those
    every_slug: frozenset[str] = frozenset()  # the file slugs of every source in posts/
    guard: Guard | None = None  # the guarded tree, noted while kernels run (nbpress.execution.guard)
    active: set[str] = field(default_factory=set)  # posts whose kernels run now
    tainted: dict[str, IsolationError] = field(default_factory=dict)  # ran while another's cell wrote
    # Links are decided against the pages that exist after this build (nbpress.rendering.links): a post
    # linking to one whose fate this build has not decided yet waits for it, then is published.
    pending: set[str] = field(default_factory=set)  # file slugs of posts this build has yet to end
    waiting: list[tuple[_Work, Status, float]] = field(default_factory=list)

    def done(self, result: PostResult) -> None:
        """Record one post's result and report it; publish the posts that waited for it."""
        self.results.append(result)
        self.events.finished(result)
        slug = self.slug_of.get(result.name)
        if slug in self.pending:
            self.pending.discard(slug)
            self.release()

    def release(self, everything: bool = False) -> None:
        """Publish the waiting posts whose linked posts have all ended (`everything`: all of them)."""
        while self.waiting:
            ready = [w for w in self.waiting if everything or not self._undecided(w[0])]
            if not ready:
                return
            self.waiting.remove(ready[0])
            self.finish(*ready[0], waited=True)

    def _undecided(self, plan: _Work) -> set[str]:
        """Return the posts `plan` links to that this build has yet to end (publish or fail)."""
        return plan.linked & self.pending

    def _gone(self) -> frozenset[str]:
        """Return the posts that have no page now and that this build will not publish."""
        layout = Layout(self.root)  # slugs of file names, unchecked: their paths are not resolved
        gone = self.every_slug - self.pending
        return frozenset(s for s in gone if not (self.root / layout.post(s).markdown_rel).is_file())

    def finish(self, plan: _Work, status: Status, seconds: float, waited: bool = False) -> None:
        """Publish a post whose outputs are at hand (unless a shard); record its result."""
        if self.publish and not waited and self._undecided(plan):
            self.waiting.append((plan, status, seconds))
            return
        start = time.perf_counter()
        warnings: list[str] = []
        if self.publish:
            plan.gone = self._gone()
            if plan.linked & plan.gone and self.ctx is not None:
                # Recorded with what it was rendered against: once those posts publish, it renders again.
                key = cache.render_key(plan.post, plan.decision.exec_key, self.ctx.renderer, plan.gone)
                plan.decision = dataclasses.replace(plan.decision, render_key=key)
            try:
                with one_post(plan.post.rel_path, "rendering it"):
                    warnings = _publish(plan, self.site, self.root, self.authors)
            except NbpressError as err:
                self.done(PostResult(plan.post.rel_path, Status.FAILED, seconds, err))
                return
            finally:
                if self.guard is not None:
                    self.guard.published(plan.post.file_slug)  # the build's own writes
        elapsed = seconds + time.perf_counter() - start
        result = PostResult(
            plan.post.rel_path, status, elapsed, warnings=(*plan.warnings, *warnings), reason=plan.reason
        )
        self.done(result)

    def execute(self, to_run: list[_Work], cwd: Path, jobs: int) -> None:
        """Execute the posts of `to_run` (up to `jobs` kernels at once), each finished as it ends."""
        from .execution.execute import execute_all

        self.running = {id(p.post): p for p in to_run}
        self.durations = self.store.durations()
        # Longest first (by the last build's times) so the slowest post never starts last.
        to_run.sort(key=lambda p: -self.durations.get(p.post.file_slug, 0.0))
        if to_run:
            # From here until every kernel is down, only the build writes the guarded tree.
            self.guard = Guard(self.site.layout)
            self.guard.arm()
        try:
            execute_all([p.post for p in to_run], cwd, jobs, on_start=self.started, on_done=self.executed)
        finally:
            if self.guard is not None:
                # Every kernel and what it started has ended: a last look (an interrupted build too).
                self.last_inspection()
                self.guard = None
        if to_run:
            # Only an ordering hint for the next build: losing it (a full disk) costs nothing.
            with contextlib.suppress(NbpressError):
                self.store.save_durations(self.durations)

    def started(self, post: posts.Post) -> None:
        """Called when a post's kernel starts: it may write from now until its outcome arrives."""
        self.active.add(post.rel_path)
        self.events.started(post.rel_path)

    def executed(self, outcome: Executed) -> None:
        """Inspect, cap, settle, cache and publish one executed post (or record its failure).

        On the main thread: the executor hands each finished notebook over a queue, so
        capping, probing versions, caching and publishing never stall the kernels' loop.
        Whatever fails on the way fails this post alone (errors.one_post), with one line.
        """
        plan = self.running[id(outcome.post)]
        rel = plan.post.rel_path
        self.active.discard(rel)
        # Whatever the guarded tree shows now was written by this post or one running beside it.
        refused = self.inspect(rel, self.active) or self.tainted.pop(rel, None)
        if refused is not None:
            self.done(PostResult(rel, Status.FAILED, outcome.seconds, refused, "", tuple(plan.warnings)))
            return
        if outcome.error is not None:
            detail = getattr(outcome.error, "traceback", "")
            self.done(
                PostResult(rel, Status.FAILED, outcome.seconds, outcome.error, detail, tuple(plan.warnings))
            )
            return
        try:
            with one_post(rel, "keeping its outputs"):
                self._keep(plan, outcome)
        except NbpressError as err:
            self.done(PostResult(rel, Status.FAILED, outcome.seconds, err, warnings=tuple(plan.warnings)))
            return
        self.finish(plan, Status.EXECUTED, outcome.seconds)

    def _keep(self, plan: _Work, outcome: Executed) -> None:
        """Cap, check, settle and cache the outputs of one executed post; raise NbpressError if it fails."""
        from .notebook import bad_data, outputs_of
        from .rendering.charts import attach_widget_state
        from .rendering.outputs import limit_outputs

        rel = plan.post.rel_path
        # Capped before caching, so a runaway cell costs no more memory or disk than a normal one.
        # Widget state lives in notebook metadata, which the cache does not keep: into the outputs.
        assert outcome.notebook is not None  # an outcome holds its notebook or its error
        plan.executed = attach_widget_state(limit_outputs(outcome.notebook))
        for index, cell in enumerate(plan.executed.cells):
            # What a cell printed or displayed is data like the source: the same rule holds.
            problem = bad_data(outputs_of(cell))
            if problem is not None:
                raise RenderError(
                    f"in its outputs, {problem}; change the code that makes it.", path=rel, cell=index + 1
                )
        # Outputs that differ from the previous run's only in volatile tokens keep its bytes.
        _settle(plan.executed, plan.decision, self.store, self.site)
        # Recorded now, with the outputs, so a later re-render shows the same line.
        plan.provenance = provenance.collect(plan.executed, plan.post.front_matter.kernel)
        self.durations[plan.post.file_slug] = round(outcome.seconds, 1)
        try:
            self.store.save(plan.decision.exec_key, plan.executed, plan.provenance, plan.decision.parts)
        except WriteError as err:  # a full disk fails this post, not the build
            raise err.at(rel) from None
        finally:
            if self.guard is not None:
                self.guard.expect([Layout(self.root).rel(self.store.entry_path(plan.decision.exec_key))])

    def inspect(self, culprit: str | None, beside: set[str]) -> IsolationError | None:
        """Undo what the running posts' code changed in the guarded tree; return the error, if any.

        `culprit` is the post whose run just ended (None: no post is known), `beside` the
        posts whose kernels still run; they cannot be told apart, so each of them fails too
        when it ends (`tainted`).
        """
        assert self.guard is not None
        changes = self.guard.changes()
        if not changes:
            return None
        done = self.undo(changes)
        if not done:
            return None  # only __pycache__ files, removed
        shown = "; ".join(done[:4]) + (f"; and {len(done) - 4} more" if len(done) > 4 else "")

        def refusal(post: str | None) -> IsolationError:
            others = sorted(beside - {post} if post else beside)
            if post is None:
                who = f"a cell of {', '.join(others)}" if others else "a process a post started"
            elif others:
                who = f"a cell of this post or of {', '.join(others)}, which ran at the same time,"
            else:
                who = "a cell"
            return IsolationError(
                f"{who} changed files outside posts/, which a post's code may not write: {shown}. "
                "Nothing of this post is published; write only inside posts/ (the cells' working "
                "directory) or outside the blog.",
                path=post or changes[0].path,
            )

        for name in beside:
            self.tainted[name] = refusal(name).at(name)
        error = refusal(culprit)
        return error

    def last_inspection(self) -> None:
        """After the last kernel: undo what was written since the last post ended, failing who ran."""
        error = self.inspect(None, set(self.active))
        if error is not None and not self.active:
            self.done(PostResult(str(error.path), Status.FAILED, error=error))
        for name in sorted(self.active):  # interrupted while they ran
            refused = self.tainted.pop(name, None)
            if refused is not None:
                self.done(PostResult(name, Status.FAILED, error=refused))
        self.active.clear()

    def undo(self, changes: list[Change]) -> list[str]:
        """Undo `changes` in the guarded tree (execution.guard); return a phrase per change that mattered."""
        assert self.guard is not None
        guard = self.guard
        said: list[str] = []
        victims: dict[str, list[str]] = {}
        removed: list[str] = []
        for change in changes:
            rel = change.path
            if any(rel == r or rel.startswith(r + "/") for r in removed):
                continue  # inside a folder already removed
            owner = guard.owner(rel)
            if PYCACHE in rel.split("/"):
                if change.kind != "deleted":
                    guard.remove(rel)
                    removed.append(rel)
                continue
            if rel.startswith(f"{CACHE}/"):
                guard.remove(rel)
                removed.append(rel)
                said.append(f"{change.kind} the cache file {rel} (removed: a cache miss)")
            elif owner is not None and (change.kind != "created" or guard.listed(owner, rel)):
                victims.setdefault(owner, []).append(f"{change.kind} {rel}")
            elif change.kind == "created":
                guard.quarantine(rel)
                removed.append(rel)
                said.append(f"created {rel} (moved to {QUARANTINE}/)")
            elif guard.restore(rel):
                said.append(f"{change.kind} {rel} (restored)")
            else:
                said.append(
                    f"{change.kind} {rel} (nbpress holds no copy of it: restore it from version control)"
                )
        for slug, what in sorted(victims.items()):
            said.append(f"{', '.join(what)} ({self.restore_post(slug)})")
        guard.expect(sorted({c.path for c in changes} | {QUARANTINE}))
        return said

    def restore_post(self, slug: str) -> str:
        """Withdraw the published post `slug` whole, then render it again from the cache; say how it went.

        Rendered again only when that gives back its published version exactly: its keys
        unchanged since and its outputs in the cache (a verified entry). Otherwise it stays
        withdrawn, and the next build of it publishes it again.
        """
        assert self.guard is not None and self.ctx is not None
        record = self.guard.records.get(slug)
        self.site.withdraw(slug, record)
        self.guard.published(slug)
        post = self.by_slug.get(slug)
        if post is None or post.rel_path in self.active or not self.publish:
            return "withdrawn: build it again to publish it"
        try:
            decision = decide(post, self.ctx)
            same = (decision.exec_key, decision.render_key) == (
                published_key(record),
                record.render_key if record else None,
            )
            outputs, _ = self.store.lookup(decision.exec_key, post.rel_path) if same else (None, None)
            if outputs is None:
                return "withdrawn: build it again to publish it"
            work = _Work(decision, outputs=outputs, provenance=self.store.provenance(decision.exec_key))
            _publish(work, self.site, self.root, self.authors)
        except NbpressError:
            return "withdrawn: build it again to publish it"
        finally:
            self.guard.published(slug)
        return "restored from the cache"


def _read(
    options: Options, layout: Layout, discovered: list[Path]
) -> tuple[list[Path], list[posts.Post], list[posts.Failure]]:
    """Return (the sources asked for, the posts to build from them, failures of the others)."""
    sources, unknown = _select_sources(discovered, options.slugs)
    unique, unreadable = posts.read_unique(sources, layout.root)
    if options.shard is not None:
        k, n = options.shard
        unique = [p for p in unique if shard_of(p.file_slug, n) == k - 1]
    return sources, unique, [*unknown, *unreadable]


def _remove_orphans(site: Site, sources: set[str]) -> list[PostResult]:
    """Remove the generated posts whose source is gone; return what became of each.

    One edited by hand since the build wrote it is kept, and fails the build.
    """
    results = [PostResult(site.files(slug).markdown_rel, Status.REMOVED) for slug in site.prune(sources)]
    for name in site.edited_orphans(sources):
        error = WriteError(
            "its source is gone, but it was edited by hand since the build wrote it, "
            "so nbpress keeps it; move the edit into a source in posts/, or delete the file.",
            path=name,
        )
        results.append(PostResult(name, Status.FAILED, error=error))
    return results


def _select_sources(sources: list[Path], slugs: tuple[str, ...]) -> tuple[list[Path], list[posts.Failure]]:
    """Return (the sources to build: all, or those named by `slugs`; a Failure per unknown name)."""
    if not slugs:
        return sources, []
    wanted = set(slugs)
    unknown = [
        posts.Failure(slug, SourceError(f"posts/{slug}: no such post in posts/."))
        for slug in sorted(wanted - {posts.name_slug(p) for p in sources})
    ]
    return [p for p in sources if posts.name_slug(p) in wanted], unknown


def _plan(
    unique: list[posts.Post],
    options: Options,
    ctx: Context,
    store: cache.Store,
    publish: bool,
    done: Callable[[PostResult], None],
) -> list[_Work]:
    """Return the work for each post plan.decide does not leave unchanged; report the others."""
    work = []
    for post in unique:
        foreign = ctx.site.unexplained(post.file_slug)
        if foreign:
            more = f" (and {len(foreign) - 1} more)" if len(foreign) > 1 else ""
            message = (
                f"{foreign[0]}{more} lies among the post's published files, but its record does not "
                "list it: nbpress did not write it, and publishes nothing it cannot explain; move it "
                "out of the folder, then build again."
            )
            done(PostResult(post.rel_path, Status.FAILED, error=WriteError(message, path=post.rel_path)))
            continue
        try:
            with one_post(post.rel_path, "deciding what to do with it"):
                item = _plan_one(post, ctx, options.force, store, publish)
        except NbpressError as err:
            done(PostResult(post.rel_path, Status.FAILED, error=err))
            continue
        if isinstance(item, _Work):
            work.append(item)
        else:
            done(item)
    return work


def _plan_one(
    post: posts.Post, ctx: Context, force: bool, store: cache.Store, publish: bool
) -> _Work | PostResult:
    """Return the work for one post, or its result when it needs none (unchanged, refused)."""
    decision = decide(post, ctx, force)
    if decision.action is Action.UNCHANGED:
        # Its warnings, recorded when it was rendered, still hold: --strict still fails on them.
        kept = decision.record.warnings if decision.record else ()
        return PostResult(post.rel_path, Status.UNCHANGED, warnings=kept)
    if decision.action is Action.REFUSE and publish:
        # Decided before running anything: the hand edit is kept, so nothing would be published.
        return PostResult(
            post.rel_path, Status.FAILED, error=WriteError(f"{decision.reason}.", path=post.rel_path)
        )
    item = _Work(decision)
    if not force:
        item.outputs, problem = store.lookup(decision.exec_key, post.rel_path)
        if problem:
            item.warnings.append(problem)
        item.provenance = store.provenance(decision.exec_key) if item.outputs is not None else None
    why = decision.reason
    if decision.action is Action.RENDER and item.outputs is None:
        why += "; its outputs are not in the cache"
    item.reason = why
    return item


def _settle(executed: Notebook, decision: Decision, store: cache.Store, site: Site) -> None:
    """Keep the previous run's bytes of every output that differs from it only in volatile tokens.

    The previous outputs are the cache entry of the published version (its record's key), else
    the entry under the current key (`--force`), else (a fresh clone, no cache) the published
    download of the executed notebook, paired by the code its record says it ran. Without any,
    the new outputs stand as they are and the drift check still masks their volatile tokens.
    """
    from .execution.volatile import settle

    def digests(parts: object) -> list[str] | None:
        cells = parts.get("code") if isinstance(parts, dict) else None
        return [str(c) for c in cells] if isinstance(cells, list) else None

    for key in dict.fromkeys(k for k in (decision.previous_key, decision.exec_key) if k):
        previous = store.load(key)
        if previous is not None:
            settle(executed, previous, digests(store.parts(key)), decision.parts["code"])
            return
    published = _published_outputs(site, decision.post.file_slug)
    if published is not None and decision.record is not None:
        settle(executed, published, digests(decision.record.executed_with), decision.parts["code"])


def _published_outputs(site: Site, file_slug: str) -> CachedOutputs | None:
    """Return the outputs of each code cell of the post's published executed-notebook download.

    They are as the post shows them (cleaned, one form each); None when the download is
    missing, unreadable or not of the shape the cache keeps.
    """
    import nbformat

    for draft in (False, True):  # the post may have been published as a draft
        try:
            files = site.layout.post(file_slug, draft=draft)
            path = files.download(files.notebook)
            # nbformat joins the lines a file keeps as lists back into strings, as a kernel gives them.
            outputs = cache.outputs_by_cell(nbformat.reads(path.read_text(encoding="utf-8"), as_version=4))
        except (OSError, ValueError, KeyError, TypeError, AttributeError, WriteError):  # not a notebook
            continue
        return None if cache.outputs_problem(outputs) else outputs
    return None


def used_cache_keys(root: Path) -> set[str]:
    """Return the cache keys a current post uses: its key now, and that of its published version."""
    root = root.resolve()
    layout = Layout(root)
    site = Site(root, layout.sources)
    ctx = context(site)
    used: set[str] = set()
    for post in posts.read_unique(posts.discover(layout.sources), root)[0]:
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


def prune_cache(root: Path) -> tuple[list[str], tuple[int, int]]:
    """Remove the cache entries no current post uses; return (removed keys, (entries, bytes) left)."""
    store = cache.Store(Layout(root.resolve()).cache)
    removed = store.prune(used_cache_keys(root))
    return removed, store.size()


def _publish(plan: _Work, site: Site, root: Path, authors: dict[str, str]) -> list[str]:
    """Render and write one post; return its warnings (outputs not shown, `stderr: warn`)."""
    from .rendering import transform
    from .rendering.render import published_front_matter, render

    post = plan.post
    if plan.executed is not None:
        executed = plan.executed
    else:
        try:
            executed = cache.with_outputs(post, plan.outputs or [])
        except ValueError:
            raise SourceError(
                "the cached outputs no longer fit; run with --force.", path=post.rel_path
            ) from None
    # The download shows the outputs as the post does (cleaned, sanitized), before display options.
    cleaned, _ = transform.run(executed, transform.Context(post, "", (root,)), until="choose")
    files = files_of(post, root)
    downloads = _downloads(post, files, cleaned, root)
    # The downloads' URLs are the post's files' (nbpress.layout.PostFiles): the templates link
    # them as they are, whatever the post's URL slug.
    record = Record(
        source=post.rel_path,
        exec_key=plan.decision.exec_key,
        render_key=plan.decision.render_key,
        executed_with=plan.decision.parts,
        # record.seal replaces it with the digest of the Markdown as written, so a hand edit shows.
        digest=DIGEST_PLACEHOLDER,
        downloads=tuple(sorted(downloads)),
        notebook=files.download_url(files.notebook),
        inputs=tuple(
            Input(files.shown_name(name), files.download_url(name))
            for name in sorted(downloads)
            if name != files.notebook
        ),
    )
    front_matter = published_front_matter(post, authors, record)
    # The transform chain (nbpress.rendering.transform.STEPS) runs inside render, on a copy.
    rendered = render(
        post,
        executed,
        front_matter,
        files,
        plan.provenance,
        post.warnings,
        roots=(root,),
        gone=plan.gone,
    )
    with _signals_deferred():
        try:
            site.publish(rendered, downloads)
        except WriteError as err:
            raise err.at(post.rel_path) from None
    return list(rendered.warnings)  # the post's warnings (given to render), then its own


def files_of(post: posts.Post, root: Path) -> PostFiles:
    """Return the files and URLs of `post` in the blog at `root` (its file slug, URL slug, draft state)."""
    return Layout(root).post(post.file_slug, post.url_slug, post.front_matter.draft)


def _downloads(post: posts.Post, files: PostFiles, cleaned: Notebook, root: Path) -> dict[str, bytes]:
    """Return {name: bytes} a reader downloads: the executed notebook and the declared inputs.

    The notebook is the source with the cleaned outputs (sanitized, machine paths shortened),
    named <slug>.ipynb, without execution counts: the same bytes whether the post was just
    executed or re-rendered from the cache. An input keeps its path relative to posts/, so the
    notebook finds it where it looked; one that is not the blog's own file fails the post.
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
    found = {files.notebook: nbformat.writes(notebook).encode("utf-8")}
    posts_dir = Layout(root).sources.resolve()
    for name in post.front_matter.inputs:
        try:
            # The one check of what may be published (nbpress.layout.owned_file).
            path, data = read_owned(posts_dir, name, "declared input")
            found[files.download_name(path.relative_to(posts_dir).as_posix())] = data
        except NbpressError as err:
            raise err.at(post.rel_path) from None
    return found


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
