"""Quarto documents (.qmd) read without Quarto: the same notebook Quarto's Jupyter engine runs.

A `.qmd` file is a YAML header and Markdown whose ```` ```{python} ```` fences are code cells.
The fences are found as CommonMark finds them (markdown-it-py), so a fence shown inside a
longer fence (an example of the syntax) stays text. A code cell keeps its `#|` option lines,
exactly as a notebook cell holding the same source: sources.cells reads them for every post.

The header becomes front matter by one table (`_HEADER`): each Quarto key is mapped to
nbpress's key, dropped (the site's theme decides it), or dropped with a warning (the page
would look different in Quarto); a key Quarto does not define is the author's own and is kept
as written, as in any post. The document's `execute:` options (and `code-fold`) are the
default of every code cell that does not set the option itself.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import yaml

from ..errors import SourceError, cell_place
from ..notebook import Cell, Key, Notebook
from ..yamlload import error_line, error_problem, load_yaml
from .cells import QUARTO, _leading_options, _parse_options

if TYPE_CHECKING:
    from markdown_it.token import Token

# Quarto's own test for an executable cell's first line (its breakQuartoMd): a backtick fence
# whose info is `{lang}` or `{lang options}`; `{=html}` is a raw block, `{.python}` shown code.
_CELL_INFO = re.compile(r"\{(?P<lang>[=A-Za-z]+)(?P<rest> *[ ,].*)?\}")
_MOVING_DATES = ("today", "now", "last-modified")
# Cell options nbpress reads (cells.with_tags), and those only a LaTeX or PDF output uses.
_CELL_OPTIONS = {*QUARTO, "label", "fig-cap", "tbl-cap", "tags"}
_PRINT_ONLY = {"fig-env", "fig-pos", "fig-scap", "id"}
# What each cell option means when it is not written (Quarto's defaults for HTML).
_DEFAULTS: dict[str, object] = {
    "echo": True, "output": True, "include": True, "eval": True,
    "error": False, "warning": True, "code-fold": False,
}  # fmt: skip


def read_quarto(text: str, rel: str, warnings: list[str], folder: Path | None = None) -> Notebook:
    """Return the notebook a Quarto document holds; raise SourceError naming the file and line.

    Cell ids, nbformat and UTF-8 are the caller's (formats.read_text_notebook). Problems that
    do not stop the post (options with no equivalent here) are appended to `warnings`. `folder`
    is the document's, where `{{< include >}}` finds its files (None: none is included).
    """
    import nbformat

    lines = text.lstrip("\ufeff").splitlines()
    header, body_start = _header(lines, rel)
    lines[body_start:] = _shortcodes(lines[body_start:], header, folder, (rel, body_start), warnings)
    front, defaults, kernel = _map_header(header, rel, warnings)
    languages = _languages(kernel)
    notebook: Notebook = nbformat.v4.new_notebook()
    notebook.metadata["kernelspec"] = {
        "name": kernel,
        "display_name": kernel,
        "language": "python" if "python" in languages else languages[0],
    }
    dumped = yaml.safe_dump(front, sort_keys=False, allow_unicode=True, default_flow_style=False)
    notebook.cells.append(nbformat.v4.new_raw_cell("---\n" + dumped + "---"))
    body = lines[body_start:]
    tokens = _blocks(body)
    cells = [t for t in tokens if _is_cell(t)]
    hidden, figures = _divs_around_cells(body, tokens, cells, body_start, rel, warnings)
    markdown: list[str] = []

    def flush() -> None:
        block = "\n".join(markdown).strip("\n")
        if block.strip():
            notebook.cells.append(nbformat.v4.new_markdown_cell(block))
        markdown.clear()

    def prose(start: int, end: int) -> None:
        markdown.extend(line for number, line in enumerate(body[start:end], start) if number not in hidden)

    cursor = 0
    for token in cells:
        start, end = token.map or (0, 0)
        info = token.info.strip()
        match = _CELL_INFO.fullmatch(info)
        assert match is not None  # _is_cell
        line = body_start + start + 1
        lang = match.group("lang")
        if lang.startswith("=") and token.level:
            continue  # a raw block inside a list or a quote: left as written, indentation kept
        prose(cursor, start)
        cursor = end
        if lang.startswith("="):
            # A raw block: its HTML is the page's, any other format is not shown on a web page.
            if lang.lower() == "=html":
                markdown.append(token.content.rstrip("\n"))
            continue
        if lang.lower() not in languages:
            # As Quarto's Jupyter engine does, a block in another language is not a cell of the
            # kernel: it is shown as code (Quarto would render {mermaid}, {ojs}, {dot} itself).
            warnings.append(
                f"{rel}, line {line}: a {{{lang}}} block is in another language than the post's kernel "
                f"({kernel}), so it is shown as code and not run; nbpress runs one Jupyter kernel per "
                f"post: make it a {{{languages[0]}}} cell to run it, or a ```{lang} fence to show it."
            )
            opening = body[start]
            at = opening.index(token.markup) + len(token.markup)
            markdown.extend([opening[:at] + lang, *body[start + 1 : end]])
            continue
        if token.level:
            raise SourceError(
                f"line {line}: the {{{lang}}} cell is inside a list or a quote; "
                "move it out to the start of a line.",
                path=rel,
            )
        if match.group("rest") and match.group("rest").strip(" ,"):
            warnings.append(
                f"{rel}, line {line}: the options in ```{info} are not read here; "
                "write them as '#| key: value' lines at the top of the cell."
            )
        flush()
        cell = nbformat.v4.new_code_cell(token.content.rstrip("\n"))
        _apply_defaults(cell, defaults, (rel, len(notebook.cells) + 1, line), warnings)
        cell.metadata.update({k: v for k, v in figures.get(start, {}).items() if v})
        notebook.cells.append(cell)
    prose(cursor, len(body))
    flush()
    return notebook


# --- Shortcodes -----------------------------------------------------------------------------

# `{{< name args >}}` outside code; `{{</* name */>}}` is Quarto's way to show one as written.
_SHORTCODE = re.compile(r"\{\{<\s*(?P<name>[\w-]+)(?P<args>(?:[^>]|>(?!\}\}))*?)\s*>\}\}")
_ESCAPED = re.compile(r"\{\{</\*(?P<inner>.*?)\*/>\}\}")
_CODE_SPAN = re.compile(r"(`+)[\s\S]*?(?<!`)\1(?!`)")
_PRINT_SHORTCODES = ("pagebreak",)  # a printed page's, nothing on a web page
_INCLUDE_DEPTH = 8


def _shortcodes(
    body: list[str],
    header: dict[str, object],
    folder: Path | None,
    where: tuple[str, int],
    warnings: list[str],
    depth: int = 0,
) -> list[str]:
    """Return the body's lines with Quarto's shortcodes (outside code) replaced by what they show.

    `include` puts the named file of the document's folder in its place (its shortcodes too);
    `meta` the header's value; `kbd` the keys; `pagebreak` nothing. Any other is left out with a
    warning naming the file, line and shortcode: its syntax is never shown on the page.
    """
    if not any("{{<" in line for line in body):
        return body
    rel, offset = where
    code: set[int] = set()
    for token in _blocks(body):
        raw = token.type == "fence" and token.info.strip().startswith("{=")  # passed on, shortcodes read
        if token.type in ("fence", "code_block") and token.map and not raw:
            code.update(range(*token.map))
    out: list[str] = []
    for number, line in enumerate(body):
        if "{{<" not in line:
            out.append(line)
            continue
        if number in code:  # shown as written, but for Quarto's escape
            out.append(_ESCAPED.sub(lambda m: "{{<" + m.group("inner") + ">}}", line))
            continue
        place = f"{rel}, line {offset + number + 1}"
        alone = _SHORTCODE.fullmatch(line.strip())
        if alone and alone.group("name") == "include":
            out += _include(alone.group("args"), header, folder, place, warnings, depth)
            continue
        pieces, last = [], 0
        for span in _CODE_SPAN.finditer(line):
            pieces.append(_inline_shortcodes(line[last : span.start()], header, place, warnings))
            pieces.append(_ESCAPED.sub(lambda m: "{{<" + m.group("inner") + ">}}", span.group(0)))
            last = span.end()
        pieces.append(_inline_shortcodes(line[last:], header, place, warnings))
        out.append("".join(pieces))
    return out


def _include(
    args: str, header: dict[str, object], folder: Path | None, place: str, warnings: list[str], depth: int
) -> list[str]:
    """Return the lines of the file an include names, inside the document's folder (else a warning)."""
    name = args.strip().strip("\"'")
    found = None
    if folder is not None and name and depth < _INCLUDE_DEPTH:
        target = (folder / name).resolve()
        if target.is_relative_to(folder.resolve()) and target.is_file():
            found = target
    if found is None:
        warnings.append(
            f"{place}: {{{{< include {name} >}}}} names no file in the document's folder, so it is "
            "left out; copy the file next to the document."
        )
        return []
    try:
        text = found.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        warnings.append(f"{place}: {{{{< include {name} >}}}} is not UTF-8 text, so it is left out.")
        return []
    return _shortcodes(text.splitlines(), header, found.parent, (name, 0), warnings, depth + 1)


