"""The notebook as the render path sees it: nbpress's metadata keys and the figure MIME types.

Every `nbpress_*` key a transform step writes into cell or output metadata is named here
once; the template reads them by these names (`resources.nbpress.key`, see `template_keys`).
"""

from __future__ import annotations

from typing import Any, Final, TypeAlias

# An nbformat NotebookNode (v4), as nbformat reads it and nbclient executes it.
Notebook: TypeAlias = Any

# The output types that become figure files (output_<cell>_<n>.<ext>).
FIGURE_TYPES: Final = ("image/png", "image/jpeg", "image/svg+xml")


class Key:
    """The metadata keys nbpress sets on cells and outputs while it renders a post."""

    # cell metadata
    REMOVE: Final = "nbpress_remove"  # a hidden cell: kept (figure numbers hold), not shown
    OPTION_LINES: Final = "nbpress_option_lines"  # leading lines of flags and options, not shown
    OPEN: Final = "nbpress_open"  # the collapsible parts shown open: "input"
    FOLD_INPUT: Final = "nbpress_fold_input"  # "open" or "closed": the code in a ??? block
    FOLD_OUTPUT: Final = "nbpress_fold_output"  # "closed": the outputs in a ??? block
    MORE: Final = "nbpress_more"  # the blog excerpt ends before this cell
    TABLE: Final = "nbpress_table"  # {id, caption} of a numbered table
    # output metadata
    FIGURE: Final = "nbpress_figure"  # {lazy, width, height, id, caption} of a figure
    ALT: Final = "nbpress_alt"  # a figure's alt text
    CHART: Final = "nbpress_chart"  # {html, static} of a chart's embed
    WIDGET_STATE: Final = "nbpress_widget_state"  # the saved models a widget view reaches


def template_keys() -> dict[str, str]:
    """Return {name: key} of every Key, as the template reads them (`resources.nbpress.key.remove`)."""
    return {name.lower(): value for name, value in vars(Key).items() if name.isupper()}


def note(text: str) -> Any:
    """Return a stream output carrying an nbpress note, shown in the post like printed text."""
    from nbformat.v4 import new_output

    return new_output("stream", name="stdout", text=f"[nbpress: {text}]\n")
