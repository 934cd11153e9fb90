"""The one place where text from a notebook is made safe to put in a page.

Front matter values become HTML text (MkDocs and Material print page titles, tags and
descriptions as HTML, unescaped); outputs become markup nothing later re-interprets.
"""

from __future__ import annotations

import os
import re

import nh3

# An "&" that starts a character reference ("&lt;", "&#60;", "&copy"); a lone "&" ("R & D")
# is text to every HTML parser and stays as typed, so ordinary titles are published unchanged.
_REFERENCE_AMP = re.compile(r"&(?=[#A-Za-z])")
# The characters of Markdown's links, images and attribute lists (attr_list). Written as
# character references they show the same and Markdown leaves them alone, so no later pass
# (a post folded into an indented block, the blog's listing headings) turns text into a
# javascript: link or an onerror= attribute.
_MARKDOWN_INERT = str.maketrans({c: f"&#{ord(c)};" for c in "[]{}"})
# Front matter keys that are not shown as text: MkDocs and nbpress read them as values.
_STRUCTURAL_KEYS = ("date", "slug", "nbpress", "authors", "hide", "search", "template", "draft")

# DANGER, TEST ONLY. Set to "1" in a build's environment, this switches the cleaning of this
# module off: HTML, Markdown and LaTeX outputs, SVG figures and front matter are published as
# the notebook made them. It exists so tests/test_attacks.py can show that the site's Content
# Security Policy alone stops the attack suite (the two layers are independent). Never set it
# when building a blog anyone reads.
TEST_ONLY_SANITIZER_OFF = "NBPRESS_TEST_ONLY_UNSAFE_SANITIZER_OFF"


def sanitizer_off() -> bool:
    """Return True when the test-only switch TEST_ONLY_SANITIZER_OFF is set (its one reader)."""
    return os.environ.get(TEST_ONLY_SANITIZER_OFF) == "1"


def html_text(text: str) -> str:
    """Return `text` as HTML text that shows as typed, in element content and in quoted attributes.

    Also inert to Markdown: the blog plugin renders a post's title as a Markdown heading.
    """
    if sanitizer_off():
        return text
    text = _REFERENCE_AMP.sub("&amp;", text)
    text = text.replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")
    return text.translate(_MARKDOWN_INERT)


def _html_values(value: object) -> object:
    if isinstance(value, str):
        return html_text(value)
    if isinstance(value, list):
        return [_html_values(v) for v in value]
    if isinstance(value, dict):
        return {k: _html_values(v) for k, v in value.items()}
    return value


def front_matter_text(data: dict[str, object]) -> dict[str, object]:
    """Return published front matter whose shown values (title, tags, author...) are HTML text.

    Material's templates print these values unescaped, in element content and in attributes
    (`<title>`, `<meta content="...">`, headings, listing cards, tags), so a title
    `</title><script>` would be markup; escaped once here, every template shows it as typed.
    """
    return {k: v if k in _STRUCTURAL_KEYS else _html_values(v) for k, v in data.items()}


# ---- outputs -------------------------------------------------------------------------------

# Inline SVG an HTML output may keep (seaborn palettes, small charts): shapes, text, gradients;
# no script, links, foreignObject, animation, <use>, <image> or <style>.
_SVG_TAGS = {
    "svg", "g", "rect", "circle", "ellipse", "line", "polyline", "polygon", "path", "text", "tspan",
    "title", "desc", "defs", "linearGradient", "radialGradient", "stop", "clipPath",
}  # fmt: skip
_SVG_ATTRIBUTES = {
    "width", "height", "viewBox", "x", "y", "x1", "y1", "x2", "y2", "cx", "cy", "r", "rx", "ry", "d",
    "points", "fill", "fill-opacity", "fill-rule", "stroke", "stroke-width", "stroke-opacity",
    "stroke-linecap", "stroke-linejoin", "stroke-dasharray", "opacity", "transform", "font-size",
    "font-family", "font-weight", "text-anchor", "dominant-baseline", "offset", "stop-color",
    "stop-opacity", "xmlns", "version", "preserveAspectRatio", "class", "id", "clip-path",
    "gradientUnits", "gradientTransform",
}  # fmt: skip
_HTML_ATTRIBUTES: dict[str, set[str]] = {
    **{tag: set(attrs) for tag, attrs in nh3.ALLOWED_ATTRIBUTES.items()},
    **{tag: set(_SVG_ATTRIBUTES) for tag in _SVG_TAGS},
    "*": {"class", "title", "lang", "dir"},
}
_HTML_ATTRIBUTES["table"] = _HTML_ATTRIBUTES.get("table", set()) | {"border"}
_HTML_ATTRIBUTES["th"] = _HTML_ATTRIBUTES.get("th", set()) | {"valign", "halign"}
_HTML_ATTRIBUTES["img"] = _HTML_ATTRIBUTES.get("img", set()) | {"src", "alt", "width", "height"}
_HTML_TAGS = set(nh3.ALLOWED_TAGS) | _SVG_TAGS
# A raster image inlined as data (matplotlib colormap previews); never data: in a link or SVG.
_DATA_IMAGE = re.compile(r"data:image/(?:png|jpeg|gif|webp);base64,[A-Za-z0-9+/=\s]*\Z", re.I)
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
# nh3 writes ">" in attribute values as "&gt;", so a tag ends at the first ">".
_IMG_WITHOUT_SRC = re.compile(r"<img\b(?![^>]*\ssrc=)[^>]*>")


