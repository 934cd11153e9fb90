"""The build: read -> plan -> execute -> render -> publish, post by post; this module only sequences them.

Data flows one way: posts (nbpress.sources) -> plan (nbpress.plan) -> cache entries, from the
store or an executor (nbpress.execution.executor) -> render (nbpress.rendering) -> write
(nbpress.publishing). A post is published only when every earlier stage of it succeeded, so a
failing post keeps its last good version and the other posts still build. While kernels run,
the build alone may write the guarded tree (nbpress.execution.guard): after each execution,
what a post's code changed there is undone and that post fails (`_Run.inspect`); every
process it started has ended by then (nbpress.execution.reaper). The build returns which
pages it changed (nbpress.publishing.changes), the signal a site renderer rebuilds from.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING

from .errors import ConfigError, IsolationError, NbpressError, SourceError, WriteError, one_post
from .execution import Entry, Executor, Guard, LocalExecutor, Outcome, Shard, Store, refusal, with_outputs
from .layout import Layout, PostFiles
from .plan import Action, Context, Decision, context, decide, published_key
from .publishing import ChangeLog, Changes, Site
from .record import DIGEST_PLACEHOLDER, Input, Record
from .sources import keys_by_name, posts, read_authors
from .sources.formats import TEXT_NOTEBOOKS, build_reading, prune_texts

if TYPE_CHECKING:
    from .rendering import RenderedPost


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
    """What to build: the blog root, which posts (all when empty), and how."""

    root: Path
    slugs: tuple[str, ...] = ()  # slugs or paths to sources (select_sources)
    force: bool = False
    shard: tuple[int, int] | None = None
    jobs: int = field(default_factory=lambda: default_jobs())
    executor: Executor | None = None  # what runs the posts (default: LocalExecutor(jobs))

    def runner(self) -> Executor:
        """Return the executor of this build: the given one or a local one, limited to the shard."""
        executor = self.executor or LocalExecutor(self.jobs)
        return executor if self.shard is None else Shard(*self.shard, executor)


class Results(list["PostResult"]):
    """One PostResult per post, in the order they ended, and the pages the build changed.

    `keys` ({source: execution key} of every post the build decided) and `context` (what
    those decisions shared) let the execution report (nbpress.report) show the build's own
    decisions rather than read and decide every post again; `sources`, which posts it lists.
    """

    changes: Changes = Changes()
    keys: dict[str, str]
    context: Context | None = None
    sources: list[str] | None = None  # every source in posts/ (relative to the blog) when it started

    def __init__(self) -> None:
        super().__init__()
        self.keys = {}


@dataclass
class _Work:
    """A post the build renders (from the cache) or executes, and what it gathers on the way."""

    decision: Decision
    entry: Entry | None = None  # its outputs and provenance: from the cache, or executed in this build
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
            from .rendering import linked_posts

            series = self.decision.series
            self._linked = linked_posts(self.post) | (series.siblings if series is not None else set())
        return self._linked


class Reporter:
    """Receives the build's events; the default ignores them. cli.py prints them."""

    def started(self, name: str) -> None:
        """Called when a post's kernel starts."""

    def finished(self, result: PostResult) -> None:
        """Called once per post when the build is done with it."""

    def waiting(self, line: str) -> None:
        """Called once if another build holds the blog's lock: `line` says which (its PID)."""


def build(
    options: Options,
    reporter: Reporter | None = None,
    then: Callable[[Results], None] | None = None,
) -> Results:
    """Build the blog; return one PostResult per post (reporting each as it ends) and the pages it changed.

    With `options.shard` = (k, n) only the k-th of n stable subsets is executed into the
    cache and nothing is published: a last job with every shard's cache then renders.
    `then(results)` runs after the last post, still under the blog's lock (the execution
    report merges each build's results into one file).
    """
    from .publishing import build_lock

    events = reporter or Reporter()
    root = options.root.resolve()
    if options.jobs < 1:
        raise ConfigError(f"-j {options.jobs}: the number of kernels to run at once must be 1 or more.")
    # Checked before the lock is taken, so a refused layout leaves the blog as it was.
    site = Site(root, Layout(root).sources)
    executor = options.runner()
    # One build at a time: recover() below settles journals and deletes temporary files,
    # which must never be those of a build that is still running.
    with build_lock(root, events.waiting):
        results = _build(options, root, site, events, executor)
        if then is not None:
            then(results)
        return results


