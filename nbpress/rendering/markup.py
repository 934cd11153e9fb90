"""Quarto and Jupyter Book writing: captions, cross-references and citations.

Each step rewrites a cleaned notebook in place before nbconvert renders it, so the
Markdown that comes out is plain Material for MkDocs:

- `figures`: numbered captions ("Figure 2: ...") and anchors for figures whose cell gives a
  caption or a label (Quarto `#| label: fig-x` + `#| fig-cap:`, myst-nb's `mystnb.figure`
  metadata, the `caption` and `label` cell metadata), and each figure's pixel size.
- (MyST directives and Quarto callouts were turned into the site's Markdown before, by
  nbpress.rendering.directives: a `{figure}` is Quarto's `![caption](path){#name}` here.)
- `references`: MyST targets `(label)=` become anchors (the id of the heading they precede,
  else an empty `<span id>`); labelled equations (`$$ ... $$ {#eq-x}`, MyST `$$ ... $$ (eq-x)`)
  and tables (`: Caption {#tbl-x}`, `#| label: tbl-x`) are numbered; `@fig-x`, `{numref}`,
  `{ref}`, `{eq}` and MyST's `[text](label)` become links through one resolution step
  (_reference): a label of this post, else of another post (the blog's label index, read from
  the posts' sources: other_labels), whose page the links step then checks as any link;
  `{doc}` and `{download}` link to a post and a file; `[@key]`, `@key` and `{cite}` become
  citations formatted by citeproc-py from the post's BibTeX file, with a References section.

Syntax counts only outside code, as the site reads the cell (nbpress.rendering.mdtokens): a
post may show any of it in a fence or a code span. What cannot be resolved (a label, a key,
a post, a file) keeps its text and warns (nbpress.rendering.unresolved, the one policy); what
the author must fix (a label used twice, an unreadable BibTeX entry) is a RenderError naming
the file, the cell (counted from 1) and what to do.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import html
import io
import re
import secrets
import types
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

from ..errors import NbpressError, RenderError, cell_place
from ..notebook import FIGURE_TYPES, Cell, Key, Notebook, outputs_of, text_of
from ..sources import Post
from . import directives, mdtokens
from .figures import png_size
from .sanitize import caption_html, remote_problem, sanitize_html
from .shown import source_copy
from .unresolved import unresolved

BIBLIOGRAPHY_NAME = "references.bib"
CSL_STYLE = "harvard-cite-them-right"  # bundled with citeproc-py
KIND_NAMES = {"fig": "Figure", "tbl": "Table", "eq": "Equation"}


# -- figures -------------------------------------------------------------------------------


def _image_size(mime: str, data: object) -> tuple[int, int] | None:
    """Return (width, height) in pixels read from an image's bytes, or None if unknown."""
    try:
        if mime == "image/svg+xml":
            return _svg_size(text_of(data))
        raw = base64.b64decode(text_of(data))
    except (binascii.Error, ValueError):
        return None
    size = png_size(raw)
    if size is not None:
        return size
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(raw)) as image:
            return int(image.width), int(image.height)
    except (UnidentifiedImageError, OSError, ValueError):
        return None


_SVG_TAG = re.compile(r"<svg\b[^>]*>", re.S)
_SVG_ATTR = re.compile(r"""\b(width|height|viewBox)\s*=\s*["']([^"']*)["']""")
_SVG_LENGTH = re.compile(r"^\s*([\d.]+)\s*(px|pt)?\s*$")


def _svg_size(text: str) -> tuple[int, int] | None:
    tag = _SVG_TAG.search(text)
    if not tag:
        return None
    attrs = dict(_SVG_ATTR.findall(tag.group(0)))
    box = attrs.get("viewBox", "").replace(",", " ").split()
    if len(box) == 4:
        try:
            width, height = float(box[2]), float(box[3])
        except ValueError:
            width = height = 0.0
        if width > 0 and height > 0:
            return round(width), round(height)
    sizes = [_SVG_LENGTH.match(attrs.get(k, "")) for k in ("width", "height")]
    if sizes[0] and sizes[1]:
        # matplotlib writes points; a CSS pixel is 3/4 of a point.
        scale = [4 / 3 if m.group(2) == "pt" else 1.0 for m in sizes if m]
        return round(float(sizes[0].group(1)) * scale[0]), round(float(sizes[1].group(1)) * scale[1])
    return None


def _cell_caption_label(cell: Cell) -> tuple[str, str]:
    """Return (caption, label) of a code cell from its metadata (Quarto options land there too)."""
    meta = cell.metadata
    caption = meta.get("caption")
    label = meta.get("label")
    for key in ("mystnb", "myst"):
        figure = meta.get(key, {}).get("figure") if isinstance(meta.get(key), dict) else None
        if isinstance(figure, dict):
            caption = caption if caption else figure.get("caption")
            label = label if label else figure.get("name")
    return (caption if isinstance(caption, str) else "", label if isinstance(label, str) else "")


MARKUP_METADATA = ("caption", "label", "mystnb", "myst")


def copy_mystnb_captions(nb: Notebook) -> None:
    """Copy myst-nb's figure caption and name into the `caption` and `label` cell metadata."""
    for cell in nb.cells:
        if cell.cell_type == "code":
            caption, label = _cell_caption_label(cell)
            if caption:
                cell.metadata["caption"] = caption
            if label:
                cell.metadata["label"] = label


def _figure_or_table_label(cell: Cell, label: str) -> bool:
    """Return True if `label` names the cell's figure or table: fig-/tbl-, or a myst-nb figure name."""
    if label.startswith(("fig-", "tbl-")):
        return True
    meta = cell.metadata
    return any(
        isinstance(meta.get(k), dict) and isinstance(meta[k].get("figure"), dict) for k in ("mystnb", "myst")
    )


# -- the label table ------------------------------------------------------------------------


@dataclass
class Target:
    """Something a cross-reference can point at."""

    kind: str  # fig, tbl, eq; sec for a MyST target `(label)=`
    number: int
    anchor: str
    caption: str = ""  # a target's: the text of the heading it precedes, else its label

    @property
    def name(self) -> str:
        if self.kind not in KIND_NAMES:
            return self.caption
        return f"{KIND_NAMES[self.kind]} {self.number}"

    def term(self) -> list[str]:
        """Return what decides how a reference to it renders (for the render key)."""
        return [self.kind, str(self.number), self.anchor, self.caption]


