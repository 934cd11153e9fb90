"""A cold build of prose-only posts: one kernel for the code they share, against another checkout.

    python bench/shared_code.py --against OTHER [--posts 20] [--rounds 3]

Prose-only posts all have one execution key (the key is the code's, not the post's). OTHER
is a checkout of nbpress to compare with (`git worktree add /somewhere COMMIT`); each round
builds a fresh copy of the same blog with both, interleaved, `-j 2`, wall time, min / median.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tests.helpers import copy_skeleton  # noqa: E402


def write_notes(blog: Path, count: int) -> None:
    """Write `count` prose-only notebook posts into blog/posts."""
    import nbformat
    from nbformat.v4 import new_markdown_cell, new_notebook, new_raw_cell

    for i in range(count):
        nb = new_notebook(
            metadata={"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}}
        )
        nb.cells = [
            new_raw_cell(f"---\ntitle: Note {i}\ndate: 2024-01-{i % 28 + 1:02d}\n---"),
            new_markdown_cell(f"Some prose for note {i}."),
        ]
        nbformat.write(nb, blog / "posts" / f"note{i}.ipynb")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--against", type=Path, required=True, help="another nbpress checkout")
    parser.add_argument("--posts", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    trees = {"this": REPO, "other": args.against.resolve()}
    with tempfile.TemporaryDirectory() as tmp:
        source = copy_skeleton(Path(tmp) / "source")
        write_notes(source, args.posts)
        seconds: dict[str, list[float]] = {name: [] for name in trees}
        for r in range(args.rounds):
            for name, tree in trees.items():
                blog = Path(tmp) / f"{name}-{r}"
                shutil.copytree(source, blog)
                start = time.perf_counter()
                done = subprocess.run(
                    [sys.executable, str(tree / "build.py"), "--root", str(blog), "-j", "2"],
                    capture_output=True,
                    text=True,
                    check=False,
                )
                seconds[name].append(time.perf_counter() - start)
                if done.returncode != 0:
                    raise SystemExit(f"{name}: build failed: {done.stderr.strip()[-500:]}")
                if r == 0:
                    print(f"{name}: {done.stdout.strip().splitlines()[-1]}")
    for name, values in seconds.items():
        print(f"{name:>5}: min {min(values):.2f} s, median {statistics.median(values):.2f} s")
    ratio = statistics.median(seconds["other"]) / statistics.median(seconds["this"])
    print(f"ratio other / this (median): {ratio:.2f}x")


if __name__ == "__main__":
    main()
