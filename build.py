#!/usr/bin/env python3
"""Build the blog: execute the notebooks in posts/ and write site_src/posts and assets/images.

A thin command line over nbpress; run `python build.py --help` (and `python build.py new --help`,
`python build.py import --help`).
"""

# Any Python 3 must reach main()'s version check, so this file uses no syntax newer than 3.6 and
# no `from __future__ import annotations`: annotations evaluated at definition are quoted.

import argparse
import io
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from typing import NoReturn

# pyproject.toml's requires-python (tests/test_environment.py holds the two equal): the oldest
# Python every pin installs on (pymdown-extensions 13.1 needs 3.11.5; Debian 12's python3 is 3.11.2).
REQUIRES_PYTHON = (3, 11, 5)
ACTIVATE = ". .venv/bin/activate"
INSTALL = "pip install -r requirements.txt"


def python_problem(version: "tuple[int, ...]") -> "str | None":
    """Return the one line saying this `version` of Python cannot run nbpress, or None if it can."""
    if tuple(version[:3]) >= REQUIRES_PYTHON:
        return None
    need = ".".join(str(part) for part in REQUIRES_PYTHON)
    have = ".".join(str(part) for part in version[:3])
    return (
        f"nbpress needs Python {need} or newer, and this is Python {have} ({sys.executable}): "
        f"activate the blog's environment ({ACTIVATE}) or run build.py with Python {need} or newer"
    )


def missing_package(err: ModuleNotFoundError) -> "str | None":
    """Return the one line naming a module nbpress needs that this Python lacks, or None for nbpress's own.

    A module of nbpress itself that cannot be imported is a bug in nbpress: its traceback is shown.
    """
    top = (err.name or "").partition(".")[0]
    if top in ("", "nbpress"):
        return None
    if top in sys.stdlib_module_names:  # a Python built without it (no libsqlite3-dev, say)
        return (
            f"this Python ({sys.executable}) was built without the standard module {err.name!r}, "
            "which nbpress needs: install a complete Python and make the environment with it"
        )
    where = (
        f"the environment {sys.prefix} lacks it: install the requirements ({INSTALL})"
        if sys.prefix != sys.base_prefix
        else f"activate the blog's environment ({ACTIVATE}) or install the requirements ({INSTALL})"
    )
    return f"this Python ({sys.executable}) cannot import {err.name!r}, which nbpress needs: {where}"


def root_problem(root: Path) -> "str | None":
    """Return the one line saying `root` is not a blog's folder, or None if it is one.

    A blog's folder holds posts/ or mkdocs.yml; anything else (a typo, the posts/ folder itself)
    would otherwise build an empty blog there and create site_src/ in it.
    """
    if not root.is_dir():
        return f"{root}: no such folder: pass --root the blog's folder (the one that holds posts/)"
    if not (root / "posts").is_dir() and not (root / "mkdocs.yml").is_file():
        return (
            f"{root} is not a blog's folder (it has no posts/ and no mkdocs.yml): "
            "pass --root the folder that holds posts/"
        )
    return None


