"""Issue 9, sections 3 and 4: one build at a time, and builds always end.

Real builds in subprocesses, real kernels, real signals: two builds at once, a build
killed while it holds the lock, megabyte lines, SIGTERM at busy moments, and processes a
cell starts in a session of their own.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import psutil
import pytest
from hypothesis import given
from hypothesis import strategies as st

from nbpress.execution.capture import MAX_TEXT_CHARS, truncate
from nbpress.execution.execute import StreamText
from nbpress.publishing.lock import build_lock, holder, lock_path
from tests.helpers import (
    HANG,
    build_cli,
    build_command,
    kernels_of,
    kill_orphan_kernels,
    patched_build_command,
    running,
    wait_for_kernels,
    wait_until,
)

PLOT = (
    "import matplotlib\nmatplotlib.use('module://matplotlib_inline.backend_inline')\n"
    "import matplotlib.pyplot as plt\n"
    "for i in range({n}):\n    plt.figure(figsize=(1, 1)); plt.plot([0, i + {v}]); plt.show()"
)


def linked_figures_exist(blog: Path) -> list[str]:
    """Return the figure links of every published post that lead to no file."""
    missing = []
    for md in (blog / "site_src" / "posts").glob("*.md"):
        for link in re.findall(r"\]\((\.\./assets/images/[^)]+)\)", md.read_text(encoding="utf-8")):
            if not (blog / "site_src" / "posts" / link).resolve().is_file():
                missing.append(f"{md.name}: {link}")
    return missing


# ---- section 3: one build at a time ---------------------------------------------------------

# A first cell that runs until the test creates posts/go, however long the machine takes (a
# build that never waited, and ran this cell itself, ends it only after the deadline for a hang).
UNTIL_GO = (
    "import os, time\nend = time.monotonic() + 120\n"
    "while not os.path.exists('go') and time.monotonic() < end: time.sleep(0.05)"
)


@pytest.mark.slow
def test_two_builds_at_once_take_turns_and_tear_nothing(blog: Path, add_post: Callable[..., Path]) -> None:
    """The attack that tore posts: two builds of different versions at once, several rounds."""
    go = blog / "posts" / "go"  # alpha's first cell runs until the second build waits
    for version in (1, 2, 3):
        go.unlink(missing_ok=True)
        add_post("alpha", UNTIL_GO, PLOT.format(n=12 + version, v=version))
        add_post("beta", PLOT.format(n=15 - version, v=10 * version))
        first = subprocess.Popen(build_command(blog, "--force"), stderr=subprocess.PIPE, text=True)
        wait_for_kernels(psutil.Process(first.pid), 1)
        second = subprocess.Popen(build_command(blog), stderr=subprocess.PIPE, text=True)
        assert second.stderr is not None
        said = [second.stderr.readline()]
        while said[-1] and not said[-1].startswith("waiting for"):  # until it waits, or ends
            said.append(second.stderr.readline())
        go.touch()
        _, err_first = first.communicate(timeout=HANG)
        _, rest = second.communicate(timeout=HANG)
        err_second = "".join(said) + rest
        assert first.returncode == 0, err_first
        assert second.returncode == 0, err_second
        waits = [line for line in err_second.splitlines() if line.startswith("waiting for")]
        assert waits == [
            f"waiting for the build with PID {first.pid} to finish (it holds .nbpress-cache/build.lock); "
            "one build at a time writes a blog."
        ]
        assert "waiting" not in err_first
        assert not linked_figures_exist(blog)
        # The second build saw the first's finished posts: nothing left to do.
        assert not list((blog / "site_src" / "posts").glob(".nbpress-*"))
        check = build_cli(blog, "--check")
        assert check.returncode == 0, check.stderr


@pytest.mark.slow
def test_a_killed_builds_lock_is_taken_over(blog: Path, add_post: Callable[..., Path]) -> None:
    add_post("slow", "import time; time.sleep(60)")
    proc = subprocess.Popen(build_command(blog), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_for_kernels(psutil.Process(proc.pid), 1)
    assert holder(lock_path(blog)) == proc.pid
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=HANG)
    kill_orphan_kernels(blog)
    add_post("slow", "print('quick now')")
    done = build_cli(blog)
    assert done.returncode == 0, done.stderr
    assert "waiting" not in done.stderr
    assert "quick now" in (blog / "site_src" / "posts" / "slow.md").read_text(encoding="utf-8")


@pytest.mark.slow
def test_watch_takes_the_lock_for_each_rebuild_only(blog: Path, add_post: Callable[..., Path]) -> None:
    add_post("watched", "print('one')")
    md = blog / "site_src" / "posts" / "watched.md"
    with build_lock(blog):
        proc = subprocess.Popen(
            build_command(blog, "--watch"), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        assert proc.stdout is not None
        line = proc.stdout.readline()
        # The watch's first build waits for this test, which holds the lock.
        assert line.startswith(f"waiting for the build with PID {os.getpid()} to finish")
        time.sleep(2)
        assert not md.exists()
    try:
        end = time.monotonic() + HANG
        while "watching posts/" not in proc.stdout.readline():
            assert time.monotonic() < end and proc.poll() is None
        assert "one" in md.read_text(encoding="utf-8")
        # Between rebuilds the watch holds nothing: a plain build runs at once. Nothing is
        # edited, so the watcher has nothing to rebuild that could hold the lock meanwhile.
        done = build_cli(blog)
        assert done.returncode == 0 and "waiting" not in done.stderr, done.stderr
        assert "1 posts: 1 unchanged" in done.stdout, done.stdout
    finally:
        proc.send_signal(signal.SIGINT)
        proc.communicate(timeout=HANG)
    assert proc.returncode == 0


def test_sigterm_ends_a_build_waiting_for_the_lock(blog: Path, add_post: Callable[..., Path]) -> None:
    add_post("post", "print(1)")
    with build_lock(blog):
        proc = subprocess.Popen(
            build_command(blog), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        assert proc.stderr is not None
        assert proc.stderr.readline().startswith("waiting for the build with PID ")
        proc.send_signal(signal.SIGTERM)
        _out, err = proc.communicate(timeout=HANG)
        # It ended at all: the lock is never freed here, so it did not wait for it.
    assert proc.returncode == 130 and "interrupted:" in err and "Traceback" not in err
    assert not (blog / "site_src" / "posts" / "post.md").exists()


@pytest.mark.slow
def test_a_post_missing_a_figure_is_published_again(blog: Path, add_post: Callable[..., Path]) -> None:
    add_post("plots", PLOT.format(n=3, v=0))
    assert build_cli(blog).returncode == 0
    figure = blog / "assets" / "images" / "plots" / "output_1_1.png"
    whole = figure.read_bytes()
    figure.unlink()  # as a torn build left it
    check = build_cli(blog, "--check")
    assert check.returncode == 1 and "output_1_1.png is missing" in check.stderr
    again = build_cli(blog)
    assert again.returncode == 0, again.stderr
    assert re.search(
        r"^cached .*posts/plots\.ipynb \(a published figure is missing\)$", again.stdout, re.M
    ), again.stdout
    assert figure.read_bytes() == whole
    assert build_cli(blog, "--check").returncode == 0


# ---- section 4: builds always end -----------------------------------------------------------


def reference(chunks: list[str]) -> str:
    """Return what nbclient's coalescing made of a stream's chunks, then outputs.truncate."""
    text = re.sub(r".*\r(?=[^\n])", "", "".join(chunks))
    return truncate(text)


@given(st.lists(st.text(alphabet="ab\r\n\b", max_size=40), max_size=30))
def test_stream_text_matches_nbclient_coalescing(chunks: list[str]) -> None:
    stream = StreamText(40)
    for chunk in chunks:
        stream.add(chunk)
    expected = re.sub(r".*\r(?=[^\n])", "", "".join(chunks))
    result = stream.text(10)
    if len(expected) <= 40:
        assert result == expected
    else:
        # Past the cap, cut like outputs.truncate cuts (with a 10-character limit).
        assert result.startswith(expected[:5]) and result.endswith(" more characters not shown]\n")


@pytest.mark.parametrize("size", [150_000, 3_000_000])
def test_stream_text_cuts_long_text_as_outputs_truncate_does(size: int) -> None:
    chunks = [f"line {i} " + "x" * (i % 300) + ("\r" if i % 7 == 0 else "\n") for i in range(size // 150)]
    chunks += ["y" * size, "\rz\n"]
    stream = StreamText(2 * MAX_TEXT_CHARS)
    for chunk in chunks:
        stream.add(chunk)
    # limit_outputs truncates every text after execution; what is cut before must not change that.
    assert truncate(stream.text(MAX_TEXT_CHARS)) == reference(chunks)


def run_both_ways(
    blog: Path, add_post: Callable[..., Path], *cells: str
) -> tuple[list[object], list[object]]:
    """Return the outputs of the post's cells from nbpress's execution and from nbclient's own coalescing."""
    import nbformat
    from nbclient import NotebookClient

    from nbpress.execution.execute import execute_all
    from nbpress.sources.posts import read_post

    path = add_post("same", *cells)
    post = read_post(path, blog)
    [ours] = execute_all([post], blog / "posts", jobs=1)
    assert ours.notebook is not None, ours.error
    theirs = nbformat.read(path, as_version=4)
    NotebookClient(
        theirs, coalesce_streams=True, resources={"metadata": {"path": str(blog / "posts")}}
    ).execute()
    return [c.outputs for c in ours.notebook.cells[1:]], [c.outputs for c in theirs.cells[1:]]


