"""The one YAML loader for what authors write: front matter, cell options, the authors file.

PyYAML's SafeLoader still expands anchors and aliases: a 1 KB "billion laughs" document of
nested aliases grows into gigabytes. Front matter and option lines never need them, so the
loader refuses the first anchor (`&name`) or alias (`*name`) it meets, merge keys (`<<: *x`)
included, before anything is built: the error is an ordinary yaml.YAMLError with its line.

A build reads every post's front matter (its source's and its generated page's), so text is
read by libyaml's C loader where it and PyYAML's own agree (`_read_by_c`), many times faster.
Every error, and every text where the two could part ways, is the pure loader's: a value read
and an error's line are the same either way.
"""

from __future__ import annotations

import re
from typing import Any

import yaml
from yaml.composer import ComposerError
from yaml.error import Mark
from yaml.nodes import Node

from .notebook import MAX_NESTING

_BRACKET = re.compile(r"[\[\]{}]")

NO_ALIASES = "YAML anchors and aliases (&name, *name) are not allowed here; write each value out"


class NoAliasLoader(yaml.SafeLoader):
    """SafeLoader that refuses anchors and aliases (so no alias bomb can grow), and flow
    collections nested deeper than MAX_NESTING (PyYAML's scanner takes time quadratic in
    their depth: 20,000 brackets cost it a minute), both before it parses anything."""

    def __init__(self, stream: str) -> None:
        _refuse_deep_flow(stream)
        super().__init__(stream)

    def compose_node(self, parent: Node | None, index: Any) -> Node | None:
        """Refuse an alias or an anchored node; compose anything else as SafeLoader does."""
        event = self.peek_event()  # type: ignore[no-untyped-call]
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None) is not None:
            raise ComposerError(None, None, NO_ALIASES, event.start_mark)
        return super().compose_node(parent, index)


def _refuse_deep_flow(text: str) -> None:
    """Raise yaml.YAMLError where `[` and `{` open more than MAX_NESTING collections at once.

    Counted over the text (brackets inside quotes count too: no real front matter comes near).
    """
    depth = 0
    for found in _BRACKET.finditer(text):
        depth += 1 if found.group() in "[{" else -1
        if depth > MAX_NESTING:
            line = text.count("\n", 0, found.start())
            column = found.start() - (text.rfind("\n", 0, found.start()) + 1)
            mark = Mark("<yaml>", found.start(), line, column, None, 0)
            raise ComposerError(None, None, f"lists or mappings nested more than {MAX_NESTING} deep", mark)


_TIMESTAMP = "tag:yaml.org,2002:timestamp"


def _timestamp_text(loader: yaml.SafeLoader, node: Node) -> Any:
    """Construct a timestamp as the text it was written as (load_yaml's rule: a bad date is reported)."""
    return loader.construct_scalar(node)  # type: ignore[arg-type]


# Text holding any of these is read by the pure loader alone: anchors (&) and aliases (*), which
# only it refuses, and tabs and `?`, where libyaml accepts what PyYAML's scanner refuses (measured by
# reading mutated front matter with both: `a: [b?]`, `slug: a\tb`).
_PURE_ONLY = re.compile(r"[\t&*?]")
# libyaml's composer recurses in C, once per nested collection, and a few thousand levels
# (`- - - ... x`) overflow the C stack. Each level needs one of these characters: text with
# this many of them is left to the pure loader, which stops with a RecursionError.
_NESTING_MARKS = "-:[{"
_C_NESTING = 500


def _c_loader(timestamps_as_text: bool) -> type[Any] | None:
    """Return libyaml's safe loader (its timestamps kept as text if asked), None without libyaml."""
    base = getattr(yaml, "CSafeLoader", None)
    if base is None:  # a PyYAML built without libyaml: the pure loader reads everything
        return None
    loader: type[Any] = type("CLoader", (base,), {})
    if timestamps_as_text:
        loader.add_constructor(_TIMESTAMP, _timestamp_text)
    return loader


_C_SAFE = _c_loader(timestamps_as_text=False)
_C_TEXT = _c_loader(timestamps_as_text=True)


def _read_by_c(text: str) -> bool:
    """Return True if libyaml reads `text` as PyYAML's loader would, and safely."""
    if _PURE_ONLY.search(text):
        return False
    return sum(text.count(mark) for mark in _NESTING_MARKS) < _C_NESTING


def _load(text: str, pure: type[NoAliasLoader], fast: type[Any] | None) -> Any:
    """Return the document in `text` read by libyaml where it agrees with `pure`, else by `pure`.

    An error is always `pure`'s, so its marks (yamlload.error_line) are those it always gave.
    """
    if fast is not None and _read_by_c(text):
        _refuse_deep_flow(text)
        try:
            return yaml.load(text, Loader=fast)
        except (yaml.YAMLError, UnicodeEncodeError):  # a lone surrogate cannot reach libyaml
            pass  # not valid, or read otherwise: the pure loader says how
    return yaml.load(text, Loader=pure)


def safe_load(text: str) -> Any:
    """Return the YAML document in `text`, as yaml.safe_load does, refusing anchors and aliases."""
    return _load(text, NoAliasLoader, _C_SAFE)


class _Loader(NoAliasLoader):
    """The authors' loader (no anchors or aliases) leaving timestamps as text, so a bad date is reported."""


_Loader.add_constructor(_TIMESTAMP, _timestamp_text)


def load_yaml(text: str) -> object:
    """Return the YAML document in `text`, timestamps kept as strings."""
    return _load(text, _Loader, _C_TEXT)


# What a value PyYAML was reading when it failed is, in the author's words.
_VALUES = {
    "while parsing a flow sequence": "the [ list that starts here is not closed",
    "while parsing a flow mapping": "the { mapping that starts here is not closed",
    "while scanning a quoted scalar": "the quoted text that starts here is not closed",
    "while scanning a simple key": "this key has no ':' after it",
}


def _blamed(err: yaml.YAMLError) -> tuple[Mark | None, bool]:
    """Return (the mark `err` blames, whether it is the start of the value being read)."""
    context = getattr(err, "context", None) or ""
    context_mark = getattr(err, "context_mark", None)
    problem_mark = getattr(err, "problem_mark", None)
    if context.startswith(("while scanning", "while parsing a flow")) and context_mark is not None:
        return context_mark, True
    return problem_mark or context_mark, False


def error_line(err: yaml.YAMLError) -> int | None:
    """Return the 0-based line of the YAML text that `err` blames: the line of the key mistyped.

    PyYAML's problem mark is where it noticed the problem, often a line or more after it: an
    unclosed `[` or quote, or a key without its colon, is found wrong only at the next key or
    at the end. When the error names a value it was reading (a flow list or mapping, a quoted
    or plain scalar, a simple key: its context), that value's start, on the line of the key
    the author mistyped, is the place. A block mapping's context is the whole document's
    start, so there the problem mark is the place. Every YAML error an author is shown takes
    its line from here.
    """
    mark, _ = _blamed(err)
    return None if mark is None else int(mark.line)


def error_problem(err: yaml.YAMLError) -> str:
    """Return what is wrong at error_line, in a few words (PyYAML's, without its marks)."""
    problem = str(getattr(err, "problem", None) or str(err).strip().splitlines()[0] or "not valid YAML")
    _, at_value = _blamed(err)
    value = _VALUES.get(str(getattr(err, "context", "")))
    return f"{value}; {problem}" if at_value and value else problem
