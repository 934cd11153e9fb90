"""Real-kernel execution: success, expected errors, unexpected errors, timeouts."""

from __future__ import annotations

import socket
from collections.abc import Callable
from pathlib import Path

import pytest

from nbpress.errors import CellTimeoutError, ExecutionError, KernelDiedError
from nbpress.execution.execute import execute_all
from nbpress.sources.posts import read_post


def run(blog: Path, path: Path) -> tuple[object, object]:
    post = read_post(path, blog)
    [outcome] = execute_all([post], blog / "posts", jobs=1)
    return outcome.notebook, outcome.error


@pytest.mark.slow
def test_success_records_outputs_and_runs_in_posts_dir(blog: Path, add_post: Callable[..., Path]) -> None:
    (blog / "posts" / "data.txt").write_text("42\n")
    path = add_post("ok", "print(open('data.txt').read().strip())", "6 * 7")
    nb, error = run(blog, path)
    assert error is None
    cells = nb.cells  # type: ignore[attr-defined]
    assert cells[1].outputs[0].text == "42\n"
    assert cells[2].outputs[0].data["text/plain"] == "42"


@pytest.mark.slow
def test_raises_exception_tag_lets_the_error_show(blog: Path, add_post: Callable[..., Path]) -> None:
    path = add_post("expected", "batches", "print('after')", tags={0: ["raises-exception"]})
    nb, error = run(blog, path)
    assert error is None
    cells = nb.cells  # type: ignore[attr-defined]
    assert cells[1].outputs[0].ename == "NameError"
    assert cells[2].outputs[0].text == "after\n"


def test_unexpected_error_names_post_and_cell(blog: Path, add_post: Callable[..., Path]) -> None:
    path = add_post("broken", "x = 1", "raise ValueError('bad value here')")
    _, error = run(blog, path)
    assert isinstance(error, ExecutionError)
    # Cell 3 counting from 1: the front matter cell, x = 1, then the failing one.
    assert str(error).startswith("posts/broken.ipynb, cell 3: ValueError: bad value here")
    assert "\n" not in str(error)
    assert "bad value here" in error.traceback


@pytest.mark.slow
def test_timeout_stops_the_cell(blog: Path, add_post: Callable[..., Path]) -> None:
    path = add_post("slow", "import time; time.sleep(60)", front="timeout: 2\n")
    _, error = run(blog, path)
    assert isinstance(error, CellTimeoutError)
    assert "posts/slow.ipynb, cell 2" in str(error) and "2 s" in str(error)


@pytest.mark.slow
def test_kernel_death_is_reported(blog: Path, add_post: Callable[..., Path]) -> None:
    path = add_post("dies", "import os; os._exit(1)")
    _, error = run(blog, path)
    assert isinstance(error, KernelDiedError)
    assert "posts/dies.ipynb, cell 2" in str(error)


@pytest.mark.slow
@pytest.mark.parametrize("jobs", [1, 2])
def test_several_posts_each_get_their_own_kernel(
    blog: Path, add_post: Callable[..., Path], jobs: int
) -> None:
    paths = [add_post(f"p{i}", "import os; os.getpid()") for i in range(3)]
    posts = [read_post(p, blog) for p in paths]
    outcomes = execute_all(posts, blog / "posts", jobs=jobs)
    assert [o.post.file_slug for o in outcomes] == ["p0", "p1", "p2"]
    pids = {o.notebook.cells[1].outputs[0].get("data", {})["text/plain"] for o in outcomes if o.notebook}
    assert len(pids) == 3


