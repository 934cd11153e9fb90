"""Computed values in prose: Quarto's inline `{python} expr`, MyST's {eval} and MyST-NB's glue.

A value always comes from the post's own kernel run, cached like any output, so a number in
a sentence cannot disagree with the code above it:

- Quarto's `` `{python} expr` `` and MyST-NB's `` {eval}`expr` `` in a Markdown cell: the
  kernel evaluates `expr` right after the code cells above the cell (nbpress.execution.inline);
- MyST-NB's `glue("name", value)` (and `display=False`) in a code cell, pasted by the roles
  `` {glue}`name` `` (also `{glue:}`, `{glue:any}`), `` {glue:text}`name:.2f` `` (a format
  spec applied to the value as MyST-NB does), `` {glue:md}`name` `` and the directives
  `{glue}`, `{glue:md}`, `{glue:math}` and `{glue:figure}` (`:name:` label, caption body).

The one rule for what a value becomes (`_inline`, `_block`): an image is a figure file the
figures step names and writes (a Markdown attachment of the cell, so it lands in
assets/images/<post>/ like any figure); HTML and Markdown pass the sanitizing every output
passes (nbpress.rendering.outputs.richest_form, nbpress.rendering.sanitize.markdown_html);
LaTeX is math, its source escaped; anything else is its text/plain, escaped so that it shows
as typed and is never read as HTML or Markdown syntax (not even a citation or a role). A
value is looked for only in prose: a code span or fence that shows the syntax is left as is
(nbpress.rendering.mdtokens). An unknown glue name is a warning naming file, cell and name;
the role's text is kept as a code span and a directive's caption as text, never their syntax.

This step runs first in the transform chain (before the cells the author hid lose their
outputs, and before markup numbers figures and resolves references), so a value glued in a
hidden cell still shows, a {glue:figure} is numbered like any figure, and the summary shows
the value, never the syntax.
"""

from __future__ import annotations

import ast
import base64
import binascii
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ..errors import RenderError, cell_place
from ..execution.inline import is_prose_fence, take_values
from ..notebook import Cell, Notebook, outputs_of, text_of
from . import mdtokens
from .figures import EXTENSIONS, SIGNATURES
from .sanitize import markdown_html, sanitize_svg

# MyST-NB's glue(): an output whose metadata names it; display=False prefixes its MIME types.
GLUE_PREFIX = "application/papermill.record/"
# Quarto's inline expression: a code span of one backtick whose text starts with {python}.
_QUARTO = re.compile(r"`\{python\}[ \t]+(?P<expr>[^`]*?)[ \t]*`\Z")
# A MyST role just before a code span: {eval} or one of glue's.
_ROLE = re.compile(r"\{(?P<role>eval|glue(?::[a-z]*)?)\}\Z")
_GLUE_ANY = ("glue", "glue:", "glue:any")
_GLUE_ROLES = (*_GLUE_ANY, "glue:text", "glue:md")
# A glue directive, with backticks (a MyST fence) or colons (MyST's colon fence).
_DIRECTIVE = re.compile(
    r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|:{3,})\{(?P<name>glue(?::[a-z]*)?)\}[ \t]*(?P<arg>[^\n]*?)[ \t]*\n"
    r"(?P<body>(?:.*?\n)??)(?P=indent)(?P=fence)[ \t]*$",
    re.M | re.S,
)
_OPTION = re.compile(r"^[ \t]*:(?P<key>[\w-]+):[ \t]*(?P<value>.*?)[ \t]*$")
# Characters that mean something to Markdown, to its extensions (arithmatex's $, attr_list's
# braces, tilde, caret, mark) or to nbpress's own markup (@ citations, roles, (label)=): in a
# value they are written as character references, which show the same and are never syntax.
_MARKDOWN_CHARS = frozenset("\\`*_{}[]()<>#+-!|~^=$@:&")
_INLINE_CHARS = frozenset("\\`*_{}[]()!|~^=$@:")  # in HTML text, where < > & are already escaped
_ENTITY = re.compile(r"&(?:#\d+|#[xX][0-9a-fA-F]+|\w+);")


@dataclass(frozen=True)
class Use:
    """A value asked for in prose: source[start:end] is the whole role or inline expression."""

    start: int
    end: int
    role: str  # "python" (Quarto's or {eval}), or a glue role ("glue:text", ...)
    text: str  # the expression, or the role's content ("name:.2f")


