"""The notebook as the render path sees it: nbpress's metadata keys and the figure MIME types.

Every `nbpress_*` key a transform step writes into cell or output metadata is named here
once; the template reads them by these names (`resources.nbpress.key`, see `template_keys`).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any, Final, Protocol, TypedDict


# The typed view of an nbformat NotebookNode (v4). nbformat is untyped: a notebook it reads
# enters nbpress as one of these (sources.posts.Post.written, as read), and everything after is checked.
class Output(TypedDict, total=False):
    """One output of a code cell (nbformat v4), with only the fields nbpress reads or writes."""

    output_type: str  # stream, display_data, execute_result, error
    name: str  # a stream's stdout or stderr
    text: str | list[str]
    data: dict[str, Any]  # {MIME type: value}: text, base64 images, JSON of charts
    metadata: dict[str, Any]
    execution_count: int | None
    ename: str
    evalue: str
    traceback: list[str]


class Cell(Protocol):
    """One cell: attribute access as NotebookNode gives it, and its dict methods."""

    cell_type: str  # code, markdown, raw
    source: str
    metadata: dict[str, Any]
    outputs: list[Output]  # code cells only; outputs_of() reads any cell

    def get(self, key: str, default: Any = None, /) -> Any: ...
    def __getitem__(self, key: str, /) -> Any: ...
    def __setitem__(self, key: str, value: Any, /) -> None: ...
    def __delitem__(self, key: str, /) -> None: ...
    def __contains__(self, key: object, /) -> bool: ...
    def pop(self, key: str, default: Any = None, /) -> Any: ...
    def setdefault(self, key: str, default: Any = None, /) -> Any: ...


class Notebook(Protocol):
    """A notebook: its cells and metadata, attribute access as NotebookNode gives it."""

    cells: list[Cell]
    metadata: dict[str, Any]
    nbformat: int
    nbformat_minor: int

    def get(self, key: str, default: Any = None, /) -> Any: ...


# The outputs of each code cell, in order: what the build cache keeps of an executed notebook.
CachedOutputs = list[list[Output]]


def give_stable_ids(cells: list[Any], keep: bool) -> None:
    """Give cells `cell-<index>` ids, in place: every cell, or with `keep` those without an id.

    The one rule for cell ids nbpress makes: nbformat and jupytext would invent random ones, so
    everything derived from the notebook (the downloaded copy) would change on every build.
    """
    taken = {cell.get("id") for cell in cells if keep and isinstance(cell, dict)}
    for index, cell in enumerate(cells):
        if not isinstance(cell, dict) or (keep and "id" in cell):
            continue
        new = f"cell-{index}"
        while new in taken:
            new += "-"
        cell["id"] = new
        taken.add(new)


def outputs_of(cell: Cell) -> list[Output]:
    """Return the outputs of a cell: a code cell's list itself, else an empty list."""
    found: list[Output] | None = cell.get("outputs")
    return found if found is not None else []


def code_outputs(notebook: Notebook) -> Iterator[Output]:
    """Yield every output of every code cell, in order."""
    for cell in notebook.cells:
        if cell.cell_type == "code":
            yield from outputs_of(cell)


def text_of(value: str | list[str] | object) -> str:
    """Return a notebook text field as one string (nbformat may keep it as a list of lines)."""
    return "".join(str(v) for v in value) if isinstance(value, list) else str(value)


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
    TITLE: Final = "nbpress_title"  # the cell began with `# <title>`, now the page's h1 (left out)
    # output metadata
    FIGURE: Final = "nbpress_figure"  # {lazy, width, height, id, caption} of a figure
    ALT: Final = "nbpress_alt"  # a figure's alt text
    CHART: Final = "nbpress_chart"  # {html, static} of a chart's embed
    WIDGET_STATE: Final = "nbpress_widget_state"  # the saved models a widget view reaches


# Interactive outputs (nbpress.rendering.charts draws them; nbpress.rendering.outputs leaves them to it).
PLOTLY: Final = "application/vnd.plotly.v1+json"
VEGALITE: Final = tuple(f"application/vnd.vegalite.v{n}+json" for n in (6, 5, 4))
VEGA: Final = tuple(f"application/vnd.vega.v{n}+json" for n in (6, 5))
WIDGET_VIEW: Final = "application/vnd.jupyter.widget-view+json"
WIDGET_STATE: Final = "application/vnd.jupyter.widget-state+json"
BOKEH_EXEC: Final = "application/vnd.bokehjs_exec.v0+json"
BOKEH_LOAD: Final = "application/vnd.bokehjs_load.v0+json"
# What altair's and bokeh's notebook HTML and JavaScript look like; only their data is taken.
_ALTAIR_DIV = re.compile(r'<div id="altair-viz-[0-9a-f]+">')
_BOKEH_TARGET = re.compile(
    r'^\s*<div id="[^"<>]+" data-root-id="[^"<>]+" style="display: contents;"></div>\s*$'
)
_BOKEH_LOADING = re.compile(r'class="bk-notebook-logo"')


