"""Run notebooks in fresh Jupyter kernels with nbclient, several at once."""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import copy
import dataclasses
import functools
import os
import queue
import re
import signal
import tempfile
import threading
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, NoReturn, Protocol

from .. import interrupt
from ..errors import (
    BuildInterrupted,
    CellTimeoutError,
    ExecutionError,
    ExecutionStalled,
    KernelDiedError,
    NbpressError,
    one_post,
)
from ..notebook import Cell, Notebook, Output
from ..sources import Post
from . import backends, inline, reaper

if TYPE_CHECKING:
    import psutil
    from nbclient.exceptions import CellExecutionError
    from nbformat import NotebookNode

# Variables every kernel gets: stable hashing, and no debugger chatter on stderr.
KERNEL_ENV = {"PYTHONHASHSEED": "0", "PYDEVD_DISABLE_FILE_VALIDATION": "1"}


@dataclass(frozen=True)
class Executed:
    """The outcome of running one post: its executed notebook or its error, and seconds taken."""

    post: Post
    notebook: Notebook | None  # None when `error` is set
    error: NbpressError | None
    seconds: float
    # Hands the post's kernel slot to the next post (see _run_all); execute_all calls it once
    # its caller has handled the outcome, and a caller may call it earlier.
    release: Callable[[], None] = lambda: None


def _last_line(text: str) -> str:
    """Return the last non-blank line of `text`, stripped ("" if there is none)."""
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return lines[-1].strip() if lines else ""


class StreamText:
    """The text of one output stream of a cell, coalesced as it arrives, in linear time.

    Matches what nbclient's `coalesce_streams` produced (its regex drops each line's text
    up to its last carriage return that has a character after it), but line by line as
    chunks arrive: nbclient's regex is quadratic in a line's length and ran on the kernels'
    event loop after the cell, outside its timeout. Only the first `cap` characters are
    kept (an unfinished line keeps its head and its last character); the rest is counted,
    so a 1 GB print costs no more memory than a short one.
    """

    def __init__(self, cap: int) -> None:
        self.cap = cap
        self.kept: list[str] = []  # the text of finished lines, at most `cap` characters
        self.kept_len = 0
        self.total = 0  # characters of finished lines, kept or not
        self.line: list[str] = []  # the unfinished line, raw
        self.line_len = 0
        # Characters cut from the unfinished line after its first `cap` (none is a carriage
        # return: each cut happens right after the carriage returns were applied).
        self.line_dropped = 0

    def add(self, text: str) -> None:
        """Append a chunk of the stream."""
        parts = text.split("\n")
        for part in parts[:-1]:
            self._extend(part)
            self._finish_line("\n")
        self._extend(parts[-1])

    def _extend(self, part: str) -> None:
        if not part:
            return
        self.line.append(part)
        self.line_len += len(part)
        if "\r" in part or self.line_len > 2 * self.cap:
            self._compact()

    def _compact(self) -> None:
        """Apply the line's carriage returns so far, and cut its middle when it is too long."""
        line = "".join(self.line)
        cut = line.rfind("\r", 0, len(line) - 1)
        if cut >= 0:
            # Everything before it is overwritten, including what was dropped (it came before).
            line = line[cut + 1 :]
            self.line_dropped = 0
        if len(line) > self.cap + 1:
            # Keep the head (what a reader sees) and the last character (a trailing \r only
            # takes effect once another character follows).
            self.line_dropped += len(line) - self.cap - 1
            line = line[: self.cap] + line[-1]
        self.line = [line]
        self.line_len = len(line)

    def _finish_line(self, end: str) -> None:
        line = "".join(self.line)
        cut = line.rfind("\r", 0, len(line) - 1)
        dropped = self.line_dropped
        if cut >= 0:
            line, dropped = line[cut + 1 :], 0
        line += end
        room = self.cap - self.kept_len
        if room > 0:
            # The kept head lies before any dropped characters, so it is the real text.
            piece = line[: min(room, self.cap)]
            self.kept.append(piece)
            self.kept_len += len(piece)
        self.total += len(line) + dropped
        self.line, self.line_len, self.line_dropped = [], 0, 0

    def text(self, limit: int) -> str:
        """Return the coalesced text; past `limit` + a note's room, cut as capture.truncate cuts it."""
        if self.line:
            self._finish_line("")
        text = "".join(self.kept)
        if self.total <= self.kept_len:
            return text
        head = text[:limit]
        cut = head.rfind("\n")
        head = head[: cut + 1] if cut > limit // 2 else head + "\n"
        return head + f"[nbpress: output truncated, {self.total - len(head):,} more characters not shown]\n"