def uses(source: str) -> list[Use]:
    """Return the inline values a Markdown cell asks for, in order; none inside code that shows them.

    The body of a MyST directive whose body is prose (a {note}, a {figure}'s caption) is
    prose too; that of a {code-block} or a plain fence is code.
    """
    if "`" not in source or "{" not in source:
        return []
    reading = mdtokens.read(source)
    found: list[Use] = []
    for span in reading.spans:
        piece = source[span.start : span.end]
        if span.kind == mdtokens.DIRECTIVE:
            found += _directive_uses(source, span)
            continue
        if span.kind != mdtokens.CODE or span.block or piece.startswith("``"):
            continue  # a fence, or a code span of two backticks: showing the syntax
        quarto = _QUARTO.match(piece)
        if quarto:
            found.append(Use(span.start, span.end, "python", " ".join(quarto.group("expr").split())))
            continue
        role = _ROLE.search(source, max(0, span.start - 20), span.start)
        if role is None or not reading.outside(role.start(), span.start):
            continue
        name = "python" if role.group("role") == "eval" else role.group("role")
        if name == "python" or name in _GLUE_ROLES:
            found.append(Use(role.start(), span.end, name, " ".join(piece[1:-1].split())))
    return found


def _directive_uses(source: str, span: mdtokens.Span) -> list[Use]:
    """Return the uses in the body of a fenced MyST directive whose body is prose, placed in `source`."""
    text = source[span.start : span.end]
    head, _, rest = text.partition("\n")
    opened = re.match(r"[ \t>]*(`{3,}|~{3,})(.*)$", head)
    if opened is None or not is_prose_fence(opened.group(2)):
        return []
    start = span.start + len(head) + 1
    lines = rest.split("\n")
    while lines and not lines[-1].strip():
        lines.pop()
    if lines and lines[-1].strip().startswith(opened.group(1)[:3]):
        lines.pop()  # the closing fence
    body = "\n".join(lines)
    return [Use(u.start + start, u.end + start, u.role, u.text) for u in uses(body)]


# -- the step ---------------------------------------------------------------------------------


@dataclass
class _Cell:
    """What the step knows while it rewrites one Markdown cell."""

    rel: str
    index: int  # 0-based; messages count from 1
    cell: Cell
    warnings: list[str] = field(default_factory=list)
    images: int = 0

    def where(self) -> str:
        return cell_place(self.rel, self.index + 1)  # as every message names a cell


def substitute(nb: Notebook, rel: str) -> list[str]:
    """Put every computed value into the prose that asks for it; return a warning per value not found.

    Takes glue's hidden outputs (display=False) and the inline values the executor kept out
    of the code cells' outputs first, so no later step shows them.
    """
    glued = _take_glue(nb)
    inline = take_values(nb)
    warnings: list[str] = []
    above = 0  # code cells above the current cell
    for index, cell in enumerate(nb.cells):
        if cell.cell_type == "code":
            above += 1
            continue
        if cell.cell_type != "markdown" or "{" not in cell.source:
            continue
        state = _Cell(rel, index, cell)
        values = {expr: bundle for (after, expr), bundle in inline.items() if after == above}
        source = _directives(cell.source, state, glued, values)
        cell.source = _roles(source, state, glued, values)
        warnings += state.warnings
    return warnings


def _take_glue(nb: Notebook) -> dict[str, dict[str, Any]]:
    """Return {name: MIME bundle} of every glue() output, in run order (a later one wins).

    Outputs glued with display=False are removed from their cells: they are never shown.
    """
    glued: dict[str, dict[str, Any]] = {}
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        kept = []
        for output in outputs_of(cell):
            meta = output.get("metadata", {}).get("scrapbook")
            if not isinstance(meta, Mapping) or not isinstance(meta.get("name"), str):
                kept.append(output)
                continue
            prefix = str(meta.get("mime_prefix") or "")
            data = output.get("data", {})
            glued[meta["name"]] = {
                (k[len(prefix) :] if prefix and k.startswith(prefix) else k): v for k, v in data.items()
            }
            if not prefix:
                kept.append(output)  # glued with display=True: shown in its cell as well
        cell.outputs = kept
    return glued


