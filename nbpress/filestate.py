"""Whatever a build derives from a file, it derives once per file state: the one rule of its parse caches.

A build asks about the same files several times (the plan, the series index, the report, the
writer, the guard), and a watch asks again after every save; what is derived from a file (a
source's Post, a generated page's record, whether a .md file is a post) is kept with the
file's state: its device and inode, size, and modified and changed times. `os.replace` makes a
new file, any write moves the change time, which no one sets back. While the state is what it
was, and the file was last written well before it was read (`SETTLED_NS`), what was derived
stands and the file is not read again; a file written just before or since is read again,
and derived again only if its bytes differ (a write within one tick of the file system's
clock keeps the times). The values are shared, never changed by those who ask; they hold
across the builds of one process (`--watch`).
"""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from pathlib import Path
from typing import Generic, TypeVar

T = TypeVar("T")

SETTLED_NS = 2_000_000_000  # a file written this long before it was read cannot change unseen

State = tuple[int, int, int, int, int]


def state(path: Path | str, follow_symlinks: bool = True) -> State | None:
    """Return what changes whenever the file at `path` does (None if it cannot be asked).

    Without `follow_symlinks`, of the entry itself: a link put in a file's place is a new state.
    """
    try:
        return of_stat(os.stat(path, follow_symlinks=follow_symlinks))
    except (OSError, ValueError):
        return None


def of_stat(found: os.stat_result) -> State:
    """Return the state `state` gives, from a stat already made (a listing's `DirEntry.stat()`)."""
    return (found.st_dev, found.st_ino, found.st_size, found.st_mtime_ns, found.st_ctime_ns)


def settled(found: State, at: int) -> bool:
    """Return True if a file in state `found`, read at `at` (time.time_ns()), cannot have changed unseen."""
    return max(found[3:]) < at - SETTLED_NS


def text_of(data: bytes) -> str:
    """Return a text file's bytes as `Path.read_text(encoding="utf-8")` reads them (newlines made \\n).

    Raises UnicodeDecodeError if they are not UTF-8.
    """
    return data.decode("utf-8").replace("\r\n", "\n").replace("\r", "\n")


@dataclass(frozen=True)
class _Known(Generic[T]):
    state: State
    settled: bool  # the file was last written well before it was read (`settled`)
    digest: bytes  # of the bytes read
    context: Hashable  # what else the value was derived from (say, the authors file's mapping)
    value: T


class Derived(Generic[T]):
    """What one function derives from files, kept per path with the state it was derived at.

    `derivations` counts the calls of the function, `reads` the files read: what a test holds
    to the number of files that changed.
    """

    def __init__(self, follow_symlinks: bool = True) -> None:
        self._known: dict[str, _Known[T]] = {}
        self._follow = follow_symlinks
        self.derivations = 0
        self.reads = 0

    def known(self, path: Path | str, context: Hashable = None) -> T | None:
        """Return what was derived from `path` with `context` if the file is as it was then (else None)."""
        key = os.fspath(path)
        known = self._known.get(key)
        if known is None or not known.settled or known.context != context:
            return None
        return known.value if state(key, self._follow) == known.state else None

    def get(self, path: Path | str, derive: Callable[[bytes], T], context: Hashable = None) -> T:
        """Return `derive(the file's bytes)`, derived once per file state and `context`.

        Raises OSError if the file cannot be read (nothing is kept), and whatever `derive`
        raises (nothing is kept either: a file that cannot be derived is tried again).
        """
        key = os.fspath(path)
        found = state(key, self._follow)
        known = self._known.get(key)
        if known is not None and known.settled and known.state == found and known.context == context:
            return known.value
        at = time.time_ns()  # taken before the file is read: a write after this is a later state
        try:
            data = Path(key).read_bytes()
        except OSError:
            self._known.pop(key, None)
            raise
        self.reads += 1
        digest = hashlib.sha256(data).digest()
        if known is not None and known.digest == digest and known.context == context:
            value = known.value
        else:
            self.derivations += 1
            value = derive(data)
        if found is not None:
            self._known[key] = _Known(found, settled(found, at), digest, context, value)
        return value

    def forget(self, path: Path) -> None:
        """Drop what was derived from `path` (a file that is gone)."""
        self._known.pop(os.fspath(path), None)

    def clear(self) -> None:
        """Drop everything (as a new process starts); the counts start again."""
        self._known.clear()
        self.derivations = self.reads = 0
