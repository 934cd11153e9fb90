"""What differs between two runs of unchanged code by nature, and how it is told apart from a change.

One rule set, used twice:

- when a post runs again (pipeline), a new output that differs from the previous one only in
  these tokens keeps the previous output's bytes, so a re-execution of unchanged code leaves
  the post byte-identical and a pull request's diff shows only real changes; every output
  published is still one that a run really printed (nothing is ever written masked);
- the weekly drift check (nbpress.drift, `build.py --drift`) masks the same tokens before comparing.

Figures compare by their pixels: a PNG that differs only in its metadata chunks (the
Software chunk names matplotlib's version) keeps its previous bytes.
"""

from __future__ import annotations

import base64
import binascii
import difflib
import io
import re
from collections.abc import Mapping, Sequence
from typing import cast

from ..notebook import CachedOutputs, Output

_T = r"(?:ns|us|µs|ms|s)"  # a unit of time as programs print it

# (pattern, replacement), applied in order to text without ANSI codes or \r progress.
RULES: tuple[tuple[re.Pattern[str], str], ...] = (
    # Object addresses in default reprs: "<torch._C.Generator at 0x7f84767405f0>".
    (re.compile(r"\bat 0x[0-9a-fA-F]+\b"), "at 0x<address>"),
    # glog/absl lines (TensorFlow, JAX): a timestamp and a thread id before the source location,
    # "I0000 00:00:1795315746.111133    2731 port.cc:153] ..."; the message itself still counts.
    (re.compile(r"^([ \t]*[IWEF])\d{4} \d\d:\d\d:\d+(?:\.\d+)?[ \t]+\d+ ", re.M), r"\1<time> <thread> "),
    # TensorFlow names the CPU's instruction sets, which differ between machines.
    (
        re.compile(r"(To enable the following instructions:) [A-Z0-9_ ]+(?=,? in other operations)"),
        r"\1 <cpu>",
    ),
    # Timestamps opening a log line: logging's "2024-06-18 10:22:33,123", ISO "2024-06-18T10:22:33.5Z".
    (
        re.compile(r"^([ \t]*\[?)\d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d(?:[.,]\d+)?(?:Z|[+-]\d\d:?\d\d)?", re.M),
        r"\1<timestamp>",
    ),
    # Thread and process ids: "pid 4242", "PID: 4242", "<Thread(Thread-1, started daemon 1401...)>".
    (re.compile(r"\b(pid|PID|tid|TID|thread id|process id)([ =:]+)\d+\b"), r"\1\2<id>"),
    (re.compile(r"\b(started(?: daemon)?) \d+\b"), r"\1 <id>"),
    # The kernel's own temporary file names, in warnings: <tempdir>/ipykernel_<pid>/<digits>.py:3.
    (re.compile(r"\bipykernel_\d+/\d+\.py"), "ipykernel_<pid>/<cell>.py"),
    # Temporary folders and files: /tmp/tmpab12cd_3, macOS's /var/folders/xx/yyy/T/tmp...
    (re.compile(r"(?:/private)?/var/folders/[^\s/]+/[^\s/]+/T/"), "/tmp/"),
    (re.compile(r"\btmp[A-Za-z0-9_]{6,}"), "tmp<random>"),
    # Step timings and ETAs: Keras "4/4 ━━━━ 0s 6ms/step", "ETA: 1s", tqdm "[00:01<00:02, 3.5it/s]".
    (re.compile(rf"\b\d+(?:\.\d+)?{_T}/(?:step|epoch|sample)\b"), "<time>/step"),
    (re.compile(rf"\b\d+(?:\.\d+)?{_T}(?=\s+(?:-\s+)?<time>/step)"), "<time>"),
    (re.compile(r"\bETA:? ?(?:\d+:)*\d+s?\b"), "ETA <time>"),
    (
        re.compile(
            r"\[(?:\d+:)?\d+:\d\d<(?:(?:\d+:)?\d+:\d\d|\?), *(?:\d+(?:\.\d+)?|\?) ?[A-Za-z]*/[A-Za-z]+\]"
        ),
        "[<elapsed>]",
    ),
    # Durations: IPython's %time and %timeit, and "took 1.2 s", "elapsed: 3ms", "done in 0.5 seconds".
    (re.compile(r"^([ \t]*)CPU times: .*$", re.M), r"\1CPU times: <time>"),
    (re.compile(r"^([ \t]*)Wall time: .*$", re.M), r"\1Wall time: <time>"),
    (
        re.compile(
            rf"\d+(?:\.\d+)? {_T} ± \d+(?:\.\d+)? {_T} per loop "
            r"\(mean ± std\. dev\. of \d+ runs?, [\d,]+ loops? each\)"
        ),
        "<timeit>",
    ),
    (
        re.compile(
            r"\b(took|elapsed(?: time)?:?|duration:?|(?:finished|completed|done) in)[ \t]+"
            r"\d+(?:\.\d+)?[ \t]?(?:ns|us|µs|ms|s|secs?|seconds|min|minutes)\b",
            re.I,
        ),
        r"\1 <duration>",
    ),
    # SVG figures carry the moment they were drawn.
    (re.compile(r"<dc:date>[^<]*</dc:date>"), "<dc:date/>"),
)


