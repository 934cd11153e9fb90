"""Print a build's progress and summary; the only module that talks to the terminal."""

from __future__ import annotations

import sys
from pathlib import Path

from .errors import NbpressError
from .pipeline import Options, PostResult, build


def _line(result: PostResult) -> str:
    seconds = f"{result.seconds:6.1f} s" if result.seconds else " " * 8
    return f"{result.status:<9} {seconds}  {result.name}"


def run(root: Path, slugs: tuple[str, ...], force: bool, jobs: int) -> int:
    """Build the blog at `root`, printing one line per post; return the exit code."""

    def report(result: PostResult) -> None:
        if result.error is None:
            print(_line(result), flush=True)
            return
        if result.detail:
            print(result.detail.rstrip(), file=sys.stderr)
        print(f"{_line(result)}\nerror: {result.error}", file=sys.stderr, flush=True)

    try:
        results = build(Options(root=root, slugs=slugs, force=force, jobs=jobs), report)
    except NbpressError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    failed = [r for r in results if r.status == "failed"]
    counts = {
        s: sum(r.status == s for r in results) for s in ("executed", "rendered", "unchanged", "removed")
    }
    summary = ", ".join(f"{n} {s}" for s, n in counts.items() if n)
    print(
        f"{len(results)} posts: {summary or 'nothing to do'}" + (f", {len(failed)} failed" if failed else "")
    )
    for result in failed:
        print(f"FAILED {result.error}", file=sys.stderr)
    return 1 if failed else 0