@dataclass
class _State:
    rel: str
    targets: dict[str, Target] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    post: Post | None = None  # the post rendered: references to other posts' labels resolve from it
    title: str = ""  # its title: a target before the title heading marks the page's top

    def unresolved(self, cell: int, what: str, problem: str, fix: str) -> None:
        """Warn for a reference that cannot be resolved (links.unresolved: the one policy)."""
        self.warnings.append(unresolved(cell_place(self.rel, cell), what, problem, fix))

    def caption(self, text: str, cell: int) -> str:
        """Return a cell's caption option as sanitized HTML, warning for what it could not keep."""
        remote: list[str] = []
        html = caption_html(text, remote)
        self.warnings += [
            f"{cell_place(self.rel, cell)}: the caption's {remote_problem(url)}." for url in remote
        ]
        return html

    def add(self, kind: str, label: str, caption: str, cell: int) -> Target:
        if label and label in self.targets:
            raise RenderError(
                f"{cell_place(self.rel, cell)}: the label {label!r} is used twice; "
                "give each target its own label."
            )
        self.counts[kind] = self.counts.get(kind, 0) + 1
        number = self.counts[kind] if kind in KIND_NAMES else 0
        target = Target(kind, number, _anchor(label) if label else "", caption)
        if label:
            self.targets[label] = target
        return target


def _anchor(label: str) -> str:
    return re.sub(r"[^\w-]", "-", label)


# A display equation's body never holds $$, so a label binds to the block just before it.
_EQ_BODY = r"\$\$(?P<body>(?:(?!\$\$).)+?)\$\$[ \t]*"
_EQ_QUARTO = re.compile(_EQ_BODY + r"\{#(?P<label>eq-[\w-]+)\}", re.S)
_EQ_MYST = re.compile(_EQ_BODY + r"\((?P<label>[A-Za-z][\w-]*)\)", re.S)
# A labelled image in a Markdown cell: Quarto's ![Caption](path){#fig-x}.
# (A MyST {figure} becomes one too, marked .myst-figure: its name needs no fig- prefix.)
_MD_FIGURE = re.compile(
    r"!\[(?P<caption>[^\]\n]*)\]\((?P<src>[^)\s]+)\)\{#(?P<label>[\w-]+)(?P<attrs>[^}]*)\}"
)
_MYST_MARK = ".myst-figure"


def _is_md_figure(match: re.Match[str]) -> bool:
    return match.group("label").startswith("fig-") or _MYST_MARK in match.group("attrs")


_TABLE_CAPTION = re.compile(r"^:[ \t]+(?P<caption>.+?)[ \t]*\{#(?P<label>tbl-[\w-]+)\}[ \t]*$", re.M)


def _found(pattern: re.Pattern[str], source: str) -> list[re.Match[str]]:
    """Return the matches of `pattern` in a Markdown cell that are syntax: neither end in code."""
    reading = mdtokens.read(source)
    return [m for m in pattern.finditer(source) if reading.outside(m.start(), m.end())]


def _sub(pattern: re.Pattern[str], repl: Callable[[re.Match[str]], str], source: str) -> str:
    """Return a Markdown cell with the matches of `pattern` that are syntax (_found) replaced."""
    reading = mdtokens.read(source)
    return pattern.sub(lambda m: repl(m) if reading.outside(m.start(), m.end()) else m.group(0), source)


# MyST's target: `(label)=` on a line of its own, before the block it names.
_TARGET = re.compile(r"^(?P<indent>[ \t>]*)\((?P<label>[^()\s]+)\)=[ \t]*$")
_ATX_HEADING = re.compile(r"^(?P<indent>[ \t>]*)(?P<hashes>#{1,6})[ \t]+(?P<text>.*?)[ \t]*$")
_HEADING_ATTRS = re.compile(r"[ \t]*\{:?(?P<attrs>[^}]*)\}[ \t]*$")


def _place_targets(source: str, title: str) -> tuple[str, list[tuple[str, str]]]:
    """Return (a Markdown cell with its MyST targets as anchors, [(label, text)] in order).

    A target (outside code, math and HTML) before a heading becomes the heading's id
    (`{#anchor}`, its text the reference's text, as Sphinx names it); before the title heading,
    which the page shows as its title, an empty anchor just after it; before anything else an
    empty anchor (`<span id>`), its label the reference's text. Its line never reaches the page.
    """
    if "(" not in source or ")=" not in source:
        return source, []
    reading = mdtokens.read(source)
    closed = reading.lines((mdtokens.CODE, mdtokens.MATH, mdtokens.HTML))
    lines = source.split("\n")
    found: list[tuple[str, str]] = []
    out: list[str] = []
    after: dict[int, str] = {}  # line index -> anchor to put after it (the title heading)
    for i, line in enumerate(lines):
        target = None if i in closed else _TARGET.match(line)
        if target is None:
            out.append(line)
            if i in after:
                out.append(after.pop(i))
            continue
        label, indent = target.group("label"), target.group("indent")
        anchor = _anchor(label)
        span = f'{indent}<span id="{anchor}"></span>'
        j = next((k for k in range(i + 1, len(lines)) if lines[k].strip()), len(lines))
        heading = _ATX_HEADING.match(lines[j]) if j < len(lines) and j not in closed else None
        if heading is None:
            found.append((label, label))
            out += [span, indent.rstrip()] if j == i + 1 else [span]
            continue
        text = heading.group("text").rstrip("#").rstrip()
        attrs = _HEADING_ATTRS.search(text)
        plain = text[: attrs.start()] if attrs else text
        found.append((label, plain.strip()))
        if len(heading.group("hashes")) == 1 and plain.strip() == title.strip() and title.strip():
            after[j] = span  # the title heading: shown as the page's title, without its line
        elif attrs is None:
            lines[j] = f"{lines[j].rstrip()} {{#{anchor}}}"
        elif "#" not in attrs.group("attrs"):
            inner = attrs.group("attrs").strip()
            lines[j] = (
                f"{heading.group('indent')}{heading.group('hashes')} {plain.rstrip()} {{#{anchor} {inner}}}"
            )
        else:
            out.append(span)  # the heading has its own id already
    return "\n".join(out), found