@pytest.mark.slow
def test_streams_come_out_as_nbclient_coalesced_them(blog: Path, add_post: Callable[..., Path]) -> None:
    """Keras-style progress (backspaces, carriage returns, many flushed pieces), interleaved streams,
    figures between pieces and cleared output give the outputs nbclient's coalescing gave."""
    progress = (
        "import sys, time\n"
        "for epoch in range(3):\n"
        "    width = 0\n"
        "    for step in range(1, 21):\n"
        "        line = f'{step}/20 ' + '━' * step + f' - loss: {1 / step:.4f}'\n"
        "        sys.stdout.write('\\b' * width + '\\r' + line); sys.stdout.flush(); width = len(line)\n"
        "    sys.stdout.write('\\n'); sys.stdout.flush()\n"
        "    print('epoch', epoch, file=sys.stderr, flush=True)\n"
    )
    mixed = (
        "import sys\nfrom IPython.display import display, Markdown, clear_output\n"
        "print('a', flush=True); display(Markdown('*m*')); print('b', flush=True)\n"
        "print('err', file=sys.stderr, flush=True); print('out', flush=True)\n"
    )
    cleared = (
        "from IPython.display import clear_output\n"
        "print('gone', flush=True); clear_output(); print('kept', flush=True)\n"
        "print('gone too', flush=True); clear_output(wait=True); print('last', flush=True)"
    )
    ours, theirs = run_both_ways(blog, add_post, progress, mixed, PLOT.format(n=2, v=1), cleared)
    assert ours == theirs
    assert "20/20" in str(ours[0])


