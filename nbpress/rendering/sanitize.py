"""The one place where text from a notebook is made safe to put in a page.

Front matter values become HTML text (MkDocs and Material print page titles, tags and
descriptions as HTML, unescaped); outputs become markup nothing later re-interprets.
"""

from __future__ import annotations

import html as html_module
import os
import re

import nh3

from .figures import MEDIA_ELEMENTS, data_media

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
# What an inline SVG's `style` may set (seaborn's palettes colour their swatches this way):
# presentation properties only, each value a plain CSS value (css_value); others are dropped.
_SVG_STYLE_PROPERTIES = frozenset(
    {
        "fill", "fill-opacity", "fill-rule", "stroke", "stroke-width", "stroke-opacity",
        "stroke-linecap", "stroke-linejoin", "stroke-dasharray", "opacity", "font-size",
        "font-family", "font-weight", "text-anchor", "dominant-baseline", "stop-color",
        "stop-opacity",
    }
)  # fmt: skip
_HTML_ATTRIBUTES: dict[str, set[str]] = {
    **{tag: set(attrs) for tag, attrs in nh3.ALLOWED_ATTRIBUTES.items()},
    **{tag: {*_SVG_ATTRIBUTES, "style"} for tag in _SVG_TAGS},
    "*": {"class", "title", "lang", "dir"},
}
_HTML_ATTRIBUTES["table"] = _HTML_ATTRIBUTES.get("table", set()) | {"border"}
_HTML_ATTRIBUTES["th"] = _HTML_ATTRIBUTES.get("th", set()) | {"valign", "halign"}
_HTML_ATTRIBUTES["img"] = _HTML_ATTRIBUTES.get("img", set()) | {"src", "alt", "width", "height"}
# What a table cell's `style` may set: the colours and emphasis pandas' Styler gives a cell
# (highlight_max, background_gradient, set_properties), each value a plain CSS value.
_CELL_STYLE_PROPERTIES = frozenset(
    {"background-color", "color", "font-weight", "font-style", "text-align", "text-decoration"}
)
_STYLED_CELLS = frozenset({"td", "th"})
for _cell in _STYLED_CELLS:
    _HTML_ATTRIBUTES[_cell] = _HTML_ATTRIBUTES.get(_cell, set()) | {"style"}
# Sound and video (IPython.display.Audio and Video, matplotlib's to_html5_video): their src a
# file of the site or embedded data, which the figures step makes a file (figures.data_media).
_HTML_ATTRIBUTES["audio"] = {"controls", "loop", "muted", "preload", "src"}
_HTML_ATTRIBUTES["video"] = _HTML_ATTRIBUTES["audio"] | {"width", "height", "poster", "playsinline"}
_HTML_ATTRIBUTES["source"] = {"src", "type"}
_HTML_TAGS = set(nh3.ALLOWED_TAGS) | _SVG_TAGS | MEDIA_ELEMENTS
# A raster image inlined as data (matplotlib colormap previews); never data: in a link or SVG.
_DATA_IMAGE = re.compile(r"data:image/(?:png|jpeg|gif|webp);base64,[A-Za-z0-9+/=\s]*\Z", re.I)
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
# nh3 writes ">" in attribute values as "&gt;", so a tag ends at the first ">".
_IMG_WITHOUT_SRC = re.compile(r"<img\b(?![^>]*\ssrc=)[^>]*>")


# ---- remote resources ----------------------------------------------------------------------
#
# One rule for every piece of markup a page publishes (outputs, raw cells, captions, the
# author's Markdown cells): a URL the browser *loads* on its own (an image, a video, a frame,
# a style sheet, a CSS background) must be the site's own file or an inline raster image.
# A link (<a href>) is navigation on a click, and stays.

# Attributes whose URL a browser fetches by itself, on any element.
LOADING_ATTRIBUTES = frozenset(
    {
        "src", "srcset", "imagesrcset", "poster", "background", "data", "codebase", "archive",
        "lowsrc", "dynsrc", "ping", "manifest", "icon", "action", "formaction",
    }
)  # fmt: skip
# Elements whose href (or xlink:href) is navigation, not a request made on load.
_NAVIGATION = frozenset({"a", "area"})
# SVG animation elements (HTMLParser's lower-case names): their values can be URLs.
_ANIMATIONS = frozenset({"animate", "set", "animatemotion", "animatetransform"})
# Characters a browser drops from a URL before reading it (tab and line breaks anywhere,
# C0 controls and spaces at the ends); a backslash is a slash in http(s) URLs.
_URL_DROPPED = re.compile(r"[\t\n\r]")
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*:")
_CSS_ESCAPE = re.compile(r"\\([0-9A-Fa-f]{1,6})[ \t\n\r\f]?|\\(.)", re.S)
_CSS_URL = re.compile(r"url\(\s*(['\"]?)(.*?)\1\s*\)", re.I | re.S)
_CSS_STRING = re.compile(r"(['\"])(.*?)\1", re.S)
_CSS_LOADING = ("url(", "image-set(", "image(", "cross-fade(", "@import", "src(")


