"""Did re-executing the posts change what they show? Compare generated posts with a git revision.

The weekly full re-execution runs `python build.py --force`, then `python build.py --drift`.
What legitimately changes on every run is masked before comparing, with the rule set the
build itself uses to keep unchanged outputs (nbpress.execution.volatile: object addresses, log
timestamps, thread ids, step timings, temporary paths, durations); nbpress's own bookkeeping
(the `nbpress:` record and the provenance line) is left out. Anything else that differs is
drift, reported per post with its cell and first differing line, then a diff; the exit code is 1.
"""

from __future__ import annotations

import difflib
import re
import subprocess
from pathlib import Path

from .errors import cell_place
from .execution import mask

_PROVENANCE = re.compile(r"^\*Executed .*\*$", re.M)
_RECORD = re.compile(r"^nbpress:\n(?:[ -].*\n)*", re.M)


def mask_bookkeeping(text: str) -> str:
    """Return a post's Markdown with its bookkeeping and volatile tokens masked, line for line.

    Each line stays where it was, so a line number of the result is one of the post.
    """
    end = text.find("\n---\n", 4) if text.startswith("---\n") else -1
    if end > 0:
        record = _RECORD.sub(lambda m: "nbpress: <record>\n" * m.group().count("\n"), text[: end + 1])
        text = record + text[end + 1 :]
    return mask(_PROVENANCE.sub("*Executed <provenance>*", text))


def diff(old: str, new: str, name: str) -> list[str]:
    """Return the unified diff of two versions of a post after masking; empty if they agree."""
    return list(
        difflib.unified_diff(
            mask_bookkeeping(old).splitlines(),
            mask_bookkeeping(new).splitlines(),
            f"{name} (committed)",
            f"{name} (re-executed)",
            lineterm="",
        )
    )


def first_difference(old: str, new: str) -> tuple[int, str, str] | None:
    """Return (line number in `new`, old line, new line) of the first masked difference, or None."""
    a, b = mask_bookkeeping(old).splitlines(), mask_bookkeeping(new).splitlines()
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(a=a, b=b, autojunk=False).get_opcodes():
        if tag != "equal":
            return j1 + 1, a[i1] if i1 < i2 else "", b[j1] if j1 < j2 else ""
    return None


def cell_of_line(root: Path, source: str, markdown: str, line: int) -> int | None:
    """Return the number (counting every cell from 1) of the source cell whose code precedes `line`.

    That is the last fenced block above the line that is a code cell's code (an output's fence,
    `{.text ...}`, or a fence a Markdown cell shows is not), as the site reads the post (mdtokens).
    """
    from .errors import NbpressError
    from .rendering import mdtokens
    from .sources import posts

    end = markdown.find("\n---\n", 4) if markdown.startswith("---\n") else -1
    body = "\n" * markdown.count("\n", 0, end + 1) + markdown[end + 1 :] if end > 0 else markdown
    fences = [
        token.content.strip()
        for token in mdtokens.read(body).tokens
        if token.type == "fence" and token.map and token.map[0] < line - 1 and not token.info.startswith("{")
    ]
    if not fences:
        return None
    try:
        post = posts.read_post(root / source, root)
    except (NbpressError, OSError):
        return None
    for shown in reversed(fences):
        for number, cell in enumerate(post.notebook.cells, 1):
            if cell.cell_type == "code" and shown and shown in cell.source:
                return number
    return None


def committed(root: Path, path: Path, revision: str) -> str | None:
    """Return the text of `path` at a git revision, or None if it did not exist there."""
    rel = path.relative_to(root).as_posix()
    proc = subprocess.run(
        ["git", "show", f"{revision}:{rel}"], cwd=root, capture_output=True, text=True, check=False
    )
    return proc.stdout if proc.returncode == 0 else None


def find_drift(root: Path, revision: str = "HEAD") -> dict[str, list[str]]:
    """Return {source notebook: lines} for every generated post that drifted from `revision`.

    The first line names the source, the cell and the first differing line ("path, cell N, line
    M: ..."); a unified diff follows.
    """
    from .layout import Layout
    from .record import generated

    drifted: dict[str, list[str]] = {}
    for path, record in generated(Layout(root).generated):
        old = committed(root, path, revision)
        if old is None:
            continue  # a new post has nothing to drift from
        text = path.read_text(encoding="utf-8")
        lines = diff(old, text, path.relative_to(root).as_posix())
        if lines:
            source = record.source or path.name
            found = first_difference(old, text)
            if found is not None:
                number, before, after = found
                cell = cell_of_line(root, source, text, number)
                where = cell_place(source, cell) if cell is not None else source
                lines.insert(0, f"{where}, line {number}: {before.strip()!r} is now {after.strip()!r}")
            else:  # the same masking as the diff's: not expected, but never a line without the post
                lines.insert(0, f"{source}: its generated post differs")
            drifted[source] = lines
    return drifted
