"""The executor seam: what turns posts into cache entries (jupyter-cache's model).

An `Executor` runs the posts the build hands it and reports each one's `Outcome`: its cache
entry (store.Entry: the outputs of each code cell, capped and checked, and its provenance)
or its error. The build stores the entry, then renders and publishes it; an executor never
writes the store or the site. `LocalExecutor` runs fresh kernels on this machine (execute.py);
`Shard` runs one stable subset of the posts through another executor (`build.py --shard K/N`,
a CI matrix). A remote one (a cluster's job queue, a GPU runner) implements the same two
methods and plugs in through pipeline.Options.executor.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from ..errors import NbpressError
from ..notebook import Notebook
from ..sources import Post
from .store import Entry, outputs_by_cell


@dataclass(frozen=True)
class Outcome:
    """What executing one post gave: its cache entry or its error, and the seconds it took."""

    post: Post
    entry: Entry | None  # None when `error` is set
    error: NbpressError | None
    seconds: float
    # Lets the next post start in this one's place: called once the build has looked at what
    # this post wrote (the local executor holds the next post until then; see execute._run_all).
    release: Callable[[], None] = lambda: None


class Executor(Protocol):
    """Runs posts into cache entries; see the module's docstring."""

    def selects(self, post: Post) -> bool:
        """Return True if this executor runs `post` (a shard runs its own subset only)."""

    def run(
        self,
        posts: Sequence[Post],
        cwd: Path,
        started: Callable[[Post], None],
        finished: Callable[[Outcome], None],
    ) -> None:
        """Execute `posts` with `cwd` as their working directory, calling back on the calling thread.

        `started(post)` as a post's run begins, `finished(outcome)` as it ends. Raises
        BuildInterrupted on Ctrl-C or SIGTERM, once nothing it started still runs.
        """


def entry_of(notebook: Notebook, post: Post) -> Entry:
    """Return the cache entry of an executed notebook: outputs capped and checked, with provenance.

    Raises RenderError naming the cell when an output holds data a source could not.
    """
    from . import provenance
    from .capture import attach_widget_state, check_outputs, limit_outputs

    # Capped before caching, so a runaway cell costs no more memory or disk than a normal one.
    # Widget state lives in notebook metadata, which the cache does not keep: into the outputs.
    notebook = attach_widget_state(limit_outputs(notebook))
    check_outputs(notebook, post.rel_path)
    outputs = outputs_by_cell(notebook)
    # Recorded now, with the outputs, so a later re-render shows the same line.
    return Entry(outputs, provenance.collect(notebook, post.front_matter.kernel))


@dataclass(frozen=True)
class LocalExecutor:
    """Runs each post in a fresh Jupyter kernel on this machine, up to `jobs` at once (execute.py)."""

    jobs: int

    def selects(self, post: Post) -> bool:
        """Return True: a local build runs every post it is given."""
        return True

    def run(
        self,
        posts: Sequence[Post],
        cwd: Path,
        started: Callable[[Post], None],
        finished: Callable[[Outcome], None],
    ) -> None:
        """Run the posts' kernels on a worker thread; make each entry on the calling thread."""
        from ..errors import one_post
        from .execute import Executed, execute_all

        def done(executed: Executed) -> None:
            post, seconds, release = executed.post, executed.seconds, executed.release
            if executed.notebook is None:
                finished(Outcome(post, None, executed.error, seconds, release))
                return
            try:
                with one_post(post.rel_path, "keeping its outputs"):
                    entry = entry_of(executed.notebook, post)
            except NbpressError as err:
                finished(Outcome(post, None, err, seconds, release))
                return
            finished(Outcome(post, entry, None, seconds, release))

        execute_all(posts, cwd, self.jobs, on_start=started, on_done=done)


def shard_of(slug: str, count: int) -> int:
    """Return the shard (0-based, of `count`) a post belongs to; stable as posts come and go."""
    return int(hashlib.sha256(slug.encode()).hexdigest(), 16) % count


@dataclass(frozen=True)
class Shard:
    """Runs the `number`-th (1-based) of `count` stable subsets of the posts through `inner`."""

    number: int
    count: int
    inner: Executor

    def selects(self, post: Post) -> bool:
        """Return True if `post` belongs to this shard."""
        return shard_of(post.file_slug, self.count) == self.number - 1 and self.inner.selects(post)

    def run(
        self,
        posts: Sequence[Post],
        cwd: Path,
        started: Callable[[Post], None],
        finished: Callable[[Outcome], None],
    ) -> None:
        """Run the posts of this shard through `inner`."""
        self.inner.run([p for p in posts if self.selects(p)], cwd, started, finished)
