"""Cell tags and options: Jupyter Book's tag names, fastpages' comment flags, Quarto's `#|` options.

Every spelling is turned into Jupyter Book's tags in the notebook nbpress runs (`with_tags`,
posts.Post.notebook; the notebook as read stays as written), so the execution key, nbclient
(`skip-execution`, `raises-exception`) and the renderer see one vocabulary. What only changes
the Markdown (option lines hidden from the shown code, collapsible blocks, stderr) is applied
to the cleaned notebook by `apply_display`.
"""

from __future__ import annotations

import difflib
import re

import yaml

from ..errors import SourceError, cell_place
from ..notebook import Cell, Key, Notebook, outputs_of
from ..yamlload import error_problem, safe_load

# fastpages (and nbdev) comment flags -> (tags, parts shown open).
FLAGS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "hide": (("remove-cell",), ()),
    "hide_input": (("remove-input",), ()),
    "hide_output": (("remove-output",), ()),
    "collapse": (("hide-input",), ()),
    "collapse-hide": (("hide-input",), ()),
    "collapse_hide": (("hide-input",), ()),
    "collapse-show": (("hide-input",), ("input",)),
    "collapse_show": (("hide-input",), ("input",)),
    "collapse-output": (("hide-output",), ()),
    "collapse_output": (("hide-output",), ()),
}
# Quarto cell options -> {value: tags}.
QUARTO: dict[str, dict[bool | str, tuple[str, ...]]] = {
    "echo": {False: ("remove-input",)},
    "output": {False: ("remove-output",)},
    "include": {False: ("remove-cell",)},
    "eval": {False: ("skip-execution",)},
    "error": {True: ("raises-exception",)},
    "warning": {False: ("remove-stderr",)},
    "code-fold": {True: ("hide-input",), "show": ("hide-input",)},
}
# Jupyter Book's tags that act on a code cell: its run, its input, its outputs. On a Markdown or
# raw cell they do nothing (remove-cell acts on any cell), which an author who counted the cells
# of an error message differently from it would never see.
CODE_TAGS = frozenset(
    {
        "raises-exception",
        "skip-execution",
        "remove-input",
        "remove-output",
        "remove-stderr",
        "remove-stdout",
        "hide-input",
        "hide-output",
    }
)
_FLAG_LINE = re.compile(r"^#\s*\|?\s*([A-Za-z][\w-]*)\s*$")
_OPTION_LINE = re.compile(r"^#\|\s?(.*)$")


def _leading_options(source: str) -> tuple[list[str], list[str], int]:
    """Return (flag words, `#|` YAML lines, number of leading lines they take) of a code cell."""
    flags: list[str] = []
    options: list[str] = []
    count = 0
    for line in source.splitlines():
        stripped = line.strip()
        flag = _FLAG_LINE.match(stripped)
        option = _OPTION_LINE.match(stripped)
        if flag and flag.group(1) in FLAGS:
            flags.append(flag.group(1))
        elif option and ":" in option.group(1):
            options.append(option.group(1))
        else:
            break
        count += 1
    return flags, options, count


# Every tag nbpress acts on; a tag close to one of these but not it is most likely a misspelling
# (Jupyter Book 0.6's underscores, a plural, another case), which would do nothing, silently.
KNOWN_TAGS = CODE_TAGS | {"remove-cell", "hide-cell"}


def tag_warnings(notebook: Notebook, rel: str) -> list[str]:
    """Return a warning for each tag that does nothing: misspelled, or a code tag on another cell.

    `notebook` is the one `with_tags` returns, so the tags every spelling gives (metadata,
    MyST's `:tags:`, Quarto's `#| tags:`, fastpages flags) are checked alike.
    """
    warnings = []
    code = None  # the number (from 1) of the last code cell seen
    for number, cell in enumerate(notebook.cells, start=1):
        tags = cell.metadata.get("tags")
        tags = [str(tag) for tag in tags] if isinstance(tags, list) else []
        for tag in sorted(set(tags) - KNOWN_TAGS):
            close = difflib.get_close_matches(tag.lower(), KNOWN_TAGS, n=1, cutoff=0.8)
            if close and close[0] not in tags:
                warnings.append(
                    f"{cell_place(rel, number)}: the tag '{tag}' is not one nbpress knows, so it does "
                    f"nothing; did you mean '{close[0]}'?"
                )
        if cell.cell_type == "code":
            code = number
            continue
        for tag in sorted(set(tags) & CODE_TAGS):
            near = f" (the code cell before it is cell {code})" if code is not None else ""
            warnings.append(
                f"{cell_place(rel, number)}: the tag '{tag}' is on a {cell.cell_type} cell, where it does "
                f"nothing; move it to the code cell it is meant for{near}."
            )
    return warnings