def loads_from_site(url: str) -> bool:
    """Return True if a browser loading `url` asks only the site: a relative or site-absolute
    URL (`figures/a.png`, `/assets/a.png`, `#id`), or an inline raster image (data:image/png)."""
    value = _URL_DROPPED.sub("", url).strip("".join(map(chr, range(0x21))))
    if _DATA_IMAGE.match(value):
        return True
    value = value.replace("\\", "/")
    return not (_SCHEME.match(value) or value.startswith("//"))


def _srcset_urls(value: str) -> list[str]:
    return [candidate.split()[0] for candidate in value.split(",") if candidate.split()]


def _css_text(css: str) -> str:
    """Return CSS with its escapes (`\\75 rl(`) read, as a browser reads them, lower-cased."""

    def unescape(match: re.Match[str]) -> str:
        if match.group(1):
            code = int(match.group(1), 16)
            return chr(code) if 0 < code <= 0x10FFFF and not 0xD800 <= code <= 0xDFFF else "\ufffd"
        return match.group(2)

    return _CSS_ESCAPE.sub(unescape, _CONTROL.sub("", css)).lower()


def css_remote_urls(css: str) -> list[str]:
    """Return the URLs in CSS (a style attribute or sheet) that would load from another host.

    Anything CSS can load from (url(), image-set() strings, @import) counts; a URL that
    cannot be read is taken as remote.
    """
    text = _css_text(css)
    if not any(mark in text for mark in _CSS_LOADING):
        return []
    found = [m.group(2) for m in _CSS_URL.finditer(text)]
    found += [m.group(2) for m in _CSS_STRING.finditer(_CSS_URL.sub("", text))]
    remote = [u for u in found if not loads_from_site(u.strip())]
    if not found and ("@import" in text or "image-set(" in text):
        remote.append(text.strip()[:120])  # a form we cannot read: refused
    return remote


def remote_urls(element: str, attribute: str, value: str) -> list[str]:
    """Return the URLs an element's attribute makes a browser load from another host on its own.

    `element` and `attribute` are lower-case names (`xlink:href` or `href`); [] if none.
    """
    name = attribute.rsplit(":", 1)[-1]
    if name == "style":
        return css_remote_urls(value)
    if name == "href" and element not in _NAVIGATION:
        urls = [value]
    elif name in ("srcset", "imagesrcset"):
        urls = _srcset_urls(value)
    elif name in LOADING_ATTRIBUTES:
        urls = [value]
    elif name == "srcdoc":
        return remote_loads(value)  # a frame's own document
    elif element in _ANIMATIONS and name in ("to", "from", "by", "values"):
        urls = value.split(";")  # an animation can set an href or a src to any of these
    elif element == "meta" and name == "content" and "url=" in value.lower():
        urls = [value.split("=", 1)[1].strip(" '\"")]  # a refresh moves the page away
    elif "url(" in _css_text(value):
        return css_remote_urls(value)  # SVG paint, filter, mask, marker, cursor
    else:
        return []
    return [u for u in urls if u.strip() and not loads_from_site(u)]


def remote_problem(url: str) -> str:
    """Return what a build says of a URL it did not publish because it loads from elsewhere (no period)."""
    shown = url if len(url) <= 200 else url[:200] + "..."
    return (
        f"{shown!r} is not one of the site's own files, and a page loads only those (and inline "
        "images), so it is not published (an image becomes a link to it); download the file next "
        "to the notebook and show that file instead"
    )


def remote_loads(html: str) -> list[str]:
    """Return every URL from another host that `html` would make a browser load on its own:
    resource attributes of any element, style attributes and <style> sheets."""
    from html.parser import HTMLParser

    found: list[str] = []

    class Loads(HTMLParser):
        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            for name, value in attrs:
                found.extend(remote_urls(tag, name, value or ""))

        def handle_data(self, data: str) -> None:
            if self.lasttag == "style":
                found.extend(css_remote_urls(data))

    parser = Loads(convert_charrefs=True)
    parser.feed(html)
    parser.close()
    return list(dict.fromkeys(found))


