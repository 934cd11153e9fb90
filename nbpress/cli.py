"""Print a build's progress and summary; the only module that talks to the terminal.

On a terminal a live display (rich) shows which posts are running, done, cached or
failed; elsewhere (CI, pipes) each post gets one plain line as it ends.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any, TextIO

from .errors import NbpressError
from .pipeline import Options, PostResult, Reporter, build, default_jobs

COUNTED = ("executed", "cached", "unchanged", "removed", "failed")


def _line(result: PostResult) -> str:
    seconds = f"{result.seconds:6.1f} s" if result.seconds else " " * 8
    return f"{result.status:<9} {seconds}  {result.name}"


class PlainReporter(Reporter):
    """One line per post as it ends; errors (with the cell's traceback) on stderr."""

    def __init__(self, out: TextIO = sys.stdout, err: TextIO = sys.stderr) -> None:
        self.out = out
        self.err = err

    def finished(self, result: PostResult) -> None:
        """Print the post's line, and for a failure its traceback and one error line."""
        if result.error is None:
            print(_line(result), file=self.out, flush=True)
            return
        if result.detail:
            print(result.detail.rstrip(), file=self.err)
        print(f"{_line(result)}\nerror: {result.error}", file=self.err, flush=True)


class LiveReporter(PlainReporter):
    """A rich live table of running posts above the plain lines of finished ones."""

    def __init__(self) -> None:
        super().__init__()
        from rich.console import Console
        from rich.live import Live

        self.console = Console(stderr=True)
        self.running: dict[str, float] = {}
        # get_renderable rebuilds the table at each refresh, so elapsed times tick.
        self.live = Live(
            console=self.console, get_renderable=self._table, refresh_per_second=4, transient=True
        )
        self.live.start()
        self.out = self.err = sys.stderr

    def _table(self) -> Any:
        from rich.table import Table

        table = Table.grid(padding=(0, 2))
        now = time.perf_counter()
        for name, start in self.running.items():
            table.add_row("[cyan]running[/]", f"{now - start:5.1f} s", name)
        return table

    def started(self, name: str) -> None:
        """Show the post as running."""
        self.running[name] = time.perf_counter()

    def finished(self, result: PostResult) -> None:
        """Move the post from the running table to the printed lines."""
        self.running.pop(result.name, None)
        colour = {"failed": "red", "executed": "green", "cached": "blue"}.get(result.status, "dim")
        if result.error is not None and result.detail:
            self.live.console.print(result.detail.rstrip(), markup=False, highlight=False)
        self.live.console.print(f"[{colour}]{result.status:<9}[/]", _line(result)[10:], highlight=False)
        if result.error is not None:
            self.live.console.print(f"error: {result.error}", highlight=False, markup=False)

    def stop(self) -> None:
        """End the live display."""
        self.live.stop()


def summary(results: list[PostResult]) -> str:
    """Return the closing line: how many posts ended in each status."""
    counts = {s: sum(r.status == s for r in results) for s in COUNTED}
    parts = ", ".join(f"{n} {s}" for s, n in counts.items() if n)
    return f"{len(results)} posts: {parts or 'nothing to do'}"


def _summary_table(results: list[PostResult]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title="nbpress build")
    for column in ("post", "status", "seconds"):
        table.add_column(column)
    for r in results:
        table.add_row(r.name, r.status, f"{r.seconds:.1f}" if r.seconds else "")
    Console().print(table)


def run(
    root: Path,
    slugs: tuple[str, ...],
    force: bool,
    jobs: int | None = None,
    shard: tuple[int, int] | None = None,
) -> int:
    """Build the blog at `root`, reporting each post; return the exit code (1 if any failed)."""
    live = sys.stderr.isatty() and sys.stdout.isatty()
    reporter: PlainReporter = LiveReporter() if live else PlainReporter()
    try:
        options = Options(root=root, slugs=slugs, force=force, jobs=jobs or default_jobs(), shard=shard)
        results = build(options, reporter)
    except NbpressError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    finally:
        if isinstance(reporter, LiveReporter):
            reporter.stop()
    if live and results:
        _summary_table(results)
    print(summary(results))
    failed = [r for r in results if r.status == "failed"]
    for result in failed:
        print(f"FAILED {result.error}", file=sys.stderr)
    return 1 if failed else 0