def _swap_stderr_before_stdout(outputs: list[Output]) -> None:
    """Put a stdout stream before a stderr one right after it, as nbclient's coalescing did.

    The two arrive asynchronously; a fixed order keeps outputs (and figure numbers) stable.
    """
    for i, output in enumerate(outputs):
        following: Output = outputs[i + 1] if i + 1 < len(outputs) else {}
        if (
            output.get("output_type") == following.get("output_type") == "stream"
            and output.get("name") == "stderr"
            and following.get("name") == "stdout"
        ):
            outputs.insert(i, outputs.pop(i + 1))


class _Tree:
    """The processes a kernel started, remembered while it runs, so none outlives the post.

    A child started with start_new_session=True leaves the kernel's process group, and one
    whose kernel died is reparented: neither is reached by killing the kernel. Its
    descendants are listed every half second and at each cell boundary; `end` kills those
    still running (psutil checks each one is the same process, not a reused PID).
    """

    def __init__(self) -> None:
        self.kernel: psutil.Process | None = None  # the kernel, once it runs
        self.seen: dict[int, psutil.Process] = {}

    def note(self, pid: int | None) -> None:
        """Remember the descendants of the kernel process `pid` (when known)."""
        import psutil

        try:
            if pid is not None and (self.kernel is None or self.kernel.pid != pid):
                self.kernel = psutil.Process(pid)
            # is_running() also compares start times: a reused PID is not the kernel.
            if self.kernel is None or not self.kernel.is_running():
                return  # the kernel is gone: what it left was noted before
            children = self.kernel.children(recursive=True)
        except psutil.Error:
            return
        for child in children:
            self.seen.setdefault(child.pid, child)

    def end(self) -> None:
        """Kill every remembered descendant that still runs."""
        import psutil

        from .reaper import reap

        alive = [p for p in self.seen.values() if p.is_running()]
        for proc in alive:
            with contextlib.suppress(psutil.Error):  # ended meanwhile
                proc.kill()
        reap(alive)  # those whose kernel is gone are now the build's children (reaper.py)
        self.seen.clear()


def _kernel_pid(client: object) -> int | None:
    """Return the PID of the client's kernel process, or None before it starts or after it ends."""
    km = getattr(client, "km", None)
    process = getattr(getattr(km, "provisioner", None), "process", None)
    pid = getattr(process, "pid", None)
    return pid if isinstance(pid, int) else None


class _Client(Protocol):
    """What nbpress uses of its NotebookClient (the class _client_class returns)."""

    tree: _Tree
    values: dict[int, dict[str, dict[str, Any]]]  # inline expressions' results, by Markdown cell index
    _cleanup_kernel: Callable[[], None]

    async def async_execute(self, reset_kc: bool = False, **kwargs: Any) -> NotebookNode: ...