def _roles(source: str, state: _Cell, glued: dict[str, dict[str, Any]], values: dict[str, Any]) -> str:
    """Return `source` with each value role and inline expression replaced by its value."""
    found = uses(source)
    for use in reversed(found):  # from the end: earlier offsets stay valid
        value = _role_value(use, state, glued, values)
        if value is None and source.startswith("{", use.start):
            # Not found (warned): its text is kept, as a code span, never the role's syntax
            # (Quarto's `{python} x` is a code span already).
            source = source[: use.start] + source[use.start : use.end].split("}", 1)[1] + source[use.end :]
        elif value is not None:
            at_line_start = source[: use.start].rsplit("\n", 1)[-1].strip() == ""
            if at_line_start and value[:1].isalnum():
                value = f"&#{ord(value[0])};{value[1:]}"  # "1. " would start a list
            source = source[: use.start] + value + source[use.end :]
    return source


def _role_value(
    use: Use, state: _Cell, glued: dict[str, dict[str, Any]], values: dict[str, Any]
) -> str | None:
    """Return the Markdown of one role's value, or None (with a warning) to keep its text."""
    if use.role == "python":
        result = values.get(use.text)
        if isinstance(result, Mapping) and isinstance(result.get("error"), str):
            raise RenderError(
                f"the inline expression `{use.text}` raised {result['error']} "
                "(fix the expression, or the code above it)",
                path=state.rel,
                cell=state.index + 1,
            )
        if not isinstance(result, Mapping) or not isinstance(result.get("data"), Mapping):
            state.warnings.append(
                f"{state.where()}: the inline expression `{use.text}` has no value in the post's "
                "run, so its text is shown; run the build with --force"
            )
            return None
        return _inline(result["data"], state, use.text, quoted=False)
    name, spec = use.text, ""
    if use.role == "glue:text" and ":" in use.text:
        name, spec = use.text.rsplit(":", 1)
    bundle = _glued(name, use.role, state, glued)
    if bundle is None:
        return None
    if use.role == "glue:text":
        if "text/plain" not in bundle:
            state.warnings.append(
                f"{state.where()}: the glued value {name!r} has no text, so {{glue:text}} keeps its text"
            )
            return None
        try:
            return _escape(format_plain_text(text_of(bundle["text/plain"]), spec))
        except (ValueError, TypeError) as err:
            state.warnings.append(
                f"{state.where()}: the glued value {name!r} cannot be formatted with {spec!r} ({err}), "
                "so the role keeps its text; fix the format spec"
            )
            return None
    if use.role == "glue:md":
        return _markdown(bundle, inline=True)
    return _inline(bundle, state, name, quoted=True)


def _glued(name: str, role: str, state: _Cell, glued: dict[str, dict[str, Any]]) -> dict[str, Any] | None:
    """Return the bundle glued as `name`, or None with the one warning for an unknown name."""
    bundle = glued.get(name.strip())
    if bundle is None:
        state.warnings.append(
            f"{state.where()}: {{{role}}} names {name.strip()!r}, which no code cell of the post "
            "glues, so its text is shown; glue it with myst_nb.glue() in a code cell above"
        )
    return bundle


def format_plain_text(text: str, spec: str) -> str:
    """Return a value's text/plain formatted with a format spec, as MyST-NB's glue:text does.

    Its repr is read as a Python literal (a string loses its quotes); NumPy 2's scalar repr
    (`np.float64(0.5)`) is read as its number, where MyST-NB would fail.
    """
    scalar = re.fullmatch(r"np\.\w+\((?P<inner>.*)\)", text.strip(), re.S)
    try:
        value: object = ast.literal_eval(scalar.group("inner") if scalar else text)
    except (SyntaxError, ValueError, MemoryError, RecursionError):
        value = text
    if spec == "":
        return str(value)
    kind = spec[-1]
    if kind == "s":
        value = str(value)
    elif kind in "bcdoxX":
        value = int(value)  # type: ignore[call-overload]
    elif kind in "eEfFgGn%":
        value = float(value)  # type: ignore[arg-type]
    return format(value, spec)


# -- what a value becomes -----------------------------------------------------------------------


