"""nbpress.sanitize on its own: fences that hold any text, SVG figures, Markdown-inert HTML.

The same properties are checked end to end, in Chromium, by tests/test_attacks.py.
"""

from __future__ import annotations

import html

import markdown
import pytest

from nbpress.sanitize import fence, front_matter_text, html_text, latex_html, sanitize_html, sanitize_svg

# The Markdown extensions of mkdocs.yml that could read output text as markup.
EXTENSIONS = ["attr_list", "md_in_html", "pymdownx.details", "pymdownx.highlight", "pymdownx.superfences"]


@pytest.mark.parametrize(
    "text",
    ["```", "````\n```", "</details>\n<script>x</script>", "~~~\n\n\n{: onclick=x}", "", "`` a ``` b ````"],
)
def test_a_fence_holds_any_text(text: str) -> None:
    page = markdown.markdown(fence(text, "nbpress-output nbpress-stdout"), extensions=EXTENSIONS)
    assert page.startswith('<div class="nbpress-output nbpress-stdout highlight"><pre><span></span><code>')
    assert page.endswith("</code></pre></div>") and page.count("<pre") == 1
    code = page.split("<code>", 1)[1].rsplit("</code>", 1)[0]
    assert "<" not in code and html.unescape(code) == text + "\n"  # the whole text, as text


def test_sanitized_html_is_inert_to_markdown() -> None:
    clean = sanitize_html('<p>![x](m.png){: onerror="alert(1)"} [y](javascript:alert(1))</p>')
    html = markdown.markdown(f"text\n{clean}", extensions=EXTENSIONS)  # read as inline HTML, not a block
    assert "<img" not in html and "href" not in html


def test_sanitize_html_keeps_svg_shapes_and_raster_data_images_only() -> None:
    clean = sanitize_html(
        '<svg width="9"><rect fill="#f00" style="x" onclick="a()"/><script>b()</script></svg>'
        '<img src="data:image/png;base64,iVBORw0KGgo="><img src="data:image/svg+xml,&lt;svg/&gt;">'
        '<a href="data:text/html,x">d</a>'
    )
    assert '<rect fill="#f00">' in clean and "script" not in clean and "onclick" not in clean
    assert clean.count("<img") == 1 and "image/png" in clean and "text/html" not in clean


def test_svg_figure_keeps_drawing_and_loses_everything_active() -> None:
    svg = (
        '<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" onload="a()">'
        "<style>*{stroke:red}</style><style>@import url(http://x/y.css);</style>"
        '<defs><path id="p" d="M0 0L1 1"/></defs><use xlink:href="#p"/><use xlink:href="http://x/#p"/>'
        '<script>b()</script><foreignObject><div xmlns="http://www.w3.org/1999/xhtml">c</div></foreignObject>'
        '<a href="javascript:d()"><rect width="1" height="1" fill="url(http://x/#g)"/></a></svg>'
    )
    clean = sanitize_svg(svg)
    assert clean is not None
    assert 'd="M0 0L1 1"' in clean and 'xlink:href="#p"' in clean and "stroke:red" in clean
    for gone in ("onload", "@import", "http://x", "script", "foreignObject", "javascript", "<a"):
        assert gone not in clean, gone


@pytest.mark.parametrize(
    "svg",
    [
        '<!DOCTYPE svg [<!ENTITY a "aaaa">]><svg xmlns="http://www.w3.org/2000/svg">&a;</svg>',
        "<html><script>x</script></html>",
        "<svg",
    ],
)
def test_unreadable_svg_is_refused(svg: str) -> None:
    assert sanitize_svg(svg) is None


def test_latex_is_math_or_escaped_text() -> None:
    assert latex_html(r"$\frac{1}{2} < x$") == r'<div class="arithmatex">$$\frac{1}{2} &lt; x$$</div>'
    assert "<img" not in latex_html('<img src=x onerror="a()">')
    assert latex_html("cost $x$ and $y$").startswith("<pre>")


def test_front_matter_values_are_html_text() -> None:
    assert html_text('</title>"x" R & D &lt;') == "&lt;/title&gt;&quot;x&quot; R & D &amp;lt;"
    assert html_text("[a](javascript:b){: c}") == "&#91;a&#93;(javascript:b)&#123;: c&#125;"
    front = front_matter_text({"title": "<b>", "tags": ["<i>"], "date": "2024-01-01", "slug": "s"})
    assert front == {"title": "&lt;b&gt;", "tags": ["&lt;i&gt;"], "date": "2024-01-01", "slug": "s"}