@functools.cache
def _client_class() -> Callable[..., _Client]:
    """Return nbclient's NotebookClient with streams coalesced linearly as they arrive.

    Made on first use: importing nbclient costs a second a no-op build does not pay.
    """
    from jupyter_client.manager import AsyncKernelManager
    from nbclient import NotebookClient

    from .capture import MAX_TEXT_CHARS
    from .channels import SlicedClient

    class Manager(AsyncKernelManager):
        """Starts each kernel through reaper's launcher: it dies with the build, even by SIGKILL.

        Its clients wait for messages in slices (channels.py), so none is missed for long.
        """

        def __init__(self, **kwargs: Any) -> None:  # traitlets options
            super().__init__(**kwargs)
            self.client_factory = SlicedClient

        def format_kernel_cmd(self, extra_arguments: list[str] | None = None) -> list[str]:
            """Return the kernel's command, run by the launcher (reaper.launch_command)."""
            return reaper.launch_command(super().format_kernel_cmd(extra_arguments))

    class Client(NotebookClient):
        """Coalesces each cell's streams on arrival, one output per stream name as nbclient did.

        nbclient's hooks (on_cell_start, on_cell_executed) start and finish each cell's streams
        and note the kernel's processes; `output` and `clear_output` are overridden because no
        hook sees each output message as it arrives, and `_async_cleanup_kernel` because no hook
        runs between the last cell and the kernel's shutdown (on_notebook_complete runs after it),
        when the kernel's processes can still be listed.
        """

        def __init__(
            self, nb: NotebookNode, on_cell_start: Callable[[Any, int], None] | None = None, **kwargs: Any
        ) -> None:  # traitlets options
            super().__init__(
                nb,
                coalesce_streams=False,
                kernel_manager_class=Manager,
                on_cell_start=self._cell_starts,
                on_cell_executed=self._cell_executed,
                **kwargs,
            )
            self.before_cell = on_cell_start
            self.streams: dict[str, tuple[NotebookNode, StreamText]] = {}
            self.tree = _Tree()
            self.values: dict[int, dict[str, dict[str, Any]]] = {}

        async def async_execute_cell(
            self,
            cell: NotebookNode,
            cell_index: int,
            execution_count: int | None = None,
            store_history: bool = True,
        ) -> NotebookNode:
            """Run a code cell as nbclient does; evaluate a Markdown cell's inline expressions.

            At the Markdown cell's place in the run, so a value sees the code above it and
            nothing below (inline.py keeps the results).
            """
            cell = await super().async_execute_cell(cell, cell_index, execution_count, store_history)
            if cell.cell_type == "markdown":
                expressions = inline.expressions(cell.source)
                if expressions:
                    self.values[cell_index] = await self._evaluate(cell, expressions)
            return cell

        async def _evaluate(self, cell: NotebookNode, expressions: list[str]) -> dict[str, dict[str, Any]]:
            """Return {expression: {data, metadata} or {error}}: the protocol's user_expressions.

            Sent with silent empty code, so the kernel's history, execution count and outputs
            are untouched. An expression that raised keeps its error ("Name: message"): the
            values step fails the post if its prose shows that value (inline.py).
            """
            from nbclient.util import ensure_async

            from .capture import truncate

            assert self.kc is not None
            asked = {str(n): expr for n, expr in enumerate(expressions)}
            msg_id = await ensure_async(
                self.kc.execute("", silent=True, store_history=False, user_expressions=asked)
            )
            reply = await self.async_wait_for_reply(msg_id, cell)
            answers = (reply or {}).get("content", {}).get("user_expressions") or {}
            results: dict[str, dict[str, Any]] = {}
            for key, expr in asked.items():
                answer = answers.get(key)
                answer = answer if isinstance(answer, dict) else {}
                if answer.get("status") != "ok":
                    name, value = str(answer.get("ename") or ""), _last_line(str(answer.get("evalue") or ""))
                    results[expr] = {"error": f"{name}: {value}" if name else "the kernel gave no value"}
                    continue
                data = {
                    mime: truncate(value) if isinstance(value, str) and mime.startswith("text/") else value
                    for mime, value in dict(answer.get("data") or {}).items()
                }
                results[expr] = {"data": data, "metadata": dict(answer.get("metadata") or {})}
            return results

        def _cell_starts(self, cell: NotebookNode, cell_index: int) -> None:
            self.streams = {}
            self.tree.note(_kernel_pid(self))
            if self.before_cell is not None:
                self.before_cell(cell, cell_index)

        def _cell_executed(self, cell: NotebookNode, cell_index: int, execute_reply: object) -> None:
            # Before nbclient checks the reply for an error: a failing cell's streams are whole too.
            for output, text in self.streams.values():
                output["text"] = text.text(MAX_TEXT_CHARS)
            self.streams = {}
            if cell.get("outputs"):
                _swap_stderr_before_stdout(cell.outputs)
            self.tree.note(_kernel_pid(self))

        def output(
            self, outs: list[NotebookNode], msg: dict[str, Any], display_id: str | None, cell_index: int
        ) -> NotebookNode | None:
            parent = msg["parent_header"].get("msg_id")
            if self.output_hook_stack[parent]:
                return super().output(outs, msg, display_id, cell_index)  # a widget's own output
            if self.clear_before_next_output:
                self.streams = {}  # nbclient empties the outputs now: the streams start again
            if msg["msg_type"] != "stream":
                return super().output(outs, msg, display_id, cell_index)
            name = str(msg["content"].get("name", "stdout"))
            chunk = str(msg["content"].get("text", ""))
            if name in self.streams:
                self.streams[name][1].add(chunk)
                return None
            empty = {**msg, "content": {**msg["content"], "text": ""}}
            out = super().output(outs, empty, display_id, cell_index)
            if out is None:
                return None
            text = StreamText(2 * MAX_TEXT_CHARS)
            text.add(chunk)
            self.streams[name] = (out, text)
            return out

        def clear_output(self, outs: list[NotebookNode], msg: dict[str, Any], cell_index: int) -> None:
            super().clear_output(outs, msg, cell_index)
            # An immediate clear empties the outputs: the streams start again.
            self.streams = {k: v for k, v in self.streams.items() if any(o is v[0] for o in outs)}

        async def _async_cleanup_kernel(self) -> None:
            self.tree.note(_kernel_pid(self))
            await super()._async_cleanup_kernel()

    return Client


