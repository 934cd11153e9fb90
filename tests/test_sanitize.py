"""nbpress.rendering.sanitize on its own: fences that hold any text, SVG figures, Markdown-inert HTML.

The same properties are checked end to end, in Chromium, by tests/test_attacks.py.
"""

from __future__ import annotations

import html
import re
from pathlib import Path

import markdown
import pytest

from nbpress.layout import Layout
from nbpress.rendering.links import Linker, _Cell, remote_free_markdown
from nbpress.rendering.sanitize import (
    caption_html,
    code_fence,
    css_remote_urls,
    drop_remote,
    fence,
    front_matter_text,
    html_text,
    latex_html,
    loads_from_site,
    remote_loads,
    sanitize_html,
    sanitize_svg,
)
from tests.attack_families.remote import LOADERS, SVG_LOADERS

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


def test_inline_svg_keeps_its_colours_and_only_plain_presentation_styles() -> None:
    # seaborn's palette swatches: their colours live in style attributes.
    swatch = '<rect width="55" height="55" style="fill:#3274a1;stroke-width:2;stroke:rgb(255,255,255)"/>'
    assert 'style="fill:#3274a1;stroke-width:2;stroke:rgb(255,255,255)"' in sanitize_html(
        f"<svg>{swatch}</svg>"
    )
    hostile = (
        '<svg><rect style="fill:url(http://x/y)"/><rect style="stroke:\\75 rl(http://x/y)"/>'
        '<rect style="fill:image-set(\'http://x/y\' 1x)"/><rect style="position:fixed;top:0"/>'
        '<rect style="fill:red;}body{display:none"/></svg><p style="color:red">text</p>'
    )
    clean = sanitize_html(hostile)
    assert "http" not in clean and "position" not in clean and "display" not in clean
    # The plain declaration of the last one stays; nothing else has a style left, <p> none.
    assert clean.count("style=") == 1 and '<rect style="fill:red">' in clean, clean


def test_a_stylers_cell_colours_become_the_cells_style() -> None:
    import pandas as pd

    frame = pd.DataFrame({"x": [1.0, 3.0], "y": [2.0, 1.0]})
    styled = frame.style.highlight_max(color="yellow").set_properties(
        subset=["y"], **{"font-weight": "bold", "position": "fixed"}
    )
    clean = sanitize_html(styled.to_html())
    # Each cell its rules name carries them (id rules of the <style> the sanitizer drops); only
    # the colours and emphasis a table cell may have stay, each a plain value.
    assert "<style" not in clean and " id=" not in clean
    assert re.search(r'<td style="background-color:yellow"[^>]*>3\.0', clean), clean
    assert re.search(r'<td style="background-color:yellow;font-weight:bold"[^>]*>2\.0', clean), clean
    assert "position" not in clean


@pytest.mark.parametrize(
    ("css", "cell"),
    [
        ("#c{background-color:url(http://example.invalid/a.png)}", "<td>1</td>"),  # loads: all goes
        ("#c{background:yellow;position:fixed}", "<td>1</td>"),  # not a cell's colour or emphasis
        ("#c:hover{color:red} td{color:red} #t #c{color:red}", "<td>1</td>"),  # not one cell's id
        ("#c{color:red !important;font-style:italic}", '<td style="color:red;font-style:italic">1</td>'),
        ("/* #c{color:red} */#c{color:blue}", '<td style="color:blue">1</td>'),
    ],
)
def test_only_a_cells_own_plain_colours_move_into_it(css: str, cell: str) -> None:
    html = f'<style>{css}</style><table id="t"><tr><td id="c">1</td></tr></table>'
    assert cell in sanitize_html(html), sanitize_html(html)


def test_a_cells_own_style_wins_over_the_stylers_rule() -> None:
    html = '<style>#c{color:red}</style><table><tr><td id="c" style="color:blue">1</td></tr></table>'
    assert '<td style="color:red;color:blue">1</td>' in sanitize_html(html)
    assert "style=" not in sanitize_html('<style>#p{color:red}</style><p id="p" style="color:red">x</p>')


def test_svg_without_xmlns_is_drawn_as_jupyter_draws_it() -> None:
    # As nbclient's own test notebook has it: Jupyter shows it inline, where HTML gives it the
    # SVG namespace. The published file spells the namespace out; nothing active comes along.
    svg = (
        '<svg height="100" width="100"><circle cx="50" cy="50" r="40" stroke="black" fill="red"/>'
        '<g onclick="a()"><rect width="5" height="5"/></g><script>b()</script></svg>'
    )
    clean = sanitize_svg(svg)
    assert clean is not None and clean.startswith('<svg xmlns="http://www.w3.org/2000/svg"')
    assert '<circle cx="50" cy="50" r="40" stroke="black" fill="red" />' in clean
    assert "<rect" in clean and "onclick" not in clean and "script" not in clean
    # Other documents without a namespace are not SVG figures.
    assert sanitize_svg('<html><body><svg width="1"/></body></html>') is None


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