@pytest.mark.slow
def test_megabyte_lines_end_the_build_in_seconds(blog: Path, add_post: Callable[..., Path]) -> None:
    """A few 1 MB lines kept the build busy for 14 minutes after the kernel was idle."""
    add_post("huge", "for _ in range(4): print('x' * 1_000_000)", "print('\\r'.join(['y' * 200_000] * 10))")
    add_post("fine", "print('fine')")
    start = time.monotonic()
    done = build_cli(blog)
    took = time.monotonic() - start
    assert done.returncode == 0, done.stderr
    assert took < 60, f"the build took {took:.0f} s"
    md = (blog / "site_src" / "posts" / "huge.md").read_text(encoding="utf-8")
    # The note counts what the whole text had, as when nbclient coalesced it all first.
    note = truncate(("x" * 1_000_000 + "\n") * 4).splitlines()[-1]
    assert note.startswith("[nbpress: output truncated, 3,900,0")
    assert note in [line.strip() for line in md.splitlines()]
    # Carriage returns applied before the cut: one 200,000-character line is left, not ten.
    assert truncate("y" * 200_000 + "\n").splitlines()[-1] in [line.strip() for line in md.splitlines()]


@pytest.mark.slow
@pytest.mark.parametrize("delay", [0.0, 1.5, 3.0])
def test_sigterm_ends_a_busy_build_and_its_kernels(
    blog: Path, add_post: Callable[..., Path], delay: float
) -> None:
    """SIGTERM while kernels stream megabytes, figures are rendered and posts are published."""
    for i in range(3):
        add_post(
            f"busy{i}",
            "for _ in range(20): print('x' * 1_000_000, flush=True)",
            PLOT.format(n=40, v=i),
            f"import time; time.sleep({2 * HANG:.0f})",  # past the deadline: never waited for
        )
    proc = subprocess.Popen(
        build_command(blog),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        kernels = wait_for_kernels(psutil.Process(proc.pid), 1)
        time.sleep(delay)
        kernels = kernels_of(psutil.Process(proc.pid)) or kernels
        proc.send_signal(signal.SIGTERM)
        # It ends before its cells could: the build stopped the kernels, it did not wait for them.
        # How fast (the 5 s target) is measured in bench/bench.py ("SIGTERM to exit"), not here.
        _out, err = proc.communicate(timeout=HANG)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, err
    assert "Traceback" not in err
    _gone, alive = psutil.wait_procs(kernels, timeout=5)
    assert not alive


# Runs build.py with the first kernel's start followed by a wait that swallows a
# KeyboardInterrupt, as a library's bare `except:`, a `__del__` or a weakref callback does
# when the signal's exception is raised inside it.
SWALLOWING = """
import pathlib, time
import nbpress.pipeline as pipeline
started, marker = pipeline._Run.started, pathlib.Path({marker!r})
def swallowing(self, post):
    started(self, post)
    marker.touch()
    try:
        time.sleep(60)
    except KeyboardInterrupt:
        pass
pipeline._Run.started = swallowing
"""


@pytest.mark.slow
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_a_stop_whose_keyboardinterrupt_was_swallowed_still_ends_the_build(
    blog: Path, add_post: Callable[..., Path], sig: signal.Signals
) -> None:
    """The signal's flag is checked where the build waits: a lost exception loses no stop."""
    add_post("sleepy", f"import time; time.sleep({2 * HANG:.0f})")  # past the deadline
    marker = blog.parent / "swallowing"
    command = patched_build_command(blog, SWALLOWING.format(marker=str(marker)))
    with running(command) as proc:
        wait_until(marker.exists, "the build's first kernel starting", running=proc)
        kernels = wait_for_kernels(psutil.Process(proc.pid), 1)
        proc.send_signal(sig)
        _out, err = proc.communicate(timeout=HANG)
    assert proc.returncode == 130, err
    assert "interrupted:" in err
    _gone, alive = psutil.wait_procs(kernels, timeout=5)
    assert not alive


CHILD = (
    "import subprocess\n"
    "child = subprocess.Popen(['sleep', '300'], start_new_session=True)\n"
    "open('child.pid', 'a').write(f'{child.pid}\\n')"
)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("last_cell", "front", "status"),
    [
        ("print('done')", "", 0),  # the post ends normally
        ("import time; time.sleep(120)", "timeout: 3\n", 1),  # the cell times out
        ("import os, time; time.sleep(1.5); os._exit(1)", "", 1),  # the kernel dies
    ],
)
def test_processes_a_cell_starts_end_with_the_post(
    blog: Path, add_post: Callable[..., Path], last_cell: str, front: str, status: int
) -> None:
    add_post("spawns", CHILD, last_cell, front=front)
    done = build_cli(blog)
    assert done.returncode == status, done.stderr
    [pid] = [int(line) for line in (blog / "posts" / "child.pid").read_text().split()]
    try:
        proc = psutil.Process(pid)
        proc.wait(timeout=5)
    except psutil.NoSuchProcess:
        pass
    assert not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE, (
        f"process {pid} outlived its post"
    )
