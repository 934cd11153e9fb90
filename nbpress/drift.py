"""Did re-executing the posts change what they show? Compare generated posts with a git revision.

The weekly full re-execution runs `python build.py --force`, then `python -m nbpress.drift`.
What legitimately changes on every run is masked before comparing: step timings printed by
Keras, timestamped native log lines (TensorFlow, absl) and the provenance line. Anything
else that differs is drift, reported per post with a diff; the exit code is 1.
"""

from __future__ import annotations

import argparse
import difflib
import re
import subprocess
import sys
from pathlib import Path

# (pattern, replacement): parts of a post that differ on every execution by nature.
VOLATILE = (
    # Keras progress: "4/4 ━━━━ 0s 6ms/step - loss: ..." (the losses themselves must not move).
    (re.compile(r"\b\d+(?:\.\d+)?(?:ms|s|us|µs)/step\b"), "<time>/step"),
    (re.compile(r"\b\d+s(?= <time>/step)"), "<time>"),
    # glog/absl lines carry a timestamp and a thread id ("I0000 00:00:1795315746.111133  2731 port.cc:153]"),
    # and TensorFlow names the CPU's instruction sets, which differ between machines.
    (re.compile(r"^\s*[IWEF]\d{4} [\d:.]+\s+\d+ .*$", re.M), "    <native log>"),
    (re.compile(r"^\s*To enable the following instructions:.*$", re.M), "    <native log>"),
    (re.compile(r"^\*Executed .*\*$", re.M), "*Executed <provenance>*"),
    # The cache keys change with the environment (the runner's Python); the outputs are what count.
    (re.compile(r"^  (exec_key|render_key|digest): [\w:]+$", re.M), r"  \1: <key>"),
)


def normalise(text: str) -> str:
    """Return a post's Markdown with the parts that change on every execution masked."""
    for pattern, replacement in VOLATILE:
        text = pattern.sub(replacement, text)
    # Keras pads a progress line with spaces to cover the previous one.
    return "\n".join(line.rstrip() for line in text.splitlines())


def diff(old: str, new: str, name: str) -> list[str]:
    """Return the unified diff of two versions of a post after masking; empty if they agree."""
    return list(
        difflib.unified_diff(
            normalise(old).splitlines(),
            normalise(new).splitlines(),
            f"{name} (committed)",
            f"{name} (re-executed)",
            lineterm="",
        )
    )


def committed(root: Path, path: Path, revision: str) -> str | None:
    """Return the text of `path` at a git revision, or None if it did not exist there."""
    rel = path.relative_to(root).as_posix()
    proc = subprocess.run(
        ["git", "show", f"{revision}:{rel}"], cwd=root, capture_output=True, text=True, check=False
    )
    return proc.stdout if proc.returncode == 0 else None


def check(root: Path, revision: str = "HEAD") -> dict[str, list[str]]:
    """Return {source notebook: diff lines} for every generated post that drifted from `revision`."""
    from .write import read_record

    drifted: dict[str, list[str]] = {}
    for path in sorted((root / "site_src" / "posts").glob("*.md")):
        record = read_record(path)
        if record is None:
            continue  # the author's own page, not a generated post
        old = committed(root, path, revision)
        if old is None:
            continue  # a new post has nothing to drift from
        lines = diff(old, path.read_text(encoding="utf-8"), path.relative_to(root).as_posix())
        if lines:
            drifted[str(record.get("source", path.name))] = lines
    return drifted


def main(argv: list[str] | None = None) -> int:
    """Print one line per drifted post (its source) and its diff; return 1 if any drifted."""
    parser = argparse.ArgumentParser(description="Report generated posts whose outputs drifted.")
    parser.add_argument("--root", type=Path, default=Path.cwd(), help="the blog's folder")
    parser.add_argument("--revision", default="HEAD", help="the git revision to compare with")
    args = parser.parse_args(argv)
    drifted = check(args.root.resolve(), args.revision)
    for source, lines in drifted.items():
        print("\n".join(lines[:80]))
        print(
            f"drifted: {source}: its outputs differ from {args.revision}; run it and look.", file=sys.stderr
        )
    if not drifted:
        print("no drift: every generated post shows what is committed")
    return 1 if drifted else 0


if __name__ == "__main__":
    sys.exit(main())