def _collect(nb: Notebook, state: _State, sources: bool = False) -> None:
    """Number every labelled or captioned target in document order and set figure markup.

    `sources`: the notebook is a post's source, not run (for other posts' references, source_labels):
    a code cell with a figure label or caption and no stored figure counts as one figure.
    """
    shown = 0
    for index, cell in enumerate(nb.cells):
        if cell.metadata.get(Key.REMOVE):
            continue
        if cell.cell_type == "markdown":
            cell.source, placed = _place_targets(cell.source, state.title)
            for label, text in placed:
                state.add("sec", label, text, index + 1)
            # The equations and tables of a cell, in the order they appear.
            found = [(m.start(), "eq", m.group("label"), "") for m in _found(_EQ_QUARTO, cell.source)]
            found += [(m.start(), "eq", m.group("label"), "") for m in _found(_EQ_MYST, cell.source)]
            found += [
                (m.start(), "fig", m.group("label"), m.group("caption"))
                for m in _found(_MD_FIGURE, cell.source)
                if _is_md_figure(m)
            ]
            found += [
                (m.start(), "tbl", m.group("label"), m.group("caption"))
                for m in _found(_TABLE_CAPTION, cell.source)
            ]
            for _, kind, label, caption in sorted(found):
                state.add(kind, label, caption, index + 1)
            continue
        if cell.cell_type != "code":
            continue
        caption, label = _cell_caption_label(cell)
        if not _figure_or_table_label(cell, label):
            label = ""  # Quarto labels every kind of cell (`#| label: setup`); only fig-/tbl- count
        if label.startswith("tbl-"):
            target = state.add("tbl", label, caption, index + 1)
            cell.metadata[Key.TABLE] = {
                "id": target.anchor,
                "caption": f"{target.name}: {state.caption(caption, index + 1)}" if caption else target.name,
            }
            continue
        first = True
        for output in outputs_of(cell):
            mime = next((m for m in FIGURE_TYPES if m in output.get("data", {})), None)
            if mime is None:
                continue
            figure: dict[str, object] = {"lazy": shown > 0}
            shown += 1
            size = _image_size(mime, output["data"][mime])
            if size:
                figure["width"], figure["height"] = size
            if caption or label:
                target = state.add("fig", label if first else "", caption, index + 1)
                figure["id"] = target.anchor
                # Final HTML (nbpress.rendering.sanitize): the template prints it where Markdown is not read.
                figure["caption"] = (
                    f"Figure {target.number}: {state.caption(caption, index + 1)}"
                    if caption
                    else f"Figure {target.number}"
                )
                first = False
            output.setdefault("metadata", {})[Key.FIGURE] = figure
        if sources and first and (caption or label):
            state.add("fig", label, caption, index + 1)  # its figure is drawn when the post runs
        elif label and first:
            raise RenderError(
                f"{cell_place(state.rel, index + 1)}: the label {label!r} names a figure, but the cell shows "
                "none; remove the label or make the cell display its figure."
            )


# -- cross-references and citations ------------------------------------------------------------

_ROLE = re.compile(r"\{(?P<role>[A-Za-z][\w:.+-]*)\}`(?P<body>[^`]+)`")
_KEY = r"[\w](?:[\w:.#$%&+?<>~/-]*[\w])?"
_BRACKET = re.compile(r"\[(?P<body>[^\[\]\n]*?-?@" + _KEY + r"[^\[\]\n]*?)\](?![(\[])")
_BARE = re.compile(r"(?<![\w\\@.:/])(?P<minus>-?)@(?P<key>" + _KEY + r")")
_CITE = re.compile(f"{_BRACKET.pattern}|{_BARE.pattern}")
_CROSSREF = re.compile(r"^(fig|tbl|eq)-[\w-]+$")
_PLACEHOLDER = "\x00nbpress-cite-{}\x00"


@dataclass
class _Citations:
    """The citations of one post, in order; formatted once all are known."""

    rel: str
    bib_paths: list[Path]
    source: object = None  # citeproc's BibliographySource, once loaded
    keys: dict[str, str] = field(default_factory=dict)  # lower-case key -> key in the source
    groups: list[tuple[list[tuple[str, str, str]], str]] = field(default_factory=list)
    loaded: bool = False

    def load(self, cell: int) -> None:
        if self.loaded:
            return
        self.loaded = True
        if not self.bib_paths:
            raise RenderError(
                f"{cell_place(self.rel, cell)}: the post cites a source but has no bibliography; put a "
                f"{BIBLIOGRAPHY_NAME} beside the posts or name one with bibliography: in the front matter."
            )
        from citeproc.source import BibliographySource

        source = BibliographySource()
        for path in self.bib_paths:
            for key, reference in read_bibtex(path, self.rel).items():
                # citeproc-py looks entries up by lower-case key.
                source[key.lower()] = reference
                self.keys[key.lower()] = key
        self.source = source

    def has(self, key: str, cell: int) -> bool:
        if not self.bib_paths:
            return False  # every key is unresolved (_missing_keys says to add a bibliography)
        self.load(cell)
        return key.lower() in self.keys

    def add(self, items: list[tuple[str, str, str]], mode: str) -> str:
        """Return a placeholder for a group of (key, prefix, suffix) citations, formatted later."""
        self.groups.append((items, mode))
        return _PLACEHOLDER.format(len(self.groups) - 1)

    def format(self) -> tuple[list[str], list[str]]:
        """Return (the text of each citation group, the reference list entries as HTML)."""
        if not self.groups:
            return [], []
        from citeproc import Citation, CitationItem, CitationStylesBibliography, CitationStylesStyle

        style = CitationStylesStyle(CSL_STYLE, validate=False)
        # citeproc-py's HTML formatter writes BibTeX values into its HTML as they are (a DOI
        # holding "<" becomes a tag): every value is text here (_text_formatter), and the
        # result is sanitized HTML besides.
        mark = f"nbpress-cite-{secrets.token_hex(8)}-"
        bibliography = CitationStylesBibliography(style, self.source, _text_formatter(mark))

        def cite(key: str, prefix: str, suffix: str) -> object:
            extra = {"prefix": f"{prefix} "} if prefix else {}
            if suffix:
                extra["suffix"] = f", {suffix}"
            item = CitationItem(self.keys[key.lower()], **extra)
            citation = Citation([item])
            bibliography.register(citation)
            return citation

        # One citation per key, so each part of a group links to its own entry.
        citations = [[cite(*item) for item in items] for items, _ in self.groups]
        texts = []
        for group, (items, mode) in zip(citations, self.groups, strict=True):
            parts = []
            for citation, (key, _, _) in zip(group, items, strict=True):
                text = _citation_html(str(bibliography.cite(citation, lambda item: None)), mark)
                inner = re.fullmatch(r"\((.+)\)", text)
                if mode == "text":
                    # "(Knuth, 1984)" -> "Knuth (1984)": the author-date style's narrative form.
                    narrative = re.fullmatch(r"\((.+), ([^,()]+)\)", text)
                    text = f"{narrative.group(1)} ({narrative.group(2)})" if narrative else text
                elif len(items) > 1 and inner:
                    text = inner.group(1)
                parts.append(f"[{text}](#ref-{_anchor(key.lower())})")
            joined = "; ".join(parts)
            texts.append(f"({joined})" if mode != "text" and len(items) > 1 else joined)
        entries = []
        keys = [str(item.key) for item in bibliography.items]
        for key, entry in zip(keys, bibliography.bibliography(), strict=True):
            html = _citation_html(str(entry), mark)
            entries.append(f'<p class="nbpress-reference" id="ref-{_anchor(key.lower())}">{html}</p>')
        return texts, entries