class _Stop:
    """Shared by the executions of one build: set when Ctrl-C or SIGTERM arrives."""

    def __init__(self) -> None:
        self.requested = False
        self.clients: set[_Client] = set()
        self.handovers: set[asyncio.Event] = set()  # finished posts waiting for their release

    async def stop(self) -> None:
        """Refuse new cells and kill every running kernel process.

        Only the process is killed (rather than tasks cancelled or the kernel shut down):
        nbclient then takes its own dead-kernel path and cleans up once, without racing a
        second shutdown of the same kernel. What the kernel started is noted first, so it
        is ended too.
        """
        self.requested = True
        for handed in list(self.handovers):  # no successor starts once a stop is requested
            handed.set()
        for client in list(self.clients):
            client.tree.note(_kernel_pid(client))
            km = getattr(client, "km", None)
            if km is not None and km.has_kernel:
                with contextlib.suppress(Exception):  # already gone: nothing to kill
                    await km.signal_kernel(signal.SIGKILL)


async def _watch_tree(client: _Client) -> None:
    """Note the kernel's descendants every half second until cancelled."""
    while True:
        client.tree.note(_kernel_pid(client))
        await asyncio.sleep(0.5)


# A kernel binds the ports jupyter_client picked for it (bound, then closed) a moment
# earlier; another process (a second build, a test run beside this one) can take one of them
# in between, and the kernel dies at start with ZMQError "Address already in use". Such a
# start is tried again with fresh ports; it ran no cell, so nothing runs twice.
START_ATTEMPTS = 3
# How long the kernels' event loop may run one step without returning before the build
# gives up on it (execute_all): far beyond any step's work, far below a CI job's limit.
LOOP_SILENCE = 60.0
PORT_TAKEN = "Address already in use"


class _PortTaken(Exception):
    """The kernel died at start because one of its ports was taken; `error` if not tried again."""

    def __init__(self, error: ExecutionError) -> None:
        super().__init__(str(error))
        self.error = error


async def execute_post(post: Post, cwd: Path, stop: _Stop | None = None) -> Notebook:
    """Return a copy of the post's notebook executed in a fresh kernel in `cwd`.

    Raises ExecutionError (or a subclass) naming the post and the 1-based cell number.
    Every process the kernel started has ended when it returns. A kernel that died at
    start because another process took one of its ports is started again (START_ATTEMPTS
    in all).
    """
    backends.check_kernel(post)
    attempt = 1
    while True:
        try:
            return await _execute_once(post, cwd, stop)
        except _PortTaken as taken:
            if attempt >= START_ATTEMPTS or (stop is not None and stop.requested):
                raise taken.error from None
            attempt += 1


