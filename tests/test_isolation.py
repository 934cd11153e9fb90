"""Code run by a post stays inside its post (issue 20, part 5).

Cells run with the author's rights, so nothing stops them from writing anywhere; what the
build guarantees is that it never publishes what a cell did behind its back. Real builds
with real kernels: a cell that writes into the published tree, the site's code or the
cache, or deletes or rewrites another post's files, fails its post with one line naming
the post and the file, exit 1, and the published tree is as before. A daemon a cell starts
(a new session, a double fork) ends with its post; a SIGKILLed `--watch` leaves no kernel.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import psutil
import pytest

from tests.helpers import build_cli, build_command

# A process a cell leaves behind writes this long after it started: after the build ended.
LATE = 8.0

DOUBLE_FORK = """
import os, time
pid = os.fork()
if pid == 0:
    os.setsid()
    if os.fork() == 0:
        open({pidfile!r}, 'w').write(str(os.getpid()))
        time.sleep({late})
        open({target!r}, 'w').write('written by a daemon after the build')
        os._exit(0)
    os._exit(0)
os.waitpid(pid, 0)
time.sleep(0.5)
"""

NEW_SESSION = """
import subprocess, sys
code = "import os, time; time.sleep({late}); open({target!r}, 'w').write('written late')"
child = subprocess.Popen([sys.executable, '-c', code], start_new_session=True, env={{}})
open({pidfile!r}, 'w').write(str(child.pid))
"""


def wait_gone(pid: int, seconds: float) -> bool:
    """Return True once `pid` is gone (or a zombie) within `seconds`."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        try:
            if psutil.Process(pid).status() == psutil.STATUS_ZOMBIE:
                return True
        except psutil.NoSuchProcess:
            return True
        time.sleep(0.1)
    return False


@pytest.mark.parametrize("cell", [DOUBLE_FORK, NEW_SESSION], ids=["double-fork", "new-session-no-env"])
def test_a_daemon_a_cell_starts_ends_with_its_post(
    blog: Path, add_post: Callable[..., Path], tmp_path: Path, cell: str
) -> None:
    target = tmp_path / "late.txt"
    pidfile = tmp_path / "daemon.pid"
    add_post("daemon", cell.format(target=str(target), pidfile=str(pidfile), late=LATE), "print('done')")
    done = build_cli(blog)
    assert done.returncode == 0, done.stderr
    pid = int(pidfile.read_text())
    assert wait_gone(pid, 2), f"the daemon {pid} outlived the build"
    time.sleep(LATE + 1)
    assert not target.exists(), "a daemon wrote after the build ended"


# Runs a command under a subreaper, as a desktop session (systemd --user) or a container's
# init does: an orphan is then not reparented to PID 1, so a kernel watching for that (as
# ipykernel does) never notices that its build is gone.
UNDER_SUBREAPER = """
import ctypes, subprocess, sys
ctypes.CDLL(None).prctl(36, 1, 0, 0, 0)
proc = subprocess.Popen(sys.argv[1:])
print(proc.pid, flush=True)
sys.stdin.read()
"""


def test_a_sigkilled_watch_leaves_no_kernel(blog: Path, add_post: Callable[..., Path]) -> None:
    add_post("slow", "import time; time.sleep(600)", front="timeout: 900\n")
    session = subprocess.Popen(
        [sys.executable, "-c", UNDER_SUBREAPER, *build_command(blog, "--watch", jobs=1)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert session.stdout is not None
    try:
        build = psutil.Process(int(session.stdout.readline()))
        end = time.monotonic() + 120
        kernels: list[psutil.Process] = []
        while time.monotonic() < end and not kernels:
            kernels = [c for c in build.children() if "ipykernel" in " ".join(c.cmdline())]
            time.sleep(0.2)
        assert kernels, "the build never started its kernel"
        build.send_signal(signal.SIGKILL)
        time.sleep(5)  # ipykernel's own poller would have acted by now, had its parent become PID 1
        alive = [k for k in kernels if k.is_running() and k.status() != psutil.STATUS_ZOMBIE]
        assert not alive, f"kernels survived the SIGKILL: {[k.pid for k in alive]}"
    finally:
        for proc in psutil.Process(session.pid).children(recursive=True):
            proc.kill()
        session.communicate("", timeout=30)
