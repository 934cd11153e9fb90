"""Ctrl-C and SIGTERM stop a build cleanly: kernels shut down, published posts untouched."""

from __future__ import annotations

import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import psutil
import pytest

from tests.helpers import HANG, build_command, default_sigint, wait_for_kernels


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

    add_post("first", "print('v2')", "import time; time.sleep(120)")
    add_post("second", "import time; time.sleep(120)")
    proc = subprocess.Popen(
        build, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, preexec_fn=default_sigint
    )
    try:
        kernels = wait_for_kernels(psutil.Process(proc.pid), 2)
        time.sleep(1.0)  # let the sleeping cells start
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