async def _execute_once(post: Post, cwd: Path, stop: _Stop | None) -> Notebook:
    """Run the post once in a new kernel (execute_post's body, one kernel start)."""
    nb = copy.deepcopy(post.notebook)
    originals = backends.make_static(nb)  # interactive matplotlib backends run inline
    current: dict[str, int] = {"cell": -1}

    def on_cell_start(cell: Cell, cell_index: int) -> None:
        if stop is not None and stop.requested:
            # A kernel that finished starting after the stop: run nothing more in it.
            raise BuildInterrupted("the build was interrupted.")
        current["cell"] = cell_index

    client = _client_class()(
        nb,
        timeout=post.front_matter.timeout,
        kernel_name=post.front_matter.kernel,
        resources={"metadata": {"path": str(cwd)}},
        record_timing=False,  # timestamps would make every build differ
        # Off unless the post asks; cells tagged raises-exception are allowed by nbclient anyway.
        allow_errors=post.front_matter.allow_errors,
        on_cell_start=on_cell_start,
        shutdown_kernel="immediate",  # a finished or failed kernel has nothing left to save
    )
    mark = reaper.token(post.file_slug)
    env = {**os.environ, **KERNEL_ENV, **backends.KERNEL_ENV, reaper.TOKEN_VAR: mark}
    if stop is not None:
        stop.clients.add(client)
    watcher = asyncio.ensure_future(_watch_tree(client))
    # The kernel process's own stdout and stderr (C++ library logs, raw fd writes) go to a file,
    # not the terminal or the build's output;
    # its tail explains a crash.
    with tempfile.TemporaryFile() as log:
        try:
            await _run(client, env, log, post, current)
        finally:
            watcher.cancel()
            client.tree.note(_kernel_pid(client))
            await _kill_leftover_kernel(client)
            await asyncio.to_thread(client.tree.end)
            # What double-forked away from the kernel was reparented to the build: ended too.
            others = {_kernel_pid(c) for c in (stop.clients if stop is not None else ()) if c is not client}
            await asyncio.to_thread(reaper.end_orphans, {mark}, {p for p in others if p is not None})
            # nbclient registers an atexit cleanup per client and leaves it registered when a
            # kernel dies while starting; at exit it would then fail on the gone kernel.
            atexit.unregister(client._cleanup_kernel)
            if stop is not None:
                stop.clients.discard(client)
    backends.restore(nb, originals)
    try:
        inline.attach(nb, client.values)
    except ValueError:
        index = min(client.values)
        raise ExecutionError(
            post.rel_path,
            index + 1,
            f"the inline expression `{next(iter(client.values[index]))}` has no code cell to keep its value",
            "add a code cell to the post",
        ) from None
    return nb


async def _kill_leftover_kernel(client: _Client) -> None:
    """Stop the client's kernel if it still runs (nbclient lets a cancelled start through)."""
    km = getattr(client, "km", None)
    if km is None or not km.has_kernel:
        return
    with contextlib.suppress(Exception):  # already gone: nothing else to stop
        await km.shutdown_kernel(now=True)


async def _run(
    client: _Client, env: dict[str, str], log: IO[bytes], post: Post, current: dict[str, int]
) -> None:
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
            # An old notebook fails one error at a time: name the switch that shows them all.
            "fix the cell, tag it raises-exception if the error is the point, "
            "or set allow_errors: true in the front matter to publish every cell's error",
            traceback=str(err),
            name=str(err.ename),
            value=str(err.evalue),
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
        error = ExecutionError(
            post.rel_path,
            cell,
            f"the kernel could not run the notebook ({type(err).__name__}: {_last_line(str(err))})",
            f"check that the kernel {post.front_matter.kernel!r} is installed",
            traceback=_tail(log),
        )
        if current["cell"] < 0 and PORT_TAKEN in error.traceback:
            raise _PortTaken(error) from None  # died binding its ports: execute_post starts another
        raise error from None


