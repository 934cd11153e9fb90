"""Markdown cells read one way: which parts of a cell are prose, and which are code, math or HTML.

One markdown-it-py parser (CommonMark, the parser Jupyter's renderer follows) configured as the
site renders (mkdocs.yml): tables, pymdownx.arithmatex's `$...$`, `\\(...\\)` and `$$...$$`
blocks, Python-Markdown's `!!!` admonitions, pymdownx.details' `???` blocks and pymdownx.tabbed's
`=== "Title"` tabs, whose indented body is Markdown. Every step that reads a Markdown cell
(directives, markup's labels, references and citations, the heading levels, the summary, links,
the drift check's cells) asks `read` where the code, math and HTML are, so a fence, a code span
or math is never taken for syntax.

`read(source)` returns a Reading: the tokens, and the spans of the source that are not prose.
A span's kind is one of

- CODE: a fenced block (``` or ~~~, any indentation, inside lists, quotes and admonitions),
  an indented code block, a code span;
- DIRECTIVE: a fence whose info is a MyST directive (```` ```{note} ````; with `read(source,
  myst=True)`, MyST's colon fence `:::{note}` too), which the directives step turns into the
  site's Markdown (nbpress.rendering.directives) and otherwise is left as written;
- MATH: arithmatex math, inline or a block;
- HTML: an HTML tag, comment or raw block (`<pre>`, `<script>`, `<style>`, `<textarea>`); the
  text between the tags of other HTML blocks is read as Markdown (md_in_html);
- URL: a link's or image's destination (`](...)`, `][ref]`), an autolink.
"""

from __future__ import annotations

import bisect
import functools
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from markdown_it import MarkdownIt
    from markdown_it.rules_block import StateBlock
    from markdown_it.rules_core import StateCore
    from markdown_it.rules_inline import StateInline
    from markdown_it.token import Token

CODE, DIRECTIVE, MATH, HTML, URL = "code", "directive", "math", "html", "url"
# What is never prose: what references and citations are not looked for in.
NOT_PROSE = frozenset({CODE, DIRECTIVE, MATH, HTML, URL})
_SPANS = "nbpress_spans"  # the env key the recording inline rules write to

# pymdownx.arithmatex (generic, its default syntaxes): a block is a whole paragraph.
_MATH_BLOCK = re.compile(
    r"(?s)^(?:\$\$(?:\\.|[^\\])+?\$\$|\\\[(?:\\[^\]]|[^\\])+?\\\]"
    r"|\\begin\{(?P<env>[a-z]+\*?)\}(?:\\.|[^\\])+?\\end\{(?P=env)\})[ ]*$"
)
# Smart dollars: no space inside either dollar.
_MATH_INLINE = re.compile(r"\$(?!\s)(?:\\.|[^\\$])+?(?<!\s)\$|\\\((?:\\[^)]|[^\\])+?\\\)")
# Python-Markdown's admonition head, pymdownx.details' (`???`, `???+`) and pymdownx.tabbed's
# (`=== "Title"`, `===+`, `===!`): each a head, then a body indented by 4.
_ADMONITION = re.compile(
    r'(?:(?:!!!|\?\?\?\+?) ?[\w\-]+(?: +[\w\-]+)*(?: +"(?P<title>[^\n]*?)")?'
    r'|===(?:\+|\+!|!\+|!)? +"(?P<tab>[^\n]*?)") *$'
)
# MyST's colon fence (`:::{note}`): read only by read(source, myst=True), the directive reader's view.
_COLON_OPEN = re.compile(r"(?P<fence>:{3,})\{[A-Za-z][\w:.+-]*\}")
# A colon fence naming a language (`:::md`), no braces: code in MyST, shown as written.
COLON_CODE = re.compile(r"(?P<fence>:{3,})(?P<lang>[A-Za-z][\w+-]*)[ \t]*$")
_COLON_CLOSE = re.compile(r"(?P<fence>:{3,})[ \t]*$")
_DIV_OPEN = re.compile(r":{3,}[ \t]*\{")  # a nested MyST directive or Pandoc div
_CODE_OPEN = re.compile(r"(?P<fence>`{3,}|~{3,})(?P<info>[^\n]*)$")
# HTML blocks whose content is never Markdown (CommonMark's HTML block kinds 1 to 5).
_RAW_HTML_BLOCK = re.compile(r"\s*<(?:(?:pre|script|style|textarea)[\s>]|!|\?)", re.I)