def read_bibtex(path: Path, rel: str) -> dict[str, object]:
    """Return {key: citeproc reference} of a BibTeX file, read entry by entry.

    Valid BibTeX that citeproc-py's LaTeX reader trips on is read as a LaTeX reader would show
    it: `\\\\` (a line break) as a space; in an entry it still cannot read, a macro it does not
    know (`\\textit{x}`) as its argument. An entry that still cannot be read fails the post with
    a RenderError naming the file, the entry's key and its line, and what to do.
    """
    from citeproc.source.bibtex.bibparse import BibTeXParser
    from citeproc.source.bibtex.bibtex import BibTeX

    text = path.read_text(encoding="utf-8", errors="replace")

    def where(key: str) -> str:
        found = re.search(r"@\s*\w+\s*[{(]\s*(" + re.escape(key) + r")\s*,", text, re.I)
        if found is None:
            return f"the entry {key!r}"
        line = text.count("\n", 0, found.start()) + 1
        return f"the entry {found.group(1)!r} (line {line})"

    def fail(what: str, err: Exception) -> RenderError:
        problem = f"{type(err).__name__}: {err}" if str(err) else type(err).__name__
        return RenderError(
            f"the bibliography {path.name} cannot be read at {what} ({problem}); fix that entry "
            "(balanced braces, a known entry type, LaTeX a reference manager writes) or remove it.",
            path=rel,
        )

    unbalanced = _unbalanced_entry(text, where)
    if unbalanced is not None:
        raise RenderError(
            f"the bibliography {path.name} cannot be read at {unbalanced}: its braces or quotes do not "
            "close; close them or remove the entry.",
            path=rel,
        )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            database = BibTeXParser(io.StringIO(text))
        except Exception as err:  # the BibTeX parser raises many types
            raise fail("an entry it cannot parse", err) from None
        reader = BibTeX.__new__(BibTeX)
        dict.__init__(reader)
        reader.preamble_macros = {}
        found: dict[str, object] = {}
        for key, entry in database.items():
            for name, value in entry.items():
                if isinstance(value, str):
                    entry[name] = re.sub(r"\\\\(?![A-Za-z])", " ", value)
            if entry.document_type not in reader.types:
                entry.document_type = "misc"  # biblatex's @online, @software, ...: as pybtex reads them
            try:
                found[str(key)] = reader.create_reference(key, entry)
                continue
            except Exception:  # the LaTeX reader raises many types
                pass
            # Again with the macros it does not know left out, their arguments kept as text.
            for name, value in entry.items():
                if isinstance(value, str):
                    entry[name] = re.sub(r"\\([A-Za-z]+)\s*", lambda m: _known_macro(m), value)
            try:
                found[str(key)] = reader.create_reference(key, entry)
            except Exception as err:  # the LaTeX reader raises many types
                raise fail(where(str(key)), err) from None
    return found


def _known_macro(match: re.Match[str]) -> str:
    """Return a LaTeX macro citeproc-py's reader knows as written, "" for another one."""
    from citeproc.source.bibtex.latex import MACROS

    return match.group(0) if match.group(1) in MACROS else ""


_ENTRY_START = re.compile(r"^[ \t]*@[ \t]*(\w+)[ \t]*[{(][ \t]*([^,\s]*)", re.M)


def _unbalanced_entry(text: str, where: Callable[[str], str]) -> str | None:
    """Return which entry of a BibTeX text has unbalanced braces or quotes, else None.

    citeproc-py's parser never ends on such an entry at the end of a file, so it is checked first.
    """
    starts = list(_ENTRY_START.finditer(text))
    for i, match in enumerate(starts):
        end = starts[i + 1].start() if i + 1 < len(starts) else len(text)
        chunk = re.sub(r"\\[{}\"]", "", text[match.end() : end])
        depth, quoted, closed = 1, False, False
        for char in chunk:
            if char == '"' and depth == 1:
                quoted = not quoted
            elif char == "{":
                depth += 1
            elif char == "}":
                depth -= 1
            if depth == 0 or (char == ")" and depth == 1 and not quoted and text[match.end() - 1] == "("):
                closed = not quoted
                break
        if not closed:
            line = text.count("\n", 0, match.start()) + 1
            return where(match.group(2)) if match.group(2) else f"the entry on line {line}"
    return None


# The markup citeproc-py's formatters may add around text, and the HTML each becomes.
_CITATION_TAGS = {
    "Italic": "i", "Oblique": "i", "Bold": "b", "Light": "span", "Underline": "u",
    "Superscript": "sup", "Subscript": "sub", "SmallCaps": "span",
}  # fmt: skip


def _text_formatter(mark: str) -> object:
    """Return a citeproc-py formatter that writes no HTML: only `mark`-ed names of its tags.

    The formatted citation is then escaped whole and the marks become tags (_citation_html),
    so every value from a .bib file is text whatever it holds.
    """

    def wrapper(name: str, tag: str) -> type[str]:
        def new(cls: type[str], text: object) -> str:
            return str.__new__(cls, f"{mark}{tag}\x00{text}{mark}/{tag}\x00")

        return type(name, (str,), {"__new__": new})

    namespace = {name: wrapper(name, tag) for name, tag in _CITATION_TAGS.items()}
    return types.SimpleNamespace(preformat=str, **namespace)