def _build(options: Options, root: Path, site: Site, events: Reporter, executor: Executor) -> Results:
    """Build the blog at `root` under its lock: read, plan, execute, render, publish; return the results."""
    layout = Layout(root)
    # A build killed mid-write leaves dot-named temporary files and journals (MkDocs skips
    # them); finish its work before deciding what is unchanged.
    site.recover()
    publish = options.shard is None
    run = _Run(root, site, Store(layout.cache), events, publish=publish)
    discovered = posts.discover(layout.sources)
    folder = layout.rel(layout.sources)
    run.results.sources = [f"{folder}/{path.name}" for path in discovered]
    # Under the build's lock, before any kernel: where text sources' notebooks are read from the cache.
    with build_reading():
        sources, unique, failures = _read(options, layout, discovered, executor)
        run.ctx = run.results.context = context(site, unique, discovered)
    for failure in failures:
        run.done(PostResult(failure.name, Status.FAILED, error=failure.error))
    if options.slugs:
        # A post's siblings in its series show it (its title, its place): built with it.
        unique += [p for p in run.ctx.series.parts_beside(unique) if executor.selects(p)]
    run.by_slug = {p.file_slug: p for p in unique}
    run.slug_of = {p.rel_path: p.file_slug for p in unique}
    run.every_slug = frozenset(posts.name_slug(path) for path in discovered)
    plans = _plan(unique, options, run.ctx, run.store, run.publish, run.done, run.results.keys)
    run.authors = keys_by_name(read_authors(layout))
    run.pending = {plan.post.file_slug for plan in plans}
    for plan in plans:
        if plan.entry is not None:
            run.finish(plan, Status.CACHED, 0.0)
    run.execute([plan for plan in plans if plan.entry is None], layout.sources, executor)
    run.release(everything=True)  # posts that link each other in a ring: each to the other's page
    if run.publish and not options.slugs:
        for result in _remove_orphans(site, {layout.rel(p) for p in sources}, run.log):
            run.done(result)
    if run.publish:
        for result in _publish_series(site, run.ctx, run.log):
            run.done(result)
    run.results.changes = run.log.changes()
    return run.results