@dataclass(frozen=True)
class Span:
    """A stretch of a cell that is not prose: source[start:end] is `kind`."""

    kind: str
    start: int
    end: int
    block: bool = False  # whole lines: a code block, a math block, a raw HTML block


@dataclass(frozen=True)
class Reading:
    """A Markdown cell as the site reads it: its tokens and where its code, math and HTML are."""

    source: str
    tokens: tuple[Token, ...]
    spans: tuple[Span, ...]  # in order, none inside another

    def outside(self, start: int, end: int, kinds: Iterable[str] = (CODE,)) -> bool:
        """Return True if neither end of source[start:end] lies in a span of `kinds`.

        Syntax found by a pattern (a label, a directive) counts only there: its text may hold a
        code span (a caption's), its ends may not be inside one (a fence showing the syntax).
        """
        wanted = set(kinds)
        return not any(
            span.kind in wanted and (span.start <= start < span.end or span.start < end <= span.end)
            for span in self.spans
        )

    def pieces(self, start: int = 0, end: int | None = None) -> list[tuple[bool, str]]:
        """Return source[start:end] cut into (is prose, text) in order."""
        end = len(self.source) if end is None else end
        pieces: list[tuple[bool, str]] = []
        last = start
        for span in self.spans:
            if span.kind in NOT_PROSE and span.end > last and span.start < end:
                first, stop = max(span.start, last), min(span.end, end)
                pieces += [(True, self.source[last:first]), (False, self.source[first:stop])]
                last = stop
        pieces.append((True, self.source[last:end]))
        return pieces

    def paragraphs(self) -> list[str]:
        """Return the source lines of each paragraph outside lists, quotes and admonitions, in order."""
        lines = self.source.split("\n")
        return [
            "\n".join(lines[t.map[0] : t.map[1]])
            for t in self.tokens
            if t.type == "paragraph_open" and t.level == 0 and t.map is not None
        ]

    def lines(self, kinds: Iterable[str] = (CODE,)) -> set[int]:
        """Return the numbers (from 0) of the lines in a block of `kinds` (a code span makes no line code)."""
        wanted = set(kinds)
        found: set[int] = set()
        for span in self.spans:
            if span.kind in wanted and span.block:
                first = self.source.count("\n", 0, span.start)
                last = self.source.count("\n", 0, max(span.end - 1, span.start))
                found.update(range(first, last + 1))
        return found


# CommonMark escapes every ASCII punctuation character with a backslash (`We\'re`, `\<b>`);
# Python-Markdown, which renders the site, knows only some of them and prints the others with
# their backslash. Measured against markdown-it-py with the site's extensions (mkdocs.yml):
# these are the ones it leaves as written ($ and | are arithmatex's and the tables').
_UNKNOWN_ESCAPES = "\"%&',/:;<=?@^~"
_ESCAPE = re.compile(r"\\\\|\\([" + re.escape(_UNKNOWN_ESCAPES) + r"])")


def commonmark_escapes(source: str) -> str:
    """Return `source` with each escape CommonMark reads and Python-Markdown does not, in prose, a
    character reference (`\\'` -> `&#39;`), so the page shows what Jupyter shows; code, math,
    HTML and URLs are left as written, and `\\\\` stays an escaped backslash."""
    if "\\" not in source:
        return source

    def one(match: re.Match[str]) -> str:
        return f"&#{ord(match.group(1))};" if match.group(1) else match.group(0)

    return "".join(_ESCAPE.sub(one, text) if prose else text for prose, text in read(source).pieces())