def _citation_html(formatted: str, mark: str) -> str:
    """Return a citation formatted by _text_formatter as sanitized HTML, inert to Markdown."""
    text = html.escape(formatted, quote=False)
    text = re.sub(re.escape(mark) + r"(/?)([a-z]+)\x00", r"<\1\2>", text)
    return sanitize_html(text.replace("\x00", ""))


def bibliography_paths(post: Post) -> list[Path]:
    """Return the BibTeX files of a post: `bibliography:` in its front matter, else references.bib beside it.

    Relative names are read from the post's folder, and must be the blog's own files
    (nbpress.layout.owned_file). Raises RenderError for a named file that does not exist,
    NotOwnedError for one that is not the blog's.
    """
    from ..layout import owned_file

    folder = post.path.parent
    named = post.front_matter.data.get("bibliography")
    if named:
        names = [str(n) for n in named] if isinstance(named, list) else [str(named)]
        paths = []
        for name in names:
            if not (folder / name).exists() and not (folder / name).is_symlink():
                raise RenderError(
                    f"the bibliography {name!r} does not exist; bibliography: names "
                    "BibTeX files relative to the post's folder.",
                    path=post.rel_path,
                )
            try:
                paths.append(owned_file(folder, name, "the bibliography"))
            except NbpressError as err:
                raise err.at(post.rel_path) from None
        return paths
    if not (folder / BIBLIOGRAPHY_NAME).is_file():
        return []
    try:
        return [owned_file(folder, BIBLIOGRAPHY_NAME, "the bibliography")]
    except NbpressError as err:
        raise err.at(post.rel_path) from None


def bibliography_terms(post: Post) -> dict[str, str]:
    """Return {each BibTeX file shaping the post, named from the blog: the digest of its bytes}.

    For the render key and the post's record, so a change names its file. The references.bib
    beside every post shapes only the posts that may cite (`cites`): adding or editing it
    re-renders those, not the whole blog ({} for the others). A bibliography the post names in
    its front matter always counts.
    """
    try:
        paths = bibliography_paths(post)
    except NbpressError:
        return {BIBLIOGRAPHY_MISSING: BIBLIOGRAPHY_MISSING}  # rendering it fails, naming the file
    if not paths or (not post.front_matter.data.get("bibliography") and not cites(post)):
        return {}
    # The post's source is rel_path in the blog: the blog is as many folders above it.
    root = post.path.parents[len(Path(post.rel_path).parts) - 1]
    terms = {}
    for path in paths:
        name = path.relative_to(root).as_posix() if path.is_relative_to(root) else path.name
        terms[name] = hashlib.sha256(path.read_bytes()).hexdigest()
    return terms


BIBLIOGRAPHY_MISSING = "missing"


def cites(post: Post) -> bool:
    """Return True if the post may cite: a citation, a bibliography marker or an `@name` outside code.

    Read as apply reads it (a bare `@name` is a citation once a bibliography exists); a caption
    in cell metadata holding `@` or `{cite` counts too. Cross-references (`@fig-x`) do not.
    """
    for cell in post.notebook.cells:
        meta = cell.get("metadata", {})
        if any(
            "@" in text or "{cite" in text for text in (str(meta[k]) for k in MARKUP_METADATA if k in meta)
        ):
            return True
        if cell.cell_type != "markdown":
            continue
        source = directives.markdown(cell.source)  # as the site shows it: inside directives too
        if _found(_BIB_MARKER, source) or any(m.group("role").startswith("cite") for m in _roles(source)):
            return True
        for match in _found(_CITE, source):
            keys = re.findall(r"-?@(" + _KEY + r")", match.group(0))
            if not all(_CROSSREF.match(key) for key in keys):
                return True
    return False


# Sphinx's generated pages, which a Jupyter Book links to and a blog does not have.
_SPHINX_PAGES = ("genindex", "modindex", "search", "py-modindex")


def _fix(what: str, has_bibliography: bool = True) -> str:
    """Return what to do about an unresolved reference of kind `what`."""
    if what == "citation":
        if not has_bibliography:
            return (
                f"put a {BIBLIOGRAPHY_NAME} beside the posts or name one with bibliography: in the front "
                "matter (write \\@ for a literal @)"
            )
        return "add the entry to the post's BibTeX file or fix the key (write \\@ for a literal @)"
    return (
        "label the target in this post or another one ((label)= before a heading, #| label: fig-x, "
        "{#eq-x}), or fix the spelling"
    )


def _link(target: Target, role: str, text: str | None = None, page: str = "") -> str:
    """Return the Markdown link a reference makes to `target` (on the post file `page`, else this one)."""
    if text is not None:  # {numref}`Figure %s <fig-x>`, or {number}
        text = text.replace("%s", str(target.number)).replace("{number}", str(target.number))
    if text is None:
        if role == "eq":
            text = f"({target.number})"
        elif role == "ref" and target.caption:
            text = target.caption
        else:
            text = target.name
    return f"[{text}]({page}#{target.anchor})"


_MARKDOWN_PUNCTUATION = re.compile(r"[\\`*_\[\]<>#|~$]")


def _reference(label: str, role: str, text: str | None, cell: int, state: _State, written: str) -> str:
    """Return the link a reference to `label` makes: the one resolution step of every reference.

    A label of this post links in the page; one of another post (the blog's label index,
    other_labels) links to that post's page and anchor, which the links step then checks as any
    link. Anything else is unresolved (_State.unresolved): a warning, and `text` (else
    `written`) kept as plain text.
    """
    target = state.targets.get(label) or state.targets.get(label.lower())
    if target is not None:
        return _link(target, role, text)
    what = f"the reference {written!r}"
    if label in _SPHINX_PAGES:
        state.unresolved(cell, what, "names a page Sphinx generates, which a blog does not have", "remove it")
        return text or label
    found = other_labels(state.post, label) if state.post is not None else []
    if len(found) == 1 and state.post is not None:
        slug, other = found[0]
        if text is None and not (role == "ref" and other.caption):
            # "Figure 1" alone would read as this post's Figure 1: name the post it is in.
            auto = f"({other.number})" if role == "eq" else other.name
            title = _post_titles(state.post).get(slug, slug)
            text = f"{auto} in " + _MARKDOWN_PUNCTUATION.sub(r"\\\g<0>", title)
        return _link(other, role, text, _source_link(state.post, slug))
    if found:
        names = ", ".join(slug for slug, _ in found)
        state.unresolved(
            cell, what, f"names a label that several posts define ({names})", "rename all but one"
        )
    else:
        state.unresolved(cell, what, "names no label of this post or another one", _fix("label"))
    return text or label