@dataclass
class _Run:
    """One build under the blog's lock: what its posts share, and their results so far."""

    root: Path
    site: Site
    store: Store
    events: Reporter
    publish: bool  # False for a shard: execute into the cache only
    authors: dict[str, str] = field(default_factory=dict)  # keys_by_name of .authors.yml
    results: Results = field(default_factory=Results)
    log: ChangeLog = field(default_factory=ChangeLog)  # the pages this build changed
    durations: dict[str, float] = field(default_factory=dict)  # {file slug: seconds} of the last runs
    running: dict[int, _Work] = field(default_factory=dict)  # {id(post): its work} while executing
    twins: dict[str, list[_Work]] = field(default_factory=dict)  # {exec key: posts waiting for its run}
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
    preloaded: bool = False  # rendering's imports loaded (`started`)

    def done(self, result: PostResult) -> None:
        """Record one post's result and report it; publish the posts that waited for it."""
        post = self.by_slug.get(self.slug_of.get(result.name, ""))
        if result.status == Status.FAILED and post is not None:
            # What reading the post found (a tag on the wrong cell, a misspelled key) may be
            # why it failed: said with its error, as with its success.
            missed = tuple(w for w in post.warnings if w not in result.warnings)
            result = dataclasses.replace(result, warnings=(*result.warnings, *missed))
        self.results.append(result)
        self.events.finished(result)
        slug = self.slug_of.get(result.name)
        if slug in self.pending:
            self.pending.discard(slug)
            self.release()

    def release(self, everything: bool = False) -> None:
        """Publish the waiting posts whose linked posts have all ended (`everything`: all of them).

        `everything` publishes posts that wait for each other (a ring: a series, posts linking
        each other): those of them that cannot be rendered fail first, so no page of the ring
        links one that will have no page.
        """
        if everything:
            self._fail_unrenderable()
        while self.waiting:
            ready = [w for w in self.waiting if everything or not self._undecided(w[0])]
            if not ready:
                return
            self.waiting.remove(ready[0])
            self.finish(*ready[0], waited=True)

    def _fail_unrenderable(self) -> None:
        """Render each waiting post without writing it; those that cannot be rendered fail now."""
        if not self.publish:
            return
        for plan, _status, seconds in list(self.waiting):
            try:
                with one_post(plan.post.rel_path, "rendering it"):
                    _render(plan, self.root, self.authors)
            except NbpressError as err:
                self.waiting.remove((plan, _status, seconds))
                self.done(PostResult(plan.post.rel_path, Status.FAILED, seconds, err))

    def _undecided(self, plan: _Work) -> set[str]:
        """Return the posts `plan` links to that this build has yet to end (publish or fail)."""
        return plan.linked & self.pending

    def _gone(self, linked: set[str]) -> frozenset[str]:
        """Return the posts among `linked` that have no page now and that this build will not publish.

        Only the posts a post links to decide how it renders (Linker, the series box, its
        references), so only those are looked up.
        """
        layout = Layout(self.root)  # slugs of file names, unchecked: their paths are not resolved
        gone = (linked & self.every_slug) - self.pending
        return frozenset(s for s in gone if not (self.root / layout.post(s).markdown_rel).is_file())

    def finish(self, plan: _Work, status: Status, seconds: float, waited: bool = False) -> None:
        """Publish a post whose outputs are at hand (unless a shard); record its result."""
        if self.publish and not waited and self._undecided(plan):
            self.waiting.append((plan, status, seconds))
            return
        start = time.perf_counter()
        warnings: list[str] = []
        if self.publish:
            plan.gone = self._gone(plan.linked)
            if plan.linked & plan.gone and self.ctx is not None:
                from .rendering import render_key

                # Recorded with what it was rendered against: once those posts publish, it renders again.
                key = render_key(
                    plan.post,
                    plan.decision.exec_key,
                    self.ctx.renderer,
                    plan.gone,
                    plan.decision.series,
                    plan.decision.bibliography,
                )
                plan.decision = dataclasses.replace(plan.decision, render_key=key)
            try:
                with one_post(plan.post.rel_path, "rendering it"):
                    warnings = _publish(plan, self.site, self.root, self.authors, self.log)
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

    def execute(self, to_run: list[_Work], cwd: Path, executor: Executor) -> None:
        """Execute the posts of `to_run` through `executor`, each finished as it ends.

        One kernel per execution key: posts whose code is the same (the key is the code's, not
        the post's: prose-only posts share one) are rendered from the first one's entry once it
        is kept, as the next build would render them from the cache. Should that one fail, they
        run after it, the same way.
        """
        while to_run:
            first: dict[str, _Work] = {}
            self.twins = {}
            for plan in to_run:
                key = plan.decision.exec_key
                if key in first:
                    self.twins.setdefault(key, []).append(plan)
                else:
                    first[key] = plan
            self._execute(list(first.values()), cwd, executor)
            to_run = [plan for twins in self.twins.values() for plan in twins]

    def _execute(self, to_run: list[_Work], cwd: Path, executor: Executor) -> None:
        """Execute the posts of `to_run` (one per key) through `executor`, each finished as it ends."""
        self.running = {id(p.post): p for p in to_run}
        self.durations = self.store.durations()
        # Longest first (by the last build's times) so the slowest post never starts last.
        to_run.sort(key=lambda p: -self.durations.get(p.post.file_slug, 0.0))
        if to_run:
            # What the kernels' environments have installed, asked (and kept in the cache) now:
            # each post's provenance reads it without writing while kernels run.
            from .execution.provenance import probe_kernels

            with contextlib.suppress(Exception):  # only saves time: each post's provenance asks again
                probe_kernels({p.post.front_matter.kernel for p in to_run}, self.store.directory)
            # From here until every kernel is down, only the build writes the guarded tree.
            self.guard = Guard(self.site.layout)
            self.guard.arm()
        try:
            executor.run([p.post for p in to_run], cwd, self.started, self.executed)
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
        if self.publish and not self.preloaded:
            # Rendering's imports (nbconvert: a quarter of a second) load while the first kernel
            # starts, on this thread: no thread starts or ends while the kernels are forked.
            self.preloaded = True
            _preload_rendering()

    def executed(self, outcome: Outcome) -> None:
        """Inspect, settle, cache and publish one executed post (or record its failure).

        On the main thread: the executor hands each outcome over, so settling, caching and
        publishing never stall the kernels. Whatever fails on the way fails this post alone
        (errors.one_post), with one line.
        """
        plan = self.running[id(outcome.post)]
        rel = plan.post.rel_path
        self.active.discard(rel)
        # Whatever the guarded tree shows now was written by this post or one running beside it.
        refused = self.inspect(rel, self.active) or self.tainted.pop(rel, None)
        outcome.release()  # looked at: the next post may start in its place
        error = refused or outcome.error
        if error is None:
            try:
                with one_post(rel, "keeping its outputs"):
                    self._keep(plan, outcome)
            except NbpressError as err:
                error = err
        if error is not None:
            detail = "" if refused else getattr(error, "traceback", "")
            self.done(PostResult(rel, Status.FAILED, outcome.seconds, error, detail, tuple(plan.warnings)))
            return
        self.finish(plan, Status.EXECUTED, outcome.seconds)
        for twin in self.twins.pop(plan.decision.exec_key, []):
            twin.entry = plan.entry
            twin.reason = f"its code ran once this build, for {rel}"
            self.finish(twin, Status.CACHED, 0.0)

    def _keep(self, plan: _Work, outcome: Outcome) -> None:
        """Settle and cache the entry of one executed post; raise NbpressError if it cannot be stored."""
        assert outcome.entry is not None  # an outcome holds its entry or its error
        # Outputs that differ from the previous run's only in volatile tokens keep its bytes.
        plan.entry = _settle(outcome.entry, plan.decision, self.store, self.site)
        self.durations[plan.post.file_slug] = round(outcome.seconds, 1)
        try:
            self.store.put(plan.decision.exec_key, plan.entry, plan.decision.parts)
        except WriteError as err:  # a full disk fails this post, not the build
            raise err.at(plan.post.rel_path) from None
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
        done = self.guard.undo(changes, self.restore_post)
        if not done:
            return None  # only __pycache__ files, removed
        for name in beside:
            self.tainted[name] = refusal(name, beside, done, changes[0].path).at(name)
        return refusal(culprit, beside, done, changes[0].path)

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

    def restore_post(self, slug: str) -> str:
        """Withdraw the published post `slug` whole, then render it again from the cache; say how it went.

        Rendered again only when that gives back its published version exactly: its keys
        unchanged since and its outputs in the cache (a verified entry). Otherwise it stays
        withdrawn, and the next build of it publishes it again.
        """
        assert self.guard is not None and self.ctx is not None
        record = self.guard.records.get(slug)
        self.site.withdraw(slug, record)
        self.log.withdrew([self.site.files(slug).markdown_rel])
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
            entry, _ = self.store.entry(decision.exec_key, post.rel_path) if same else (None, None)
            if entry is None:
                return "withdrawn: build it again to publish it"
            _publish(_Work(decision, entry=entry), self.site, self.root, self.authors, self.log)
        except NbpressError:
            return "withdrawn: build it again to publish it"
        finally:
            self.guard.published(slug)
        return "restored from the cache"


