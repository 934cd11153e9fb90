"""Ctrl-C and SIGTERM: one handler, and a flag that no swallowed exception can lose.

Python turns a signal into a KeyboardInterrupt raised wherever the main thread happens to
be. Raised inside a `__del__`, a weakref callback or a library's bare `except:`, it is
printed or dropped, and the build would go on as if never asked to stop (its kernels then
run their cells to the end). The handler therefore also sets REQUESTED, and the build's
waits check it (`check`): a stop asked for is acted on at the next check, whatever
swallowed the exception.
"""

from __future__ import annotations

import signal
import threading
from types import FrameType

REQUESTED = threading.Event()  # set once Ctrl-C or SIGTERM arrived; never cleared


def _stop(signum: int, frame: FrameType | None) -> None:
    REQUESTED.set()
    raise KeyboardInterrupt


def install() -> None:
    """Route SIGTERM, and SIGINT unless it is ignored, to `_stop` (on the main thread only)."""
    if threading.current_thread() is not threading.main_thread():
        return
    signal.signal(signal.SIGTERM, _stop)
    # A SIGINT ignored at start (a job started in the background) stays ignored, as Python does.
    if signal.getsignal(signal.SIGINT) is signal.default_int_handler:
        signal.signal(signal.SIGINT, _stop)


def check() -> None:
    """Raise KeyboardInterrupt if Ctrl-C or SIGTERM arrived, even if its exception was swallowed."""
    if REQUESTED.is_set():
        raise KeyboardInterrupt
