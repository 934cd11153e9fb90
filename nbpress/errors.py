"""One exception hierarchy; every message is a sentence a person can act on.

Like nbclient's CellExecutionError, an error carries its facts as fields (the file, the
cell, the exception's name and value) and is formatted in one place, `__str__`, which
the CLI prints: a caller that knows the file sets it (`at`) instead of pasting it in front
of the message.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Self


def cell_place(path: str, cell: int | str) -> str:
    """Return how every message names a cell: "path, cell N" (cells count from 1, as Jupyter shows them)."""
    return f"{path}, cell {cell}"


class NbpressError(Exception):
    """Base class: str(error) is one line naming the file (and cell) and what to do."""

    def __init__(self, message: str, *, path: str | None = None, cell: int | None = None) -> None:
        super().__init__(message)
        self.message = message  # what went wrong and what to do, without the place
        self.path = path  # the file it is about, relative to the blog (None: the message names it)
        self.cell = cell  # the cell, counting every cell from 1 (None: the whole file)

    def at(self, path: str) -> Self:
        """Return this error, placed in the file `path` unless it already names one."""
        if self.path is None:
            self.path = path
        return self

    def __str__(self) -> str:
        """Return the one line: "path, cell N: message"."""
        where = cell_place(self.path, self.cell) if self.path and self.cell is not None else self.path
        line = f"{where}: {self.message}" if where else self.message
        # A message may quote an author's text: one holding a lone surrogate could not be printed.
        return line.encode("utf-8", "backslashreplace").decode("utf-8")


class ConfigError(NbpressError):
    """The blog's layout or options are unusable."""


class SourceError(NbpressError):
    """A source notebook cannot be read, or its front matter is invalid."""


class ExecutionError(NbpressError):
    """A cell failed while the notebook ran."""

    def __init__(
        self,
        path: str,
        cell: int | None,
        summary: str,
        advice: str,
        traceback: str = "",
        name: str = "",
        value: str = "",
    ) -> None:
        super().__init__(f"{summary} ({advice})", path=path, cell=cell)
        self.summary = summary
        self.advice = advice
        self.traceback = traceback
        self.name = name  # the cell's exception class ("ValueError"), when a cell raised
        self.value = value  # its message


class CellTimeoutError(ExecutionError):
    """A cell ran longer than its timeout; the kernel was stopped."""


class KernelDiedError(ExecutionError):
    """The kernel process died while a cell ran."""


class ExecutionStalled(NbpressError):
    """The kernels' event loop stopped answering; its kernels were killed and the build stops."""


class RenderError(NbpressError):
    """An executed notebook could not be turned into Markdown."""


class NotOwnedError(NbpressError):
    """A file a post names (an input, a linked file, an image) is not the blog's own to publish."""


class WriteError(NbpressError):
    """A generated file could not be written, or would land outside the output folders."""


class UnexpectedError(NbpressError):
    """A post's stage raised an exception no stage expected: that post fails, the others build.

    `name` is the exception's class ("RecursionError"); no traceback is kept or printed.
    """

    def __init__(self, message: str, *, path: str | None = None, name: str = "") -> None:
        super().__init__(message, path=path)
        self.name = name


def unexpected(err: Exception, path: str, doing: str) -> UnexpectedError:
    """Return the one-line error of the post `path` for `err`, raised while `doing` ("reading it")."""
    name = type(err).__name__
    if isinstance(err, RecursionError):
        message = (
            f"its data is nested too deeply to finish {doing} ({name}); "
            "a notebook never needs lists or mappings nested hundreds of levels deep: remove that value."
        )
    elif isinstance(err, UnicodeError) and "surrogate" in str(err):
        message = (
            f"it holds a lone surrogate character, which is not text, so {doing} failed ({name}); "
            "remove the character (a stray \\ud800-\\udfff escape)."
        )
    else:
        first = str(err).strip().splitlines()[0][:200] if str(err).strip() else "no message"
        message = (
            f"{doing} failed unexpectedly ({name}: {first}); the other posts still build. "
            "This is a bug in nbpress: please report it with this post."
        )
    return UnexpectedError(message, path=path, name=name)


@contextlib.contextmanager
def one_post(path: str, doing: str) -> Iterator[None]:
    """Turn any exception of the body into the NbpressError of the post `path` alone.

    A stage's own NbpressError passes as it is. Ctrl-C, SIGTERM and SystemExit are not
    Exceptions and pass too; so do BuildInterrupted and MemoryError, which end the whole build.
    """
    try:
        yield
    except (NbpressError, BuildInterrupted, MemoryError):
        raise
    except Exception as err:  # the boundary of one post: whatever it raised, it fails alone
        raise unexpected(err, path, doing) from None


class IsolationError(NbpressError):
    """A post's code changed a file the build guards (nbpress.execution.guard): undone, and the post fails."""


class BuildInterrupted(Exception):
    """Ctrl-C or SIGTERM stopped the build; kernels were shut down, published posts are whole.

    Control flow, not a failure: deliberately outside NbpressError, so no handler of a
    post's errors can take it for one.
    """