def _preload_rendering() -> None:
    """Import what rendering a post needs (nbpress.rendering.preload); a failure shows when it renders."""
    with contextlib.suppress(Exception):
        from .rendering import preload

        preload()


# A 1x1 PNG: the warm-up's made-up figure (read by the figures step like any other).
_PIXEL = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="


def warm(root: Path) -> None:
    """Render the blog's newest source in memory, with made-up outputs, and drop the result.

    A watch calls it once before it waits: what a render loads on first use (nbconvert and its
    templates, the sanitizer, the patterns of every step: about 0.25 s), and what a run looks up
    first (the kernel's spec: about 0.2 s), load now, so the first save shows as fast as the
    next ones. Writes nothing; a source that cannot be read or
    rendered is left to the build that said so.
    """
    import copy

    import nbformat

    from .rendering import export, transform

    sources = posts.discover(Layout(root).sources)
    if not sources:
        return
    newest = max(sources, key=lambda path: (path.stat().st_mtime_ns, path.name))
    figure, html = {"image/png": _PIXEL, "text/plain": "<Figure>"}, {"text/html": "<b>1</b>"}
    outputs = [
        {"output_type": "stream", "name": "stdout", "text": "1\n"},
        {"output_type": "display_data", "metadata": {}, "data": figure},
        {"output_type": "execute_result", "execution_count": 1, "metadata": {}, "data": html},
    ]
    with contextlib.suppress(Exception):
        post = posts.read_post(newest, root)
        executed = copy.deepcopy(post.notebook)  # shared by the build: never changed
        for cell in executed.cells:
            if cell.cell_type == "code":
                cell.outputs = [nbformat.from_dict(output) for output in outputs]
        resources = transform.Resources(post, files_of(post, root), (root,))
        transformed, _ = transform.run(executed, resources)
        export(transformed, resources, {"title": "warm"})
        # A code edit's first steps: the kernel's spec, found as jupyter_client finds it (which
        # imports IPython), and nbclient, which runs the kernel.
        import nbclient  # noqa: F401

        from .execution.provenance import kernel_python

        kernel_python(post.front_matter.kernel)


