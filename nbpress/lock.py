"""One build at a time per blog: a lock file held for the whole of each build.

Two builds writing one blog at once tear posts: each settles the other's journal and
deletes its temporary files. So a build takes an exclusive `flock` on
`.nbpress-cache/build.lock` before it touches anything and holds it until it ends; a
second build waits for it, saying once which process it waits for. The operating system
drops the lock when its holder exits however it exits (even SIGKILL), so a lock left by a
dead build is simply taken over: there is no stale lock to clean up by hand.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from .errors import ConfigError
from .layout import Layout

POLL_SECONDS = 0.2


def lock_path(root: Path) -> Path:
    """Return the lock file of the blog at `root` (inside the git-ignored cache folder)."""
    return Layout(root).lock


def holder(path: Path) -> int | None:
    """Return the PID recorded in the lock file `path`, or None if it records none."""
    try:
        text = path.read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError):
        return None
    return int(text) if text.isdigit() else None


@contextlib.contextmanager
def build_lock(root: Path, waiting: Callable[[str], None] = lambda _: None) -> Iterator[None]:
    """Hold the blog's build lock for the body of the `with`; wait while another build holds it.

    `waiting` receives one line (naming the holder's PID) if the lock is busy. Ctrl-C while
    waiting raises KeyboardInterrupt as usual (the wait polls, it never blocks in the kernel).
    """
    path = lock_path(root)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as err:
        raise ConfigError(
            f"the build lock cannot be created ({err.strerror or err}); "
            "fix the folder's permissions, then build again.",
            path=path.relative_to(root).as_posix(),
        ) from None
    try:
        told = False
        since = time.monotonic()
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                pid = holder(path)
                # A holder writes its PID just after taking the lock: give it a moment.
                if not told and (pid or time.monotonic() - since > 1.0):
                    who = f"the build with PID {pid}" if pid else "another build"
                    waiting(
                        f"waiting for {who} to finish (it holds {path.relative_to(root).as_posix()}); "
                        "one build at a time writes a blog."
                    )
                    told = True
                time.sleep(POLL_SECONDS)
        # The PID is only for the message above: the flock itself is what excludes.
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode("ascii"), 0)
        try:
            yield
        finally:
            with contextlib.suppress(OSError):
                os.ftruncate(fd, 0)
    finally:
        os.close(fd)  # closing drops the flock