def chart_kind(data: Mapping[str, object]) -> str | None:
    """Return which chart an output's data is ("plotly", "vega-lite", ...), or None.

    "bokeh-load" and "bokeh-target" are bokeh's loader and its empty target div: dropped,
    since the site brings its own BokehJS and its own element.
    """
    if PLOTLY in data:
        return "plotly"
    if any(m in data for m in VEGALITE):
        return "vega-lite"
    if any(m in data for m in VEGA):
        return "vega"
    if WIDGET_VIEW in data:
        return "widget"
    if BOKEH_EXEC in data:
        return "bokeh"
    if BOKEH_LOAD in data:
        return "bokeh-load"
    page = text_of(data.get("text/html", ""))
    if _ALTAIR_DIV.search(page) and "vegaEmbed(" in page:
        return "altair-html"
    if _BOKEH_TARGET.match(page):
        return "bokeh-target"
    if _BOKEH_LOADING.search(page) and "Loading BokehJS" in page:
        return "bokeh-load"
    return None


def is_chart(data: Mapping[str, object]) -> bool:
    """Return True if `data` is a chart output nbpress.rendering.charts turns into a safe embed."""
    return chart_kind(data) is not None


def template_keys() -> dict[str, str]:
    """Return {name: key} of every Key, as the template reads them (`resources.nbpress.key.remove`)."""
    return {name.lower(): value for name, value in vars(Key).items() if name.isupper()}


def note(text: str) -> Output:
    """Return a stream output carrying an nbpress note, shown in the post like printed text."""
    from nbformat.v4 import new_output

    output: Output = new_output("stream", name="stdout", text=f"[nbpress: {text}]\n")
    return output


# Deeper than any notebook needs (chart specs and widget state nest a dozen levels); the
# build's own walks (copying, validating, caching, writing YAML) recurse once per level, so
# a value nested thousands of levels deep would end them with a RecursionError.
MAX_NESTING: Final = 100
_SURROGATE: Final = re.compile("[\ud800-\udfff]")


def bad_data(value: object, limit: int = MAX_NESTING) -> str | None:
    """Return what makes `value` (parsed JSON or YAML) unsafe to process, or None if nothing does.

    Two things are refused wherever they are: nesting deeper than `limit` levels, and a lone
    surrogate (U+D800 to U+DFFF, which JSON's `\\ud800` escapes and YAML's `"\\ud800"` can
    produce) in a text or a key: it is not text, and writing it as UTF-8 fails. The walk is
    iterative, so it cannot itself run out of stack. The answer names where: `source`,
    `metadata.tags[0]`, `outputs[1].data.text/plain`.
    """
    stack: list[tuple[object, int, tuple[str, ...]]] = [(value, 1, ())]
    while stack:
        item, depth, where = stack.pop()
        if depth > limit:
            return f"a value is nested more than {limit} levels deep (at {_place(where[:3])}...)"
        if isinstance(item, str):
            found = _SURROGATE.search(item)
            if found:
                return (
                    f"{_place(where)} holds a lone surrogate character "
                    f"(\\u{ord(found.group()):04x}), which is not text"
                )
        elif isinstance(item, dict):
            for key, child in item.items():
                if isinstance(key, str) and _SURROGATE.search(key):
                    return f"a key in {_place(where)} holds a lone surrogate character, which is not text"
                stack.append((child, depth + 1, (*where, f".{key}")))
        elif isinstance(item, (list, tuple)):
            stack.extend((child, depth + 1, (*where, f"[{i}]")) for i, child in enumerate(item))
    return None


def _place(where: tuple[str, ...]) -> str:
    """Return a readable place ("metadata.tags[0]") from the keys and indexes walked to it."""
    text = "".join(where).lstrip(".")
    text = text if len(text) <= 80 else text[:77] + "..."
    return repr(text.encode("ascii", "backslashreplace").decode("ascii")) if text else "the value"