def _missing_keys(keys: list[str], cell: int, state: _State, cites: _Citations) -> bool:
    """Warn for each key the post's bibliography lacks; return True if any is missing."""
    missing = [key for key in keys if not cites.has(key, cell)]
    for key in missing:
        state.unresolved(
            cell, f"the citation key {key!r}", "is not defined", _fix("citation", bool(cites.bib_paths))
        )
    return bool(missing)


def _rewrite_text(text: str, cell: int, state: _State, cites: _Citations) -> str:
    """Rewrite references in one stretch of unprotected Markdown."""

    def bracket(match: re.Match[str]) -> str:
        items = []
        for part in match.group("body").split(";"):
            found = re.search(r"(-?)@(" + _KEY + r")", part)
            if not found:
                return match.group(0)
            prefix = part[: found.start()].strip()
            items.append((found.group(2), prefix, part[found.end() :].strip().lstrip(",").strip()))
        if all(_CROSSREF.match(k) for k, _, _ in items):
            return "; ".join(_reference(k, "numref", None, cell, state, f"@{k}") for k, _, _ in items)
        if _missing_keys([k for k, _, _ in items], cell, state, cites):
            return match.group(0).replace("@", "\\@")  # kept as written, never read again as a citation
        return cites.add(items, "paren")

    def bare(match: re.Match[str]) -> str:
        key = match.group("key")
        if _CROSSREF.match(key):
            return _reference(key, "numref", None, cell, state, f"@{key}")
        if not cites.bib_paths:
            return match.group(0)  # no bibliography: an @name is just text
        if _missing_keys([key], cell, state, cites):
            return match.group(0).replace("@", "\\@")
        return cites.add([(key, "", "")], "paren" if match.group("minus") else "text")

    def either(match: re.Match[str]) -> str:
        return bracket(match) if match.group("body") is not None else bare(match)

    # An escaped \@ is a literal @ (outside code, where it is left as written).
    return _CITE.sub(either, text).replace("\\@", "@")


def _rewrite_cell(source: str, cell: int, state: _State, cites: _Citations) -> str:
    """Return a Markdown cell with equations numbered and references and citations resolved."""

    def equation(match: re.Match[str]) -> str:
        target = state.targets[match.group("label")]
        body = match.group("body").strip()
        return (
            f'<div class="nbpress-equation" id="{target.anchor}" markdown>\n\n'
            f"$$\n{body} \\tag{{{target.number}}}\n$$\n\n</div>"
        )

    def table(match: re.Match[str]) -> str:
        target = state.targets[match.group("label")]
        caption = match.group("caption").replace("<", "&lt;")
        return f'<p class="nbpress-caption" id="{target.anchor}" markdown="span">{target.name}: {caption}</p>'

    source = _sub(_EQ_QUARTO, equation, source)
    source = _sub(
        _EQ_MYST, lambda m: equation(m) if m.group("label") in state.targets else m.group(0), source
    )
    source = _sub(_TABLE_CAPTION, table, source)

    def md_figure(match: re.Match[str]) -> str:
        if not _is_md_figure(match):
            return match.group(0)
        target = state.targets[match.group("label")]
        caption = match.group("caption")
        attrs = match.group("attrs").replace(_MYST_MARK, "").strip()
        image = f"![{caption}]({match.group('src')})" + (f"{{{attrs}}}" if attrs else "")
        text = f"{target.name}: {caption}" if caption else target.name
        return (
            f'<figure class="nbpress-figure" markdown="span" id="{target.anchor}">\n{image}\n'
            f'<figcaption markdown="span">{text.replace("<", "&lt;")}</figcaption>\n</figure>'
        )

    source = _sub(_MD_FIGURE, md_figure, source)
    source = _sub(_MD_LINK, lambda m: _label_link(m, cell, state), source)

    # References are looked for in prose only.
    reading = mdtokens.read(source)
    pieces: list[str] = []
    last = 0
    for match in _roles(source):
        if match.group("role") in _LEFT_ROLES or match.group("role").startswith("glue"):
            continue  # another step's (the values step substitutes them before this one)
        pieces += [
            _rewrite_prose(reading, last, match.start(), cell, state, cites),
            _role(match.group("role"), match.group("body"), cell, state, cites),
        ]
        last = match.end()
    pieces.append(_rewrite_prose(reading, last, len(source), cell, state, cites))
    return "".join(pieces)


# An inline link (not an image) whose destination may be a label: MyST's `[text](label)`, `[](#label)`.
_MD_LINK = re.compile(r"(?<![!\\])\[(?P<text>[^\[\]\n]*)\]\((?P<dest>#?[\w.:/+-]+)\)")
_URL_SCHEMES = ("http:", "https:", "mailto:", "ftp:", "tel:", "data:", "file:")


def _label_link(match: re.Match[str], cell: int, state: _State) -> str:
    """Return a Markdown link to a label as the reference it is (MyST), else the link as written.

    `[](#label)` and `[text](label)` name a target of this post or another one (the label
    index, as {ref}); an empty text becomes the target's. `[](name)` naming another post gets
    that post's title. Anything else is the links step's.
    """
    dest, text = match.group("dest"), match.group("text") or None
    written = match.group(0)
    if dest.startswith("#"):
        label = dest[1:]
        target = state.targets.get(label) or state.targets.get(label.lower())
        return _link(target, "ref", text) if target is not None else written
    if dest.lower().startswith(_URL_SCHEMES):
        return written
    label_like = ":" in dest  # a MyST label such as `content:references` is no URL of this site
    if label_like or dest in state.targets or dest.lower() in state.targets:
        return _reference(dest, "ref", text, cell, state, written)
    if Path(dest).suffix not in ("", ".md", ".ipynb") or state.post is None:
        return written
    if not Path(dest).suffix and other_labels(state.post, dest):
        return _reference(dest, "ref", text, cell, state, written)
    title = _post_titles(state.post).get(doc_slug(dest)) if text is None else None
    return f"[{title}]({dest})" if title else written


# Roles another step owns: left as written here.
_LEFT_ROLES = frozenset({"eval"})
# Simple MyST/Sphinx roles and the HTML they become.
_HTML_ROLES = {"kbd": "kbd", "sub": "sub", "sup": "sup", "abbr": "abbr"}