# ---- remote resources (issue 20): nothing published loads from another host ------------------


def _remote_loads(html: str) -> list[str]:
    return remote_loads(html)


@pytest.mark.parametrize(
    ("url", "local"),
    [
        ("figures/a.png", True),
        ("/assets/images/p/a.png", True),
        ("#fig-1", True),
        ("data:image/png;base64,iVBORw0KGgo=", True),
        ("http://example.invalid/a.png", False),
        ("HTTPS://example.invalid/a.png", False),
        ("//example.invalid/a.png", False),
        ("\\\\example.invalid\\a.png", False),
        ("/\\example.invalid/a.png", False),
        (" \t http://example.invalid/a.png", False),
        ("ht\ttp://example.invalid/a.png", False),
        ("\x01//example.invalid/a.png", False),
        ("data:image/svg+xml,<svg/>", False),
        ("data:text/html,<script>", False),
        ("javascript:alert(1)", False),
        ("ftp://example.invalid/a.png", False),
    ],
)
def test_only_the_sites_own_urls_load(url: str, local: bool) -> None:
    assert loads_from_site(url) is local


@pytest.mark.parametrize("loader", LOADERS + SVG_LOADERS)
def test_every_way_html_loads_a_url_is_caught(loader: str) -> None:
    assert _remote_loads(loader), "the check itself misses this loader"
    remote: list[str] = []
    clean = sanitize_html(loader, remote)
    assert not _remote_loads(clean), clean  # at most a link to it, or its address as text
    assert remote and all("example.invalid" in url for url in remote)


def test_a_remote_image_becomes_a_link_to_it() -> None:
    remote: list[str] = []
    clean = sanitize_html('<p><img src="https://example.invalid/a.png" alt="A [chart]"> after</p>', remote)
    assert clean == '<p><a href="https://example.invalid/a.png">A &#91;chart&#93;</a> after</p>'
    assert remote == ["https://example.invalid/a.png"]
    # An image without alt text shows its address; one that is no web address only its alt text.
    assert "</a>" in sanitize_html('<img src="http://example.invalid/b.png">')
    assert sanitize_html('<img src="//example.invalid/c.png" alt="c">') == "c"


@pytest.mark.parametrize(
    "css",
    [
        "background: url(http://example.invalid/a.png)",
        "background: url( 'HTTP://example.invalid/a.png' )",
        "background: \\75 rl(http://example.invalid/a.png)",
        "background: u\\72l(//example.invalid/a.png)",
        "background-image: image-set('http://example.invalid/a.png' 1x)",
        "background-image: -webkit-image-set(url(http://example.invalid/a.png) 1x)",
        '@import "http://example.invalid/a.css";',
        "@import url(http://example.invalid/a.css);",
        "list-style: url('\\2f\\2f example.invalid/a.png')",
    ],
)
def test_css_that_loads_from_another_host_is_found(css: str) -> None:
    assert css_remote_urls(css)


@pytest.mark.parametrize(
    "css", ["color: red", "background: url(a.png)", "fill: url(#g)", "font-weight: bold"]
)
def test_css_that_loads_nothing_outside_is_kept(css: str) -> None:
    assert css_remote_urls(css) == []


def test_svg_figure_names_what_it_would_have_loaded() -> None:
    remote: list[str] = []
    svg = (
        '<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink">'
        '<image xlink:href="http://example.invalid/a.png"/><rect fill="url(http://example.invalid/p#g)"/>'
        "<style>@import url(http://example.invalid/s.css);</style></svg>"
    )
    clean = sanitize_svg(svg, remote)
    assert clean is not None and "example.invalid" not in clean
    assert remote == [
        "http://example.invalid/a.png",
        "http://example.invalid/p#g",
        "http://example.invalid/s.css",
    ]


class _Place:
    def __init__(self, folder: Path) -> None:
        self.path = folder / "p.ipynb"
        self.file_slug = "p"
        self.rel_path = "posts/p.ipynb"