def _inline_shortcodes(text: str, header: dict[str, object], place: str, warnings: list[str]) -> str:
    """Return prose with its shortcodes replaced (meta, kbd) or left out with a warning."""
    import html

    def one(match: re.Match[str]) -> str:
        name, args = match.group("name"), match.group("args").split()
        plain = [a.strip("\"'") for a in args if "=" not in a]
        if name == "meta" and plain:
            value: object = header
            for key in plain[0].split("."):
                value = value.get(key) if isinstance(value, dict) else None
            if isinstance(value, (str, int, float)) and not isinstance(value, bool):
                return html.escape(str(value), quote=False)
        elif name == "kbd" and plain:
            return "<kbd>" + html.escape(" ".join(plain), quote=False) + "</kbd>"
        elif name in _PRINT_SHORTCODES:
            return ""
        warnings.append(
            f"{place}: the Quarto shortcode {{{{< {name} >}}}} is not supported here, so it is left out."
        )
        return ""

    text = _SHORTCODE.sub(one, text)
    return _ESCAPED.sub(lambda m: "{{<" + m.group("inner") + ">}}", text)


def _blocks(body: list[str]) -> list[Token]:
    """Return the block tokens of `body` that have lines, as CommonMark reads the document."""
    from markdown_it import MarkdownIt

    return [t for t in MarkdownIt("commonmark").parse("\n".join(body)) if t.map is not None]


