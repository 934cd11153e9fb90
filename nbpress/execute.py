"""Run notebooks in fresh Jupyter kernels with nbclient, several at once."""

from __future__ import annotations

import asyncio
import contextlib
import copy
import os
import re
import signal
import tempfile
import threading
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from . import backends
from .errors import BuildInterrupted, CellTimeoutError, ExecutionError, KernelDiedError, NbpressError
from .posts import Post

# Variables every kernel gets: stable hashing, and no debugger chatter on stderr.
KERNEL_ENV = {"PYTHONHASHSEED": "0", "PYDEVD_DISABLE_FILE_VALIDATION": "1"}


@dataclass(frozen=True)
class Executed:
    """The outcome of running one post: its executed notebook or its error, and seconds taken."""

    post: Post
    notebook: Any | None
    error: NbpressError | None
    seconds: float


def _first_line(text: str) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return lines[-1].strip() if lines else ""


class _Stop:
    """Shared by the executions of one build: set when Ctrl-C or SIGTERM arrives."""

    def __init__(self) -> None:
        self.requested = False
        self.clients: set[Any] = set()

    async def stop(self) -> None:
        """Refuse new cells and kill every running kernel process.

        Only the process is killed (rather than tasks cancelled or the kernel shut down):
        nbclient then takes its own dead-kernel path and cleans up once, without racing a
        second shutdown of the same kernel.
        """
        self.requested = True
        for client in list(self.clients):
            km = getattr(client, "km", None)
            if km is not None and km.has_kernel:
                with contextlib.suppress(Exception):  # already gone: nothing to kill
                    await km.signal_kernel(signal.SIGKILL)


async def execute_post(post: Post, cwd: Path, stop: _Stop | None = None) -> Any:
    """Return a copy of the post's notebook executed in a fresh kernel in `cwd`.

    Raises ExecutionError (or a subclass) naming the post and the 1-based cell number.
    """
    from nbclient import NotebookClient

    backends.check_kernel(post)
    nb = copy.deepcopy(post.notebook)
    originals = backends.make_static(nb)  # interactive matplotlib backends run inline
    current: dict[str, int] = {"cell": -1}

    def on_cell_start(cell: Any, cell_index: int) -> None:
        if stop is not None and stop.requested:
            # A kernel that finished starting after the stop: run nothing more in it.
            raise BuildInterrupted("the build was interrupted.")
        current["cell"] = cell_index

    client = NotebookClient(
        nb,
        timeout=post.front_matter.timeout,
        kernel_name=post.front_matter.kernel,
        resources={"metadata": {"path": str(cwd)}},
        coalesce_streams=True,  # Keras writes progress in pieces; one output per stream keeps figure numbers
        record_timing=False,  # timestamps would make every build differ
        # Off unless the post asks; cells tagged raises-exception are allowed by nbclient anyway.
        allow_errors=post.front_matter.allow_errors,
        on_cell_start=on_cell_start,
        shutdown_kernel="immediate",  # a finished or failed kernel has nothing left to save
    )
    env = {**os.environ, **KERNEL_ENV, **backends.KERNEL_ENV}
    if stop is not None:
        stop.clients.add(client)
    # The kernel process's own stdout and stderr (C++ library logs, raw fd writes) go to a file,
    # not the terminal or the build's output;
    # its tail explains a crash.
    with tempfile.TemporaryFile() as log:
        try:
            await _run(client, env, log, post, current)
        finally:
            await _kill_leftover_kernel(client)
            if stop is not None:
                stop.clients.discard(client)
    backends.restore(nb, originals)
    return nb


async def _kill_leftover_kernel(client: Any) -> None:
    """Stop the client's kernel if it still runs (nbclient lets a cancelled start through)."""
    km = getattr(client, "km", None)
    if km is None or not km.has_kernel:
        return
    with contextlib.suppress(Exception):  # already gone: nothing else to stop
        await km.shutdown_kernel(now=True)


async def _run(client: Any, env: dict[str, str], log: IO[bytes], post: Post, current: dict[str, int]) -> None:
    """Run the client; translate nbclient's failures into nbpress errors naming the cell."""
    from nbclient.exceptions import CellExecutionError, DeadKernelError
    from nbclient.exceptions import CellTimeoutError as NbTimeout

    cell = current["cell"] + 1 if current["cell"] >= 0 else None
    try:
        await client.async_execute(env=env, stdout=log, stderr=log)
    except BuildInterrupted:
        raise
    except CellExecutionError as err:
        cell = current["cell"] + 1
        raise ExecutionError(
            post.rel_path,
            cell,
            _exception_line(err),
            "fix the cell, or tag it raises-exception if the error is the point",
            traceback=str(err),
        ) from None
    except NbTimeout:
        cell = current["cell"] + 1
        raise CellTimeoutError(
            post.rel_path,
            cell,
            f"the cell ran longer than {post.front_matter.timeout} s and its kernel was stopped",
            "make it faster, or raise timeout: in the front matter",
        ) from None
    except DeadKernelError:
        cell = current["cell"] + 1 if current["cell"] >= 0 else None
        raise KernelDiedError(
            post.rel_path,
            cell,
            "the kernel died while the cell ran (a crash, os._exit or out of memory)",
            "run the notebook in Jupyter to find the crash",
            traceback=_tail(log),
        ) from None
    except Exception as err:  # jupyter_client raises many types while starting a kernel
        raise ExecutionError(
            post.rel_path,
            cell,
            f"the kernel could not run the notebook ({type(err).__name__}: {_first_line(str(err))})",
            f"check that the kernel {post.front_matter.kernel!r} is installed",
            traceback=_tail(log),
        ) from None


