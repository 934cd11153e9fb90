"""A build killed with SIGKILL at any moment leaves every published post whole.

Real builds are killed at seeded random moments; after each kill every post is exactly one
version the build produced (old or new), every figure it links is present and whole, no
temporary file is where MkDocs would take it, and `mkdocs build --strict` passes.
"""

from __future__ import annotations

import random
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from nbpress.atomic import TMP_PREFIX
from nbpress.layout import JOURNAL_PREFIX
from tests.helpers import (
    HANG,
    REPO,
    build_command,
    kill_orphan_kernels,
    mkdocs,
    published,
    without_execution_time,
)

SEED = 20240618
ROUNDS = 16
FIGURES = 30  # enough files per post that the write phase is long enough to be hit


def sources(version: int) -> dict[str, list[str]]:
    """Return {slug: code cells} for one version of the blog; versions differ in every post."""
    plot = (
        "import matplotlib\nmatplotlib.use('module://matplotlib_inline.backend_inline')\n"
        "import matplotlib.pyplot as plt\n"
        "for i in range({n}):\n    plt.figure(figsize=(1, 1)); plt.plot([0, i + {v}]); plt.show()"
    )
    return {
        "alpha": [f"print('alpha v{version}')", plot.format(n=FIGURES + 5 * version, v=version)],
        "beta": [plot.format(n=FIGURES - 5 * version, v=version * 10), f"print('beta v{version}')"],
        "gamma": [f"print('gamma v{version}' * {version + 1})"],
    }


def build(blog: Path, *args: str) -> list[str]:
    return build_command(blog, *args)


def masked(markdown: bytes) -> bytes:
    """Return a generated post with its execution time masked: --force rounds re-execute."""
    return without_execution_time(markdown.decode("utf-8")).encode("utf-8")


def stamps(blog: Path) -> dict[Path, int]:
    """Return {path: mtime in ns} of every file in the output folders."""
    found = {}
    for folder in (blog / "site_src" / "posts", blog / "assets" / "images"):
        for path in folder.rglob("*"):
            try:
                found[path] = path.stat().st_mtime_ns
            except FileNotFoundError:  # replaced or removed while we looked
                continue
    return found


def wait_for_first_write(blog: Path, proc: subprocess.Popen[bytes]) -> float:
    """Wait until the build changes the output folders (or ends); return when, in monotonic s."""
    before = stamps(blog)
    while proc.poll() is None and stamps(blog) == before:
        time.sleep(0.002)
    return time.monotonic()


def assert_whole(blog: Path, versions: dict[str, set[bytes]], figures: dict[str, set[bytes]]) -> None:
    """Assert every published post is one produced version with all its figures, whole."""
    posts = blog / "site_src" / "posts"
    for path in posts.iterdir():
        if path.name.startswith("."):
            assert path.name.startswith((TMP_PREFIX, JOURNAL_PREFIX)), path  # MkDocs skips dot-files
            continue
        text = path.read_bytes()
        assert masked(text) in versions[path.stem], f"{path.name} is torn"
        for link in re.findall(rb"\]\((\.\./assets/images/[^)]+)\)", text):
            figure = (blog / "site_src" / "posts" / link.decode()).resolve()
            assert figure.is_file(), f"{path.name} links a missing {link.decode()}"
            assert figure.read_bytes() in figures[figure.name], f"{figure} is torn"
    for folder in (blog / "assets" / "images").iterdir():
        for path in folder.iterdir() if folder.is_dir() else []:
            assert path.name.startswith(TMP_PREFIX) or path.read_bytes() in figures[path.name], path


def what_mkdocs_reads(blog: Path) -> frozenset[tuple[str, bytes]]:
    """Return the published state a kill left, as MkDocs reads it: each post (its execution time
    masked) and figure by path, and of a temporary or journal file only its folder and kind."""
    state = set()
    for folder in (blog / "site_src" / "posts", blog / "assets" / "images"):
        for path in folder.rglob("*"):
            rel = path.relative_to(blog).as_posix()
            if path.name.startswith((TMP_PREFIX, JOURNAL_PREFIX)):
                kind = TMP_PREFIX if path.name.startswith(TMP_PREFIX) else JOURNAL_PREFIX
                state.add((f"{path.parent.relative_to(blog).as_posix()}/{kind}*", b""))
            elif path.is_file():
                state.add((rel, masked(path.read_bytes()) if rel.endswith(".md") else path.read_bytes()))
    return frozenset(state)