_STYLE_ELEMENT = re.compile(r"(<style\b[^>]*>)(.*?)(</style\s*>|\Z)", re.S | re.I)


def _start_tags(html: str) -> list[tuple[str, dict[str, str | None], str]]:
    """Return (tag, attributes, exact source text) of each start tag of `html`."""
    from html.parser import HTMLParser

    found: list[tuple[str, dict[str, str | None], str]] = []

    class Tags(HTMLParser):
        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            # A browser takes the first of repeated attributes.
            found.append((tag, dict(reversed(attrs)), self.get_starttag_text() or ""))

        handle_startendtag = handle_starttag

    parser = Tags(convert_charrefs=True)
    parser.feed(html)
    parser.close()
    return found


def drop_remote(text: str, html: str | None = None) -> tuple[str, list[str]]:
    """Return (`text` whose HTML loads nothing from another host, the URLs taken out).

    For markup published as written (the author's Markdown cells, a post's trusted raw HTML):
    nothing else changes. The start tags of `html` (pieces of `text`; else all of it) that
    load a URL from elsewhere are written again without it, an image as its alt text linked
    to it; a <style> sheet that loads one is removed.
    """
    found: list[str] = []

    def style(match: re.Match[str]) -> str:
        urls = css_remote_urls(match.group(2))
        found.extend(urls)
        return "" if urls else match.group(0)

    if html is None:
        text = _STYLE_ELEMENT.sub(style, text)
    for tag, attrs, raw in _start_tags(text if html is None else html):
        remote = {k: urls for k, v in attrs.items() if (urls := remote_urls(tag, k, v or ""))}
        if not remote or raw not in text:
            continue
        for urls in remote.values():
            found.extend(urls)
        if tag == "img" and "src" in remote:
            new = remote_image_link(
                str(attrs["src"]), html_module.escape(attrs.get("alt") or "", quote=False)
            )
        else:
            kept = [
                k if v is None else f'{k}="{html_module.escape(v, quote=True)}"'
                for k, v in attrs.items()
                if k not in remote
            ]
            new = f"<{' '.join([tag, *kept])}{' /' if raw.rstrip().endswith('/>') else ''}>"
        # Every copy, even one Markdown may show as code: what is code to one Markdown parser
        # can be HTML to another (after an HTML block the other leaves unclosed).
        text = text.replace(raw, new)
    return text, list(dict.fromkeys(found))


def _filter_attribute(element: str, attribute: str, value: str) -> str | None:
    """Return the attribute's value if it may stay: data: only as an inline raster image."""
    if attribute == "style":  # allowed on inline SVG elements and table cells only (_HTML_ATTRIBUTES)
        allowed = _CELL_STYLE_PROPERTIES if element in _STYLED_CELLS else _SVG_STYLE_PROPERTIES
        return _declarations(value, allowed)
    lowered = value.strip().lower()
    if lowered.startswith("data:"):
        kept = element == "img" and attribute == "src" and _DATA_IMAGE.match(value.strip())
        return value if kept and not _inline_too_large(value) else None
    if "url(" in lowered and not lowered.startswith("url(#"):
        return None  # SVG paint from another document: a request that leaves the site
    return value


def _declarations(style: str, properties: frozenset[str]) -> str | None:
    """Return the declarations of `style` that set one of `properties`, joined (None if none).

    Each must hold a plain value (css_value: no url(), image-set(), escapes or a second rule);
    any other is left out. They are written `name:value;name:value`.
    """
    kept = []
    for declaration in style.split(";"):
        name, colon, value = declaration.partition(":")
        name, value = name.strip().lower(), value.strip()
        if value.lower().endswith("!important"):
            value = value[: -len("!important")].strip()
        if colon and name in properties and value and css_value(value):
            kept.append(f"{name}:{value}")
    return ";".join(kept) or None


_ID_RULE = re.compile(r"([^{}]*)\{([^{}]*)\}")
_ID_SELECTOR = re.compile(r"#[A-Za-z_][\w-]*")