def _role(name: str, body: str, cell: int, state: _State, cites: _Citations) -> str:
    """Return what a MyST role `{name}`body`` becomes: a link, a citation, HTML or its text."""
    explicit = re.fullmatch(r"(?P<text>.*?)\s*<(?P<label>[^<>]+)>", body.strip(), re.S)
    text = explicit.group("text").strip() if explicit else None
    label = (explicit.group("label") if explicit else body).strip()
    written = f"{{{name}}}`{body}`"
    if name.startswith("cite"):
        keys = [k.strip() for k in body.split(",") if k.strip()]
        if _missing_keys(keys, cell, state, cites):
            return html.escape(", ".join(keys), quote=False)
        textual = name in ("cite:t", "cite:ts", "cite:author")
        return cites.add([(k, "", "") for k in keys], "text" if textual else "paren")
    if name in ("ref", "numref", "eq"):
        return _reference(label, name, text, cell, state, written)
    if name == "doc":
        return _doc_link(label, text, cell, state, written)
    if name == "download":
        return _download_link(label, text, cell, state, written)
    if name == "math":
        return f"${body}$"
    if name in _HTML_ROLES:
        tag = _HTML_ROLES[name]
        if name == "abbr":
            short = re.fullmatch(r"(?P<abbr>.*?)\s*\((?P<title>[^()]*)\)\s*", body, re.S)
            if short:
                title = html.escape(short.group("title"), quote=True)
                return f'<abbr title="{title}">{html.escape(short.group("abbr"), quote=False)}</abbr>'
        return f"<{tag}>{html.escape(body, quote=False)}</{tag}>"
    state.warnings.append(
        f"{cell_place(state.rel, cell)}: the MyST role {{{name}}} is not supported here, so its content is "
        "shown as plain text."
    )
    return html.escape(body, quote=False)


def _doc_link(path: str, text: str | None, cell: int, state: _State, written: str) -> str:
    """Return the link {doc}`path` makes: to the post of that file name, its title as text."""
    slug = doc_slug(path)
    if path.strip("/") in _SPHINX_PAGES:
        state.unresolved(
            cell,
            f"the reference {written!r}",
            "names a page Sphinx generates, which a blog does not have",
            "remove it",
        )
        return text or path
    found = _post_titles(state.post).get(slug) if state.post is not None else None
    if found is None:
        state.unresolved(
            cell,
            f"the reference {written!r}",
            "names no post of this blog",
            "name a post's file (without its folder and suffix), or fix the spelling",
        )
        return text or path
    return f"[{text or found}]({_source_link(state.post, slug) if state.post is not None else ''})"


def _source_link(post: Post, slug: str) -> str:
    """Return the link to the post `slug` as an author writes it: its source's file name, beside this one.

    The links step resolves it to that post's page, checking it as any link (nbpress.rendering.links).
    """
    if slug == post.file_slug:
        return quote(post.path.name)
    return quote(_others(post)[slug].name)


def _download_link(path: str, text: str | None, cell: int, state: _State, written: str) -> str:
    """Return the link {download}`path` makes: the file, published as a linked file is (links.py)."""
    folder = state.post.path.parent if state.post is not None else None
    if folder is None or not (folder / path).is_file():
        state.unresolved(
            cell,
            f"the reference {written!r}",
            "names no file beside the post",
            "put the file in posts/ or fix the path",
        )
        return text or path
    return f"[{text or Path(path).name}](<{path}>)"


def download_paths(source: str) -> list[str]:
    """Return the paths the {download} roles of a Markdown cell name (outside code)."""
    paths = []
    for match in _roles(source):
        if match.group("role") == "download":
            body = match.group("body").strip()
            explicit = re.fullmatch(r"(?P<text>.*?)\s*<(?P<label>[^<>]+)>", body, re.S)
            paths.append((explicit.group("label") if explicit else body).strip())
    return paths


def doc_slug(path: str) -> str:
    """Return the file slug a {doc} path or a link without suffix names: its last part, no suffix."""
    from ..sources import name_slug

    return name_slug(Path(path.rstrip("/").rsplit("/", 1)[-1] or "index"))


# -- the blog's label index --------------------------------------------------------------------
# Each post's labels, read from its source once while it is unchanged (the build reads other
# posts as links.Linker.page_for does): {(path, mtime, size): (title, draft, labels)}.
_INDEX: dict[tuple[str, int, int], tuple[str, bool, dict[str, Target]] | None] = {}


def source_labels(nb: Notebook, post: Post) -> dict[str, Target]:
    """Return the labels of a post's source notebook `nb` (its hidden cells marked), as its render has them.

    Rewrites `nb` in place as the render does before its page is read (links.post_page): its
    targets become anchors. Raises RenderError as the render would (a label used twice).
    """
    for cell in nb.cells:
        if cell.cell_type == "markdown" and not cell.metadata.get(Key.REMOVE):
            # As the values and directives steps do, so a figure's or equation's label is found
            # as in the render (a glued figure's too).
            cell.source = directives.markdown(directives.source_figures(cell.source))
    state = _State(post.rel_path, title=post.front_matter.title)
    _collect(nb, state, sources=True)
    return state.targets


def _indexed(path: Path, root: Path) -> tuple[str, bool, dict[str, Target]] | None:
    """Return (title, draft, labels) of the post at `path`, or None if it cannot be read."""
    try:
        stat = path.stat()
    except OSError:
        return None
    key = (str(path), stat.st_mtime_ns, stat.st_size)
    if key not in _INDEX:
        for old in [k for k in _INDEX if k[0] == key[0]]:
            _INDEX.pop(old, None)  # an earlier version of the file (a watched blog)
        try:
            from ..sources import read_post

            post = read_post(path, root)
            _INDEX[key] = (
                post.front_matter.title,
                post.front_matter.draft,
                source_labels(source_copy(post), post),
            )
        except NbpressError:
            _INDEX[key] = None  # the post fails on its own, naming its problem
    return _INDEX[key]


def _others(post: Post) -> dict[str, Path]:
    """Return {file slug: source} of the posts beside `post`, itself left out."""
    from ..sources import discover, name_slug

    return {name_slug(p): p for p in discover(post.path.parent) if name_slug(p) != post.file_slug}


def other_labels(post: Post, label: str) -> list[tuple[str, Target]]:
    """Return [(file slug, target)] of the other posts that define `label`, in slug order."""
    root = post.path.parent.parent
    found = []
    for slug, path in sorted(_others(post).items()):
        indexed = _indexed(path, root)
        if indexed is None:
            continue
        target = indexed[2].get(label) or indexed[2].get(label.lower())
        if target is not None:
            found.append((slug, target))
    return found


