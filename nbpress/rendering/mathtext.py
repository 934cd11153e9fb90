# ruff: noqa: RUF001  (tables of Unicode math characters, Greek and black-letter ones included)
"""LaTeX math as text a reader can read, where the site cannot typeset it.

One owner for math outside the post's own typeset prose. A summary, a title, alt text, a
feed item and a meta tag are plain text: their math becomes readable Unicode
(`y = β₀ + β₁ x`). plotly draws its titles, axes, legends and annotations as text with a
small markup of its own: there math becomes that markup (a Greek letter, `<sub>1c</sub>`).
bokeh draws text on a canvas: there math becomes Unicode. Prose math is found as the
site's Markdown finds it (pymdownx.arithmatex: `$...$` with no space inside its dollars,
`\\(...\\)`, `$$...$$`, `\\[...\\]`), so a price (`$5 and $10`, `\\$5`) is never math;
plotly's and bokeh's as they find it. LaTeX is parsed by pylatexenc, whose tables give
each command's Unicode character; this module adds sub- and superscripts, fractions,
roots, text and font commands. A command neither knows is kept as its name and reported,
so the caller can warn.
"""

from __future__ import annotations

import html
import logging
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cache

from pylatexenc import latex2text, latexwalker, macrospec

# What nbpress cannot read is reported by the caller as a warning, not logged by pylatexenc.
logging.getLogger("pylatexenc").setLevel(logging.CRITICAL)

# Math as pymdownx.arithmatex finds it (its RE_* patterns, smart_dollar on), display forms
# first. An escaped dollar (\$) never opens math; a closing dollar followed by a digit does not close.
_MATH = re.compile(
    r"(?<!\\)\$\$(?P<display>(?:\\.|[^\\$])+?)\$\$"
    r"|(?<!\\)\\\[(?P<bracket>(?:\\[^\]]|[^\\])+?)\\\]"
    r"|(?<!\\)\\\((?P<paren>(?:\\[^)]|[^\\])+?)\\\)"
    r"|(?<!\\)\$(?!\s)(?P<dollar>(?:\\.|[^\\$])+?)(?<!\s)\$(?!\d)",
    re.S,
)
# Math as BokehJS reads it in a text: $$...$$, \[...\] or \(...\) (a single $ is text).
_BOKEH_MATH = re.compile(r"\$\$(?P<display>.+?)\$\$|\\\[(?P<bracket>.+?)\\\]|\\\((?P<paren>.+?)\\\)", re.S)
# Markdown's backslash escapes (CommonMark: any ASCII punctuation).
_ESCAPE = re.compile(r"\\([!-/:-@\[-`{-~])")
_CODE_SPAN = re.compile(r"(?<![`\\])(`+)(?!`)(.+?)(?<!`)\1(?!`)", re.S)
_LINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")
# Emphasis with asterisks around words (`*x*`, `**x**`); a lone `*` (2*3) is text.
_EMPHASIS = re.compile(r"(?<!\\)(\*\*|\*)(?=\S)(.+?)(?<=\S)(?<!\\)\1")
# A plotly text is math when it is math as a whole, as plotly.js reads it ("$...$").
_PLOTLY_MATH = re.compile(r"\A\s*\$+(?P<tex>.*?[^$\s].*?)\$+\s*\Z", re.S)

# Unicode's sub- and superscript characters (a letter without one keeps `_x` / `^x`).
_SUB = dict(
    zip(
        "0123456789+-=()aehijklmnoprstuvxβγρφχ",
        "₀₁₂₃₄₅₆₇₈₉₊₋₌₍₎ₐₑₕᵢⱼₖₗₘₙₒₚᵣₛₜᵤᵥₓᵦᵧᵨᵩᵪ",
        strict=True,
    )
)
_SUP = dict(
    zip(
        "0123456789+-=()abcdefghijklmnoprstuvwxyzABDEGHIJKLMNOPRTUVWβγδθφχ⊤",
        "⁰¹²³⁴⁵⁶⁷⁸⁹⁺⁻⁼⁽⁾ᵃᵇᶜᵈᵉᶠᵍʰⁱʲᵏˡᵐⁿᵒᵖʳˢᵗᵘᵛʷˣʸᶻᴬᴮᴰᴱᴳᴴᴵᴶᴷᴸᴹᴺᴼᴾᴿᵀᵁⱽᵂᵝᵞᵟᶿᵠᵡᵀ",
        strict=True,
    )
)
# A space before a script or an accent's combining mark (what `\hat y_i` leaves) is dropped.
_SPACE_BEFORE_SCRIPT = re.compile(
    "\\s+(?=[" + re.escape("".join(_SUB.values()) + "".join(_SUP.values())) + "\u0300-\u036f\u20d0-\u20ff])"
)
_FRACTIONS = {"frac", "dfrac", "tfrac", "cfrac"}
# Commands whose one argument is shown as it is (text, fonts, operators named by the author).
_AS_TEXT = {
    "text", "textrm", "textnormal", "textit", "textsf", "texttt", "textup", "mbox", "mathrm",
    "mathit", "mathsf", "mathtt", "mathnormal", "operatorname", "mathcal", "mathscr", "mathfrak",
    "emph", "boxed",
}  # fmt: skip
_BOLD = {"mathbf", "boldsymbol", "bm", "textbf", "mathbfit"}
# Commands that only size or space what follows; \left( keeps its parenthesis.
_SILENT = {
    "left", "right", "middle", "big", "Big", "bigg", "Bigg", "bigl", "bigr", "Bigl", "Bigr",
    "biggl", "biggr", "Biggl", "Biggr", "displaystyle", "textstyle", "scriptstyle", "limits",
    "nolimits", "!", "label", "nonumber", "notag", "tag", "includegraphics",
}  # fmt: skip
_SPACES = {",", ":", ";", " ", "quad", "qquad", "enspace", "thinspace", "medspace", "thickspace"}
_BLACKBOARD = dict(zip("RNZQCPHE1", "ℝℕℤℚℂℙℍ𝔼𝟙", strict=True))