def _escape(text: str, chars: frozenset[str] = _MARKDOWN_CHARS) -> str:
    """Return text shown as typed in a sentence: one line, Markdown and HTML syntax as references."""
    text = " ".join(text.split("\n")).strip() if chars is _MARKDOWN_CHARS else text
    return "".join(f"&#{ord(c)};" if c in chars else c for c in text)


def _inert_html(html: str) -> str:
    """Return safe HTML whose text Markdown and nbpress's markup leave alone (character references)."""

    def text(match: re.Match[str]) -> str:
        piece = match.group(0)
        out, last = [], 0
        for entity in _ENTITY.finditer(piece):
            out += [_escape(piece[last : entity.start()], _INLINE_CHARS), entity.group(0)]
            last = entity.end()
        out.append(_escape(piece[last:], _INLINE_CHARS))
        return "".join(out)

    inert = re.sub(r"(?<=>)[^<]+|\A[^<]+", text, html)
    return re.sub(r"\n\s*\n", "\n", inert)  # a blank line would end the HTML inside a paragraph


def _plain(bundle: Mapping[str, Any], quoted: bool) -> str:
    """Return a value's text/plain as it reads in a sentence (a string without quotes unless `quoted`)."""
    text = text_of(bundle.get("text/plain", ""))
    if not quoted and len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
        try:
            literal = ast.literal_eval(text)
        except (SyntaxError, ValueError, MemoryError, RecursionError):
            literal = None
        if isinstance(literal, str):
            return literal  # Quarto shows a string's text, not its repr
    return text


def _inline(bundle: Mapping[str, Any], state: _Cell, name: str, quoted: bool) -> str:
    """Return the Markdown of a value inside a sentence: the one rule of the module's docstring."""
    image = _image(bundle, state, name)
    if image is not None:
        return image
    if "text/html" in bundle or "text/markdown" in bundle:
        html = _rich(bundle)
        if html is not None:
            return " ".join(html.split("\n"))
    if ("text/latex" in bundle and "text/plain" not in bundle) or _is_math(bundle):
        return _math(text_of(bundle["text/latex"]))
    return _escape(_plain(bundle, quoted))


def _is_math(bundle: Mapping[str, Any]) -> bool:
    """Return True for a value whose LaTeX is one formula (sympy's $x^2$), shown as math."""
    latex = text_of(bundle.get("text/latex", "")).strip()
    return bool(re.fullmatch(r"\$[^$]+\$|\$\$[^$]+\$\$|\\\(.+\\\)", latex, re.S))


def _math(latex: str) -> str:
    """Return inline math KaTeX typesets, its source escaped (never markup)."""
    body = latex.strip()
    for left, right in (("$$", "$$"), ("$", "$"), ("\\(", "\\)")):
        if body.startswith(left) and body.endswith(right) and len(body) > len(left) + len(right):
            body = body[len(left) : -len(right)].strip()
            break
    escaped = body.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return f'<span class="arithmatex">\\({_escape(escaped, frozenset("[]{}$`*_@"))}\\)</span>'


def _rich(bundle: Mapping[str, Any]) -> str | None:
    """Return a value's HTML or Markdown sanitized as an output's would be, inert to Markdown; or None."""
    from .outputs import richest_form

    data = {m: bundle[m] for m in ("text/html", "text/markdown") if m in bundle}
    chosen = richest_form(data, False, [])
    if chosen is None:
        return None
    return _inert_html(chosen[1])


def _markdown(bundle: Mapping[str, Any], inline: bool) -> str:
    """Return glue:md's value: its Markdown through the sanitizing of a Markdown output."""
    text = text_of(bundle.get("text/markdown", bundle.get("text/plain", "")))
    html = _inert_html(markdown_html(text))
    if inline:
        html = re.sub(r"\A\s*<p>(.*)</p>\s*\Z", r"\1", html, flags=re.S)
        return " ".join(html.split("\n"))
    return html


def _image(bundle: Mapping[str, Any], state: _Cell, name: str) -> str | None:
    """Return `![name](attachment:...)` for an image value, its bytes the cell's attachment; else None.

    The figures step names, checks (size) and writes attachments, so the image lands in
    assets/images/<post>/ like any figure. An SVG is sanitized as an SVG output is.
    """
    ref = _attach(bundle, state)
    return None if ref is None else f"![{_escape(name)}]({ref})"