def _is_cell(token: Token) -> bool:
    """Return True if `token` is what Quarto runs or passes on raw: ```{lang} or ```{=format}."""
    return (
        token.type == "fence"
        and token.markup.startswith("`")
        and _CELL_INFO.fullmatch(token.info.strip()) is not None
    )


_DIV_OPEN = re.compile(r"^ {0,3}(?P<fence>:{3,})\s*(?P<attrs>\{[^}]*\}|[\w.-]+)\s*:*\s*$")
_DIV_CLOSE = re.compile(r"^ {0,3}:{3,}\s*$")
_FIGURE_DIV = re.compile(r"\{\s*#(?P<label>(?:fig|tbl)-[\w-]+)\s*\}")


def _divs_around_cells(
    body: list[str], tokens: list[Token], cells: list[Token], offset: int, rel: str, warnings: list[str]
) -> tuple[set[int], dict[int, dict[str, str]]]:
    """Return (the lines of the Pandoc divs that hold a cell, to leave out; {cell's line: metadata}).

    A post's cells follow one another: a block (a callout, a tab set, columns) cannot hold a
    code cell. Its fences are dropped, with a warning, so its content is shown in order and no
    unclosed `:::` is left on the page. A figure or table div (`::: {#fig-x}`) around one cell
    is what `#| label:` and `#| fig-cap:` say: its label and its last lines (the caption, as
    Quarto reads it) become the cell's. Lines inside code are never fences.
    """
    code: set[int] = set()
    for token in tokens:
        if token.type in ("fence", "code_block", "html_block"):
            start, end = token.map or (0, 0)
            code.update(range(start, end))
    spans = [t.map or (0, 0) for t in cells if not t.info.strip().startswith("{=")]
    stack: list[tuple[int, str]] = []
    hidden: set[int] = set()
    figures: dict[int, dict[str, str]] = {}
    for number, line in enumerate(body):
        if number in code:
            continue
        opened = _DIV_OPEN.match(line)
        if opened:
            stack.append((number, opened.group("attrs")))
            continue
        if not (_DIV_CLOSE.match(line) and stack):
            continue
        first, attrs = stack.pop()
        inside = [(start, end) for start, end in spans if first < start < number]
        if not inside:
            continue
        hidden.update((first, number))
        label = _FIGURE_DIV.fullmatch(attrs)
        if label and len(inside) == 1:
            start, end = inside[0]
            caption = [body[i].strip() for i in range(end, number) if body[i].strip()]
            hidden.update(range(end, number))
            figures[start] = {"label": label.group("label"), "caption": " ".join(caption)}
            continue
        warnings.append(
            f"{rel}, line {first + offset + 1}: the block ::: {attrs} holds a code cell, and "
            "a cell cannot be inside a block here, so its content is shown without the block."
        )
    return hidden, figures