@dataclass(frozen=True)
class Converted:
    """Text made from LaTeX, and the commands it could not read (kept as their names)."""

    text: str
    unknown: tuple[str, ...] = ()


# Commands KaTeX and MathJax know that pylatexenc's tables lack: their arguments (for the
# parser) and, for symbols, their text.
_ARGUMENTS = {
    "boldsymbol": "{", "bm": "{", "mathbfit": "{", "mathnormal": "{", "textnormal": "{", "textup": "{",
    "tfrac": "{{", "dfrac": "{{", "cfrac": "{{", "binom": "{{", "dbinom": "{{", "tbinom": "{{",
    "operatorname": "*{", "xrightarrow": "[{", "xleftarrow": "[{", "cancel": "{", "bcancel": "{",
    "color": "{", "textcolor": "{{", "phantom": "{", "hphantom": "{", "vphantom": "{", "substack": "{",
    "overset": "{{", "underset": "{{", "stackrel": "{{", "pmod": "{", "mathbbm": "{", "boxed": "{",
    "tag": "*{", "label": "{", "includegraphics": "[{", "href": "{{", "url": "{",
}  # fmt: skip
_SYMBOLS = {
    "ne": "≠", "neg": "¬", "lnot": "¬", "land": "∧", "lor": "∨", "implies": "⟹", "impliedby": "⟸",
    "iff": "⟺", "bot": "⊥", "degree": "°", "checkmark": "✓", "triangle": "△", "coloneqq": "≔",
    "Re": "ℜ", "Im": "ℑ", "arg": "arg", "det": "det", "Pr": "Pr", "bmod": "mod", "argmax": "argmax",
    "argmin": "argmin", "xrightarrow": "→", "xleftarrow": "←",
}  # fmt: skip


@cache
def _latex2text() -> latex2text.LatexNodes2Text:
    db = latex2text.get_default_latex_context_db()
    db.add_context_category(
        "nbpress", prepend=True, macros=[latex2text.MacroTextSpec(k, v) for k, v in _SYMBOLS.items()]
    )
    return latex2text.LatexNodes2Text(
        latex_context=db, math_mode="verbatim", keep_comments=False, strict_latex_spaces=False
    )


@cache
def _parsing() -> macrospec.LatexContextDb:
    db = latexwalker.get_default_latex_context_db()
    db.add_context_category(
        "nbpress", prepend=True, macros=[macrospec.MacroSpec(k, v) for k, v in _ARGUMENTS.items()]
    )
    return db


