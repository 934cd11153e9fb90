"""Helpers the tests share: paths, the `build.py` and `mkdocs` command lines, the real blog.

Fixtures live in conftest.py; everything else the tests share lives here.
"""

from __future__ import annotations

import functools
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.parse
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import psutil

if TYPE_CHECKING:
    import pytest

from tests.skeleton import REPO as REPO
from tests.skeleton import copy_skeleton as copy_skeleton
from tests.skeleton import tree_differences as tree_differences

FIXTURES = Path(__file__).resolve().parent / "fixtures"
GOLDEN = Path(__file__).resolve().parent / "golden"

# The browser tests' Chromium: an environment variable names it, else it is found by name.
CHROMIUM_VARIABLES = ("NBPRESS_CHROMIUM", "CHROME_PATH")
CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
# Headless (as root too), with no traffic of its own to the closed network.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


# A real 1x1 PNG: a local image a post shows must be one a browser can draw (a bare signature
# is a broken image, which the build replaces with a placeholder).
TINY_PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00\x90wS\xde"
    b"\x00\x00\x00\x0cIDATx\x9cc\xf8\xcf\xc0\x00\x00\x03\x01\x01\x00\xc9\xfe\x92\xef\x00\x00\x00\x00IEND"
    b"\xaeB`\x82"
)


# How long a test waits for something before calling it a hang. Tests wait for a condition,
# never for a machine's speed: this is minutes, so that a loaded machine only makes them slower.
HANG = 600.0

T = TypeVar("T")


def wait_until(
    condition: Callable[[], T | None],
    what: str,
    *,
    running: subprocess.Popen[Any] | None = None,
    deadline: float = HANG,
    pause: Callable[[], object] = lambda: time.sleep(0.2),
) -> T:
    """Return the first true value of `condition()`, polled; fail naming `what` after `deadline` s.

    With `running`, fail at once if that process ends before the condition holds. `pause` waits
    between polls: a playwright page's `lambda: page.wait_for_timeout(200)` lets its events in.
    """
    end = time.monotonic() + deadline
    while True:
        value = condition()
        if value:
            return value
        if running is not None and running.poll() is not None:
            raise AssertionError(f"{what}: the process ended first (exit code {running.returncode})")
        if time.monotonic() > end:
            raise AssertionError(f"{what}: not after {deadline:.0f} s (a hang)")
        pause()


def start_serve(blog: Path, port: int, *args: str) -> subprocess.Popen[str]:
    """Return a running `build.py --serve` of `blog` on 127.0.0.1:`port` (one kernel at a time),
    its output and errors in one text pipe; `args` are more options (`--renderer NAME`)."""
    return subprocess.Popen(
        [*build_command(blog, "--serve", *args, jobs=1), "--dev-addr", f"127.0.0.1:{port}"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
    )


def build_command(
    blog: Path,
    *args: str,
    jobs: int | str | None = 2,
    command: str | None = None,
    python: Sequence[str] = (),
) -> list[str]:
    """Return `python [PYTHON] build.py [COMMAND] --root BLOG [-j JOBS] ARGS` (no -j when `jobs` is None).

    The one place the tests spell the command line out; `python` are the interpreter's own
    options (`-X importtime`, `-c CODE`).
    """
    return [
        sys.executable,
        *python,
        str(REPO / "build.py"),
        *([command] if command else []),
        "--root",
        str(blog),
        *(["-j", str(jobs)] if jobs is not None else []),
        *args,
    ]


def patched_build_command(blog: Path, patch: str, *args: str) -> list[str]:
    """Return build_command(blog, *args) for a build.py run after `patch`, Python code that
    changes nbpress in that process only (a fault to inject, a shorter limit)."""
    run = "\nimport runpy, sys\nsys.argv = sys.argv[1:]\nrunpy.run_path(sys.argv[0], run_name='__main__')\n"
    return build_command(blog, *args, python=("-c", patch + run))


@contextmanager
def running(command: list[str], **popen: Any) -> Iterator[subprocess.Popen[str]]:
    """Yield `command` started with its output piped as text; killed on the way out if it still runs."""
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **popen)
    try:
        yield proc
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()


def build_cli(
    blog: Path,
    *args: str,
    jobs: int | str | None = 2,
    command: str | None = None,
    python: Sequence[str] = (),
    timeout: float = HANG,
    **run: Any,
) -> subprocess.CompletedProcess[str]:
    """Return the finished `python build.py --root BLOG -j 2 ARGS` run (`run`: subprocess.run options)."""
    return subprocess.run(
        build_command(blog, *args, jobs=jobs, command=command, python=python),
        capture_output=True,
        text=True,
        timeout=timeout,
        **run,
    )