@pytest.mark.slow
def test_a_kernel_whose_port_was_taken_starts_again(
    blog: Path, add_post: Callable[..., Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another process takes a port jupyter_client picked: that kernel dies at start, a second runs."""
    from jupyter_client.connect import LocalPortCache

    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen()
    handed: list[int] = []
    original = LocalPortCache.find_available_port

    def find_available_port(self: LocalPortCache, ip: str) -> int:
        port = taken.getsockname()[1] if not handed else original(self, ip)
        handed.append(port)
        return port

    monkeypatch.setattr(LocalPortCache, "find_available_port", find_available_port)
    path = add_post("ok", "print('ran')")
    with taken:
        nb, error = run(blog, path)
    assert error is None, error
    assert nb.cells[1].outputs[0].text == "ran\n"  # type: ignore[attr-defined]
    # Five ports a kernel: the first start died on the taken one, the second ran the post.
    assert len(handed) == 10, handed


@pytest.mark.slow
def test_a_finished_post_holds_its_slot_until_its_outcome_was_looked_at(
    blog: Path, add_post: Callable[..., Path]
) -> None:
    """A post's successor runs no cell before the caller has handled the post's outcome.

    Otherwise the build's look at the guarded tree when a post ends would see what the
    successor wrote meanwhile, blame the post that ended and publish the one that wrote.
    """
    import time

    mark = blog / "posts" / "ran.txt"
    first = add_post("a1", "1")
    second = add_post("a2", "import time\nopen('ran.txt', 'w').write(repr(time.time()))")
    handled: list[float] = []

    def on_done(outcome: object) -> None:
        if not handled:
            time.sleep(4)  # a slow render of the first post, on the caller's thread
            handled.append(time.time())

    outcomes = execute_all(
        [read_post(first, blog), read_post(second, blog)], blog / "posts", 1, on_done=on_done
    )
    assert [o.error for o in outcomes] == [None, None]
    assert float(mark.read_text()) > handled[0], "the second post ran while the first was being handled"


@pytest.mark.slow
def test_a_kernel_starts_whatever_locks_the_builds_other_threads_hold(
    blog: Path, add_post: Callable[..., Path]
) -> None:
    """No Python runs in the build's child between fork and exec (reaper.launch_command).

    A `preexec_fn` makes Popen run every `os.register_at_fork` handler, each taking its
    library's lock (logging's, concurrent.futures'), then Python code in the child: a lock
    another thread holds at that moment stalls the kernels' event loop, every cell's timeout
    with it. Here a library's fork lock is held for the whole run of a post.
    """
    import os
    import threading

    fork_lock = threading.Lock()  # what a library registers, as concurrent.futures does
    os.register_at_fork(
        before=fork_lock.acquire, after_in_parent=fork_lock.release, after_in_child=fork_lock._at_fork_reinit
    )
    held, done = threading.Event(), threading.Event()

    def hold() -> None:
        with fork_lock:
            held.set()
            done.wait(120)

    holder = threading.Thread(target=hold, daemon=True)
    holder.start()
    held.wait()
    try:
        outcomes = execute_all([read_post(add_post("a", "print('ran')"), blog)], blog / "posts", 1)
        finished_while_held = holder.is_alive()
    finally:
        done.set()
        holder.join()
    assert outcomes[0].error is None, outcomes[0].error
    assert finished_while_held, "the kernel started only once the other thread let its lock go"


# The kernels' event loop blocked for good a few seconds into the run (as a call that never
# returns would block it), and a silence limit of 5 s instead of 60.
STUCK_LOOP = """
import asyncio, time
import nbpress.execution.execute as execute
execute.LOOP_SILENCE = 5.0
async def stuck(client):
    await asyncio.sleep(3)
    time.sleep(3600)
execute._watch_tree = stuck
"""


@pytest.mark.slow
def test_a_stuck_event_loop_fails_the_build_in_one_line_and_kills_its_kernels(
    blog: Path, add_post: Callable[..., Path]
) -> None:
    """The second layer behind the cells' timeouts, which run on that loop."""
    import psutil

    from tests.helpers import HANG, kernels_of, patched_build_command, running, wait_for_kernels

    add_post("stuck", f"import time; time.sleep({2 * HANG:.0f})")  # past the deadline
    with running(patched_build_command(blog, STUCK_LOOP)) as proc:
        kernels = wait_for_kernels(psutil.Process(proc.pid), 1)
        _out, err = proc.communicate(timeout=HANG)
    assert proc.returncode == 2, err
    assert err.strip().splitlines()[-1] == (
        "error: the kernels' event loop has not answered for 5 s while posts/stuck.ipynb ran, so every "
        "kernel was killed; build again, and report it with the output of python -X faulthandler "
        "build.py -j 1 if it recurs"
    )
    assert "Traceback" not in err
    _gone, alive = psutil.wait_procs(kernels, timeout=5)
    assert not alive
    assert not kernels_of(psutil.Process())


@pytest.mark.slow
def test_a_build_stopped_and_resumed_is_not_taken_for_a_stuck_one(
    blog: Path, add_post: Callable[..., Path]
) -> None:
    """Ctrl-Z, then fg: the loop was stopped too, so its silence counts from the resumption.

    Which thread runs first after SIGCONT is the scheduler's choice, so this guards the whole
    path (a resumed build ends well) more than the reset rule itself (execute._Silence).
    """
    import signal
    import time

    import psutil

    from tests.helpers import HANG, patched_build_command, running, wait_for_kernels

    add_post("slow", "import time; time.sleep(4); print('done')")
    short_silence = "import nbpress.execution.execute as execute\nexecute.LOOP_SILENCE = 3.0\n"
    with running(patched_build_command(blog, short_silence)) as proc:
        wait_for_kernels(psutil.Process(proc.pid), 1)
        proc.send_signal(signal.SIGSTOP)
        time.sleep(8)  # longer than the limit
        proc.send_signal(signal.SIGCONT)
        out, err = proc.communicate(timeout=HANG)
    assert proc.returncode == 0, err
    assert "executed" in out