class _Writer:
    """Turns pylatexenc's nodes into text: plain Unicode, or plotly's markup with `markup`."""

    def __init__(self, markup: bool) -> None:
        self.markup = markup
        self.unknown: list[str] = []

    def text(self, chars: str) -> str:
        return html.escape(chars, quote=False) if self.markup else chars

    def nodes(self, nodes: list[latexwalker.LatexNode] | None) -> str:
        items = list(_items(nodes or []))
        out: list[str] = []
        index = 0
        while index < len(items):
            item = items[index]
            index += 1
            if isinstance(item, str) and item in ("_", "^"):
                while index < len(items) and isinstance(items[index], str) and items[index] == " ":
                    index += 1
                if index == len(items):
                    continue
                inside = self.item(items[index])
                # A command's trailing space (`^\\top x`) stays after the script.
                out.append(self.script(inside, item == "_") + (" " if inside.endswith(" ") else ""))
                index += 1
            else:
                out.append(self.item(item))
        return "".join(out)

    def item(self, item: str | latexwalker.LatexNode) -> str:
        if isinstance(item, str):
            return self.text(item)
        if isinstance(item, (latexwalker.LatexGroupNode, latexwalker.LatexMathNode)):
            return self.nodes(item.nodelist)
        if isinstance(item, latexwalker.LatexMacroNode):
            return self.macro(item)
        if isinstance(item, latexwalker.LatexCommentNode):
            return ""
        # Environments (matrices, cases) and specials (~, &): pylatexenc's own reading.
        return self.text(_latex2text().node_to_text(item))

    def args(self, node: latexwalker.LatexMacroNode) -> list[latexwalker.LatexNode | None]:
        found = node.nodeargd.argnlist if node.nodeargd else []
        return list(found or [])

    def arg(self, node: latexwalker.LatexNode | None) -> str:
        if node is None:
            return ""
        if isinstance(node, latexwalker.LatexGroupNode):
            return self.nodes(node.nodelist)
        return self.item(node)

    def macro(self, node: latexwalker.LatexMacroNode) -> str:
        name = node.macroname
        space = " " if node.macro_post_space else ""
        args = [a for a in self.args(node) if a is not None]
        if name in _SILENT:
            return ""
        if name in _SPACES:
            return " "
        if name == "\\":
            return " "
        if name in _FRACTIONS:
            top, bottom = ([""] * 2 + [self.arg(a) for a in args])[-2:]
            return f"{_wrapped(top)}/{_wrapped(bottom)}"
        if name in ("href", "url"):
            return self.arg(args[-1]) if args else ""
        if name == "sqrt" and args:
            degree = self.script(self.arg(args[0]), sub=False) if len(args) > 1 else ""
            return degree.lstrip("^") + "√" + _wrapped(self.arg(args[-1]))
        if name in ("binom", "dbinom", "tbinom") and len(args) >= 2:
            top, bottom = (self.arg(a).strip() for a in args[-2:])
            return f"C({top}, {bottom})"
        if name == "pmod" and args:
            return f"(mod {self.arg(args[-1]).strip()})"
        if name in ("xrightarrow", "xleftarrow"):
            return "→" if name == "xrightarrow" else "←"
        if name in ("phantom", "hphantom", "vphantom", "color"):
            return ""
        if name in ("cancel", "bcancel", "substack", "overset", "underset", "stackrel", "textcolor") and args:
            return self.arg(args[-1])
        if name in _AS_TEXT and args:
            return self.arg(args[-1])
        if name in _BOLD and args:
            inside = self.arg(args[-1])
            return f"<b>{inside}</b>" if self.markup else inside
        if name in ("mathbb", "mathbbm") and args:
            inside = self.arg(args[-1])
            return "".join(_BLACKBOARD.get(c, c) for c in inside)
        if len(name) == 1 and not name.isalpha():
            return self.text(name)  # \{ \} \$ \% \& \# \_
        if _latex2text().latex_context.get_macro_spec(name) is None:
            self.unknown.append(f"\\{name}")
            return self.text(name) + " "
        return self.text(_latex2text().node_to_text(node).strip()) + space

    def script(self, inside: str, sub: bool) -> str:
        inside = inside.strip()
        if self.markup:
            tag = "sub" if sub else "sup"
            return f"<{tag}>{inside}</{tag}>"
        table = _SUB if sub else _SUP
        if inside and all(c in table for c in inside):
            return "".join(table[c] for c in inside)
        mark = "_" if sub else "^"
        return f"{mark}{inside}" if len(inside) == 1 else f"{mark}({inside})"


def _wrapped(text: str) -> str:
    """Return a fraction's or root's part, in parentheses unless it is one number or name."""
    text = text.strip()
    return text if not text or re.fullmatch(r"[\w.\u2032]+|\(.*\)", text) else f"({text})"


def _items(nodes: list[latexwalker.LatexNode]) -> Iterator[str | latexwalker.LatexNode]:
    """Yield the nodes, a chars node as its characters (runs of spaces as one space)."""
    after_left = False
    for node in nodes:
        if isinstance(node, latexwalker.LatexCharsNode):
            chars = re.sub(r"\s+", " ", node.chars)
            if after_left and chars.startswith("."):
                chars = chars[1:]  # \left. is an invisible delimiter
            yield from chars
        else:
            yield node
        after_left = isinstance(node, latexwalker.LatexMacroNode) and node.macroname in ("left", "right")