def _header(lines: list[str], rel: str) -> tuple[dict[str, object], int]:
    """Return (the YAML header's mapping, the index of the first line after it)."""
    if not lines or lines[0].rstrip() != "---":
        raise SourceError(
            "a Quarto document must start with a YAML header between '---' lines "
            "holding at least title and date.",
            path=rel,
        )
    end = next((i for i, line in enumerate(lines[1:], 1) if line.rstrip() in ("---", "...")), None)
    if end is None:
        raise SourceError("the YAML header does not end with a '---' line.", path=rel)
    try:
        data = load_yaml("\n".join(lines[1:end]))
    except yaml.YAMLError as err:
        line = error_line(err)
        at = f" at line {line + 2}" if line is not None else ""
        problem = error_problem(err)
        raise SourceError(f"the YAML header is broken{at} ({problem}); fix it.", path=rel) from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise SourceError(
            f"line 2: the YAML header must be a mapping of keys to values (title: ..., date: ...), "
            f"not {type(data).__name__}.",
            path=rel,
        )
    return data, end + 1


# --- The header ---------------------------------------------------------------------------

Mapper = Callable[[object, dict[str, object]], None]


def _same(key: str) -> Mapper:
    def put(value: object, front: dict[str, object]) -> None:
        front[key] = value

    return put


def _date(value: object, front: dict[str, object]) -> None:
    if isinstance(value, str) and value.strip().lower() in _MOVING_DATES:
        raise SourceError(
            f"date: {value.strip()} changes with every build, and a post needs a fixed date; "
            "write date: YYYY-MM-DD."
        )
    front["date"] = _quarto_date(value) if isinstance(value, str) else value


# The forms Quarto reads a date in (its date reference, in its order), then a month named in
# words ("March 22nd, 2021", "22 Mar 2021"), which Quarto infers. Read with the C locale's names.
_DATE_FORMS = ("%m/%d/%Y", "%m-%d-%Y", "%m/%d/%y", "%m-%d-%y", "%Y-%m-%d", "%d %m %Y", "%m %d, %Y")
_NAMED_FORMS = ("%B %d, %Y", "%B %d %Y", "%d %B %Y", "%d %B, %Y")
_ORDINAL = re.compile(r"(?<=\d)(?:st|nd|rd|th)\b", re.I)


def _quarto_date(value: str) -> dt.date | dt.datetime | str:
    """Return the day a Quarto date names, or `value` as written if it names none (front matter says so)."""
    text = " ".join(value.split())
    for form in _DATE_FORMS:
        try:
            return dt.datetime.strptime(text, form).date()
        except ValueError:
            pass
    try:
        return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        pass
    named = _ORDINAL.sub("", text.replace(".", ""))
    for form in _NAMED_FORMS:
        for month in ("%B", "%b"):
            try:
                return dt.datetime.strptime(named, form.replace("%B", month)).date()
            except ValueError:
                pass
    return value


def _author_name(value: object) -> str | None:
    """Return the name Quarto shows for one author: a string, or {name: ...} in its forms."""
    name = value
    if isinstance(value, dict):
        name = value.get("name", value.get("literal"))
        if isinstance(name, dict):
            parts = [name.get("given"), name.get("family")]
            name = name.get("literal") or " ".join(str(p) for p in parts if isinstance(p, str) and p)
    if name is None or name == "":
        return None
    if not isinstance(name, (str, int, float)) or isinstance(name, bool):
        raise SourceError(
            "author must be a name, a list of names, or a list of {name: ...} entries; fix the header."
        )
    return str(name)


def _author(value: object, front: dict[str, object]) -> None:
    values = value if isinstance(value, list) else [value]
    names = [n for n in (_author_name(v) for v in values) if n is not None]
    if names:
        front["author"] = names[0] if len(names) == 1 else names


def _abstract(value: object, front: dict[str, object]) -> None:
    front.setdefault("description", value)


def _drop(value: object, front: dict[str, object]) -> None:
    """A key the blog's theme decides (a table of contents, a theme, an editor's setting)."""


# Keys Quarto shows on the page in a way this blog does not: dropped with a warning.
_SHOWN = (
    "number-sections", "number-depth", "crossref", "csl", "filters", "lightbox", "citation",
    "license", "copyright", "funding", "affiliations", "google-scholar", "appendix-style",
    "include-in-header", "include-before-body", "include-after-body", "shortcodes",
    "title-block-banner", "abstract-title", "keywords", "comments",
)  # fmt: skip
# Quarto's keys for the output format, the engine and the editor: dropped quietly.
_QUIET = (
    "format", "editor", "editor_options", "engine", "toc", "toc-depth", "toc-title",
    "toc-location", "toc-expand", "theme", "css", "highlight-style", "lang", "page-layout",
    "title-block-style", "date-format", "anchor-sections", "smooth-scroll", "fig-width",
    "fig-height", "fig-format", "fig-dpi", "fig-responsive", "code-tools", "code-summary",
    "code-overflow", "code-line-numbers", "code-copy", "self-contained", "embed-resources",
    "keep-ipynb", "keep-md", "freeze", "cache", "reference-location", "citation-location",
    "link-citations", "execute-dir", "pagetitle", "resources", "knitr", "date-modified",
)  # fmt: skip
_HEADER: dict[str, Mapper] = {
    "title": _same("title"),
    "subtitle": _same("subtitle"),
    "date": _date,
    "author": _author,
    "authors": _author,
    "categories": _same("categories"),
    "description": _same("description"),
    "abstract": _abstract,
    "bibliography": _same("bibliography"),
    "draft": _same("draft"),
    "image": _same("image"),
    **{key: _drop for key in _QUIET},
}