@pytest.mark.slow
def test_sigkill_at_random_moments_never_tears_a_post(blog: Path, add_post: Callable[..., Path]) -> None:
    def write(version: int) -> None:
        for slug, cells in sources(version).items():
            add_post(slug, *cells)

    versions: dict[str, set[bytes]] = {}
    figures: dict[str, set[bytes]] = {}
    durations = []
    for version in (1, 2):
        write(version)
        start = time.monotonic()
        done = subprocess.run(build(blog), capture_output=True, text=True, timeout=600)
        assert done.returncode == 0, done.stderr
        for rel, data in published(blog).items():
            target = (
                versions.setdefault(Path(rel).stem, set())
                if rel.startswith("site_src")
                else (figures.setdefault(Path(rel).name, set()))
            )
            target.add(masked(data) if rel.startswith("site_src") else data)
    # Every version is now in the cache: a build renders and writes without kernels.
    writing = []
    for version in (1, 2):
        write(version)
        start = time.monotonic()
        proc = subprocess.Popen(build(blog), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        first_write = wait_for_first_write(blog, proc)
        assert proc.wait(timeout=600) == 0
        durations.append(time.monotonic() - start)
        writing.append(time.monotonic() - first_write)
        assert {k: masked(v) for k, v in published(blog).items() if k.startswith("site_src")} == {
            f"site_src/posts/{slug}.md": next(iter(d for d in versions[slug] if f"v{version}".encode() in d))
            for slug in versions
        }
    span = max(durations) * 1.2
    write_span = max(writing) * 1.2

    rng = random.Random(SEED)
    mixed = 0
    built: set[frozenset[tuple[str, bytes]]] = set()
    for round_number in range(ROUNDS):
        # Always the version alpha does not show now, so every build has posts to rewrite.
        shown = (blog / "site_src" / "posts" / "alpha.md").read_bytes()
        write(2 if b"alpha v1" in shown else 1)
        # Every fourth round re-executes, so kills also land while kernels run.
        args = ("--force",) if round_number % 4 == 3 else ()
        proc = subprocess.Popen(build(blog, *args), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if round_number % 2:
            # Any moment of the build...
            time.sleep(rng.uniform(0.0, span * (3 if args else 1)))
        else:
            # ...or, half of the time, a moment while it writes: the window that matters most.
            wait_for_first_write(blog, proc)
            time.sleep(rng.uniform(0.0, write_span))
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=HANG)
        kill_orphan_kernels(blog)
        assert_whole(blog, versions, figures)
        posts = [(blog / "site_src" / "posts" / f"{s}.md").read_bytes() for s in versions]
        mixed += len({b"v1" in text for text in posts}) > 1
        # MkDocs sees only what the kill left (posts, figures, dot-files it skips): a state
        # already built strict once is not built again.
        state = what_mkdocs_reads(blog)
        if state not in built:
            built.add(state)
            site = mkdocs(blog, "build", "--strict", "-q")
            assert site.returncode == 0, f"round {round_number}: {site.stderr}"
    print(
        f"{ROUNDS} kills (writes take about {write_span / 1.2:.2f} s of {span / 1.2:.2f} s), "
        f"{mixed} left the blog between versions, {len(built)} states built strict, each post still whole"
    )

    # A build after the kills completes and clears what they left.
    final = subprocess.run(build(blog), capture_output=True, text=True, timeout=600)
    assert final.returncode == 0, final.stderr
    leftovers = [*(blog / "site_src").rglob(".nbpress-*"), *(blog / "assets").rglob(".nbpress-*")]
    assert not leftovers
    assert_whole(blog, versions, figures)


WRITER = """
import sys
from pathlib import Path
from nbpress.atomic import atomic_write
target = Path(sys.argv[1])
payloads = [bytes([65 + i]) * 8_000_000 for i in range(2)]
atomic_write(target, payloads[0])
print("ready", flush=True)
i = 1
while True:
    atomic_write(target, payloads[i % 2])
    i += 1
"""


@pytest.mark.slow
def test_sigkill_during_atomic_write_leaves_old_or_new_file(tmp_path: Path) -> None:
    """Large files rewritten in a loop and killed at random moments are never half-written."""
    target = tmp_path / "post.md"
    rng = random.Random(SEED)
    for _ in range(10):
        proc = subprocess.Popen([sys.executable, "-c", WRITER, str(target)], stdout=subprocess.PIPE, cwd=REPO)
        assert proc.stdout is not None and proc.stdout.readline() == b"ready\n"
        time.sleep(rng.uniform(0.0, 0.3))
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=HANG)
        data = target.read_bytes()
        assert data in (b"A" * 8_000_000, b"B" * 8_000_000), "a torn file"
        assert all(p == target or p.name.startswith(TMP_PREFIX) for p in tmp_path.iterdir())


def test_a_build_removes_the_temporary_files_a_kill_left_anywhere_in_the_published_trees(blog: Path) -> None:
    # Where a killed build's atomic writes can leave a temporary file: beside the execution
    # report page (the case a list of the build's folders once missed), a post, a figure, a
    # download, a series page, and any folder of site_src/ or assets/ a later writer may use.
    # (A blog with no post: recovery runs first in every build.)
    planted = [
        "site_src/execution/.nbpress-tmp-report",
        "site_src/posts/.nbpress-tmp-post",
        "site_src/series/.nbpress-tmp-series",
        "site_src/.nbpress-tmp-top",
        "site_src/stylesheets/.nbpress-tmp-deep",
        "assets/images/note/.nbpress-tmp-figure",
        "assets/notebooks/note/sub/.nbpress-tmp-download",
        "assets/.nbpress-tmp-top",
    ]
    for rel in planted:
        (blog / rel).parent.mkdir(parents=True, exist_ok=True)
        (blog / rel).write_text("half")
    proc = subprocess.run(build_command(blog), capture_output=True, text=True, timeout=HANG)
    assert proc.returncode == 0, proc.stderr
    left = [
        p.relative_to(blog).as_posix()
        for tree in ("site_src", "assets")
        for p in (blog / tree).rglob(TMP_PREFIX + "*")
    ]
    assert left == []