def _inline_cell_rules(html: str) -> str:
    """Return `html` with the rules of its `<style>` that colour one table cell by its id (what
    pandas' Styler writes: `#T_x_row0_col1 { background-color: yellow; }`) moved into that
    cell's `style`, where the sanitizer keeps what _CELL_STYLE_PROPERTIES allows; the cell's own
    `style` still wins. The `<style>` element itself is removed with the rest by nh3."""
    rules: dict[str, list[str]] = {}
    for _, css, _ in _STYLE_ELEMENT.findall(html):
        css = re.sub(r"/\*.*?\*/", "", css, flags=re.S)
        for selectors, body in _ID_RULE.findall(css):
            for selector in selectors.split(","):
                if _ID_SELECTOR.fullmatch(selector.strip()):
                    rules.setdefault(selector.strip()[1:], []).append(body)
    if not rules:
        return html
    for tag, attributes, raw in _start_tags(html):
        ident = attributes.get("id")
        if tag in _STYLED_CELLS and ident in rules:
            style = ";".join([*rules[ident], attributes.get("style") or ""])
            name, rest = raw[1 : 1 + len(tag)], raw[1 + len(tag) :]
            new = f'<{name} style="{html_module.escape(style, quote=True)}"{rest}'
            html = html.replace(raw, new, 1)
    return html


def _inline_too_large(url: str) -> bool:
    """Return True if a data:image URL holds an image past nbpress.rendering.figures' limits."""
    import base64
    import binascii

    from .figures import too_large

    try:
        data = base64.b64decode(url.split(",", 1)[1], validate=False)
    except (binascii.Error, ValueError):
        return True
    return too_large(data) is not None


def remote_image_link(url: str, alt: str) -> str:
    """Return what stands for an image from another host: its alt text (HTML), linked to it when
    it is a web address (shown as the link's text when there is no alt text)."""
    if re.match(r"https?://", url.strip(), re.I):
        shown = alt.strip() or html_module.escape(url.strip(), quote=False)
        return f'<a href="{html_module.escape(url.strip(), quote=True)}">{shown}</a>'
    return alt.strip()


def sanitize_html(html: str, remote: list[str] | None = None) -> str:
    """Return `html` without script, handlers, frames or javascript:, inert to Markdown.

    Tables, inline SVG shapes and inline raster images (data:image/png...) are kept. Nothing
    kept loads from another host (loads_from_site): an image from elsewhere becomes its alt
    text linked to it, any other such URL is removed; each such URL is appended to `remote`.
    """
    if sanitizer_off():
        return html
    import secrets

    token = f"#nbpress-remote-{secrets.token_hex(8)}-"
    found: list[str] = []

    def keep(element: str, attribute: str, value: str) -> str | None:
        if element in MEDIA_ELEMENTS and attribute == "src" and data_media(value):
            return value  # made a file of the site by the figures step
        urls = remote_urls(element, attribute, value)
        if urls:
            found.extend(urls)
            if element == "img" and attribute == "src":
                return f"{token}{len(found) - 1}"  # replaced by a link below
            return None
        return _filter_attribute(element, attribute, value)

    if remote is not None:
        # Named from the HTML as given: nh3 drops most elements and attributes unseen.
        remote.extend(url for url in remote_loads(html) if not data_media(url))

    clean = nh3.clean(
        _CONTROL.sub("", _inline_cell_rules(html)),
        tags=_HTML_TAGS,
        attributes=_HTML_ATTRIBUTES,
        url_schemes=set(nh3.ALLOWED_URL_SCHEMES) | {"data"},
        attribute_filter=keep,
    )

    def link(match: re.Match[str]) -> str:
        alt = re.search(r'\salt="([^"]*)"', match.group(0))
        return remote_image_link(found[int(match.group(1))], alt.group(1) if alt else "")

    clean = re.sub(r"<img\b[^>]*\ssrc=\"" + re.escape(token) + r"(\d+)\"[^>]*>", link, clean)
    # An image whose source was removed (javascript:, data:image/svg+xml) would be an empty box.
    clean = _IMG_WITHOUT_SRC.sub("", clean)
    return clean.translate(_MARKDOWN_INERT)


def markdown_html(markdown: str, remote: list[str] | None = None) -> str:
    """Return a Markdown output as sanitized HTML (plain Markdown and tables; no attr_list)."""
    import markdown as md

    return sanitize_html(md.markdown(markdown, extensions=["tables", "fenced_code"]), remote)


_INLINE_MATH = re.compile(r"(?<![\\$])\$(?!\s)([^$\n]+?)(?<!\s)\$(?!\d)")