def _read(
    options: Options, layout: Layout, discovered: list[Path], executor: Executor
) -> tuple[list[Path], list[posts.Post], list[posts.Failure]]:
    """Return (the sources asked for, the posts to build from them, failures of the others)."""
    sources = select_sources(discovered, options.slugs, layout.root)
    unique, unreadable = posts.read_unique(sources, layout.root)
    if not options.slugs:
        prune_texts(layout.cache / TEXT_NOTEBOOKS, [path.name for path in discovered])
    unique = [p for p in unique if executor.selects(p)]  # a shard builds its own subset
    return sources, unique, unreadable


def _remove_orphans(site: Site, sources: set[str], log: ChangeLog) -> list[PostResult]:
    """Remove the generated posts whose source is gone; return what became of each.

    One edited by hand since the build wrote it is kept, and fails the build.
    """
    slugs, kept = site.prune(sources)
    removed = [site.files(slug).markdown_rel for slug in slugs]
    log.withdrew(removed)
    results = [PostResult(page, Status.REMOVED) for page in removed]
    for name in kept:
        error = WriteError(
            "its source is gone, but it was edited by hand since the build wrote it, "
            "so nbpress keeps it; move the edit into a source in posts/, or delete the file.",
            path=name,
        )
        results.append(PostResult(name, Status.FAILED, error=error))
    return results


def _publish_series(site: Site, ctx: Context, log: ChangeLog) -> list[PostResult]:
    """Write a page per series that has a published part, and the page of all series; remove the rest.

    What they hold is nbpress.rendering.series.pages_of's. Returns a failure for a series page
    nbpress may not write or remove (the author's, or edited by hand).
    """
    from .rendering.series import pages_of

    pages = pages_of(ctx.series, site.published_front_matter, site.layout)
    written, removed, errors = site.publish_series(pages)
    for page in written:
        log.wrote(page)
    log.withdrew(removed)
    return [PostResult(str(err.path), Status.FAILED, error=err) for err in errors]


def select_sources(
    sources: list[Path], names: tuple[str, ...], root: Path, cwd: Path | None = None
) -> list[Path]:
    """Return the sources the command line's `names` ask for (all when none), in `sources`' order.

    A name is a post's slug (SLR_NN, or its dated stem) or a path to its source as a shell
    completes it: relative to `cwd` (default: the current folder), to the blog or to posts/,
    or absolute; a path in posts/ may leave out the suffix (posts/SLR_NN), and posts/ itself
    names every post. Every source sharing that slug is selected, so a clash is reported as
    in a full build. Raises SourceError, one line with the close matches, for a name that is
    not a post in posts/.
    """
    cwd = cwd or Path.cwd()
    folder = _located(Layout(root).sources)
    # posts/ as typed from here or from the blog (not '.' read inside posts/) names every post.
    typed = (c for name in names for c in _candidates(name, root, cwd)[:2])
    if not names or any(_located(c) == folder for c in typed):
        return sources
    wanted = {_slug_named(name, sources, root, cwd) for name in names}
    return [p for p in sources if posts.name_slug(p) in wanted]