def _post_titles(post: Post | None) -> dict[str, str]:
    """Return {file slug: title} of the posts beside `post` (itself included)."""
    if post is None:
        return {}
    root = post.path.parent.parent
    titles = {post.file_slug: post.front_matter.title}
    for slug, path in _others(post).items():
        indexed = _indexed(path, root)
        if indexed is not None:
            titles[slug] = indexed[0]
    return titles


def _references_made(post: Post) -> list[tuple[str, str]]:
    """Return [(role, label or path)] of the references a post's Markdown makes, outside code."""
    found: list[tuple[str, str]] = []
    for cell in post.notebook.cells:
        if cell.cell_type != "markdown":
            continue
        source = cell.source
        for match in _roles(source) if "}`" in source else []:
            name, body = match.group("role"), match.group("body")
            explicit = re.fullmatch(r"(?P<text>.*?)\s*<(?P<label>[^<>]+)>", body.strip(), re.S)
            label = (explicit.group("label") if explicit else body).strip()
            if name in ("ref", "numref", "eq", "doc"):
                found.append((name, label))
        if "](" in source:
            for match in _found(_MD_LINK, source):
                dest = match.group("dest")
                local = not dest.startswith("#") and not dest.lower().startswith(_URL_SCHEMES)
                if local and (":" in dest or not Path(dest).suffix):
                    found.append(("ref", dest))  # MyST's [text](label), as _label_link reads it
        if "@" in source:
            for match in _found(_CITE, source):
                found += [("numref", key) for key in re.findall(r"-?@(" + _KEY + r")", match.group(0))
                          if _CROSSREF.match(key)]  # fmt: skip
    return found


def references_term(post: Post, gone: frozenset[str] = frozenset()) -> list[list[str | None]]:
    """Return what, in other posts, decides how this post's references render (for the render key).

    For each reference to a label this post does not define: the post and target it resolves to
    (the label index) or that it resolves to none; for each {doc}: that post's title. Empty for a
    post that references nothing elsewhere, so its render key holds.
    """
    made = _references_made(post)
    if not made:
        return []
    try:
        own = source_labels(source_copy(post), post)
    except NbpressError:
        own = {}
    root = post.path.parent.parent
    term: list[list[str | None]] = []
    for role, label in sorted(set(made)):
        if role == "doc":
            slug = doc_slug(label)
            path = _others(post).get(slug)
            indexed = _indexed(path, root) if path is not None else None
            term.append([role, label, slug if indexed else None, *(_page_term(indexed, slug, gone))])
            continue
        if label in own or label.lower() in own:
            continue
        found = other_labels(post, label)
        if not found:
            term.append([role, label, None])
        for slug, target in found:
            path = _others(post)[slug]
            term.append([role, label, slug, *target.term(), *_page_term(_indexed(path, root), slug, gone)])
    return term


def _page_term(
    indexed: tuple[str, bool, dict[str, Target]] | None, slug: str, gone: frozenset[str]
) -> list[str]:
    if indexed is None:
        return ["unreadable"]
    return [f"title:{indexed[0]}", f"draft:{indexed[1]}", f"gone:{slug in gone}"]


def referenced_posts(post: Post) -> set[str]:
    """Return the file slugs of the other posts whose labels or pages the post's references name."""
    slugs: set[str] = set()
    others = None
    for role, label in _references_made(post):
        if role == "doc":
            others = others if others is not None else _others(post)
            if doc_slug(label) in others:
                slugs.add(doc_slug(label))
        else:
            slugs |= {slug for slug, _ in other_labels(post, label)}
    return slugs


def _roles(source: str) -> list[re.Match[str]]:
    """Return the roles of a Markdown cell: `{name}` in prose just before a code span, its body."""
    reading = mdtokens.read(source)
    spans = {(s.start, s.end) for s in reading.spans if s.kind == mdtokens.CODE}
    return [
        m
        for m in _ROLE.finditer(source)
        if (m.start("body") - 1, m.end()) in spans
        and reading.outside(m.start(), m.start() + 1, mdtokens.NOT_PROSE)
    ]


def _rewrite_prose(
    reading: mdtokens.Reading, start: int, end: int, cell: int, state: _State, cites: _Citations
) -> str:
    """Return source[start:end] of a cell with references rewritten in its prose (mdtokens.NOT_PROSE)."""
    return "".join(
        _rewrite_text(text, cell, state, cites) if prose else text
        for prose, text in reading.pieces(start, end)
    )


_BIB_MARKER = re.compile(
    r"^(?::::+[ \t]*\{#refs\}[ \t]*\n:::+|```\{bibliography\}[^\n]*\n(?:[^\n]*\n)*?```)[ \t]*$", re.M
)


def apply(nb: Notebook, post: Post) -> list[str]:
    """Rewrite a cleaned notebook in place: figures, references, citations.

    Returns the warnings: a URL a caption held that a page may not load (nbpress.rendering.sanitize),
    a reference, citation key or role that cannot be resolved (its text kept). Raises RenderError
    naming the cell for a label used twice, the file and entry for an unreadable bibliography.
    """
    rel = post.rel_path
    state = _State(rel, post=post, title=post.front_matter.title)
    _collect(nb, state)
    cites = _Citations(rel, bibliography_paths(post))
    marker_cell: Cell | None = None
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "markdown" or cell.metadata.get(Key.REMOVE):
            continue
        source = _rewrite_cell(cell.source, index + 1, state, cites)
        if _found(_BIB_MARKER, source):
            marker_cell = cell
        cell.source = source
    texts, entries = cites.format()
    references = "\n\n".join(["## References", *entries]) if entries else ""
    for cell in nb.cells:
        if cell.cell_type == "markdown" and "\x00" in cell.source:
            cell.source = re.sub("\x00nbpress-cite-(\\d+)\x00", lambda m: texts[int(m.group(1))], cell.source)
    if marker_cell is not None:
        marker_cell.source = _sub(_BIB_MARKER, lambda _: references, marker_cell.source)
    elif references:
        from nbformat.v4 import new_markdown_cell

        cell = new_markdown_cell(references)
        if (nb.nbformat, nb.nbformat_minor) < (4, 5):
            cell.pop("id", None)  # cell ids exist from nbformat 4.5 on
        else:
            cell["id"] = "nbpress-references"
        nb.cells.append(cell)
    return state.warnings