@functools.lru_cache(maxsize=256)  # the writing steps read a cell again after each rewrite
def read(source: str, myst: bool = False) -> Reading:
    """Return the Reading of a Markdown cell's source.

    With `myst`, as MyST reads it before the directives step (nbpress.rendering.directives) turns
    its directives into the site's Markdown: a colon fence (`:::{note}` ... `:::`) is a fence too.
    """
    # markdown-it turns "\r\n" into "\n": a copy of the same length keeps every offset the source's,
    # and a lone "\r" is a space, so that line numbers are those of source.split("\n").
    text = source.replace("\r\n", " \n").replace("\r", " ")
    md = parser(myst)
    env: dict[str, object] = {}
    tokens = md.parse(text, env)
    starts = [0, *(m.end() for m in re.finditer("\n", text))]
    spans: list[Span] = []
    cursor: dict[int, int] = {}  # where the next table cell of a line is looked for
    for index, token in enumerate(tokens):
        if token.map is None:
            continue
        first = starts[token.map[0]]
        last = starts[token.map[1]] if token.map[1] < len(starts) else len(text)
        if token.type in ("fence", "code_block"):
            directive = token.type == "fence" and token.info.strip().startswith("{")
            spans.append(Span(DIRECTIVE if directive else CODE, first, last, block=True))
        elif token.type == "math_block":
            spans.append(Span(MATH, first, last, block=True))
        elif token.type == "html_block" and _RAW_HTML_BLOCK.match(token.content):
            spans.append(Span(HTML, first, last, block=True))
        elif token.type == "html_block":
            inline_env: dict[str, list[tuple[str, int, int]]] = {_SPANS: []}
            md.inline.parse(token.content, md, inline_env, [])
            spans += _placed(text, starts, token, inline_env[_SPANS], None)
        elif token.type == "inline":
            cell = index > 0 and tokens[index - 1].type in ("th_open", "td_open")
            spans += _placed(text, starts, token, token.meta.get(_SPANS, []), cursor if cell else None)
    spans.sort(key=lambda s: (s.start, -s.end))
    kept: list[Span] = []
    for span in spans:  # the outermost span of nested ones (a code span in a link's text)
        if span.end > span.start and not (kept and span.start < kept[-1].end):
            kept.append(span)
    return Reading(source, tuple(tokens), tuple(kept))


def _placed(
    text: str,
    starts: list[int],
    token: Token,
    found: list[tuple[str, int, int]],
    cursor: dict[int, int] | None,
) -> list[Span]:
    """Return the spans an inline parse of `token` recorded, as offsets of the whole source.

    markdown-it gives an inline token its content without the container markers (`> `, a list
    item's indent) and without outer spaces; each content line is found in its source line
    (a table cell's from `cursor`, after the cells before it).
    """
    if not found or token.map is None:
        return []
    content = token.content
    line_starts = [0, *(m.end() for m in re.finditer("\n", content))]
    bases: list[int | None] = []
    for j, begin in enumerate(line_starts):
        end = line_starts[j + 1] - 1 if j + 1 < len(line_starts) else len(content)
        bases.append(_locate(text, starts, token.map[0] + j, content[begin:end], cursor))
    spans = []
    for kind, start, end in found:
        j = bisect.bisect_right(line_starts, start) - 1
        k = bisect.bisect_right(line_starts, max(end - 1, start)) - 1
        first, last = bases[j], bases[k]
        if first is not None and last is not None:
            spans.append(Span(kind, first + start - line_starts[j], last + end - line_starts[k]))
    return spans


def _locate(text: str, starts: list[int], line: int, piece: str, cursor: dict[int, int] | None) -> int | None:
    """Return the offset in `text` of content line `piece` of source line `line`; None if not found."""
    if line >= len(starts):
        return None
    begin = starts[line]
    end = starts[line + 1] - 1 if line + 1 < len(starts) else len(text)
    source_line = text[begin:end]
    if cursor is None:  # a suffix of the line, but for the spaces after it
        if source_line.endswith(piece):
            return end - len(piece)
        if source_line.rstrip().endswith(piece):
            return begin + len(source_line.rstrip()) - len(piece)
    trimmed = piece.lstrip(" ")  # markdown-it makes spaces of a tab it cuts into
    at = source_line.find(trimmed, cursor.get(line, 0) if cursor is not None else 0)
    if at < 0:
        return None
    if cursor is not None:
        cursor[line] = at + len(trimmed)
    return begin + at - (len(piece) - len(trimmed))


