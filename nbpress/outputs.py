"""Clean executed outputs: terminal control codes, machine paths, cells the author hid."""

from __future__ import annotations

import copy
import os
import re
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

# CSI sequences (colours, cursor moves), OSC sequences (titles, links) and lone escapes.
_ANSI_RE = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[@-Z\\-_]")
_PACKAGES_RE = re.compile(r"(?:[A-Za-z]:)?[\\/][^\s'\"<>()]*?[\\/](site-packages|dist-packages)(?=[\\/])")
_STDLIB_RE = re.compile(r"(?:[A-Za-z]:)?/[^\s'\"<>()]*?/lib/(python3\.\d+)(?=/)")
_HOME_RE = re.compile(r"(?<![\w.~])(?:/home/[^/\s'\"]+|/Users/[^/\s'\"]+|/root)(?=/)")
REMOVE_CELL = "nbpress_remove"


def strip_ansi(text: str) -> str:
    """Return `text` without ANSI escape sequences."""
    return _ANSI_RE.sub("", text)


def collapse_terminal(text: str) -> str:
    """Return what a terminal would show last for `text` with \\r and \\b progress updates."""
    if "\r" not in text and "\b" not in text:
        return text
    lines = []
    for line in text.replace("\r\n", "\n").split("\n"):
        screen: list[str] = []
        col = 0
        for ch in line:
            if ch == "\r":
                col = 0
            elif ch == "\b":
                col = max(col - 1, 0)
            else:
                if col < len(screen):
                    screen[col] = ch
                else:
                    screen.append(ch)
                col += 1
        lines.append("".join(screen))
    return "\n".join(lines)


def scrub_paths(text: str, roots: Iterable[Path] = ()) -> str:
    """Return `text` with absolute paths of the build machine shortened to neutral forms."""
    text = _PACKAGES_RE.sub(lambda m: f".../{m.group(1)}", text)
    text = _STDLIB_RE.sub(lambda m: f".../{m.group(1)}", text)
    for root in sorted((str(r) for r in roots), key=len, reverse=True):
        text = text.replace(root + os.sep, "").replace(root, ".")
    tmp = tempfile.gettempdir()
    text = re.sub(re.escape(tmp) + r"/[^/\s'\"]+", "...", text)
    home = os.path.expanduser("~")
    if home not in ("/", "~"):
        text = text.replace(home + "/", "~/")
    return _HOME_RE.sub("~", text)


def clean_text(text: str, roots: Iterable[Path] = ()) -> str:
    """Return `text` with terminal updates collapsed, ANSI codes removed and paths scrubbed."""
    return scrub_paths(strip_ansi(collapse_terminal(text)), roots)


def _join(value: Any) -> str:
    return "".join(value) if isinstance(value, list) else str(value)


def _clean_output(output: Any, roots: list[Path]) -> Any:
    kind = output.get("output_type")
    if kind == "stream":
        output["text"] = clean_text(_join(output.get("text", "")), roots)
    elif kind == "error":
        output["traceback"] = [clean_text(line, roots) for line in output.get("traceback", [])]
        output["evalue"] = clean_text(str(output.get("evalue", "")), roots)
    elif kind in ("execute_result", "display_data"):
        data = output.get("data", {})
        if "text/plain" in data:
            data["text/plain"] = clean_text(_join(data["text/plain"]), roots)
    return output


def clean_notebook(notebook: Any, front_matter_cell: int | None, roots: Iterable[Path] = ()) -> Any:
    """Return a cleaned copy of an executed notebook; the input is not modified.

    Cells are never deleted, so figure names keep the source's cell numbers; a cell to hide
    is marked with metadata REMOVE_CELL and the template skips it.
    """
    nb = copy.deepcopy(notebook)
    root_list = list(roots)
    for index, cell in enumerate(nb.cells):
        tags = set(cell.get("metadata", {}).get("tags", []))
        empty_code = cell.cell_type == "code" and not cell.source.strip() and not cell.get("outputs")
        if index == front_matter_cell or "remove-cell" in tags or empty_code:
            cell.metadata[REMOVE_CELL] = True
            if cell.cell_type == "code":
                cell.outputs = []
            continue
        if cell.cell_type != "code":
            continue
        if "remove-input" in tags:
            cell.setdefault("transient", {})["remove_source"] = True
        if "remove-output" in tags:
            cell.outputs = []
        cell.outputs = [_clean_output(o, root_list) for o in cell.outputs]
    return nb
