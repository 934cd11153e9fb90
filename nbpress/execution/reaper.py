"""No process a post's code starts outlives the post, even one that double-forked away.

A cell can start a daemon the classic way (fork, setsid, fork): its intermediate parent
exits, so the daemon leaves the kernel's process tree before anyone lists it, and would
be reparented to init and live on after the build. On Linux the build therefore makes
itself a *child subreaper* (`prctl(PR_SET_CHILD_SUBREAPER)`): every orphan among its
descendants is reparented to the build instead, where `end_orphans` finds it. Each
kernel carries the variable NBPRESS_POST naming its post, which its descendants inherit,
so a post's orphans are ended when that post ends, not when another one does.

Each kernel is also started with `PR_SET_PDEATHSIG` = SIGKILL: when the build dies, even
by SIGKILL (which no handler sees), its kernels die with it. The kernel's command sets it
itself, through a small launcher that then execs the kernel (`launch_command`): no Python
runs in the build's child between fork and exec, where a lock another thread held at the
fork (the build's threads render and import beside the kernels) could hang the child and
the event loop thread waiting for its exec, which is what `preexec_fn` risks. What their cells started is
ended then by the build's *watchdog* (`start_watchdog`): a small process the build starts
once, woken by its own parent-death signal, which ends every process carrying the dead
build's mark. Only a process that both left the build's tree and cleared its environment
escapes that (a PID namespace or cgroup, which need privileges, would be needed).

Elsewhere than Linux these are no-ops; the kernel's process tree is still ended
(nbpress.execution.execute._Tree).
"""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import functools
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Collection
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import psutil

PR_SET_PDEATHSIG = 1
PR_SET_CHILD_SUBREAPER = 36
TOKEN_VAR = "NBPRESS_POST"  # names the post whose kernel a process descends from


@functools.cache
def _prctl() -> Callable[..., int] | None:
    """Return libc's prctl, or None where there is none (not Linux)."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        function: Callable[..., int] = libc.prctl
    except (OSError, AttributeError):
        return None
    return function


def become_subreaper() -> bool:
    """Make this process the reaper of its orphaned descendants (Linux); return whether it is."""
    prctl = _prctl()
    return prctl is not None and prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0


def token(slug: str) -> str:
    """Return the NBPRESS_POST value of a post's kernel in this build: unique to this process."""
    return f"{os.getpid()}:{slug}"


# Run by the child the build starts for a kernel, instead of a `preexec_fn`: sets its
# parent-death signal, then becomes the kernel. A parent already gone before prctl (the
# signal would never come) is caught by comparing the parent's PID.
LAUNCHER = f"""
import ctypes, os, signal, sys
ctypes.CDLL(None, use_errno=True).prctl({PR_SET_PDEATHSIG}, signal.SIGKILL, 0, 0, 0)
if os.getppid() != int(sys.argv[1]):
    os.kill(os.getpid(), signal.SIGKILL)
os.execvp(sys.argv[2], sys.argv[2:])
"""


def launch_command(command: list[str]) -> list[str]:
    """Return `command` made to die with the thread that starts it (Linux; elsewhere `command`).

    (Linux's parent-death signal follows the creating thread: the kernels' event loop runs
    on one thread for the whole of `execute_all`, which ends after every kernel.) The
    launcher is an isolated Python without site (a few milliseconds) that execs `command`,
    so the kernel keeps its PID, its environment and its arguments.
    """
    if _prctl() is None:
        return command
    return [sys.executable, "-I", "-S", "-c", LAUNCHER, str(os.getpid()), *command]


# The watchdog: a small process that outlives the build by an instant. The build's death
# (even SIGKILL) wakes it (its parent-death signal, or its parent's PID changing); it then
# ends every process that carries the build's mark: kernels, and what their cells started.
WATCHDOG = (
    f"PR_SET_PDEATHSIG = {PR_SET_PDEATHSIG}\n"
    + """
import ctypes, os, signal, sys
import psutil
build, variable = int(sys.argv[1]), sys.argv[2]
ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGCHLD, 0, 0, 0)  # wakes the wait
signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGCHLD})
while os.getppid() == build:
    signal.sigtimedwait({signal.SIGCHLD}, 1.0)
mark = f"{build}:"
for _ in range(5):  # again while a pass finds some: one may have forked meanwhile
    found = 0
    for proc in psutil.process_iter():
        try:
            if proc.environ().get(variable, "").startswith(mark):
                proc.kill()
                found += 1
        except psutil.Error:
            pass
    if not found:
        break
"""
)