# -- the parser ----------------------------------------------------------------------------------


@functools.cache
def parser(myst: bool = False) -> MarkdownIt:
    """Return the markdown-it parser configured as the site renders Markdown (mkdocs.yml).

    With `myst`, MyST's colon fences are fences too (read's `myst`).
    """
    from markdown_it import MarkdownIt
    from markdown_it.rules_inline import autolink, backtick, html_inline, image, link

    md = MarkdownIt("commonmark").enable("table")
    if myst:
        md.block.ruler.before(
            "fence", "colon_fence", _colon_fence, {"alt": ["paragraph", "reference", "blockquote", "list"]}
        )
    md.block.ruler.before("fence", "math_block", _math_block)
    md.block.ruler.before(
        "fence", "admonition", _admonition, {"alt": ["paragraph", "reference", "blockquote", "list"]}
    )
    md.inline.ruler.before("escape", "math_inline", _math_inline)
    md.inline.ruler.at("backticks", _recording(backtick, CODE))
    md.inline.ruler.at("html_inline", _recording(html_inline, HTML))
    md.inline.ruler.at("autolink", _recording(autolink, URL))
    md.inline.ruler.at("link", _destination(link))
    md.inline.ruler.at("image", _destination(image))
    md.core.ruler.at("inline", _inline)
    return md


Rule = Callable[["StateInline", bool], bool]


def _record(state: StateInline, kind: str, start: int, end: int) -> None:
    spans = state.env.setdefault(_SPANS, [])
    if isinstance(spans, list):
        spans.append((kind, start, end))


def _recording(rule: Rule, kind: str) -> Rule:
    """Return markdown-it's inline `rule`, noting where each token it makes begins and ends."""

    def recorded(state: StateInline, silent: bool) -> bool:
        start = state.pos
        found = rule(state, silent)
        # An unmatched run of backticks is text.
        if found and not silent and (kind != CODE or state.src[start : state.pos].strip("`")):
            _record(state, kind, start, state.pos)
        return found

    return recorded


def _destination(rule: Rule) -> Rule:
    """Return markdown-it's link or image rule, noting where each destination (`](...)`) is."""
    from markdown_it.helpers import parseLinkLabel

    def recorded(state: StateInline, silent: bool) -> bool:
        start = state.pos
        found = rule(state, silent)
        if found and not silent:
            end = state.pos
            state.pos = start
            label_end = parseLinkLabel(state, start + (1 if state.src[start] == "!" else 0), True)
            state.pos = end
            if label_end >= 0:
                _record(state, URL, label_end, end)
        return found

    return recorded


def _inline(state: StateCore) -> None:
    """markdown-it's core inline step, keeping each inline token's recorded spans in its meta."""
    for token in state.tokens:
        if token.type == "inline":
            spans: list[tuple[str, int, int]] = []
            state.env[_SPANS] = spans
            token.children = token.children or []
            state.md.inline.parse(token.content, state.md, state.env, token.children)
            token.meta[_SPANS] = spans
    state.env.pop(_SPANS, None)


def _math_inline(state: StateInline, silent: bool) -> bool:
    """arithmatex's inline math; a code span inside wins, as Python-Markdown reads code spans first."""
    if state.src[state.pos] not in "$\\":
        return False
    found = _MATH_INLINE.match(state.src, state.pos, state.posMax)
    if found is None or _has_code_span(state.src, found.start() + 1, found.end() - 1, state.posMax):
        return False
    if not silent:
        token = state.push("math_inline", "math", 0)
        token.content = found.group(0)
        token.markup = "$" if found.group(0).startswith("$") else "\\("
        _record(state, MATH, found.start(), found.end())
    state.pos = found.end()
    return True


def _has_code_span(src: str, start: int, end: int, limit: int) -> bool:
    """Return True if a run of backticks in src[start:end] opens a code span (a run as long closes it)."""
    for run in re.finditer(r"`+", src[start:end]):
        closing = re.compile(rf"(?<!`){run.group(0)}(?!`)")
        if closing.search(src, start + run.end(), limit):
            return True
    return False


