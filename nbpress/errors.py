"""One exception hierarchy; every message is a sentence a person can act on."""

from __future__ import annotations


class NbpressError(Exception):
    """Base class: str(error) is one line naming the file and what to do."""


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
    ) -> None:
        self.path = path
        self.cell = cell
        self.summary = summary
        self.traceback = traceback
        where = f"{path}, cell {cell}" if cell is not None else path
        super().__init__(f"{where}: {summary} ({advice})")


class CellTimeoutError(ExecutionError):
    """A cell ran longer than its timeout; the kernel was stopped."""


class KernelDiedError(ExecutionError):
    """The kernel process died while a cell ran."""


class RenderError(NbpressError):
    """An executed notebook could not be turned into Markdown."""


class WriteError(NbpressError):
    """A generated file could not be written, or would land outside the output folders."""


class BuildInterrupted(Exception):
    """Ctrl-C or SIGTERM stopped the build; kernels were shut down, published posts are whole.

    Control flow, not a failure: deliberately outside NbpressError, so no handler of a
    post's errors can take it for one.
    """