def tex_to_text(tex: str, markup: bool = False) -> Converted:
    """Return LaTeX math (no delimiters) as readable text: Unicode, or plotly's markup with `markup`.

    Greek letters and symbols become their characters, sub- and superscripts Unicode's
    (where every character has one; else `_x`, `^(…)`) or <sub>/<sup>, \\frac{a}{b} `a/b`,
    \\sqrt{x} `√x`, text and font commands their text, braces go. An unknown command is
    kept as its name and listed in `unknown`.
    """
    writer = _Writer(markup)
    try:
        nodes, _, _ = latexwalker.LatexWalker(
            tex, latex_context=_parsing(), tolerant_parsing=True
        ).get_latex_nodes()
        text = writer.nodes(nodes)
    except Exception:  # pylatexenc's text rules can fail on odd arguments (\href{x})
        return Converted(writer.text(" ".join(tex.split())), ("LaTeX it could not read",))
    text = " ".join(text.split())
    return Converted(
        text if markup else _SPACE_BEFORE_SCRIPT.sub("", text), tuple(dict.fromkeys(writer.unknown))
    )


def has_math(text: str) -> bool:
    """Return True if `text` holds math as the site's Markdown finds it."""
    return _MATH.search(text) is not None


def unknown_commands(text: str) -> tuple[str, ...]:
    """Return the LaTeX commands of the math in `text` nbpress cannot read (the notebook's own macros)."""
    found = (c for m in _MATH.finditer(text) for c in tex_to_text(_tex(m)).unknown)
    return tuple(dict.fromkeys(found))


def _tex(match: re.Match[str]) -> str:
    return next(g for g in match.group("display", "bracket", "paren", "dollar") if g is not None)


def _replace_math(text: str, each: Callable[[str], str], between: Callable[[str], str]) -> str:
    out: list[str] = []
    end = 0
    for match in _MATH.finditer(text):
        out.append(between(text[end : match.start()]))
        out.append(each(_tex(match)))
        end = match.end()
    out.append(between(text[end:]))
    return "".join(out)


def plain_text(text: str) -> str:
    """Return a plain text value (a title, a description typed in front matter) with its math readable.

    Each piece of math becomes readable text (tex_to_text) and an escaped dollar (`\\$`) a
    dollar; everything else stays as typed.
    """
    return _replace_math(text, _plain_math, lambda between: between.replace("\\$", "$"))


def markdown_text(markdown: str) -> str:
    """Return Markdown (a summary's paragraph) as one line of plain text a reader can read.

    Links and images become their text; code spans their code, as written (a `$` in code is
    not math); outside code, each piece of math becomes readable text (tex_to_text), emphasis
    marks go and Markdown's backslash escapes become their character (`\\$5` is `$5`).
    """
    markdown = _LINK.sub(r"\1", markdown)
    out: list[str] = []
    end = 0
    for match in _CODE_SPAN.finditer(markdown):
        out.append(_replace_math(markdown[end : match.start()], _plain_math, _prose))
        out.append(match.group(2).strip() or match.group(2))
        end = match.end()
    out.append(_replace_math(markdown[end:], _plain_math, _prose))
    return " ".join("".join(out).split())


def _plain_math(tex: str) -> str:
    return tex_to_text(tex).text


def _prose(text: str) -> str:
    """Return Markdown prose without its emphasis marks, its backslash escapes read."""
    return _ESCAPE.sub(r"\1", _EMPHASIS.sub(r"\2", text))


def plotly_text(text: str) -> Converted:
    """Return a plotly text (a title, an axis title, a trace name, an annotation) with its math as markup.

    plotly.js reads a text as math when it is wrapped in dollars as a whole (`$\\alpha_1$`;
    words go in \\text{}), and typesets it only with MathJax, which the site does not load.
    Such a text becomes plotly's own markup (<sub>, <sup>, <b>, Unicode; `<` and `&`
    escaped); any other text is returned as it is (a `$` in "Cost ($)" is not math).
    """
    match = _PLOTLY_MATH.match(text)
    return tex_to_text(match.group("tex"), markup=True) if match else Converted(text)


def bokeh_text(text: str) -> Converted:
    """Return a bokeh text (a title, an axis label, a legend label) with its math as plain Unicode.

    BokehJS typesets `$$...$$`, `\\[...\\]` and `\\(...\\)` only with MathJax, which the site
    does not serve; bokeh draws text on a canvas, so math becomes readable Unicode there.
    """
    unknown: list[str] = []

    def each(match: re.Match[str]) -> str:
        tex = next(g for g in match.group("display", "bracket", "paren") if g is not None)
        converted = tex_to_text(tex)
        unknown.extend(converted.unknown)
        return converted.text

    return Converted(_BOKEH_MATH.sub(each, text), tuple(dict.fromkeys(unknown)))