def _map_header(
    header: dict[str, object], rel: str, warnings: list[str]
) -> tuple[dict[str, object], dict[str, object], str]:
    """Return (front matter, the cells' default options, the kernel's name) of a Quarto header."""
    front: dict[str, object] = {}
    for key, value in header.items():
        name = str(key)
        if name in ("jupyter", "execute", "code-fold"):
            continue
        if name in _SHOWN:
            warnings.append(
                f"{rel}: the Quarto header key {name!r} has no equivalent in this blog, so it is dropped."
            )
        elif name in _HEADER:
            try:
                _HEADER[name](value, front)
            except SourceError as err:
                raise err.at(rel) from None
        else:
            front[name] = value  # the author's own key, as in any post's front matter
    execute = header.get("execute")
    defaults: dict[str, object] = {}
    if isinstance(execute, dict):
        for key, value in execute.items():
            if key in QUARTO:
                defaults[str(key)] = value
            elif key == "enabled" and value is False:
                warnings.append(
                    f"{rel}: 'execute: enabled: false' is not followed here: every post is run "
                    "when it is built; mark single cells '#| eval: false' instead."
                )
    elif execute is not None:
        raise SourceError("the header's execute: must be a mapping of cell options.", path=rel)
    fold = _format_html(header).get("code-fold", header.get("code-fold"))
    if fold is not None:
        defaults["code-fold"] = fold
    return front, defaults, _kernel(header.get("jupyter"), rel)


def _format_html(header: dict[str, object]) -> dict[object, object]:
    """Return the header's `format: html:` options (empty when there are none)."""
    fmt = header.get("format")
    html = fmt.get("html") if isinstance(fmt, dict) else None
    return html if isinstance(html, dict) else {}


def _kernel(value: object, rel: str) -> str:
    """Return the kernel `jupyter:` names (`python3`, or its `kernelspec:` mapping's name)."""
    if value is None:
        return "python3"
    if isinstance(value, dict):
        spec = value.get("kernelspec")
        value = spec.get("name") if isinstance(spec, dict) else None
    if not isinstance(value, str) or not value.strip():
        raise SourceError("the header's jupyter: must name a kernel (jupyter: python3); fix it.", path=rel)
    return value.strip()


def _languages(kernel: str) -> list[str]:
    """Return the cell languages the kernel runs: python for a Python kernel, else its name's."""
    if kernel.lower().startswith(("python", "ipython")):
        return ["python"]
    leading = re.match(r"[A-Za-z]+", kernel)
    return [leading.group().lower() if leading else kernel.lower()]


# --- The cells ----------------------------------------------------------------------------


def _apply_defaults(
    cell: Cell, defaults: dict[str, object], place: tuple[str, int, int], warnings: list[str]
) -> None:
    """Tag `cell` for each header option its own `#|` lines do not set; warn about the others.

    `place` is (the file, the cell's number, its first line in the file), as warnings name it.
    """
    rel, number, line = place
    _, option_lines, _ = _leading_options(cell.source)
    options = _parse_options(option_lines, rel, number)
    for key, value in options.items():
        name = str(key)
        if name in _PRINT_ONLY:
            continue
        supported = name in _CELL_OPTIONS and (
            name not in QUARTO or value == _DEFAULTS.get(name) or value in QUARTO[name]
        )
        if not supported:
            warnings.append(
                f"{cell_place(rel, number)} (line {line}): the Quarto cell option '{name}: {value}' "
                "is not supported here, so it is ignored."
            )
    tags: list[str] = []
    for key, value in defaults.items():
        table = QUARTO.get(key, {})
        if key not in options and isinstance(value, (bool, str)) and value in table:
            tags.extend(table[value])
    if tags:
        cell.metadata["tags"] = tags
    if "code-fold" not in options and defaults.get("code-fold") == "show":
        cell.metadata[Key.OPEN] = ["input"]