def write_post(
    blog: Path, slug: str, *cells: str, front: str = "", tags: dict[int, list[str]] | None = None
) -> Path:
    """Write blog/posts/SLUG.ipynb from code cells (tagged by index) after a front matter cell."""
    import nbformat
    from nbformat.v4 import new_code_cell, new_notebook, new_raw_cell

    nb = new_notebook(
        metadata={"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}}
    )
    nb.cells.append(new_raw_cell(f"---\ntitle: {slug}\ndate: 2024-01-01\n{front}---"))
    for i, src in enumerate(cells):
        cell = new_code_cell(src)
        if tags and i in tags:
            cell.metadata["tags"] = tags[i]
        nb.cells.append(cell)
    for i, cell in enumerate(nb.cells):
        cell["id"] = f"cell-{i}"
    path = blog / "posts" / f"{slug}.ipynb"
    nbformat.write(nb, path)
    return path


def published(root: Path) -> dict[str, bytes]:
    """Return {path relative to root: bytes} of every file the build publishes."""
    files = [*(root / "site_src" / "posts").rglob("*"), *(root / "assets" / "images").rglob("*")]
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(files) if p.is_file()}


def mkdocs(root: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Return the finished `python -m mkdocs ARGS` run in the blog `root`, with `env` added."""
    return subprocess.run(
        [sys.executable, "-m", "mkdocs", *args],
        cwd=root,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1", **(env or {})},
        capture_output=True,
        text=True,
        timeout=HANG,
    )


def zensical_build(root: Path) -> Path:
    """Return the site `zensical build --clean` made of the blog `root`; fail the test if it failed."""
    proc = subprocess.run(
        [sys.executable, "-m", "zensical", "build", "--clean"],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=HANG,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return root / "site"


GITHUB_REMOTE = "https://github.com/nbpress/nbpress-blog.git"
# What hooks/reader.py makes of that remote when mkdocs.yml leaves repo_url and site_url unset.
GITHUB_REPO_URL = "https://github.com/nbpress/nbpress-blog"
GITHUB_SITE_URL = "https://nbpress.github.io/nbpress-blog/"


def build_real_blog(root: Path) -> Path:
    """Return `root`, a copy of the real blog's sources built from scratch (every post executed)."""
    from nbpress.pipeline import Options, build

    copy_skeleton(root)
    # A GitHub remote, as a clone of the real blog has: repo_url and site_url come from it.
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    subprocess.run(["git", "-C", str(root), "remote", "add", "origin", GITHUB_REMOTE], check=True)
    for nb in (REPO / "posts").glob("*.ipynb"):
        shutil.copy2(nb, root / "posts" / nb.name)
    results = build(Options(root=root, jobs=2))
    assert {r.name: r.status for r in results} == {
        f"posts/{nb.name}": "executed" for nb in (REPO / "posts").glob("*.ipynb")
    }, [str(r.error) for r in results]
    return root


# When a post ran is the one thing two executions of it never share (its provenance line).
EXECUTED_AT = re.compile(r"^\*Executed \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC ", re.M)


DIGEST = re.compile(r"^  digest: sha256:[0-9a-f]{64}$", re.M)


def without_execution_time(markdown: str) -> str:
    """Return a generated post with the time on its provenance line masked (and so its digest)."""
    return DIGEST.sub("  digest: <digest>", EXECUTED_AT.sub("*Executed <time> ", markdown))


def site_base(blog: Path) -> str:
    """Return the path mkdocs serve mounts the site at: that of site_url, as GitHub Pages does."""
    # A regex, not YAML: mkdocs.yml may hold !!python tags.
    site_url = re.search(r"^site_url:\s*(\S+)", (blog / "mkdocs.yml").read_text(encoding="utf-8"), re.M)
    return urllib.parse.urlsplit(site_url.group(1) if site_url else "/").path.rstrip("/")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def kernels_of(proc: psutil.Process) -> list[psutil.Process]:
    """Return the kernel processes started by `proc` (ipykernel runs as a child)."""
    found = []
    for child in proc.children(recursive=True):
        try:
            if any("ipykernel" in part for part in child.cmdline()):
                found.append(child)
        except psutil.NoSuchProcess:
            continue
    return found


def wait_for_kernels(proc: psutil.Process, count: int) -> list[psutil.Process]:
    """Return `count` kernels of `proc` once they exist and have started their cells."""
    return wait_until(
        lambda: kernels if len(kernels := kernels_of(proc)) >= count else None,
        f"the build starting {count} kernels",
    )


def kill_orphan_kernels(blog: Path) -> None:
    """Kill kernels a SIGKILLed build left running (they run with posts/ as their cwd)."""
    posts = str(blog / "posts")
    for proc in psutil.process_iter(["cwd"]):
        if proc.info["cwd"] == posts:
            proc.kill()


def watcher_armed(pid: int) -> bool:
    """Return whether the process `pid` watches files (holds an inotify instance; Linux).

    `build.py --watch` arms its watcher only after the first build and its "watching" line
    (an edit made before then is caught by comparing times once it is armed): a test of the
    watcher itself waits for this before editing.
    """
    fds = Path(f"/proc/{pid}/fd")
    try:
        return any(os.readlink(fd) == "anon_inode:inotify" for fd in fds.iterdir())
    except (FileNotFoundError, ProcessLookupError):
        return False  # the process ended, or closed that descriptor while it was listed


def is_snap(path: str) -> bool:
    """Return whether `path` runs a snap (Ubuntu's chromium-browser is a script that runs one)."""
    if os.path.realpath(path).startswith("/snap/"):
        return True
    with open(path, "rb") as file:
        head = file.read(4096)
    return head.startswith(b"#!") and b"snap" in head


def _playwright_chromium() -> str | None:
    """Return the Chromium `python -m playwright install chromium` downloaded, if it did."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        path: str = playwright.chromium.executable_path
    return path if os.access(path, os.X_OK) else None


@functools.cache
def chromium_path() -> str:
    """Return the Chromium the browser tests (and bench/) drive; fail in one line if there is none.

    NBPRESS_CHROMIUM (or CHROME_PATH, Lighthouse's own) names it; else the first of
    CHROMIUM_NAMES on PATH that is not a snap, else playwright's own download, else a snap
    (whose confinement a test runner may not pass).
    """
    for variable in CHROMIUM_VARIABLES:
        if value := os.environ.get(variable):
            found = shutil.which(value)
            if found is None:
                raise FileNotFoundError(f"{variable}={value} is not an executable: point it at Chromium")
            return found
    on_path = [found for name in CHROMIUM_NAMES if (found := shutil.which(name))]
    for found in on_path:
        if not is_snap(found):
            return found
    if downloaded := _playwright_chromium():
        return downloaded
    if on_path:
        return on_path[0]
    raise FileNotFoundError(
        "no Chromium: set NBPRESS_CHROMIUM to its executable, or install one named "
        f"{' or '.join(CHROMIUM_NAMES)} (Debian: apt-get install chromium;"
        " Ubuntu: python -m playwright install --with-deps chromium)"
    )


@contextmanager
def launch_chromium() -> Iterator[Any]:
    """Yield Chromium (chromium_path), headless, launched by playwright; closed on exit.

    Its contexts and pages wait up to HANG for what they wait for (playwright's default is 30 s,
    which a loaded machine can reach): a test waits for a condition, not for the machine.
    """
    from playwright.sync_api import sync_playwright

    executable = chromium_path()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, headless=True, args=CHROMIUM_ARGS)
        new_context, new_page = browser.new_context, browser.new_page

        def patient_context(**options: Any) -> Any:
            context = new_context(**options)
            context.set_default_timeout(HANG * 1000)
            return context

        def patient_page(**options: Any) -> Any:
            page = new_page(**options)
            page.context.set_default_timeout(HANG * 1000)
            return page

        browser.new_context, browser.new_page = patient_context, patient_page  # type: ignore[method-assign]
        try:
            yield browser
        finally:
            browser.close()


# Reports each Content Security Policy violation of every frame to the test (watch_policy).
_POLICY_WATCH = (
    "document.addEventListener('securitypolicyviolation', e => window.__nbpressPolicyViolation("
    "`${e.effectiveDirective} ${e.blockedURI || 'inline'} ${e.sourceFile || ''}:${e.lineNumber}`))"
)


def watch_policy(context: Any) -> list[str]:
    """Return the list a playwright browser `context` appends each policy violation to.

    The site's policy (overrides/partials/nbpress-csp.html) must refuse nothing the site
    itself does: a test of a page's features asserts this list stays empty.
    """
    violations: list[str] = []
    context.expose_binding("__nbpressPolicyViolation", lambda _, v: violations.append(v))
    context.add_init_script(_POLICY_WATCH)
    return violations


def copy_blog(built: Path, folder: Path) -> Path:
    """Return a copy of the built blog `built` at `folder`/blog, for one test to change.

    Its cache comes too and links stay links, so the copy renders again without kernels.
    """
    return Path(shutil.copytree(built, folder / "blog", symlinks=True))


def shared_blog(tmp_path_factory: pytest.TempPathFactory, name: str, make: Callable[[Path], None]) -> Path:
    """Return `name`/blog in the run's shared temporary folder, made by `make(root)` once per run.

    Under pytest-xdist the first worker to ask makes it, holding a lock; the other waits, then
    reads the same folder. A test that changes the blog works on a copy (`copy_blog`).
    """
    from filelock import FileLock

    base = tmp_path_factory.getbasetemp()
    # Under xdist each worker's folder sits in the run's; without it, the run has one folder.
    shared = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base
    root = shared / name / "blog"
    with FileLock(shared / f"{name}.lock"):
        if not (shared / name / "built").is_file():
            shutil.rmtree(shared / name, ignore_errors=True)  # a build that failed half-way
            make(root)
            (shared / name / "built").touch()
    return root