def _attach(bundle: Mapping[str, Any], state: _Cell) -> str | None:
    """Make an image value an attachment of the cell; return its `attachment:` reference, or None."""
    for mime in ("image/svg+xml", "image/png", "image/jpeg"):
        if mime not in bundle:
            continue
        text = text_of(bundle[mime])
        if mime == "image/svg+xml":
            svg = sanitize_svg(text, [])
            if svg is None:
                continue
            text = svg
        else:
            try:
                raw = base64.b64decode(text, validate=True)
            except (binascii.Error, ValueError):
                continue
            if not raw.startswith(SIGNATURES[mime]):
                continue
        state.images += 1
        # Ends in its extension, so no name is the start of another (the figures step replaces them).
        key = f"nbpress-value-{state.images}{EXTENSIONS[mime]}"
        attachments = state.cell.get("attachments") or {}
        attachments[key] = {mime: text}
        state.cell["attachments"] = attachments
        return f"attachment:{key}"
    return None


# -- directives ---------------------------------------------------------------------------------


def _options(body: str) -> tuple[dict[str, str], str]:
    """Return (options, the rest) of a directive's body: `:key: value` lines or a `---` YAML block."""
    lines = body.split("\n")
    options: dict[str, str] = {}
    if lines and lines[0].strip() == "---" and "---" in (line.strip() for line in lines[1:]):
        end = next(i for i, line in enumerate(lines[1:], 1) if line.strip() == "---")
        for line in lines[1:end]:
            key, _, value = line.partition(":")
            if key.strip():
                options[key.strip()] = value.strip().strip("'\"")
        return options, "\n".join(lines[end + 1 :])
    rest = 0
    for rest, line in enumerate(lines):  # noqa: B007 - the first line that is not an option
        match = _OPTION.match(line)
        if match is None:
            break
        options[match.group("key")] = match.group("value")
    else:
        rest = len(lines)
    return options, "\n".join(lines[rest:])


def _directives(source: str, state: _Cell, glued: dict[str, dict[str, Any]], values: dict[str, Any]) -> str:
    """Return `source` with each glue directive (outside code) replaced by its value as Markdown."""
    if "{glue" not in source:
        return source
    reading = mdtokens.read(source)

    def block(match: re.Match[str]) -> str:
        if not reading.outside(match.start(), match.end()):
            return match.group(0)  # a fence showing the syntax
        kind, name = match.group("name"), match.group("arg").strip()
        indent = match.group("indent")
        bundle = _glued(name, kind, state, glued)
        if bundle is None:
            # Not found (warned): its content (a caption) is kept, never the directive's syntax.
            return _roles(_options(match.group("body"))[1].strip("\n"), state, glued, values)
        options, caption = _options(match.group("body"))
        caption = _roles(caption.strip("\n"), state, glued, values)
        if kind == "glue:figure":
            ref = _attach(bundle, state)
            if ref is not None:
                # A MyST figure: markup numbers it and binds its :name:, figures writes the image.
                lines = [f"{match.group('fence')}{{figure}} {ref}"]
                lines += [f":{k}: {v}" for k, v in options.items() if re.fullmatch(r"[\w-]+", k)]
                lines += [caption, match.group("fence")] if caption else [match.group("fence")]
                return "\n".join(indent + line if line else line for line in lines)
        text = _block(kind, bundle, state, name)
        if kind == "glue:figure" and caption:
            text += f"\n\n{caption}"
        return "\n".join(indent + line if line else line for line in text.split("\n"))

    return _DIRECTIVE.sub(block, source)


def _block(kind: str, bundle: Mapping[str, Any], state: _Cell, name: str) -> str:
    """Return the Markdown of a value shown as a block: the one rule, with text as a code block."""
    from .sanitize import fence, latex_html

    if kind == "glue:md":
        return _markdown(bundle, inline=False)
    if kind == "glue:math" and "text/latex" in bundle:
        return latex_html(text_of(bundle["text/latex"]))
    image = _image(bundle, state, name)
    if image is not None:
        return image
    if "text/html" in bundle or "text/markdown" in bundle:
        html = _rich(bundle)
        if html is not None:
            return html
    if "text/latex" in bundle:
        return latex_html(text_of(bundle["text/latex"]))
    return fence(_plain(bundle, quoted=True), "")