_watchdog: list[subprocess.Popen[bytes]] = []


def start_watchdog() -> None:
    """Start, once per build process, the watchdog that ends its posts' processes when it dies (Linux).

    Only from the main thread: a parent-death signal follows the thread that started the
    child, and the main thread lives as long as the process.
    """
    if _prctl() is None or threading.current_thread() is not threading.main_thread():
        return
    if _watchdog and _watchdog[0].poll() is None:
        return
    parent = os.getpid()
    # The watchdog sets its own parent-death signal (no preexec_fn: see the module's doc);
    # a build gone before it does is seen by its loop, which compares the parent's PID.
    with contextlib.suppress(OSError):
        _watchdog[:] = [
            subprocess.Popen(
                [sys.executable, "-c", WATCHDOG, str(parent), TOKEN_VAR],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                env={**os.environ, TOKEN_VAR: ""},
            )
        ]
        # A build that exits on its own has ended its posts' processes already (end_orphans):
        # it ends its watchdog too, rather than leave it scanning every process after the exit.
        atexit.register(_stop_watchdog)


def _stop_watchdog() -> None:
    """End the watchdog and wait for it (at a normal exit; a killed build leaves it its work)."""
    for watchdog in _watchdog:
        with contextlib.suppress(OSError, subprocess.TimeoutExpired):
            watchdog.kill()
            watchdog.wait(timeout=5)


def _environ_token(proc: psutil.Process) -> str | None:
    """Return the NBPRESS_POST a process carries ("" if none), or None if it cannot be read."""
    import psutil

    try:
        return proc.environ().get(TOKEN_VAR, "")
    except psutil.Error:
        return None


def children() -> set[int]:
    """Return the PIDs of this process's children now (a server started beside the build)."""
    import psutil

    with contextlib.suppress(psutil.Error):
        return {c.pid for c in psutil.Process().children()}
    return set()


def end_orphans(
    tokens: Collection[str] | None, kernels: Collection[int] = (), keep: Collection[int] = ()
) -> list[int]:
    """End the build's descendants outside the running kernels' trees; return their PIDs.

    Only processes a post's code started are ended: those carrying one of `tokens`; with
    `tokens` None (every kernel is down), every descendant of this build's posts, and also
    those carrying no mark (a process that cleared its environment). The trees of the kernel
    processes `kernels` (posts still running) and of the children `keep` (started before the
    posts ran) are left alone. Zombies among the build's other children are reaped.
    """
    import psutil

    me = psutil.Process()
    try:
        found = me.children()
    except psutil.Error:
        return []
    victims: list[psutil.Process] = []
    for child in found:
        if child.pid in kernels or child.pid in keep:
            continue
        with contextlib.suppress(psutil.Error):
            if child.status() == psutil.STATUS_ZOMBIE:
                with contextlib.suppress(ChildProcessError):
                    os.waitpid(child.pid, os.WNOHANG)
                continue
        for proc in [child, *_descendants(child)]:
            mark = _environ_token(proc)
            if mark is None:
                continue
            ours = mark.startswith(f"{me.pid}:")
            if (ours and (tokens is None or mark in tokens)) or (mark == "" and tokens is None):
                victims.append(proc)
    for proc in victims:
        with contextlib.suppress(psutil.Error):
            proc.kill()
    reap(victims)
    return [p.pid for p in victims]


def reap(victims: list[psutil.Process], timeout: float = 5.0) -> None:
    """Wait until the killed `victims` are gone, reaping those that became this process's children.

    (psutil.wait_procs would poll a zombie reparented to this subreaper until its timeout.)
    """
    import psutil

    pending = list(victims)
    deadline = time.monotonic() + timeout
    while pending and time.monotonic() < deadline:
        left = []
        for proc in pending:
            try:
                pid, _ = os.waitpid(proc.pid, os.WNOHANG)
                if pid == 0:
                    left.append(proc)  # ours, not dead yet
            except ChildProcessError:  # another's child: gone, or a zombie its parent reaps
                with contextlib.suppress(psutil.Error):
                    if proc.is_running() and proc.status() != psutil.STATUS_ZOMBIE:
                        left.append(proc)
        pending = left
        if pending:
            time.sleep(0.02)


def _descendants(proc: psutil.Process) -> list[psutil.Process]:
    import psutil

    try:
        return list(proc.children(recursive=True))
    except psutil.Error:
        return []
