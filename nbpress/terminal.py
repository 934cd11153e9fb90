"""What a terminal shows of an output's text: ANSI codes removed, \\r and \\b progress collapsed,
the build machine's paths shortened.

Below every stage: execution compares re-runs by this text (execution.volatile), rendering
publishes it (rendering.outputs), the command line prints it.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Iterable
from pathlib import Path

# CSI sequences (colours, cursor moves; one cut before its final byte too, as a capped or
# interrupted output leaves it), OSC sequences (titles, links) and lone escapes.
_ANSI_RE = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]?|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[@-Z\\-_]")
# IPython shortens the home folder to "~" itself: "~/..." is taken whole, not left as "~.../".
_PACKAGES_RE = re.compile(r"(?:~|[A-Za-z]:)?[\\/][^\s'\"<>()]*?[\\/](site-packages|dist-packages)(?=[\\/])")
_STDLIB_RE = re.compile(r"(?:~|[A-Za-z]:)?/[^\s'\"<>()]*?/lib/(python3\.\d+)(?=/)")
_HOME_RE = re.compile(r"(?<![\w.~])(?:/home/[^/\s'\"]+|/Users/[^/\s'\"]+|/root)(?=/)")


def strip_ansi(text: str) -> str:
    """Return `text` without ANSI escape sequences.

    Removing one sequence can join the pieces of another ("\\x1b[" + "\\x1b[0m" + "31m"), so
    it repeats until nothing is left to remove.
    """
    while True:
        stripped = _ANSI_RE.sub("", text)
        if stripped == text:
            return text
        text = stripped


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
    """Return `text` with terminal updates collapsed, ANSI codes removed and paths scrubbed.

    Repeated until stable (each pass only shortens the text), so cleaning twice changes nothing.
    """
    roots = list(roots)
    for _ in range(8):
        cleaned = scrub_paths(strip_ansi(collapse_terminal(text)), roots)
        if cleaned == text:
            break
        text = cleaned
    return text
