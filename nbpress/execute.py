"""Run notebooks in fresh Jupyter kernels with nbclient, several at once."""

from __future__ import annotations

import asyncio
import copy
import os
import tempfile
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from .errors import CellTimeoutError, ExecutionError, KernelDiedError, NbpressError
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


async def execute_post(post: Post, cwd: Path) -> Any:
    """Return a copy of the post's notebook executed in a fresh kernel in `cwd`.

    Raises ExecutionError (or a subclass) naming the post and the 1-based cell number.
    """
    from nbclient import NotebookClient

    nb = copy.deepcopy(post.notebook)
    current: dict[str, int] = {"cell": -1}

    def on_cell_start(cell: Any, cell_index: int) -> None:
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
    )
    env = {**os.environ, **KERNEL_ENV}
    # The kernel's own stderr (TCP warnings, C++ library logs) goes to a file, not the terminal;
    # its tail explains a crash.
    with tempfile.TemporaryFile() as log:
        await _run(client, env, log, post, current)
    return nb


async def _run(client: Any, env: dict[str, str], log: IO[bytes], post: Post, current: dict[str, int]) -> None:
    """Run the client; translate nbclient's failures into nbpress errors naming the cell."""
    from nbclient.exceptions import CellExecutionError, DeadKernelError
    from nbclient.exceptions import CellTimeoutError as NbTimeout

    cell = current["cell"] + 1 if current["cell"] >= 0 else None
    try:
        await client.async_execute(env=env, stderr=log)
    except CellExecutionError as err:
        cell = current["cell"] + 1
        raise ExecutionError(
            post.rel_path,
            cell,
            f"{err.ename}: {_first_line(str(err.evalue)) or err.ename}",
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
) -> list[Executed]:
    gate = asyncio.Semaphore(max(1, jobs))

    async def one(post: Post) -> Executed:
        async with gate:
            on_start(post)
            start = time.perf_counter()
            try:
                nb = await execute_post(post, cwd)
                result = Executed(post, nb, None, time.perf_counter() - start)
            except NbpressError as err:
                result = Executed(post, None, err, time.perf_counter() - start)
            on_done(result)
            return result

    tasks: list[Awaitable[Executed]] = [one(p) for p in posts]
    return list(await asyncio.gather(*tasks))


def execute_all(
    posts: Sequence[Post],
    cwd: Path,
    jobs: int,
    on_start: Callable[[Post], None] = lambda _: None,
    on_done: Callable[[Executed], None] = lambda _: None,
) -> list[Executed]:
    """Return the outcome for each post, in order, running up to `jobs` kernels at once.

    `on_start` and `on_done` are called as each post's kernel starts and finishes.
    """
    if not posts:
        return []
    return asyncio.run(_run_all(posts, cwd, jobs, on_start, on_done))