def test_markdown_cells_load_nothing_from_another_host(tmp_path: Path) -> None:
    linker = Linker(_Place(tmp_path), Layout(tmp_path).post("p").figure_url)
    cell = _Cell(4, "posts/p.ipynb")
    source = (
        "Text ![inline](https://example.invalid/a.png) and ![ref][logo] and [a link](https://example.invalid/).\n\n"
        "[logo]: http://example.invalid/r.png\n\n" + "\n\n".join(LOADERS + SVG_LOADERS) + "\n"
    )
    source = source.replace("markup-broken.png", "#")  # no local file to publish here
    out = linker.rewrite(source, cell)
    assert not _remote_loads(markdown.markdown(out, extensions=["attr_list", "md_in_html"]))
    assert "[inline](https://example.invalid/a.png)" in out and "[ref][logo]" in out and "![" not in out
    assert "[a link](https://example.invalid/)" in out  # navigation stays
    assert cell.warnings and all(w.startswith("posts/p.ipynb, cell 5: '") for w in cell.warnings)
    assert any("'https://example.invalid/a.png'" in w for w in cell.warnings)
    assert any("'http://example.invalid/v.mp4'" in w for w in cell.warnings)
    assert all("download the file next to the notebook" in w for w in cell.warnings)


def test_captions_are_sanitized_html_with_math() -> None:
    remote: list[str] = []
    html = caption_html(
        "A *fit* of $a_1 < b^{2}$ [src](https://example.org/) [x](javascript:alert(1)) "
        '<img src=x onerror="alert(2)"> ![i](http://example.invalid/i.png){: onerror="alert(3)"}',
        remote,
    )
    assert "<em>fit</em>" in html and '<span class="arithmatex">\\(a_1 &lt; b^&#123;2&#125;\\)</span>' in html
    assert '<a href="https://example.org/"' in html
    assert "javascript" not in html and '<img src="http' not in html
    assert not re.search(r"<[^>]*\son\w+=", html)  # an {: onerror=...} is text, never an attribute
    assert remote == ["http://example.invalid/i.png"]
    assert caption_html("A line, drawn by matplotlib.") == "A line, drawn by matplotlib."
    assert caption_html("costs $5 and $6") == "costs $5 and $6"


@pytest.mark.parametrize(
    "code", ['x = """\n```\n<img src=x onerror=a()>\n```\n"""', "````\n```", "~~~\n{: onclick=x}", ""]
)
def test_a_code_fence_holds_any_code(code: str) -> None:
    page = markdown.markdown(code_fence(code, "python"), extensions=EXTENSIONS)
    assert page.count("<pre") == 1 and "<img" not in page
    text = page.split("<code>", 1)[1].rsplit("</code>", 1)[0]
    assert html.unescape(re.sub(r"<[^>]+>", "", text)) == code + "\n"


def test_a_code_fence_language_is_a_word() -> None:
    assert code_fence("1", "python").startswith("```python\n")
    assert code_fence("1", "python\n<img src=x onerror=a()>").startswith("```text\n")
    assert code_fence("1", "c++").startswith("```c++\n")


@pytest.mark.parametrize("loader", LOADERS + SVG_LOADERS)
def test_trusted_html_keeps_all_but_what_loads_from_another_host(loader: str) -> None:
    kept, remote = drop_remote(loader)
    assert not remote_loads(kept) and remote
    if not loader.startswith(("<img", "<style")):  # an image becomes a link, a remote sheet goes
        assert kept.count("<") == loader.count("<")  # every element stays


def test_trusted_markdown_shows_remote_images_as_links() -> None:
    source = (
        "An ![inline](http://example.invalid/a.png) and ![ref][r] `![code](http://example.invalid/c.png)`\n\n"
        "[r]: http://example.invalid/r.png\n\n<video src='http://example.invalid/v.mp4' controls></video>\n"
    )
    kept, remote = remote_free_markdown(source)
    assert remote == [
        "http://example.invalid/a.png",
        "http://example.invalid/r.png",
        "http://example.invalid/v.mp4",
    ]
    assert "An [inline](http://example.invalid/a.png) and [ref][r]" in kept
    assert "`![code](http://example.invalid/c.png)`" in kept  # code is text
    assert "<video controls>" in kept


def test_every_copy_of_a_remote_tag_is_rewritten() -> None:
    tag = '<img src="http://example.invalid/a.png">'
    link = '<a href="http://example.invalid/a.png">http://example.invalid/a.png</a>'
    # Code to CommonMark, but HTML to Python-Markdown after an HTML block left unclosed.
    kept, remote = drop_remote(f"Code `{tag}` then {tag}", tag)
    assert kept == f"Code `{link}` then {link}"
    assert remote == ["http://example.invalid/a.png"]
