"""One exception hierarchy; every message is a sentence a person can act on.

Like nbclient's CellExecutionError, an error carries its facts as fields (the file, the
cell, the exception's name and value) and is formatted in one place, `__str__`, which
the CLI prints: a caller that knows the file sets it (`at`) instead of pasting it in front
of the message.
"""

from __future__ import annotations

from typing import Self


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
        where = f"{self.path}, cell {self.cell}" if self.path and self.cell is not None else self.path
        return f"{where}: {self.message}" if where else self.message


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


class RenderError(NbpressError):
    """An executed notebook could not be turned into Markdown."""


class WriteError(NbpressError):
    """A generated file could not be written, or would land outside the output folders."""


class IsolationError(NbpressError):
    """A post's code changed a file the build guards (nbpress.guard): undone, and the post fails."""


class BuildInterrupted(Exception):
    """Ctrl-C or SIGTERM stopped the build; kernels were shut down, published posts are whole.

    Control flow, not a failure: deliberately outside NbpressError, so no handler of a
    post's errors can take it for one.
    """