def _filter_attribute(element: str, attribute: str, value: str) -> str | None:
    """Return the attribute's value if it may stay: data: only as an inline raster image."""
    lowered = value.strip().lower()
    if lowered.startswith("data:"):
        kept = element == "img" and attribute == "src" and _DATA_IMAGE.match(value.strip())
        return value if kept and not _inline_too_large(value) else None
    if "url(" in lowered and not lowered.startswith("url(#"):
        return None  # SVG paint from another document: a request that leaves the site
    return value


def _inline_too_large(url: str) -> bool:
    """Return True if a data:image URL holds an image past nbpress.figures' limits."""
    import base64
    import binascii

    from .figures import too_large

    try:
        data = base64.b64decode(url.split(",", 1)[1], validate=False)
    except (binascii.Error, ValueError):
        return True
    return too_large(data) is not None


def sanitize_html(html: str) -> str:
    """Return `html` without script, handlers, frames or javascript:, inert to Markdown.

    Tables, inline SVG shapes and inline raster images (data:image/png...) are kept.
    """
    if sanitizer_off():
        return html
    clean = nh3.clean(
        _CONTROL.sub("", html),
        tags=_HTML_TAGS,
        attributes=_HTML_ATTRIBUTES,
        url_schemes=set(nh3.ALLOWED_URL_SCHEMES) | {"data"},
        attribute_filter=_filter_attribute,
    )
    # An image whose source was removed (javascript:, data:image/svg+xml) would be an empty box.
    clean = _IMG_WITHOUT_SRC.sub("", clean)
    return clean.translate(_MARKDOWN_INERT)


def markdown_html(markdown: str) -> str:
    """Return a Markdown output as sanitized HTML (plain Markdown and tables; no attr_list)."""
    import markdown as md

    return sanitize_html(md.markdown(markdown, extensions=["tables", "fenced_code"]))


def html_visible(html: str) -> bool:
    """Return True if sanitized `html` shows something: text, an image or an SVG shape."""
    if re.search(r"<(?:img|svg)\b", html):
        return True
    return bool(re.sub(r"<[^>]*>|&nbsp;|&#160;|\s", "", html))


_LATEX_DELIMITERS = (("$$", "$$"), ("\\[", "\\]"), ("$", "$"), ("\\(", "\\)"))


def latex_html(latex: str) -> str:
    """Return a LaTeX output as HTML display math KaTeX typesets in the page, never as markup."""
    body = latex.strip()
    for left, right in _LATEX_DELIMITERS:
        if body.startswith(left) and body.endswith(right) and len(body) > len(left) + len(right):
            body = body[len(left) : -len(right)].strip()
            break
    if sanitizer_off():
        return f'<div class="arithmatex">$${body}$$</div>'
    escaped = body.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    if "$" in body:
        # Text mixing math and prose: shown as its source rather than mis-typeset.
        return f"<pre>{escaped.translate(_MARKDOWN_INERT)}</pre>"
    # Kept readable: even where Markdown reads this block (a folded output), arithmatex takes
    # the whole $$...$$ as math, which KaTeX typesets as text (no \\href links: trust is off).
    return f'<div class="arithmatex">$${escaped}$$</div>'


def fence(text: str, classes: str) -> str:
    """Return a fenced code block that holds `text` whatever it is, its wrapper given `classes`.

    The fence is one backtick longer than the longest run of backticks in the text, so no
    line of the text can close it; its content is escaped by the highlighter.
    """
    runs = [len(m) for m in re.findall(r"`+", text)]
    ticks = "`" * max(3, max(runs, default=0) + 1)
    attrs = " ".join(f".{c}" for c in ["text", *classes.split()])
    return f"{ticks}{{{attrs}}}\n{text.rstrip(chr(10))}\n{ticks}"


# ---- SVG figures ---------------------------------------------------------------------------

