"""Hostile notebooks against a real build: no script reaches a reader, front matter is text,
only the blog's own files are published (issue 9, sections 1, 2 and 6).

One blog holding every attack is built once (real kernels, `mkdocs build --strict`), served on
127.0.0.1 and opened in Chromium. Every attack that would run script sets `window.__pwned` (or
opens a dialog); every page and every SVG figure, opened at its own URL, must leave it unset.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.attack_families import collect, collect_files
from tests.attack_kit import CELL_KIND, Cell, Posts, prints, pwn, show
from tests.helpers import build_cli, copy_skeleton, launch_chromium, mkdocs
from tests.siteserver import serve

pytestmark = pytest.mark.browser


POSTS: Posts = {}

POSTS["out-markdown"] = (
    {},
    [
        (
            show(
                "Markdown",
                f'![attr](missing.png){{: onerror="{pwn("md-attr-list")}"}}',
                f"[md-js](javascript:{pwn('md-js-link')})",
                f"<script>{pwn('md-script')}</script>",
                f'<img src="missing.png" onerror="{pwn("md-img-onerror")}">',
                f"[md-data](data:text/html,<script>{pwn('md-data')}</script>)",
            ),
            [],
        )
    ],
)
POSTS["out-html"] = (
    {},
    [
        (
            show(
                "HTML",
                # The first paragraph of a post becomes its og:description: entities stay text.
                f"<p>&lt;script&gt;{pwn('og-entities')}&lt;/script&gt;</p>",
                f'<p>![h](missing.png){{: onerror="{pwn("html-attr-list")}"}}</p>',
                f"<p>[html-js](javascript:{pwn('html-md-link')})</p>",
                f'<div markdown="1">![m](missing.png){{: onerror="{pwn("html-md-in-html")}"}}</div>',
                f'<iframe srcdoc="<script>{pwn("srcdoc")}</script>"></iframe>',
                f'<meta http-equiv="refresh" content="0; url=javascript:{pwn("refresh")}">',
                '<style>body { display: none }</style><p class="still-shown">shown</p>',
                f'<a class="data-link" href="data:text/html,<script>{pwn("data")}</script>">d</a>',
                f"<svg><script>{pwn('inline-svg-script')}</script></svg>",
                f'<svg onload="{pwn("inline-svg-onload")}"><rect width="5" height="5"/></svg>',
                f'<img src="data:image/svg+xml,<svg xmlns=&quot;http://www.w3.org/2000/svg&quot; '
                f'onload=&quot;{pwn("data-svg")}&quot;/>">',
                f'<a class="html-js" href="javascript:{pwn("html-js-href")}">j</a>',
                f"<p>$\\href{{javascript:{pwn('katex-href')}}}{{k}}$</p>",
                f'<p>\x02wzxhzdk:0\x03 <img src=x onerror="{pwn("html-onerror")}"></p>',
            ),
            [],
        )
    ],
)
POSTS["out-latex"] = (
    {},
    [
        (
            show(
                "Latex",
                f'<img src="missing.png" onerror="{pwn("latex-img")}">',
                f"$$\\href{{javascript:{pwn('latex-href')}}}{{x}}$$",
                "$$\\frac{a}{b} < c$$",
            ),
            [],
        )
    ],
)
POSTS["out-stream"] = (
    {},
    [
        # A long stream is folded into <details>: a printed </details> must not close it.
        (
            prints(
                *(f"line {i}" for i in range(40)), "</details>", f'<img src=m.png onerror="{pwn("details")}">'
            ),
            [],
        ),
        (
            prints(
                "```",
                f'<img src=m.png onerror="{pwn("fence")}">',
                "~~~~",
                f"</div><script>{pwn('div')}</script>",
            ),
            [],
        ),
        (prints(f"<script>{pwn('stderr')}</script>", stream="stderr"), []),
        (prints("{{ config.site_name }} {% raw %}"), []),
    ],
)
REPR = f"</details>\n```\n<img src=m.png onerror={pwn('repr')!r}>"
POSTS["out-error"] = (
    {},
    [
        (
            f"raise ValueError({'<img src=missing.png onerror=' + repr(pwn('traceback'))!r})",
            ["raises-exception"],
        ),
        (
            f"class Repr:\n    def __repr__(self):\n        return {REPR!r}\nRepr()",
            [],
        ),
    ],
)
SVG_ATTACKS = {
    "svg-script": f"<script>{pwn('svg-script')}</script>",
    "svg-onload": f'<rect width="10" height="10" onload="{pwn("svg-onload")}"/>',
    "svg-foreign": (
        '<foreignObject width="100" height="100"><body xmlns="http://www.w3.org/1999/xhtml">'
        f'<img src="missing.png" onerror="{pwn("svg-foreign")}"/></body></foreignObject>'
    ),
    "svg-js-href": f'<a id="jslink" href="javascript:{pwn("svg-href")}"><rect width="50" height="50"/></a>',
    "svg-xlink-href": (
        f'<a id="jslink" xlink:href="javascript:{pwn("svg-xlink")}"><rect width="50" height="50"/></a>'
    ),
    "svg-external": '<image href="http://example.invalid/leak.png" width="5" height="5"/>',
    "svg-animate": (
        f'<a id="jslink"><animate attributeName="href" to="javascript:{pwn("svg-animate")}"/>'
        '<rect width="50" height="50"/></a>'
    ),
}
POSTS["out-svg"] = (
    {},
    [
        (
            show(
                "SVG",
                *(
                    '<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" '
                    f'width="60" height="60">{body}</svg>'
                    for body in SVG_ATTACKS.values()
                ),
            ),
            [],
        )
    ],
)
# hide-output folds outputs into an indented ??? block, where raw HTML is no longer one block.
POSTS["out-folded"] = (
    {},
    [
        (
            show(
                "HTML",
                f"<p>[f](javascript:{pwn('fold-link')})</p>",
                f'<p>![f](m.png){{: onerror="{pwn("fold-attr")}"}}</p>',
            )
            + show("Markdown", f'![g](m.png){{: onerror="{pwn("fold-md")}"}}')
            + show(
                "Latex",
                f"$$x$$ [l](javascript:{pwn('fold-latex-link')}) "
                f'![i](m.png){{: onerror="{pwn("fold-latex")}"}}',
                f"\\text{{[l](javascript:{pwn('fold-math-link')}) "
                f'![i](m.png){{: onerror="{pwn("fold-math")}"}}}}',
            )
            + prints(f'</details><img src=m.png onerror="{pwn("fold-stream")}">'),
            ["hide-output"],
        )
    ],
)
PLOT = "import matplotlib.pyplot as plt\nplt.plot([1, 2])\nplt.show()"
POSTS["fm-title"] = ({"title": f"</title><script>{pwn('title')}</script>"}, [(PLOT, [])])
# The blog's listings render a post's title as a Markdown heading.
POSTS["fm-title-markdown"] = ({"title": f'![t](missing.png){{: onerror="{pwn("title-md")}"}}'}, [(PLOT, [])])
POSTS["fm-title-link"] = ({"title": f"t](javascript:{pwn('title-link')}) [u"}, [(PLOT, [])])
POSTS["fm-title-attr"] = ({"title": f'x" onload="{pwn("title-attr")}" y="'}, [(PLOT, [])])
POSTS["fm-description"] = (
    {
        "description": (
            f"&lt;script&gt;{pwn('desc-entities')}&lt;/script&gt; " + f'<img src=x onerror="{pwn("desc")}">'
        )
    },
    [(PLOT, [])],
)
POSTS["fm-taxonomy"] = (
    {
        "tags": [f'<img src=x onerror="{pwn("tag")}">', f't" onmouseover="{pwn("tag-attr")}'],
        "categories": [f'<svg onload="{pwn("category")}">'],
        "author": f'<img src=x onerror="{pwn("author")}">',
    },
    [(PLOT, [])],
)
# The figure's caption is its alt text, also copied into the listing's thumbnail.
CAPTION = f'x" onerror="{pwn("caption")}" y="'
POSTS["fm-caption"] = ({}, [(f"#| fig-cap: {json.dumps(CAPTION)}\n" + PLOT, [])])
# Issue 10: what a static page can show faithfully is shown.
POSTS["shown"] = (
    {},
    [
        ("import seaborn as sns\nsns.color_palette('husl', 4)", []),
        ("import matplotlib\nmatplotlib.colormaps['viridis']", []),
        ("import sympy\nsympy.Rational(1, 3) + sympy.Symbol('x') ** 2", []),
        ("from IPython.display import HTML\nHTML('<script>console.log(1)</script>')", []),
        # Script-only HTML with a PNG beside it (a chart library's static fallback): the PNG.
        (
            "import io\nimport matplotlib.pyplot as plt\n"
            "class Chart:\n"
            "    def _repr_html_(self):\n        return '<script>console.log(2)</script>'\n"
            "    def _repr_png_(self):\n"
            "        buf = io.BytesIO()\n        plt.figure(figsize=(1, 1))\n"
            "        plt.savefig(buf, format='png')\n        plt.close()\n        return buf.getvalue()\n"
            "Chart()",
            [],
        ),
    ],
)
# The control: a post that trusts its HTML (raw_html: true) does run it, which shows the browser
# check sees script when there is some.
POSTS["control"] = (
    {"raw_html": True},
    [(show("HTML", f'<img src="missing.png" onerror="{pwn("control")}">'), [])],
)
# Issue 20's families (tests/attack_families/), built into the same blog.
FAMILY_POSTS, FAMILY_CLICKS = collect()
assert not FAMILY_POSTS.keys() & POSTS.keys(), "an attack family reuses a slug of this module"
POSTS.update(FAMILY_POSTS)
SECRET = "nbpress-secret-4f1c"


def _notebook(front: dict[str, Any], cells: list[Cell]) -> Any:
    import yaml
    from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_raw_cell

    nb = new_notebook(
        metadata={"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}}
    )
    nb.cells.append(new_raw_cell("---\n" + yaml.safe_dump(front, allow_unicode=True) + "---"))
    for source, tags in cells:
        kinds = [t.removeprefix(CELL_KIND) for t in tags if t.startswith(CELL_KIND)]
        tags = [t for t in tags if not t.startswith(CELL_KIND)]
        cell = new_markdown_cell(source) if "markdown" in kinds else new_code_cell(source)
        for kind in kinds:
            if kind.startswith("raw:"):
                cell = new_raw_cell(source, metadata=json.loads(kind.removeprefix("raw:")))
            elif kind.startswith("metadata:"):
                cell.metadata.update(json.loads(kind.removeprefix("metadata:")))
        if tags:
            cell.metadata["tags"] = tags
        nb.cells.append(cell)
    for i, cell in enumerate(nb.cells):
        cell["id"] = f"cell-{i}"
    return nb


class Built:
    """The hostile blog after `build.py` and `mkdocs build --strict`."""

    def __init__(self, root: Path, build_err: str, build_code: int) -> None:
        self.root = root
        self.site = root / "site"
        self.build_err = build_err
        self.build_code = build_code


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Built:
    """Return the built blog holding every attack (and the sources it must refuse)."""
    import nbformat

    root = copy_skeleton(tmp_path_factory.mktemp("attacks") / "blog")
    # The feed needs the site's address (a clone takes it from its GitHub remote; none here).
    with (root / "mkdocs.yml").open("a", encoding="utf-8") as config:
        config.write("site_url: https://nbpress.github.io/nbpress-blog/\n")
    posts = root / "posts"
    for name, text in collect_files().items():
        (posts / name).write_text(text, encoding="utf-8")
    for slug, (front, cells) in POSTS.items():
        nbformat.write(
            _notebook({"title": slug, "date": "2024-01-01", **front}, cells), posts / f"{slug}.ipynb"
        )
    # Section 6: a notebook outside posts/ that would build, reached through a link.
    outside = root.parent / "outside.ipynb"
    nbformat.write(_notebook({"title": SECRET, "date": "2024-01-01"}, [(f"print('{SECRET}')", [])]), outside)
    (posts / "leak.ipynb").symlink_to(outside)
    (posts / "leak-text.md").symlink_to(root.parent / "outside.md")
    (root.parent / "outside.md").write_text(
        f"---\ntitle: {SECRET}\ndate: 2024-01-01\n---\n\n```python\n1\n```\n"
    )
    (posts / "folder.ipynb").mkdir()
    os.mkfifo(posts / "fifo.ipynb")
    (posts / "broken.ipynb").write_text('{"cells": [' + SECRET)
    proc = build_cli(root)
    site = mkdocs(root, "build", "--strict")
    assert site.returncode == 0, site.stderr
    return Built(root, proc.stderr + proc.stdout, proc.returncode)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with launch_chromium() as chromium:
        yield chromium


@pytest.fixture(scope="module")
def url(built: Built) -> Iterator[str]:
    with serve(built.site) as base:
        yield base.rstrip("/")


def _open(browser: Any, address: str, click: str | None = None) -> tuple[Any, list[str]]:
    """Return (the page opened at `address` after any script had its chance, dialogs seen)."""
    page = browser.new_page()
    dialogs: list[str] = []

    def on_dialog(dialog: Any) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", on_dialog)
    # No request may leave the site (an SVG's external image would be one): each is logged
    # (page.outside, checked by _assert_no_script) and stopped.
    outside: list[str] = []
    page.outside = outside

    def leave(route: Any) -> None:
        outside.append(route.request.url)
        route.abort()

    page.route(re.compile(r"^(?!https?://127\.0\.0\.1[:/])(?!data:|blob:|about:)[a-z][a-z0-9+.-]*:"), leave)
    page.goto(address, wait_until="load")
    if click:
        # Hover first (tooltips, onmouseover), then a script click, which follows any link,
        # even one inside a closed <details>.
        page.locator(click).evaluate_all(
            "els => els.forEach(e => ['mouseover', 'mouseenter', 'mousemove'].forEach("
            "t => e.dispatchEvent(new MouseEvent(t, {bubbles: true}))))"
        )
        page.wait_for_timeout(100)
        page.locator(click).evaluate_all("links => links.forEach(a => a.click())")
    page.wait_for_timeout(300)  # an onerror or a delayed navigation would have run by now
    return page, dialogs


def _assert_no_script(browser: Any, address: str, click: str | None = None) -> Any:
    page, dialogs = _open(browser, address, click)
    pwned = page.evaluate("window.__pwned")
    assert pwned is None and not dialogs, f"{address}: attack {pwned!r} ran ({dialogs})"
    assert not page.outside, f"{address}: the page asked another host for {page.outside}"
    return page


PAGES = [f"posts/{slug}/" for slug in POSTS if slug != "control"]
PAGES += ["", "tags/", "archive/2024/", "category/"]


def test_the_browser_check_sees_script_that_runs(browser: Any, url: str) -> None:
    page, _ = _open(browser, f"{url}/posts/control/")
    assert page.evaluate("window.__pwned") == "control"
    page.close()


def test_the_browser_check_sees_requests_to_other_hosts(browser: Any) -> None:
    page, _ = _open(browser, "about:blank")  # a page no Content Security Policy guards
    page.evaluate(
        "() => new Promise(done => { const i = new Image(); i.onerror = i.onload = done;"
        " i.src = 'http://example.invalid/seen.png'; })"
    )
    assert page.outside == ["http://example.invalid/seen.png"]
    page.close()


@pytest.mark.parametrize("path", PAGES)
def test_page_runs_no_script(browser: Any, url: str, path: str) -> None:
    click = "a[href^='javascript'], a.html-js"
    slug = path.removeprefix("posts/").rstrip("/")
    if slug in FAMILY_CLICKS:
        click += ", " + FAMILY_CLICKS[slug]
    page = _assert_no_script(browser, f"{url}/{path}", click=click)
    assert page.url.startswith(url), "a link navigated away"
    page.close()


def test_every_svg_figure_opened_alone_runs_no_script(browser: Any, url: str, built: Built) -> None:
    figures = sorted((built.root / "assets" / "images" / "out-svg").glob("*.svg"))
    assert len(figures) == len(SVG_ATTACKS)
    for figure in figures:
        page = _assert_no_script(browser, f"{url}/assets/images/out-svg/{figure.name}", click="#jslink")
        assert page.url.endswith(figure.name)
        page.close()
        text = figure.read_text(encoding="utf-8")
        assert "script" not in text.lower() and "onload" not in text and "foreignObject" not in text
        assert "javascript" not in text and "example.invalid" not in text


def test_front_matter_is_shown_as_typed(browser: Any, url: str) -> None:
    page = _assert_no_script(browser, f"{url}/posts/fm-title/")
    assert page.title().startswith(f"</title><script>{pwn('title')}</script>")
    assert page.locator("h1").first.inner_text() == f"</title><script>{pwn('title')}</script>"
    page.close()
    page = _assert_no_script(browser, f"{url}/posts/fm-title-attr/")
    title = f'x" onload="{pwn("title-attr")}" y="'
    assert page.locator('meta[property="og:title"]').get_attribute("content") == title
    assert page.locator("img.img-responsive").first.get_attribute("alt") == f"{title}, figure 1"
    page.close()
    page = _assert_no_script(browser, f"{url}/posts/fm-description/")
    description = POSTS["fm-description"][0]["description"]
    assert page.locator('meta[name="description"]').get_attribute("content") == description
    assert page.locator('meta[property="og:description"]').get_attribute("content") == description
    page.close()
    page = _assert_no_script(browser, f"{url}/")
    alts = page.locator("a.nbpress-thumb img").evaluate_all("els => els.map(e => e.alt)")
    assert f"{title}, figure 1" in alts and CAPTION in alts
    page.close()
    page = _assert_no_script(browser, f"{url}/posts/fm-taxonomy/")
    tags = page.locator(".md-tag").all_inner_texts()
    assert POSTS["fm-taxonomy"][0]["tags"][0] in tags
    page.close()


def test_og_description_from_content_keeps_entities_as_text(browser: Any, url: str) -> None:
    page = _assert_no_script(browser, f"{url}/posts/out-html/")
    content = page.locator('meta[property="og:description"]').get_attribute("content")
    # A post's summary is its description or its first paragraph of prose (issue 12), never
    # output markup: this post has neither, so the site's description stands.
    assert content == "Tutorial posts written as Jupyter notebooks, executed on every build."
    assert page.locator("p.still-shown").is_visible(), "a <style> output hid the page"
    assert page.locator(".nbpress-result img:not([src])").count() == 0, "an empty image"
    page.close()


def test_streams_hold_any_text_and_carry_classes(browser: Any, url: str) -> None:
    page = _assert_no_script(browser, f"{url}/posts/out-stream/")
    folded = page.locator("details.nbpress-fold .nbpress-stdout").text_content() or ""
    assert "</details>" in folded and "onerror" in folded and "line 39" in folded
    stdout = page.locator(".nbpress-output.nbpress-stdout").all_inner_texts()
    assert any("```" in t and "</div><script>" in t for t in stdout)
    assert any("{{ config.site_name }} {% raw %}" in t for t in stdout)
    assert "<script>" in page.locator(".nbpress-output.nbpress-stderr").inner_text()
    page.close()
    page = _assert_no_script(browser, f"{url}/posts/out-error/")
    assert "ValueError: <img src=missing.png" in page.locator(".nbpress-output.nbpress-error").inner_text()
    assert "</details>" in page.locator(".nbpress-output.nbpress-result").inner_text()
    page.close()


def test_latex_is_math_not_markup(browser: Any, url: str) -> None:
    page = _assert_no_script(browser, f"{url}/posts/out-latex/", click="a[href^='javascript']")
    assert page.locator(".nbpress-result .katex").count() >= 2
    assert page.locator(".nbpress-result img").count() == 0
    page.close()


def test_outputs_a_page_can_show_are_shown(browser: Any, url: str, built: Built) -> None:
    page = _assert_no_script(browser, f"{url}/posts/shown/")
    assert page.locator(".nbpress-result svg rect").count() == 4, "the seaborn palette"
    width = page.locator(".nbpress-result img[src^='data:image/png']").evaluate("img => img.naturalWidth")
    assert width > 0, "the colormap preview"
    assert page.locator(".nbpress-result .katex").count() == 1, "SymPy's LaTeX"
    page.close()
    linked = (built.root / "site_src" / "posts" / "shown.md").read_text(encoding="utf-8")
    figures = [p.name for p in (built.root / "assets" / "images" / "shown").glob("*")]
    assert all(name in linked for name in figures), "a figure no page links"
    assert "](/assets/images/shown/output_5_0.png)" in linked, "the PNG beside script-only HTML"
    assert figures == ["output_5_0.png"]
    assert "shown.ipynb: cell 5: an HTML output held nothing" in built.build_err
    assert "[nbpress: an HTML output held nothing a static page can show" in linked
    assert "IPython.core.display.HTML object" not in linked
    assert "shown.ipynb: cell 6" not in built.build_err


def test_sources_are_regular_files_inside_posts(built: Built) -> None:
    err = built.build_err
    assert built.build_code == 1
    for name, kind in [
        ("leak.ipynb", "a symbolic link"),
        ("leak-text.md", "a symbolic link"),
        ("folder.ipynb", "a folder"),
        ("fifo.ipynb", "not a regular file"),
    ]:
        assert any(f"posts/{name}: {kind}, not a regular file" in line for line in err.splitlines()), err
    assert not (built.root / "site_src" / "posts" / "leak.md").exists()


def test_site_serves_only_built_notebooks(built: Built) -> None:
    # Each published post's executed notebook, in its own folder (assets/notebooks/<slug>/).
    served = sorted(p.name for p in (built.site / "assets" / "notebooks").glob("*/*.ipynb"))
    assert served == sorted(f"{slug}.ipynb" for slug in POSTS)
    for path in built.site.rglob("*"):
        if path.is_file():
            assert SECRET.encode() not in path.read_bytes(), path
    assert json.loads((built.site / "assets" / "notebooks" / "shown" / "shown.ipynb").read_text())["cells"]


def test_feed_is_well_formed_and_its_values_are_text(built: Built) -> None:
    from xml.etree import ElementTree as ET

    feed = ET.parse(built.site / "feed_rss_created.xml").getroot()
    tags = {element.tag for element in feed.iter()}
    assert not tags & {"script", "img", "svg", "iframe"}, tags
    categories = {c.text for c in feed.iter("category")}
    assert f'<img src=x onerror="{pwn("tag")}">' in categories  # shown as typed by a feed reader
    titles = {t.text for t in feed.iter("title")}
    for slug in ("fm-title", "fm-title-markdown", "fm-title-link", "fm-title-attr"):
        assert POSTS[slug][0]["title"] in titles, slug  # plain text, as typed: no &lt; shown


def test_markup_channels_show_their_text_as_typed(browser: Any, url: str) -> None:
    from tests.attack_families.markup import DOI

    page = _assert_no_script(browser, f"{url}/posts/markup-bibtex/")
    references = page.locator(".nbpress-reference").all_inner_texts()
    assert any(DOI in text for text in references), references  # a real DOI, "<" and all
    assert any("<script>" in text for text in references)  # a journal named in markup is text
    page.close()
    page = _assert_no_script(browser, f"{url}/posts/markup-code-fence/")
    code = page.locator("pre code").first.inner_text()  # the cell's code, whole, in one block
    assert code.startswith('x = """') and "```\n<img" in code and code.rstrip().endswith('"""\nx')
    page.close()
    page = _assert_no_script(browser, f"{url}/posts/markup-fig-cap-link/")
    assert page.locator("figcaption").inner_text() == "Figure 1: see"
    page.close()
    page = _assert_no_script(browser, f"{url}/posts/markup-raw-markdown/")
    assert page.locator(".nbpress-raw").count() == 1 and "link" in page.locator(".nbpress-raw").inner_text()
    page.close()


def test_remote_images_become_links_with_a_warning(browser: Any, url: str, built: Built) -> None:
    page = _assert_no_script(browser, f"{url}/posts/remote-html-output/")
    assert page.locator("a[href='http://example.invalid/img.png']").inner_text() == "remote"
    page.close()
    page = _assert_no_script(browser, f"{url}/posts/remote-markdown-cell/")
    assert page.locator("a[href='http://example.invalid/cell-inline.png']").inner_text() == "inline"
    assert page.locator("a[href='http://example.invalid/page.html']").count() == 1  # a plain link stays
    page.close()
    for where, address in [
        ("remote-markdown-cell.ipynb, cell 2", "http://example.invalid/cell-inline.png"),
        ("remote-markdown-cell.ipynb, cell 3", "http://example.invalid/code-span.png"),
        ("remote-markdown-cell.ipynb, cell 4", "http://example.invalid/style-url.png"),
        ("remote-raw-cells.ipynb, cell 3", "http://example.invalid/raw-markdown.png"),
        ("remote-html-output.ipynb: cell 2", "http://example.invalid/srcset2.png"),
        ("remote-image-url.ipynb: cell 2", "http://example.invalid/ipython-image.png"),
        ("remote-svg-output.ipynb: cell 2", "http://example.invalid/svg-figure-xlink.png"),
        ("remote-caption.ipynb, cell 2", "http://example.invalid/caption.png"),
    ]:
        assert any(where in line and f"'{address}'" in line for line in built.build_err.splitlines()), (
            where,
            address,
        )