def _math_block(state: StateBlock, start: int, end: int, silent: bool) -> bool:
    """arithmatex's block math: a paragraph that is wholly `$$..$$`, `\\[..\\]` or `\\begin{x}..\\end{x}`."""
    if state.sCount[start] - state.blkIndent >= 4:
        return False
    pos = state.bMarks[start] + state.tShift[start]
    if not state.src.startswith(("$$", "\\[", "\\begin{"), pos):
        return False
    last = start + 1
    while last < end and not state.isEmpty(last) and state.sCount[last] >= state.blkIndent:
        last += 1
    content = state.getLines(start, last, state.blkIndent, False)
    if not _MATH_BLOCK.match(content):
        return False
    if not silent:
        token = state.push("math_block", "math", 0)
        token.block = True
        token.content = content
        token.map = [start, last]
    state.line = last
    return True


def _admonition(state: StateBlock, start: int, end: int, silent: bool) -> bool:
    """Python-Markdown's admonition (and pymdownx.details'): a head, then a body indented by 4."""
    if state.sCount[start] - state.blkIndent >= 4:
        return False
    pos = state.bMarks[start] + state.tShift[start]
    head = state.src[pos : state.eMarks[start]]
    found = _ADMONITION.match(head) if head.startswith(("!!!", "???", "===")) else None
    if found is None:
        return False
    if silent:
        return True
    indent = state.sCount[start] + 4
    last = start + 1
    body_end = last
    while last < end:
        if state.isEmpty(last):
            last += 1
            continue
        if state.sCount[last] < indent:
            break
        last += 1
        body_end = last
    token = state.push("admonition_open", "div", 1)
    token.markup, token.info, token.map = head[:3], head[3:].strip(), [start, body_end]
    if found.group("title") or found.group("tab"):  # Markdown too
        title = state.push("inline", "", 0)
        title.content = found.group("title") or found.group("tab")
        title.map, title.children = [start, start + 1], []
    old_indent, old_max, old_parent = state.blkIndent, state.lineMax, state.parentType
    state.blkIndent, state.lineMax, state.parentType = indent, body_end, "admonition"
    state.md.block.tokenize(state, start + 1, body_end)
    state.blkIndent, state.lineMax, state.parentType = old_indent, old_max, old_parent
    state.push("admonition_close", "div", -1).markup = head[:3]
    state.line = body_end
    return True


def _colon_fence(state: StateBlock, start: int, end: int, silent: bool) -> bool:
    """MyST's colon fence: `:::{name} argument`, raw lines, then a line of as many colons or more.

    Nested blocks count, as in Pandoc and MyST (`:::{x}` or `::: {.x}` opens one, a line of colons
    closes the innermost); lines inside a code fence are not read.
    """
    if state.sCount[start] - state.blkIndent >= 4:
        return False
    pos = state.bMarks[start] + state.tShift[start]
    head = state.src[pos : state.eMarks[start]]
    opened = _COLON_OPEN.match(head) or COLON_CODE.match(head)
    if opened is None:
        return False
    if silent:
        return True
    fence = opened.group("fence")
    depth, code, line, closed = 0, "", start, False
    while True:
        line += 1
        if line >= end:
            break
        text = state.src[state.bMarks[line] + state.tShift[line] : state.eMarks[line]]
        if text and state.sCount[line] < state.blkIndent:
            break  # the container (a list item, a quote) ended
        if code:
            if text.startswith(code) and not text.strip(code[0]).strip():
                code = ""
            continue
        if state.sCount[line] - state.blkIndent >= 4:
            continue
        shown = _CODE_OPEN.match(text)
        if shown and not (shown.group("fence")[0] == "`" and "`" in shown.group("info")):
            code = shown.group("fence")
            continue
        if _DIV_OPEN.match(text):
            depth += 1
            continue
        close = _COLON_CLOSE.match(text)
        if close and depth:
            depth -= 1
        elif close and len(close.group("fence")) >= len(fence):
            closed = True
            break
    token = state.push("fence", "code", 0)
    token.info = head[len(fence) :]
    token.content = state.getLines(start + 1, line, state.sCount[start], True)
    token.markup = fence
    token.map = [start, line + 1 if closed else line]
    state.line = line + 1 if closed else line
    return True