def caption_html(text: str, remote: list[str] | None = None) -> str:
    """Return a caption (a cell's fig-cap, tbl-cap, myst-nb caption) as sanitized inline HTML.

    Markdown emphasis, code and links stay (links only to safe addresses), `$math$` becomes
    the markup pymdownx.arithmatex makes for KaTeX; the result is final HTML, published
    where nothing reads it as Markdown again.
    """
    import secrets

    import markdown as md

    mark = f"nbpressmath{secrets.token_hex(8)}x"
    maths: list[str] = []

    def math(match: re.Match[str]) -> str:
        maths.append(match.group(1))
        return f"{mark}{len(maths) - 1}x"

    one_line = _INLINE_MATH.sub(math, " ".join(_CONTROL.sub("", text).split()))
    rendered = md.markdown(one_line)
    inner = re.fullmatch(r"<p>(.*)</p>", rendered, re.S)
    clean = sanitize_html(inner.group(1) if inner else rendered, remote)

    def typeset(match: re.Match[str]) -> str:
        body = html_module.escape(maths[int(match.group(1))], quote=False)
        return f'<span class="arithmatex">\\({body}\\)</span>'.translate(_MARKDOWN_INERT)

    return re.sub(re.escape(mark) + r"(\d+)x", typeset, clean)


def html_visible(html: str) -> bool:
    """Return True if sanitized `html` shows something: text, an image, an SVG shape, or a sound
    or video with its clip (a player left without one, its clip from elsewhere, shows nothing)."""
    if re.search(r"<(?:img|svg)\b|<(?:audio|video|source)\b[^>]*\ssrc=\"[^\"]", html):
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


def code_fence(code: str, language: object) -> str:
    """Return a cell's code as a fenced block no line of it can end, highlighted as `language`.

    The fence is one backtick longer than the longest run of backticks in the code; a
    language name that is not a plain word (notebook metadata) is shown as text.
    """
    runs = [len(m) for m in re.findall(r"`+", code)]
    ticks = "`" * max(3, max(runs, default=0) + 1)
    name = str(language)
    name = name if re.fullmatch(r"[A-Za-z0-9_+#.-]{1,40}", name) else "text"
    return f"{ticks}{name}\n{code.rstrip(chr(10))}\n{ticks}"


# ---- SVG figures ---------------------------------------------------------------------------

_SVG_NS = "http://www.w3.org/2000/svg"
_XLINK_NS = "http://www.w3.org/1999/xlink"
# What a figure library's SVG uses (matplotlib: defs, clipPath, use, style, image for imshow).
_SVG_FILE_TAGS = _SVG_TAGS | {"use", "symbol", "marker", "mask", "pattern", "style", "image", "metadata"}


def _safe_css(css: str) -> bool:
    lowered = css.lower()
    if "@import" in lowered or "javascript:" in lowered or "expression(" in lowered:
        return False
    return all(u.strip(" '\"").startswith("#") for u in re.findall(r"url\(([^)]*)\)", lowered))


def sanitize_svg(svg: str, remote: list[str] | None = None) -> str | None:
    """Return an SVG figure without script, handlers, foreignObject or outside references.

    Each URL of another host it held is appended to `remote`. Returns None when the text is
    not an SVG document we can read (a DOCTYPE with entities, broken XML): the caller shows
    another form of the output or a note.
    """
    if sanitizer_off():
        return svg
    from xml.etree import ElementTree as ET

    import defusedxml.ElementTree as DET  # type: ignore[import-untyped]

    try:
        root = DET.fromstring(svg.strip().encode("utf-8"))
    except Exception:  # defusedxml and expat raise several types for hostile or broken XML
        return None
    if root.tag == "svg":
        # No xmlns (IPython's SVG('<svg ...>') as people type it): Jupyter shows it inline in
        # HTML, where the parser gives it the SVG namespace; a figure file needs it spelled.
        for element in root.iter():
            if isinstance(element.tag, str) and not element.tag.startswith("{"):
                element.tag = f"{{{_SVG_NS}}}{element.tag}"
    if root.tag != f"{{{_SVG_NS}}}svg":
        return None

    found: list[str] = []

    def keep(element: ET.Element) -> bool:
        tag = str(element.tag)
        name = tag.split("}", 1)[-1]
        for attr, value in element.attrib.items():
            found.extend(remote_urls(name.lower(), attr.split("}", 1)[-1].lower(), value))
        if name == "style":
            found.extend(css_remote_urls(element.text or ""))
        if not tag.startswith(f"{{{_SVG_NS}}}") or name not in _SVG_FILE_TAGS:
            return False
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
    if remote is not None:
        remote.extend(dict.fromkeys(found))
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
