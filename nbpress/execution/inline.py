"""Inline expressions' values (Quarto's `{python} expr`, MyST's {eval}): where the run keeps them.

A Markdown cell's inline expressions are evaluated by the post's own kernel at the cell's
place in the run: right after the code cells above it, before those below (execute.py, with
the messaging protocol's `user_expressions`). The cache keeps the outputs of code cells only
(store.py), so the values travel as one output of a code cell, as widget state does
(capture.attach_widget_state): a display_data whose only data is VALUES_MIME,
{"after": <code cells above>, "values": {expression: {"data", "metadata"} or {"error"}}},
added to the code cell they ran after (the first code cell for a Markdown cell above every
code cell). The execution key holds the expressions and their places (`key_part`), so an
entry always has the values of the expressions the post asks for.

Which code spans are values is the render's to say (nbpress.rendering.values, which reads
Markdown as the site does and is a stage above this one): here every span that looks like
one outside a code fence is evaluated (`expressions`), a superset, and an expression that
raises is kept as its error; the values step fails the post only for a value the prose shows.
"""

from __future__ import annotations

import re
from typing import Any, Final

from ..notebook import Notebook, Output, outputs_of

VALUES_MIME: Final = "application/vnd.nbpress.values+json"
# Quarto's `{python} expr` (one backtick each side) and MyST's {eval}`expr`.
_CANDIDATE = re.compile(
    r"(?<!`)`\{python\}[ \t]+(?P<quarto>[^`]*?)[ \t]*`(?!`)|\{eval\}`(?P<myst>[^`]+)`(?!`)"
)
_FENCE = re.compile(r"^[ \t>]*(?P<fence>`{3,}|~{3,})[ \t]*(?P<info>[^\n]*)$")
# MyST directives whose body is code or data, not prose: nothing in them is a value.
CODE_DIRECTIVES: Final = frozenset(
    {"code", "code-block", "sourcecode", "code-cell", "literalinclude", "raw", "math", "eval-rst"}
)


def is_prose_fence(info: str) -> bool:
    """Return True for a fence's info string that opens a MyST directive whose body is prose."""
    name = re.match(r"\{([^}]*)\}", info.strip())
    return name is not None and name.group(1) not in CODE_DIRECTIVES


def expressions(source: str) -> list[str]:
    """Return the expressions a Markdown cell may show, each once, in order (see the docstring)."""
    if "{python}" not in source and "{eval}" not in source:
        return []  # most cells
    kept: list[str] = []
    fence = ""  # the code fence open, if any
    prose: list[str] = []  # the fences of the prose directives open ({note} ... ```)
    for line in source.split("\n"):
        opened = _FENCE.match(line)
        mark, info = (opened.group("fence"), opened.group("info").strip()) if opened else ("", "")
        if fence:
            if mark[:1] == fence[0] and len(mark) >= len(fence) and not info:
                fence = ""
        elif not mark:
            kept.append(line)
        elif not info and prose and mark[0] == prose[-1][0] and len(mark) >= len(prose[-1]):
            prose.pop()
        elif is_prose_fence(info):
            prose.append(mark)
        else:
            fence = mark
    found = (
        m.group("quarto") if m.group("quarto") is not None else m.group("myst")
        for m in _CANDIDATE.finditer("\n".join(kept))
    )
    return list(dict.fromkeys(e for e in (" ".join(f.split()) for f in found) if e))


def expressions_by_cell(nb: Notebook) -> list[tuple[int, int, list[str]]]:
    """Return (cell index, code cells above it, its expressions) of each Markdown cell that has any."""
    found = []
    above = 0
    for index, cell in enumerate(nb.cells):
        if cell.cell_type == "code":
            above += 1
        elif cell.cell_type == "markdown":
            exprs = expressions(cell.source)
            if exprs:
                found.append((index, above, exprs))
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