def _slug_named(name: str, sources: list[Path], root: Path, cwd: Path) -> str:
    """Return the slug of the post `name` names (see select_sources), or raise SourceError."""
    for source in sources:
        if name in (posts.name_slug(source), source.stem):
            return posts.name_slug(source)
    folder = Layout(root).sources
    path = Path(name)
    candidates = _candidates(name, root, cwd)
    for candidate in candidates:
        for source in sources:
            if _same_file(candidate, source):
                return posts.name_slug(source)
    for candidate in candidates:  # a path in posts/ without its suffix, as a name is written
        if _located(candidate.parent) == _located(folder):
            for source in sources:
                if candidate.name in (posts.name_slug(source), source.stem):
                    return posts.name_slug(source)
    matches = _close_matches(posts.name_slug(path), sources)
    existing = next((_located(c) for c in candidates if c.exists()), None)
    if existing is None:
        shown = name if path.is_absolute() or len(path.parts) > 1 else f"{folder.name}/{name}"
        more = matches or "; python build.py --report lists the posts."
        raise SourceError(f"{shown}: no such post in {folder.name}/{more}")
    shown = existing.relative_to(root).as_posix() if existing.is_relative_to(root) else name
    if not existing.is_relative_to(folder.resolve()):
        raise SourceError(
            f"{shown} is outside {folder.name}/: build.py builds only the posts in {folder.name}/ "
            f"(move the source there){matches or '.'}"
        )
    raise SourceError(
        f"{shown} is not a post: a post is a notebook, or a .md or .py file with front matter, "
        f"in {folder.name}/ itself{matches or '.'}"
    )


def _candidates(name: str, root: Path, cwd: Path) -> list[Path]:
    """Return the paths `name` may mean: as typed from `cwd`, from the blog, from posts/ (or absolute)."""
    path = Path(name)
    return [path] if path.is_absolute() else [cwd / path, root / path, Layout(root).sources / path]


def _located(path: Path) -> Path:
    """Return `path` absolute, its folder's links resolved (the file itself may be a link)."""
    return path.absolute().parent.resolve() / path.name


def _same_file(candidate: Path, source: Path) -> bool:
    """Return whether `candidate` names the source `source` (a case-insensitive disk's spelling too)."""
    if _located(candidate) == _located(source):
        return True
    try:
        return candidate.is_file() and not source.is_symlink() and candidate.samefile(source)
    except OSError:
        return False


def _close_matches(name: str, sources: list[Path]) -> str:
    """Return "; did you mean A or B?" for the slugs close to `name` (same letters in another case first)."""
    import difflib

    slugs = sorted({posts.name_slug(p) for p in sources})
    found = [s for s in slugs if s.lower() == name.lower()]
    if not found:
        lowered = {s.lower(): s for s in slugs}
        found = [lowered[m] for m in difflib.get_close_matches(name.lower(), list(lowered), n=3)]
    return f"; did you mean {' or '.join(found)}?" if found else ""


def _plan(
    unique: list[posts.Post],
    options: Options,
    ctx: Context,
    store: Store,
    publish: bool,
    done: Callable[[PostResult], None],
    keys: dict[str, str],
) -> list[_Work]:
    """Return the work for each post plan.decide does not leave unchanged; report the others.

    Each post's execution key is noted in `keys` ({source: key}) as it is decided.
    """
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
                decision = decide(post, ctx, options.force)
                keys[post.rel_path] = decision.exec_key
                item = _plan_one(decision, options.force, store, publish)
        except NbpressError as err:
            done(PostResult(post.rel_path, Status.FAILED, error=err))
            continue
        if isinstance(item, _Work):
            work.append(item)
        else:
            done(item)
    return work


