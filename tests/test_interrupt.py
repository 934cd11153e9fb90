"""Ctrl-C and SIGTERM stop a build cleanly: kernels shut down, published posts untouched."""

from __future__ import annotations

import signal
import subprocess
from collections.abc import Callable
from pathlib import Path

import psutil
import pytest

from tests.helpers import HANG, build_command, wait_for_kernels, wait_until

SAYS_IT_RUNS = "open('{name}.running', 'w').close()\nimport time; time.sleep(120)"


@pytest.mark.slow
@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_signal_stops_build_and_kernels(
    blog: Path, add_post: Callable[..., Path], signum: signal.Signals
) -> None:
    add_post("first", "print('v1')")
    build = build_command(blog)
    assert subprocess.run(build, capture_output=True, timeout=HANG).returncode == 0
    published = blog / "site_src" / "posts" / "first.md"
    before = published.read_bytes()

    # Each post's last cell says it runs (a file in posts/), then sleeps past the signal.
    add_post("first", "print('v2')", SAYS_IT_RUNS.format(name="first"))
    add_post("second", SAYS_IT_RUNS.format(name="second"))
    proc = subprocess.Popen(build, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        kernels = wait_for_kernels(psutil.Process(proc.pid), 2)
        running = [blog / "posts" / f"{name}.running" for name in ("first", "second")]
        wait_until(lambda: all(p.exists() for p in running), "the sleeping cells start", running=proc)
        proc.send_signal(signum)
        _out, err = proc.communicate(timeout=HANG)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, err
    assert "interrupted:" in err and "Traceback" not in err
    _gone, alive = psutil.wait_procs(kernels, timeout=5)
    assert not alive, f"orphan kernels: {[k.pid for k in alive]}"
    assert published.read_bytes() == before
    assert not (blog / "site_src" / "posts" / "second.md").exists()
