"""What a cache entry keeps of an executed notebook: outputs capped, widget state attached, data checked.

Applied by every executor right after execution, before the outputs are cached, so a runaway
cell costs the build no more memory or disk than a normal one, and the cache (which keeps
outputs, not notebook metadata) keeps each widget's state.
"""

from __future__ import annotations

import json
import re

from ..errors import RenderError
from ..notebook import (
    FIGURE_TYPES,
    WIDGET_STATE,
    WIDGET_VIEW,
    Key,
    Notebook,
    Output,
    bad_data,
    code_outputs,
    note,
    outputs_of,
)
from ..notebook import text_of as _join

# Caps that keep one runaway cell from bloating the site and the build's memory.
MAX_TEXT_CHARS = 100_000
MAX_FIGURES_PER_CELL = 50
_NOTE_ROOM = 200  # a truncated text's note fits here, so truncating twice changes nothing
_MODEL_REF = re.compile(r"IPY_MODEL_([0-9a-zA-Z_-]+)")


def truncate(text: str, limit: int = MAX_TEXT_CHARS) -> str:
    """Return `text`, or its first `limit` characters and a note saying how much was cut.

    Text already truncated (at most `limit` plus its note) is returned unchanged.
    """
    if len(text) <= limit + _NOTE_ROOM:
        return text
    head = text[:limit]
    cut = head.rfind("\n")
    head = head[: cut + 1] if cut > limit // 2 else head + "\n"
    return head + f"[nbpress: output truncated, {len(text) - len(head):,} more characters not shown]\n"


def limit_outputs(notebook: Notebook) -> Notebook:
    """Return the notebook with each text output capped and each cell's figures capped, in place.

    Applied right after execution, before the outputs are cached, so a runaway cell costs
    the build no more memory or disk than a normal one.
    """
    for cell in notebook.cells:
        if cell.cell_type == "code":
            cell.outputs = _limit_cell(outputs_of(cell))
    return notebook


def _limit_cell(outputs: list[Output]) -> list[Output]:
    """Return one cell's outputs with text capped and figures past the cap replaced by a note."""
    kept: list[Output] = []
    figures = dropped = 0
    for output in outputs:
        kind = output.get("output_type")
        if kind == "stream":
            output["text"] = truncate(_join(output.get("text", "")))
        elif kind in ("execute_result", "display_data"):
            data = output.get("data", {})
            if any(t in data for t in FIGURE_TYPES):
                figures += 1
                if figures > MAX_FIGURES_PER_CELL:
                    dropped += 1
                    continue
            for mime in ("text/plain", "text/html", "text/markdown", "text/latex"):
                if mime in data:
                    data[mime] = truncate(_join(data[mime]))
        kept.append(output)
    if dropped:
        kept.append(note(f"{dropped} more figures from this cell not shown"))
    return kept


def attach_widget_state(notebook: Notebook) -> Notebook:
    """Return the notebook with each widget view's saved state copied into that output, in place.

    nbclient saves widget state in the notebook's metadata, which the build cache does not
    keep; stored with the output (only the models that view reaches), it survives caching.
    """
    saved = notebook.get("metadata", {}).get("widgets", {}).get(WIDGET_STATE, {})
    state = saved.get("state", {}) if isinstance(saved, dict) else {}
    if not isinstance(state, dict) or not state:
        return notebook
    for output in code_outputs(notebook):
        view = output.get("data", {}).get(WIDGET_VIEW)
        if isinstance(view, dict) and view.get("model_id") in state:
            output.setdefault("metadata", {})[Key.WIDGET_STATE] = reachable(state, str(view["model_id"]))
    return notebook


def reachable(state: dict[str, object], root: str, ordered: bool = False) -> dict[str, object]:
    """Return the models of `state` that the model `root` refers to, itself included.

    Sorted by id, or with `ordered` in the order they are reached (depth first, in key order).
    """
    found: dict[str, object] = {}
    todo = [root]
    while todo:
        model_id = todo.pop()
        if model_id in found or model_id not in state:
            continue
        found[model_id] = state[model_id]
        todo.extend(reversed(_MODEL_REF.findall(json.dumps(state[model_id], sort_keys=True))))
    return found if ordered else dict(sorted(found.items()))


def check_outputs(notebook: Notebook, rel_path: str) -> None:
    """Raise RenderError naming the cell (numbered as in the source) if an output holds bad data."""
    for index, cell in enumerate(notebook.cells):
        # What a cell printed or displayed is data like the source: the same rule holds (bad_data).
        problem = bad_data(outputs_of(cell))
        if problem is not None:
            raise RenderError(
                f"in its outputs, {problem}; change the code that makes it.", path=rel_path, cell=index + 1
            )
