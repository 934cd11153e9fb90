"""Inline expressions' values (Quarto's `{python} expr`, MyST's {eval}): where the run keeps them.

A Markdown cell's inline expressions are evaluated by the post's own kernel at the cell's
place in the run: right after the code cells above it, before those below (execute.py, with
the messaging protocol's `user_expressions`). The cache keeps the outputs of code cells only
(store.py), so the values travel as one output of a code cell, as widget state does
(capture.attach_widget_state): a display_data whose only data is VALUES_MIME,
{"after": <code cells above>, "values": {expression: {"data": bundle, "metadata": ...}}},
added to the code cell they ran after (the first code cell for a Markdown cell above every
code cell). The render's values step (nbpress.rendering.values) takes them out again before
any other step sees the outputs. The execution key holds the expressions and their places
(`key_part`), so an entry always has the values of the expressions the post asks for.
"""

from __future__ import annotations

from typing import Any, Final

from ..notebook import Notebook, Output, outputs_of

VALUES_MIME: Final = "application/vnd.nbpress.values+json"


def expressions_by_cell(nb: Notebook) -> list[tuple[int, int, list[str]]]:
    """Return (cell index, code cells above it, its expressions) of each Markdown cell that has any."""
    from ..rendering.values import inline_expressions

    found = []
    above = 0
    for index, cell in enumerate(nb.cells):
        if cell.cell_type == "code":
            above += 1
        elif cell.cell_type == "markdown":
            expressions = inline_expressions(cell.source)
            if expressions:
                found.append((index, above, expressions))
    return found


def key_part(nb: Notebook) -> list[list[object]]:
    """Return [code cells above, expression] of each inline expression, in order ([] for most posts)."""
    return [[above, expr] for _, above, exprs in expressions_by_cell(nb) for expr in exprs]


def attach(nb: Notebook, results: dict[int, dict[str, dict[str, Any]]]) -> None:
    """Add the values evaluated for each Markdown cell (by index) to the code cell they ran after.

    Raises ValueError if the notebook has no code cell to keep them.
    """
    import nbformat

    if not results:
        return
    code = [cell for cell in nb.cells if cell.cell_type == "code"]
    if not code:
        raise ValueError("no code cell")
    grouped: dict[int, dict[str, dict[str, Any]]] = {}
    for index, values in sorted(results.items()):
        above = sum(1 for cell in nb.cells[:index] if cell.cell_type == "code")
        grouped.setdefault(above, {}).update(values)
    for above, values in grouped.items():
        output = {
            "output_type": "display_data",
            "data": {VALUES_MIME: {"after": above, "values": values}},
            "metadata": {},
        }
        code[max(above - 1, 0)].outputs.append(nbformat.from_dict(output))


def take_values(nb: Notebook) -> dict[tuple[int, str], dict[str, Any]]:
    """Remove the values' outputs from the code cells; return {(code cells above, expression): result}."""
    found: dict[tuple[int, str], dict[str, Any]] = {}
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        kept: list[Output] = []
        for output in outputs_of(cell):
            record = output.get("data", {}).get(VALUES_MIME)
            if record is None:
                kept.append(output)
                continue
            if isinstance(record, dict) and isinstance(record.get("values"), dict):
                after = record.get("after")
                for expr, result in record["values"].items():
                    if isinstance(after, int) and isinstance(result, dict):
                        found[(after, str(expr))] = result
        cell.outputs = kept
    return found