def with_tags(notebook: Notebook, rel: str) -> Notebook:
    """Return `notebook` with Jupyter Book tags for each code cell's fastpages flags and Quarto options.

    `notebook` is left as it is: a cell with options is copied (its metadata anew), the others
    are shared. Raises SourceError naming the cell when its `#|` options are not valid YAML.
    """
    import copy

    cells = []
    for index, cell in enumerate(notebook.cells):
        code = cell.cell_type == "code"
        flags, option_lines, count = _leading_options(cell.source) if code else ([], [], 0)
        if count:
            cell = copy.copy(cell)
            cell.metadata = copy.deepcopy(cell.metadata)
            _add_tags(cell, flags, _parse_options(option_lines, rel, index + 1), count)
        cells.append(cell)
    tagged = copy.copy(notebook)
    tagged.cells = cells
    return tagged


def _add_tags(cell: Cell, flags: list[str], options: dict[str, object], count: int) -> None:
    """Add the tags, caption, label and shown parts a cell's flags and options say, in place."""
    tags: list[str] = []
    shown_open: list[str] = []
    for flag in flags:
        tags.extend(FLAGS[flag][0])
        shown_open.extend(FLAGS[flag][1])
    for key, table in QUARTO.items():
        value = options.get(key)
        if isinstance(value, (bool, str)) and value in table:
            tags.extend(table[value])
    if options.get("code-fold") == "show":
        shown_open.append("input")
    extra = options.get("tags")
    tags.extend(str(t) for t in (extra if isinstance(extra, list) else [extra] if extra else []))
    for key in ("fig-cap", "tbl-cap"):
        if isinstance(options.get(key), str):
            cell.metadata.setdefault("caption", options[key])
    if isinstance(options.get("label"), str):
        cell.metadata.setdefault("label", options["label"])
    existing = list(cell.metadata.get("tags", []))
    cell.metadata["tags"] = existing + [t for t in dict.fromkeys(tags) if t not in existing]
    cell.metadata[Key.OPTION_LINES] = count
    if shown_open:
        cell.metadata[Key.OPEN] = sorted(set(shown_open))


def _parse_options(lines: list[str], rel: str, cell_number: int) -> dict[str, object]:
    if not lines:
        return {}
    try:
        data = safe_load("\n".join(lines))
    except yaml.YAMLError as err:
        raise SourceError(
            f"{cell_place(rel, cell_number)}: the '#|' cell options are not valid YAML "
            f"({error_problem(err)}); write them as '#| key: value'."
        ) from None
    return data if isinstance(data, dict) else {}


def apply_display(notebook: Notebook, stderr: str, rel: str) -> list[str]:
    """Apply the display-only tags and the post's `stderr` mode to a cleaned notebook, in place.

    Returns one warning per visible cell that wrote to stderr when `stderr` is "warn".
    """
    warnings: list[str] = []
    for index, cell in enumerate(notebook.cells):
        if cell.cell_type != "code" or cell.metadata.get(Key.REMOVE):
            continue
        tags = set(cell.metadata.get("tags", []))
        count = cell.metadata.get(Key.OPTION_LINES, 0)
        if count:
            # As Quarto shows it: the blank lines that set the options apart go with them.
            cell.source = "\n".join(cell.source.splitlines()[count:]).lstrip("\n")
        if "remove-input" in tags:
            # Where nbconvert's templates look for it.
            cell.metadata.setdefault("transient", {})["remove_source"] = True
        is_open = "input" in cell.metadata.get(Key.OPEN, [])
        if tags & {"hide-input", "hide-cell"}:
            cell.metadata[Key.FOLD_INPUT] = "open" if is_open else "closed"
        if tags & {"hide-output", "hide-cell"} and outputs_of(cell):
            cell.metadata[Key.FOLD_OUTPUT] = "closed"
        dropped = {
            name for name, tag in (("stderr", "remove-stderr"), ("stdout", "remove-stdout")) if tag in tags
        }
        if stderr == "remove":
            dropped.add("stderr")
        outputs = [
            o for o in outputs_of(cell) if not (o.get("output_type") == "stream" and o.get("name") in dropped)
        ]
        cell.outputs = outputs
        if stderr == "warn":
            for output in outputs:
                if output.get("output_type") == "stream" and output.get("name") == "stderr":
                    first = next((x for x in str(output.get("text", "")).splitlines() if x.strip()), "")
                    warnings.append(
                        f"{cell_place(rel, index + 1)} wrote to stderr: {first.strip()[:120]} "
                        "(tag it remove-stderr, or set stderr: remove or show)"
                    )
                    break
    return warnings
