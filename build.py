#!/usr/bin/env python3
"""Build the blog: execute the notebooks in posts/ and write site_src/posts and assets/images.

A thin command line over nbpress; run `python build.py --help`.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def _shard(text: str) -> tuple[int, int]:
    """Return (k, n) from 'K/N' with 1 <= K <= N."""
    try:
        k, n = (int(part) for part in text.split("/"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not K/N, e.g. 1/4") from None
    if not 1 <= k <= n:
        raise argparse.ArgumentTypeError(f"{text!r}: K must be between 1 and N")
    return k, n


def parse_args(argv: list[str]) -> argparse.Namespace:
    """Return the parsed command line."""
    parser = argparse.ArgumentParser(
        description="Execute the notebooks in posts/ and publish them as Markdown posts for MkDocs."
    )
    parser.add_argument("slugs", nargs="*", metavar="SLUG", help="build only these posts (default: all)")
    parser.add_argument("--force", action="store_true", help="execute every post again, ignoring the cache")
    parser.add_argument(
        "-j",
        "--jobs",
        type=int,
        default=None,
        help="kernels to run at once (default: CPUs + 1)",
    )
    parser.add_argument(
        "--shard",
        type=_shard,
        metavar="K/N",
        help="execute only the K-th of N stable subsets into the cache, publishing nothing (CI matrices)",
    )
    parser.add_argument(
        "--root", type=Path, default=Path(__file__).resolve().parent, help="the blog's folder"
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Run the build; return the process exit code (1 if any post failed)."""
    args = parse_args(sys.argv[1:] if argv is None else argv)
    from nbpress.cli import run

    return run(args.root, tuple(args.slugs), force=args.force, jobs=args.jobs, shard=args.shard)


if __name__ == "__main__":
    sys.exit(main())
