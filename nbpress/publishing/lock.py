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
import errno
import fcntl
import os
import stat
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from ..errors import ConfigError
from ..layout import Layout

POLL_SECONDS = 0.2
PID_WIDTH = 16  # bytes the lock file holds: a PID, spaces, a newline


def lock_path(root: Path) -> Path:
    """Return the lock file of the blog at `root` (inside the git-ignored cache folder)."""
    return Layout(root).lock


def holder(path: Path) -> int | None:
    """Return the PID recorded in the lock file `path`, or None if it records none."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError:
        return None
    try:
        return _recorded_pid(os.pread(fd, PID_WIDTH, 0))
    except OSError:
        return None
    finally:
        os.close(fd)


def _recorded_pid(data: bytes) -> int | None:
    text = data.decode("ascii", "replace").strip()
    return int(text) if text.isdigit() else None


def open_lock(root: Path, path: Path) -> int:
    """Return a descriptor of the lock file `path`, refusing anything but the build's own file.

    The lock is opened without following a link (O_NOFOLLOW), in a cache folder that is no
    link either, and must be a regular file with no other name (a hard link to a post): the
    build writes into it, and must never write into a file someone pointed it at.
    """
    rel = path.relative_to(root).as_posix()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.parent.is_symlink():
            raise ConfigError(
                "the cache folder is a symbolic link; the build writes only into its own folder: "
                "remove the link, then build again.",
                path=path.parent.relative_to(root).as_posix(),
            )
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o644)
    except OSError as err:
        if err.errno == errno.ELOOP:
            raise ConfigError(
                "the build lock is a symbolic link; the build never writes through one: "
                "remove it (it is remade), then build again.",
                path=rel,
            ) from None
        raise ConfigError(
            f"the build lock cannot be created ({err.strerror or err}); "
            "fix the folder's permissions, then build again.",
            path=rel,
        ) from None
    info = os.fstat(fd)
    if not stat.S_ISREG(info.st_mode) or info.st_nlink != 1:
        os.close(fd)
        what = "is not a regular file" if not stat.S_ISREG(info.st_mode) else "has another name (a hard link)"
        raise ConfigError(
            f"the build lock {what}; the build writes only into its own file: "
            "remove it (it is remade), then build again.",
            path=rel,
        )
    return fd


@contextlib.contextmanager
def build_lock(root: Path, waiting: Callable[[str], None] = lambda _: None) -> Iterator[None]:
    """Hold the blog's build lock for the body of the `with`; wait while another build holds it.

    `waiting` receives one line (naming the holder's PID) if the lock is busy. Ctrl-C while
    waiting raises KeyboardInterrupt as usual (the wait polls, it never blocks in the kernel).
    """
    path = lock_path(root)
    fd = open_lock(root, path)
    try:
        told = False
        since = time.monotonic()
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                pid = _recorded_pid(os.pread(fd, PID_WIDTH, 0))  # the file it opened, not the name
                # A holder writes its PID just after taking the lock: give it a moment.
                if not told and (pid or time.monotonic() - since > 1.0):
                    who = f"the build with PID {pid}" if pid else "another build"
                    waiting(
                        f"waiting for {who} to finish (it holds {path.relative_to(root).as_posix()}); "
                        "one build at a time writes a blog."
                    )
                    told = True
                time.sleep(POLL_SECONDS)
        # The PID is only for the message above: the flock itself is what excludes. Written
        # over the same few bytes each time, never truncating (see open_lock).
        os.pwrite(fd, f"{os.getpid()}".ljust(PID_WIDTH - 1).encode("ascii") + b"\n", 0)
        try:
            yield
        finally:
            with contextlib.suppress(OSError):
                os.pwrite(fd, b" " * (PID_WIDTH - 1) + b"\n", 0)
    finally:
        os.close(fd)  # closing drops the flock