def _plan_one(decision: Decision, force: bool, store: Store, publish: bool) -> _Work | PostResult:
    """Return the work for one decided post, or its result when it needs none (unchanged, refused)."""
    post = decision.post
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
        item.entry, problem = store.entry(decision.exec_key, post.rel_path)
        previous = decision.previous_key
        if item.entry is None and decision.action is Action.RENDER and previous and not problem:
            # Its key parts are its published version's (keys.recorded_key), its key computed by an
            # older rule (one that counted torch's +cpu): those outputs are its own, kept under its key.
            item.entry, problem = store.entry(previous, post.rel_path)
            if item.entry is not None:
                with contextlib.suppress(WriteError):  # a read-only cache executes it next time
                    store.put(decision.exec_key, item.entry, decision.parts)
        if problem:
            item.warnings.append(problem)
    why = decision.reason
    if decision.action is Action.RENDER and item.entry is None:
        why += "; its outputs are not in the cache"
    item.reason = why
    return item


def _settle(entry: Entry, decision: Decision, store: Store, site: Site) -> Entry:
    """Return `entry`, each output that differs from the previous run's only in volatile tokens as it was.

    The previous outputs are the cache entry of the published version (its record's key), else
    the entry under the current key (`--force`), else (a fresh clone, no cache) the published
    download of the executed notebook, paired by the code its record says it ran. Without any,
    the new outputs stand as they are and the drift check still masks their volatile tokens.
    """
    from .execution import settle
    from .publishing import published_outputs

    def digests(parts: object) -> list[str] | None:
        cells = parts.get("code") if isinstance(parts, dict) else None
        return [str(c) for c in cells] if isinstance(cells, list) else None

    for key in dict.fromkeys(k for k in (decision.previous_key, decision.exec_key) if k):
        previous = store.load(key)
        if previous is not None:
            settle(entry.outputs, previous, digests(store.parts(key)), decision.parts["code"])
            return entry
    published = published_outputs(site, decision.post.file_slug)
    if published is not None and decision.record is not None:
        settle(entry.outputs, published, digests(decision.record.executed_with), decision.parts["code"])
    return entry


def _publish(plan: _Work, site: Site, root: Path, authors: dict[str, str], log: ChangeLog) -> list[str]:
    """Render and write one post, noting its page in `log` if it changed; return its warnings."""
    from .publishing import publish

    rendered, downloads = _render(plan, root, authors)
    if publish(site, rendered, downloads, plan.post.rel_path):
        log.wrote(files_of(plan.post, root).markdown_rel)
    return list(rendered.warnings)  # the post's warnings (given to render), then its own


def _render(plan: _Work, root: Path, authors: dict[str, str]) -> tuple[RenderedPost, dict[str, bytes]]:
    """Return one post rendered against `plan.gone` and its downloads, writing nothing."""
    from .publishing import downloads as post_downloads
    from .rendering import export, published_front_matter, transform

    post = plan.post
    assert plan.entry is not None  # a post is published from its entry
    try:
        executed = with_outputs(post, plan.entry.outputs)
    except ValueError:
        raise SourceError("the cached outputs no longer fit; run with --force.", path=post.rel_path) from None
    # The transform chain (nbpress.rendering.transform.STEPS) runs once, on a copy; the download
    # shows the outputs as the post does (cleaned, sanitized), before display options.
    files = files_of(post, root)
    resources = transform.Resources(post, files, (root,), plan.gone, series=plan.decision.series)
    transformed, chain_warnings = transform.run(executed, resources)
    downloads = post_downloads(post, files, resources.downloaded(), root)
    # The downloads' URLs are the post's files' (nbpress.layout.PostFiles): the templates link
    # them as they are, whatever the post's URL slug.
    record = Record(
        source=post.rel_path,
        exec_key=plan.decision.exec_key,
        render_key=plan.decision.render_key,
        executed_with=plan.decision.parts,
        bibliography=plan.decision.bibliography or None,
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
    warnings = (*post.warnings, *chain_warnings)  # the post's, then the chain's
    return export(transformed, resources, front_matter, plan.entry.provenance, warnings), downloads


def files_of(post: posts.Post, root: Path) -> PostFiles:
    """Return the files and URLs of `post` in the blog at `root` (its file slug, URL slug, draft state)."""
    return Layout(root).post(post.file_slug, post.url_slug, post.front_matter.draft)