_SVG_NS = "http://www.w3.org/2000/svg"
_XLINK_NS = "http://www.w3.org/1999/xlink"
# What a figure library's SVG uses (matplotlib: defs, clipPath, use, style, image for imshow).
_SVG_FILE_TAGS = _SVG_TAGS | {"use", "symbol", "marker", "mask", "pattern", "style", "image", "metadata"}
_SVG_DROPPED_CHILDREN = {"metadata"}  # kept as an element, its RDF children are not SVG


def _safe_css(css: str) -> bool:
    lowered = css.lower()
    if "@import" in lowered or "javascript:" in lowered or "expression(" in lowered:
        return False
    return all(u.strip(" '\"").startswith("#") for u in re.findall(r"url\(([^)]*)\)", lowered))


def sanitize_svg(svg: str) -> str | None:
    """Return an SVG figure without script, handlers, foreignObject or outside references.

    Returns None when the text is not an SVG document we can read (a DOCTYPE with entities,
    broken XML): the caller shows another form of the output or a note.
    """
    if sanitizer_off():
        return svg
    from xml.etree import ElementTree as ET

    import defusedxml.ElementTree as DET  # type: ignore[import-untyped]

    try:
        root = DET.fromstring(svg.strip().encode("utf-8"))
    except Exception:  # defusedxml and expat raise several types for hostile or broken XML
        return None
    if root.tag != f"{{{_SVG_NS}}}svg":
        return None

    def keep(element: ET.Element) -> bool:
        tag = str(element.tag)
        if not tag.startswith(f"{{{_SVG_NS}}}") or tag.split("}", 1)[1] not in _SVG_FILE_TAGS:
            return False
        name = tag.split("}", 1)[1]
        if name == "style" and not _safe_css(element.text or ""):
            return False
        for attr in list(element.attrib):
            value = element.attrib[attr]
            local = attr.split("}", 1)[-1].lower()
            lowered = value.strip().lower()
            if local.startswith("on") or "javascript:" in lowered.replace(" ", ""):
                del element.attrib[attr]
            elif local == "href":
                image = name == "image" and _DATA_IMAGE.match(value.strip())
                if not (lowered.startswith("#") or image):
                    del element.attrib[attr]
            elif (local == "style" and not _safe_css(value)) or ("url(" in lowered and not _safe_css(value)):
                del element.attrib[attr]
        return True

    def walk(parent: ET.Element) -> None:
        for child in list(parent):
            if not keep(child) or str(parent.tag).endswith("}metadata"):
                parent.remove(child)
            else:
                walk(child)

    if not keep(root):
        return None
    walk(root)
    ET.register_namespace("", _SVG_NS)
    ET.register_namespace("xlink", _XLINK_NS)
    return ET.tostring(root, encoding="unicode")


# ---- CSS values ----------------------------------------------------------------------------

# One CSS value (a widget's style or layout trait, a bokeh `styles` entry) is read token by
# token: numbers and lengths, hex colours, keywords, quoted names without escapes, and the
# functions below. Anything else ends the value: url(, image-set(, expression(, a backslash
# escape (\75 rl), @import, ";" or "{" (a second declaration or rule), "<" and ":".
_CSS_TOKENS = re.compile(
    r"""(?P<space>\s+)
    |(?P<number>[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:e[+-]?\d+)?(?:%|[a-z]+)?)
    |(?P<hash>\#[0-9a-f]{3,8}(?![0-9a-z_-]))
    |(?P<function>-?[a-z][a-z0-9-]*)\(
    |(?P<keyword>-{0,2}[a-z_][a-z0-9_-]*)
    |(?P<string>"[^"\\\n\r\f]*"|'[^'\\\n\r\f]*')
    |(?P<open>\()|(?P<close>\))|(?P<operator>[,/*+-])""",
    re.I | re.X,
)
# Colours, arithmetic and grid tracks: none of them loads anything or runs anything.
_CSS_FUNCTIONS = frozenset(
    {
        "rgb",
        "rgba",
        "hsl",
        "hsla",
        "hwb",
        "calc",
        "min",
        "max",
        "clamp",
        "minmax",
        "repeat",
        "fit-content",
        "var",
    }
)
_CSS_MAX_CHARS = 500


def css_value(value: str) -> bool:
    """Return True if `value` is a plain CSS value: it can load no file and run nothing."""
    if len(value) > _CSS_MAX_CHARS:
        return False
    depth = position = 0
    while position < len(value):
        match = _CSS_TOKENS.match(value, position)
        if match is None:
            return False
        kind = match.lastgroup
        if kind == "function":
            if match.group("function").lower() not in _CSS_FUNCTIONS:
                return False
            depth += 1
        elif kind == "open":
            depth += 1
        elif kind == "close":
            depth -= 1
            if depth < 0:
                return False
        position = match.end()
    return depth == 0