def _exception_line(err: CellExecutionError) -> str:
    """Return "Name: message" of a cell's exception.

    An exception raised while IPython displays a result (a failing _repr_html_) reaches nbclient
    as "NoneType: None"; the real one is the last line of the traceback it printed.
    """
    if err.ename not in ("NoneType", "") and str(err.evalue) != "None":
        return f"{err.ename}: {_last_line(str(err.evalue)) or err.ename}"
    from ..terminal import strip_ansi

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
    events: queue.Queue[Post | Executed | None],
    stop: _Stop,
) -> None:
    gate = asyncio.Semaphore(max(1, jobs))

    async def one(post: Post) -> None:
        async with gate:
            if stop.requested:
                return
            events.put(post)
            start = time.perf_counter()
            try:
                with one_post(post.rel_path, "running it"):  # whatever fails, fails this post alone
                    nb = await execute_post(post, cwd, stop)
                result = Executed(post, nb, None, time.perf_counter() - start)
            except BuildInterrupted:
                return  # raised only once a stop was requested: nothing to report
            except NbpressError as err:
                result = Executed(post, None, err, time.perf_counter() - start)
            if stop.requested:
                return
            # The slot goes to the next post only once the caller has looked at this one's
            # outcome (its release): what the guarded tree shows when a post ends was then
            # written by it or by posts the caller knows are running, never by a successor.
            handed = asyncio.Event()
            stop.handovers.add(handed)
            loop = asyncio.get_running_loop()
            events.put(dataclasses.replace(result, release=functools.partial(_set_from_thread, loop, handed)))
            await handed.wait()
            stop.handovers.discard(handed)

    tasks: list[Awaitable[None]] = [one(p) for p in posts]
    await asyncio.gather(*tasks)


def _set_from_thread(loop: asyncio.AbstractEventLoop, event: asyncio.Event) -> None:
    """Set `event` of `loop` from another thread; nothing if the loop has closed (nothing waits)."""
    with contextlib.suppress(RuntimeError):
        loop.call_soon_threadsafe(event.set)