def _exception_line(err: Any) -> str:
    """Return "Name: message" of a cell's exception.

    An exception raised while IPython displays a result (a failing _repr_html_) reaches nbclient
    as "NoneType: None"; the real one is the last line of the traceback it printed.
    """
    if err.ename not in ("NoneType", "") and str(err.evalue) != "None":
        return f"{err.ename}: {_first_line(str(err.evalue)) or err.ename}"
    from .outputs import strip_ansi

    for line in reversed(strip_ansi(str(getattr(err, "traceback", ""))).splitlines()):
        if re.match(r"[A-Za-z_][\w.]*: ", line) and not line.startswith("NoneType: None"):
            return f"{line.strip()} (raised while the result was displayed)"
    return "an exception was raised while the result was displayed (see its traceback above)"


def _tail(log: IO[bytes], lines: int = 20) -> str:
    """Return the last lines the kernel process wrote to its stderr."""
    log.seek(0)
    text = log.read().decode("utf-8", "replace")
    return "\n".join(text.splitlines()[-lines:])


async def _run_all(
    posts: Sequence[Post],
    cwd: Path,
    jobs: int,
    on_start: Callable[[Post], None],
    on_done: Callable[[Executed], None],
    stop: _Stop,
) -> list[Executed]:
    gate = asyncio.Semaphore(max(1, jobs))

    async def one(post: Post) -> Executed:
        async with gate:
            on_start(post)
            start = time.perf_counter()
            try:
                if stop.requested:
                    raise BuildInterrupted("the build was interrupted.")
                nb = await execute_post(post, cwd, stop)
                result = Executed(post, nb, None, time.perf_counter() - start)
            except NbpressError as err:
                result = Executed(post, None, err, time.perf_counter() - start)
            if not stop.requested:
                on_done(result)
            return result

    tasks: list[Awaitable[Executed]] = [one(p) for p in posts]
    return list(await asyncio.gather(*tasks))


class _Worker(threading.Thread):
    """Runs the kernels' event loop off the main thread.

    The main thread keeps Python's own SIGINT/SIGTERM handling: nbclient installs its
    per-client loop signal handlers (which replace each other when several kernels run)
    only on the main thread, so here nbpress alone decides how a build stops.
    """

    def __init__(
        self,
        posts: Sequence[Post],
        cwd: Path,
        jobs: int,
        on_start: Callable[[Post], None],
        on_done: Callable[[Executed], None],
    ):
        super().__init__(name="nbpress-kernels", daemon=True)
        self.stopper = _Stop()
        self._args = (posts, cwd, jobs, on_start, on_done)
        self.loop: asyncio.AbstractEventLoop | None = None
        self.ready = threading.Event()
        self.finished = threading.Event()
        self.result: list[Executed] = []
        self.error: BaseException | None = None

    def run(self) -> None:
        async def main() -> list[Executed]:
            self.loop = asyncio.get_running_loop()
            self.ready.set()
            return await _run_all(*self._args, self.stopper)

        try:
            self.result = asyncio.run(main())
        except BaseException as err:  # handed to the main thread, which re-raises it
            self.error = err
        finally:
            self.ready.set()
            self.finished.set()

    def stop(self) -> None:
        """Ask the event loop to kill every kernel and start no more."""
        self.ready.wait()
        if self.loop is not None and not self.loop.is_closed():
            with contextlib.suppress(RuntimeError):  # the loop closed meanwhile: nothing to stop
                asyncio.run_coroutine_threadsafe(self.stopper.stop(), self.loop)


def execute_all(
    posts: Sequence[Post],
    cwd: Path,
    jobs: int,
    on_start: Callable[[Post], None] = lambda _: None,
    on_done: Callable[[Executed], None] = lambda _: None,
) -> list[Executed]:
    """Return the outcome for each post, in order, running up to `jobs` kernels at once.

    `on_start` and `on_done` are called as each post's kernel starts and finishes (on the
    thread that runs the kernels). Raises BuildInterrupted when Ctrl-C (KeyboardInterrupt,
    or SIGTERM turned into one) arrives; every kernel is shut down before it raises.
    """
    if not posts:
        return []
    worker = _Worker(posts, cwd, jobs, on_start, on_done)
    worker.start()
    interrupted = False
    # Wait on an Event, not Thread.join: in Python 3.11 a KeyboardInterrupt inside join()
    # can mark a running thread as stopped, and the kernels would be left behind.
    while not worker.finished.is_set():
        try:
            worker.finished.wait()
        except KeyboardInterrupt:
            # Keep waiting until the kernels are down: leaving now would orphan them.
            interrupted = True
            worker.stop()
    worker.join()
    if interrupted or worker.stopper.requested:
        raise BuildInterrupted(
            "the build was interrupted; every kernel was shut down, posts that had finished "
            "were published whole and the others keep their last version."
        )
    if worker.error is not None:
        raise worker.error
    return worker.result