def _shard(text: str) -> "tuple[int, int]":
    """Return (k, n) from 'K/N' with 1 <= K <= N."""
    try:
        k, n = (int(part) for part in text.split("/"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not K/N, e.g. 1/4") from None
    if not 1 <= k <= n:
        raise argparse.ArgumentTypeError(f"{text!r}: K must be between 1 and N")
    return k, n


def _jobs(text: str) -> int:
    """Return N from '-j N' with N >= 1."""
    try:
        jobs = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if jobs < 1:
        raise argparse.ArgumentTypeError(f"{text!r}: run at least 1 kernel at once")
    return jobs


def parse_args(argv: "list[str]") -> argparse.Namespace:
    """Return the parsed command line."""
    parser = argparse.ArgumentParser(
        description="Execute the notebooks in posts/ and publish them as Markdown posts for MkDocs.",
        epilog='Start a post with: python build.py new "My title" [--format ipynb|md|py]; bring a Jupyter '
        "Book or Quarto project over with: python build.py import PATH [--series NAME] [--dry-run]",
    )
    parser.add_argument(
        "slugs",
        nargs="*",
        metavar="POST",
        help="build only these posts, each a name (SLR_NN) or its source's path (posts/SLR_NN.ipynb); "
        "default: all",
    )
    parser.add_argument("--force", action="store_true", help="execute every post again, ignoring the cache")
    parser.add_argument(
        "-j",
        "--jobs",
        type=_jobs,
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
        "--strict", action="store_true", help="fail (exit 1) on any warning too, not only on errors (CI)"
    )
    parser.add_argument(
        "--root", type=Path, default=Path(__file__).resolve().parent, help="the blog's folder"
    )
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument(
        "--check",
        action="store_true",
        help="execute nothing; exit 1 listing posts whose generated Markdown is stale or missing",
    )
    mode.add_argument(
        "--report",
        action="store_true",
        help="execute nothing; print every post's status, run time, cache state and provenance",
    )
    mode.add_argument(
        "--watch", action="store_true", help="build, then rebuild a post when its source or inputs change"
    )
    mode.add_argument(
        "--serve", action="store_true", help="--watch, with the site renderer's preview server beside it"
    )
    mode.add_argument(
        "--site",
        action="store_true",
        help="build, then render the deployable site into site/ (mkdocs build --strict), "
        "unless nothing it is rendered from changed since the last render",
    )
    mode.add_argument(
        "--drift",
        action="store_true",
        help="execute nothing; exit 1 naming each post whose outputs differ from those of --revision",
    )
    mode.add_argument(
        "--prune-cache", action="store_true", help="remove the cache entries no current post uses, then stop"
    )
    parser.add_argument(
        "--revision", default="HEAD", help="the git revision --drift compares the generated posts with"
    )
    parser.add_argument(
        "--dev-addr", default="127.0.0.1:8000", metavar="IP:PORT", help="where --serve serves the preview"
    )
    parser.add_argument(
        "--renderer",
        choices=("mkdocs", "zensical"),
        # MkDocs, which the deploy runs, in both: its preview server renders only the pages a
        # save changed and the listings showing them (publishing.partial), which bench/preview.py
        # measured fastest; Zensical's serve re-renders more, and more as the blog grows.
        default=None,
        help="the site renderer --serve and --site run (default: mkdocs, which the deploy runs; "
        "zensical for Zensical's)",
    )
    args = parser.parse_args(argv)
    if args.check and (args.slugs or args.force or args.shard):
        parser.error("--check looks at every post; it takes no POST, --force or --shard")
    if args.prune_cache and (args.slugs or args.force or args.shard):
        parser.error("--prune-cache looks at every post; it takes no POST, --force or --shard")
    if args.drift and (args.slugs or args.force or args.shard):
        parser.error("--drift compares every post; it takes no POST, --force or --shard")
    if args.report and (args.slugs or args.force or args.shard):
        parser.error("--report lists every post; it takes no POST, --force or --shard")
    if (args.watch or args.serve or args.site) and args.shard:
        parser.error("--watch, --serve and --site publish; they take no --shard")
    if args.renderer and not (args.serve or args.site):
        parser.error("--renderer chooses the renderer of --serve or --site; use it with one of them")
    args.renderer = args.renderer or "mkdocs"
    return args


def parse_new_args(argv: "list[str]") -> argparse.Namespace:
    """Return the parsed command line of `build.py new`."""
    parser = argparse.ArgumentParser(prog="build.py new", description="Start a post in posts/.")
    parser.add_argument("title", help="the post's title")
    parser.add_argument("--format", choices=("ipynb", "md", "py"), default="ipynb", help="source format")
    parser.add_argument("--slug", help="the file name and URL part (default: from the title)")
    parser.add_argument("--author", help="the author (default: the first in site_src/.authors.yml)")
    parser.add_argument(
        "--root", type=Path, default=Path(__file__).resolve().parent, help="the blog's folder"
    )
    return parser.parse_args(argv)


def parse_import_args(argv: "list[str]") -> argparse.Namespace:
    """Return the parsed command line of `build.py import`."""
    parser = argparse.ArgumentParser(
        prog="build.py import",
        description="Import a Jupyter Book (_toc.yml, myst.yml) or a Quarto project (_quarto.yml) into "
        "posts/ as one series, in table-of-contents order.",
    )
    parser.add_argument("path", metavar="PATH", type=Path, help="the project's folder")
    parser.add_argument("--series", metavar="NAME", help="the series' name (default: the book's title)")
    parser.add_argument(
        "--dry-run",
        action="store_true",
        help="print what would be written and not carried over; write nothing",
    )
    parser.add_argument(
        "--root", type=Path, default=Path(__file__).resolve().parent, help="the blog's folder"
    )
    return parser.parse_args(argv)


# The exit code when this Python cannot run nbpress (too old, or a package missing): 2, as for a
# command line mistake, never 1, which says a post failed or (--check) is stale; the deploy
# workflow executes posts on exit 1 from --check and stops on any other.
CANNOT_RUN = 2


def main(argv: "list[str] | None" = None) -> int:
    """Run the build; return the process exit code (1 if any post failed, 2 if this Python cannot run it)."""
    problem = python_problem(sys.version_info[:3])  # before anything that would fail on an older Python
    if problem is not None:
        print(f"error: {problem}", file=sys.stderr)
        return CANNOT_RUN
    # nbpress is the folder beside this file, also when Python leaves the script's folder off
    # sys.path (python -I, -P or PYTHONSAFEPATH).
    here = str(Path(__file__).resolve().parent)
    if here not in sys.path:
        sys.path.insert(0, here)
    argv = sys.argv[1:] if argv is None else argv
    for stream in (sys.stdout, sys.stderr):
        # A line quoting an author's lone surrogate is printed escaped, never a UnicodeEncodeError.
        if isinstance(stream, io.TextIOWrapper):
            stream.reconfigure(errors="backslashreplace")
    try:
        return _command(argv)
    except ModuleNotFoundError as err:
        missing = missing_package(err)
        if missing is None:
            raise
        print(f"error: {missing}", file=sys.stderr)
        return CANNOT_RUN


def _subcommand_first(argv: "list[str]") -> "list[str]":
    """Return `argv` with a leading `--root DIR` moved after a `new` or `import` it precedes.

    `--root` is an option of every command, so `build.py --root blog import PATH` means what
    `build.py import PATH --root blog` does.
    """
    head = 2 if argv[:1] == ["--root"] else 1 if argv[:1] and argv[0].startswith("--root=") else 0
    if head and argv[head : head + 1] in (["new"], ["import"]):
        return [argv[head], *argv[head + 1 :], *argv[:head]]
    return argv


def _command(argv: "list[str]") -> int:
    """Run the command `argv` names; return its exit code."""
    argv = _subcommand_first(argv)
    # A post named "new" or "import" builds with: build.py -- new
    sub = argv[0] if argv[:1] in (["new"], ["import"]) else ""
    args = {"new": parse_new_args, "import": parse_import_args}[sub](argv[1:]) if sub else parse_args(argv)
    problem = root_problem(args.root)
    if problem is not None:
        print(f"error: {problem}", file=sys.stderr)
        return CANNOT_RUN
    if sub == "new":
        from nbpress.cli import new

        return new(args.root, args.title, args.format, args.slug, args.author)
    if sub == "import":
        from nbpress.cli import import_project

        return import_project(args.root, args.path, args.series, args.dry_run)
    if args.prune_cache:
        from nbpress.cli import prune_cache

        return prune_cache(args.root)
    if args.check:
        from nbpress.cli import check_posts

        return check_posts(args.root)
    if args.drift:
        from nbpress.cli import drift

        return drift(args.root, args.revision)
    if args.report:
        from nbpress.cli import report

        return report(args.root)
    if args.watch or args.serve:
        from nbpress.cli import watch

        serve = args.serve and args.dev_addr
        slugs = tuple(args.slugs)
        return watch(args.root, slugs, force=args.force, jobs=args.jobs, serve=serve, renderer=args.renderer)
    if args.site:
        from nbpress.cli import site

        return site(args.root, tuple(args.slugs), args.force, args.jobs, args.strict, args.renderer)
    from nbpress.cli import run

    return run(
        args.root, tuple(args.slugs), force=args.force, jobs=args.jobs, shard=args.shard, strict=args.strict
    )


def exit_now(code: int) -> "NoReturn":
    """End this process with `code` as Python would, without tearing its modules down.

    After `main` returned, Python would spend about 0.1 s freeing some 800 modules (nbconvert,
    MkDocs...), a tenth of a prose edit's build: nothing a reader of the build needs. What an
    exit owes is done first: other threads joined, atexit handlers run (logging flushed,
    temporary folders removed, the kernels' watchdog ended), both streams flushed.
    """
    import atexit
    import contextlib
    import os
    import threading

    for thread in threading.enumerate():
        if thread is not threading.current_thread() and not thread.daemon:
            thread.join()
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        # A reader gone (`| head`) or a stream closed: nothing left to keep.
        with contextlib.suppress(OSError, ValueError):
            stream.flush()
    os._exit(code)


if __name__ == "__main__":
    exit_now(main())