class _Worker(threading.Thread):
    """Runs the kernels' event loop off the main thread; hands each outcome over a queue.

    The loop does nothing but talk to kernels: rendering, provenance and publishing run on
    the main thread (execute_all's caller), so a slow post never stalls the other kernels'
    messages or timeouts. The main thread keeps Python's own SIGINT/SIGTERM handling:
    nbclient installs its per-client loop signal handlers (which replace each other when
    several kernels run) only on the main thread, so here nbpress alone decides how a build
    stops.
    """

    def __init__(self, posts: Sequence[Post], cwd: Path, jobs: int) -> None:
        super().__init__(name="nbpress-kernels", daemon=True)
        self.stopper = _Stop()
        # A post whose kernel starts, the outcome of one, then None once every kernel is down.
        self.events: queue.Queue[Post | Executed | None] = queue.Queue()
        self._args = (posts, cwd, jobs)
        self.loop: asyncio.AbstractEventLoop | None = None
        self.ready = threading.Event()
        self.finished = threading.Event()
        self.error: BaseException | None = None
        self.beat = time.monotonic()  # when the loop last ran its heartbeat (_Silence)
        self.abandoned = False  # the loop stalled: its thread is left behind, never waited for

    def run(self) -> None:
        async def main() -> None:
            self.loop = asyncio.get_running_loop()
            self.ready.set()
            heart = asyncio.ensure_future(self._heartbeat())
            try:
                await _run_all(*self._args, self.events, self.stopper)
            finally:
                heart.cancel()

        try:
            asyncio.run(main())
        except BaseException as err:  # handed to the main thread, which re-raises it
            self.error = err
        finally:
            self.ready.set()
            self.finished.set()
            self.events.put(None)

    async def _heartbeat(self) -> None:
        while True:
            self.beat = time.monotonic()
            await asyncio.sleep(1.0)

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
    """Return the outcome for each post, in the order of `posts`.

    Up to `jobs` kernels run at once on a worker thread; `on_start` and `on_done` are called
    on the calling thread as each post's kernel starts and finishes, so what they do (render,
    publish) never holds up the kernels. Raises BuildInterrupted when Ctrl-C
    (KeyboardInterrupt, or SIGTERM turned into one) arrives, even inside `on_done`; every
    kernel and every process it started have ended before it raises. Raises ExecutionStalled,
    the kernels killed, if their event loop stops answering for LOOP_SILENCE s.
    """
    if not posts:
        return []
    # Orphans of the posts' processes are reparented to the build, which ends them (reaper.py).
    reaper.become_subreaper()
    reaper.start_watchdog()  # ends them, and the kernels, should the build be killed
    before = reaper.children()  # a server started beside the build is not a post's
    worker = _Worker(posts, cwd, jobs)
    worker.start()
    results: list[Executed] = []
    running: dict[int, Post] = {}  # started, not yet ended: named should the loop stall
    interrupted = ended = False
    silence = _Silence()
    try:
        while True:
            # A timeout, not a bare get(): a signal is then acted on between two waits, even
            # one whose KeyboardInterrupt something swallowed (interrupt.check).
            interrupt.check()
            if silence.exceeded(worker.beat):
                _abandon(worker, before, list(running.values()))
            try:
                item = worker.events.get(timeout=0.2)
            except queue.Empty:
                continue
            if item is None:
                ended = True
                break
            if isinstance(item, Executed):
                running.pop(id(item.post), None)
                results.append(item)
                try:
                    on_done(item)
                finally:
                    item.release()
            else:
                running[id(item)] = item
                on_start(item)
    except KeyboardInterrupt:
        interrupted = True
    finally:
        if not ended:
            # Interrupted, or a callback failed: no kernel may outlive this call.
            worker.stop()
        _wait(worker)
        # Every kernel is down: nothing a post started may outlive the executions.
        reaper.end_orphans(None, keep=before)
    if interrupted or worker.stopper.requested:
        raise BuildInterrupted(
            "the build was interrupted; every kernel was shut down, posts that had finished "
            "were published whole and the others keep their last version."
        )
    if worker.error is not None:
        raise worker.error
    order = {id(post): i for i, post in enumerate(posts)}
    return sorted(results, key=lambda r: order[id(r.post)])


class _Silence:
    """How long the kernels' loop has not beaten while the main thread watched it."""

    def __init__(self) -> None:
        self.watched = self.since = time.monotonic()  # the last look; counted from

    def exceeded(self, beat: float) -> bool:
        """Return True if the last `beat` is over LOOP_SILENCE s old, counted since watching began."""
        now = time.monotonic()
        if now - self.watched > 5.0:
            # This thread was away (rendering a post; the whole build stopped by Ctrl-Z): the
            # loop may not have run either, so its silence counts from now.
            self.since = now
        self.watched = now
        return now - max(beat, self.since) > LOOP_SILENCE


def _abandon(worker: _Worker, keep: set[int], running: list[Post]) -> NoReturn:
    """Kill the kernels of a loop that stopped answering and raise ExecutionStalled.

    The second layer behind every cell's timeout: those run on the loop, so a loop stuck
    in a call that never returns (a lock, a library's hang) would hang the build silently.
    The loop's thread is left where it is (a daemon thread); its kernels die here.
    """
    worker.stopper.requested = worker.abandoned = True
    reaper.end_orphans(None, keep=keep)
    names = ", ".join(post.rel_path for post in running) or "no post"
    raise ExecutionStalled(
        f"the kernels' event loop has not answered for {LOOP_SILENCE:.0f} s while {names} ran, "
        "so every kernel was killed; build again, and report it with the output of "
        "python -X faulthandler build.py -j 1 if it recurs"
    )


def _wait(worker: _Worker) -> None:
    """Wait until the worker's kernels are down; a second Ctrl-C only asks again."""
    # Wait on an Event, not Thread.join: in Python 3.11 a KeyboardInterrupt inside join()
    # can mark a running thread as stopped, and the kernels would be left behind.
    while not worker.finished.is_set() and not worker.abandoned:
        try:
            worker.finished.wait()
        except KeyboardInterrupt:
            worker.stop()
    if not worker.abandoned:
        worker.join()