def mask(text: str) -> str:
    """Return `text` with every volatile token replaced by a placeholder, trailing spaces dropped.

    Progress bars pad a line with spaces to cover the previous one, so the padding follows
    the timings and is masked with them.
    """
    for pattern, replacement in RULES:
        text = pattern.sub(replacement, text)
    return "\n".join(line.rstrip() for line in text.split("\n"))


def _text(value: object) -> str:
    return "".join(value) if isinstance(value, list) else str(value)


def _terminal_text(value: object) -> str:
    """Return what a reader sees of a stream or text output, volatile tokens masked.

    As the post shows it (nbpress.terminal.clean_text): no ANSI codes, \\r progress collapsed,
    temporary and library paths shortened; so a run's raw output compares equal to the
    cleaned one a published download holds.
    """
    from ..terminal import clean_text

    return mask(clean_text(_text(value)))


def _pixels(data: object) -> tuple[str, tuple[int, int], bytes] | None:
    """Return (mode, size, pixel bytes) of a base64 raster image, or None if it does not decode."""
    try:
        from PIL import Image

        with Image.open(io.BytesIO(base64.b64decode(_text(data)))) as image:
            return image.mode, image.size, image.tobytes()
    except (ImportError, OSError, ValueError, binascii.Error, SyntaxError):
        return None


def _lines(value: object) -> str:
    """Return a traceback's lines joined by newlines ("" when it has none)."""
    return "\n".join(str(v) for v in value) if isinstance(value, list) else ""


def same_image(old: object, new: object) -> bool:
    """Return True if two base64 raster images hold the same pixels (metadata chunks aside)."""
    if _text(old).strip() == _text(new).strip():
        return True
    before = _pixels(old)
    return before is not None and before == _pixels(new)


def _same_data(old: object, new: object) -> bool:
    if not isinstance(old, dict) or not isinstance(new, dict) or set(old) != set(new):
        return False
    for mime, value in new.items():
        if mime in ("image/png", "image/jpeg", "image/gif", "image/webp"):
            if not same_image(old[mime], value):
                return False
        elif isinstance(value, (str, list)):
            if _terminal_text(old[mime]) != _terminal_text(value):
                return False
        elif old[mime] != value:  # JSON outputs (widgets, plotly) compare whole
            return False
    return True


def same_output(old: Mapping[str, object], new: Mapping[str, object]) -> bool:
    """Return True if two outputs of one cell differ at most in volatile tokens."""
    kind = new.get("output_type")
    if old.get("output_type") != kind:
        return False
    if kind == "stream":
        return old.get("name") == new.get("name") and _terminal_text(old.get("text", "")) == _terminal_text(
            new.get("text", "")
        )
    if kind == "error":
        return (
            old.get("ename") == new.get("ename")
            and _terminal_text(old.get("evalue", "")) == _terminal_text(new.get("evalue", ""))
            and _terminal_text(_lines(old.get("traceback"))) == _terminal_text(_lines(new.get("traceback")))
        )
    return old.get("metadata", {}) == new.get("metadata", {}) and _same_data(
        old.get("data", {}), new.get("data", {})
    )


def _pairs(
    previous_cells: Sequence[str] | None, new_cells: Sequence[str], previous_count: int
) -> list[tuple[int, int]]:
    """Return (previous index, new index) of the code cells to compare.

    With the code of the previous run known, cells are matched by their code (inserting a cell
    shifts no pairing); cells whose code changed pair by position within a block of changes
    of equal length. Without it, cells pair by position when the counts agree.
    """
    if previous_cells is None:
        return [(i, i) for i in range(len(new_cells))] if previous_count == len(new_cells) else []
    pairs: list[tuple[int, int]] = []
    matcher = difflib.SequenceMatcher(a=list(previous_cells), b=list(new_cells), autojunk=False)
    for tag, a0, a1, b0, b1 in matcher.get_opcodes():
        if tag == "equal" or (tag == "replace" and a1 - a0 == b1 - b0):
            pairs += zip(range(a0, a1), range(b0, b1), strict=True)
    return pairs


def settle(
    outputs: CachedOutputs,
    previous: Sequence[object],
    previous_cells: Sequence[str] | None,
    new_cells: Sequence[str],
) -> int:
    """Give each of `outputs` the previous run's bytes where they differ only in volatile tokens.

    `outputs` and `previous` hold a run's outputs of each code cell (as the cache keeps them),
    `previous_cells` the digests of the previous run's code cells (None if unknown) and
    `new_cells` those of the new run. An output is kept whole or not at all, and only when
    the cell's outputs pair one to one. Changes `outputs` in place; returns the number of
    outputs that kept their previous bytes.
    """
    kept = 0
    for old_index, new_index in _pairs(previous_cells, new_cells, len(previous)):
        old_outputs, cell = previous[old_index], outputs[new_index]
        if not isinstance(old_outputs, list) or len(old_outputs) != len(cell):
            continue
        for n, (old, new) in enumerate(zip(old_outputs, cell, strict=True)):
            if isinstance(old, dict) and old != new and same_output(old, new):
                cell[n] = cast(Output, old)
                kept += 1
    return kept
