# ruff: noqa: RUF001  (the expected texts are Greek letters and Unicode math on purpose)
"""Math where the site cannot typeset it (nbpress/rendering/mathtext.py), and math in charts and widgets.

A summary, a title, a meta tag and a feed item are plain text: their LaTeX becomes readable
Unicode. plotly texts become plotly's own markup; widgets' descriptions and labels are
typeset by the site's KaTeX. The built site is checked in Chromium, under its policy.
"""

from __future__ import annotations

import contextlib
import html
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from nbpress.rendering.mathtext import (
    bokeh_text,
    has_math,
    markdown_text,
    plain_text,
    plotly_text,
    tex_to_text,
)
from tests.helpers import launch_chromium, mkdocs, watch_policy
from tests.siteserver import serve
from tests.skeleton import copy_skeleton


@pytest.mark.parametrize(
    ("markdown", "plain"),
    [
        # inline $...$, \(...\), display $$...$$ and \[...\]
        (r"We fit the line $y = \beta_0 + \beta_1 x$ to data.", "We fit the line y = β₀ + β₁ x to data."),
        (r"Each $\hat y_i$ and $\bar x^2$ keep their scripts.", "Each ŷᵢ and x̅² keep their scripts."),
        (r"With \(n\) points and \(\sigma^2\).", "With n points and σ²."),
        (r"Energy $$E = mc^2$$ and \[a_{ij} \leq \infty\]", "Energy E = mc² and aᵢⱼ ≤ ∞"),
        # prices: an escaped dollar, and dollars that cannot be math (a space inside, a digit after)
        (r"It costs \$5, or $5 and $10 a month.", "It costs $5, or $5 and $10 a month."),
        (r"From $5 to $10.", "From $5 to $10."),
        # a dollar in a code span is code; its backticks go
        (r"Set `$HOME` and `a $x$ b` first.", "Set $HOME and a $x$ b first."),
        # fractions, roots, text, fonts, unknown commands (their name), braces dropped
        (r"$\frac{a+b}{2} = \sqrt{x}$", "(a+b)/2 = √x"),
        (r"$\hat{\theta} \in \mathbb{R}$, $\text{loss}(\theta)$", "θ̂ ∈ ℝ, loss(θ)"),
        (r"$\mathbf{w}^\top x$ and $\foo{z}$", "wᵀ x and foo z"),
        (r"$e^{i\pi}$ and $x_{\text{max}}$", "e^(iπ) and xₘₐₓ"),
        # links, emphasis, escapes
        (
            r"See [the *docs*](https://example.invalid/) for **more** \*stars\*.",
            "See the docs for more *stars*.",
        ),
        ("Plain text stays.", "Plain text stays."),
        (r"A lone 2*3 and snake_case_name.", "A lone 2*3 and snake_case_name."),
    ],
)
def test_markdown_text_makes_math_readable(markdown: str, plain: str) -> None:
    assert markdown_text(markdown) == plain


def test_plain_text_changes_only_math() -> None:
    # A front matter value is shown as typed, but for its math.
    assert (
        plain_text(r"The $\chi^2$ test, \$5, ![t](x.png) and *this*")
        == "The χ² test, $5, ![t](x.png) and *this*"
    )
    for typed in ("</title><script>x</script>", "From $5 to $10", 'x" onload="y', "C:\\Users"):
        assert plain_text(typed) == typed


def test_tex_to_text_reports_what_it_cannot_read() -> None:
    assert tex_to_text(r"\alpha_{1c} = 352 \pm 11").text == "α_(1c) = 352 ± 11"
    assert tex_to_text(r"\alpha_{1c} = 352 \pm 11", markup=True).text == "α<sub>1c</sub> = 352 ± 11"
    assert tex_to_text(r"\sum_{i=1}^n x_i").text == "∑ᵢ₌₁ⁿ xᵢ"
    assert tex_to_text(r"\left( \frac{1}{n} \right)^2").text == "( 1/n )²"
    assert tex_to_text(r"\foo x + \bar y").unknown == ("\\foo",)
    assert tex_to_text(r"\alpha").unknown == ()
    assert tex_to_text(r"a < b \& c", markup=True).text == "a &lt; b &amp; c"
    assert tex_to_text(r"a < b \& c").text == "a < b & c"


def test_plotly_text_converts_whole_math_texts_only() -> None:
    assert plotly_text(r"$\alpha_{1c} = 352 \pm 11$").text == "α<sub>1c</sub> = 352 ± 11"
    assert plotly_text(r"$$\sigma^2$$").text == "σ<sup>2</sup>"
    assert plotly_text(r"$\text{rate } \lambda$").text == "rate λ"
    # Not math as plotly.js reads it: left as written.
    for text in ("Cost ($) vs price ($)", "$5 to $10", "plain <b>title</b>", "$", "$$"):
        assert plotly_text(text).text == text
    assert plotly_text(r"$\frobnicate x$").unknown == ("\\frobnicate",)


def test_bokeh_text_converts_bokeh_delimiters() -> None:
    assert bokeh_text(r"$$\alpha_{1c} = 352 \pm 11$$").text == "α_(1c) = 352 ± 11"
    assert bokeh_text(r"Rate \(\lambda\) per \[s^{-1}\]").text == "Rate λ per s⁻¹"
    for text in ("$5 and $10", r"$\alpha$", "plain"):  # a single dollar is text in bokeh
        assert bokeh_text(text).text == text
    assert bokeh_text(r"$$\frobnicate$$").unknown == ("\\frobnicate",)


def test_has_math_finds_what_the_markdown_typesets() -> None:
    assert has_math(r"$\alpha$") and has_math(r"\(x\)") and has_math("$$x$$")
    assert not has_math("$5 and $10") and not has_math(r"\$5") and not has_math("n")


SHOWN = "it shows as written"


def test_widget_math_asks_for_katex_only_when_there_is_math() -> None:
    import ipywidgets as w  # type: ignore[import-untyped]
    from ipywidgets.embed import dependency_state  # type: ignore[import-untyped]

    from nbpress.notebook import Key
    from nbpress.rendering.charts import _widget

    cases = [
        (w.IntSlider(description="n"), ["widgets"], []),
        (w.IntSlider(description="$5 off"), ["widgets"], []),  # a price, not math
        (w.Button(description="$x$"), ["widgets"], []),  # a button's description is not typeset
        (w.IntSlider(description=r"$\alpha$"), ["widgets", "widget-math"], []),
        (w.Label(r"\(\beta\)"), ["widgets", "widget-math"], []),
        (w.HTMLMath(r"Area $\pi r^2$"), ["widgets", "widget-math"], []),
        (
            w.Label(r"$\myvec{x}$"),
            ["widgets", "widget-math"],
            [f'a widget\'s text "$\\myvec{{x}}$" uses LaTeX the site cannot typeset (\\myvec): {SHOWN}'],
        ),
    ]
    for widget, libraries, warnings in cases:
        state = dependency_state([widget], drop_defaults=False)
        removed: list[str] = []
        found, _ = _widget({"model_id": widget.model_id}, {Key.WIDGET_STATE: state}, {}, removed)
        assert (found, removed) == (libraries, warnings), widget


# ---- a built blog: summaries, titles, the feed, plotly and widgets ---------------------------

SUMMARY = r"We fit the line $y = \beta_0 + \beta_1 x$ to \(n\) points, at \$5 each; `$HOME` is code."
FIT_CELLS = [
    f"{SUMMARY}\n\nMore text with $a^2$.",
    # plotly: math in the title, the axes, a trace name and an annotation; one unknown command
    "import plotly.graph_objects as go\n"
    "fig = go.Figure(go.Scatter(x=[1, 2, 3], y=[3, 1, 2], name=r'$\\sigma_x$'))\n"
    "fig.update_layout(title=r'$\\alpha_{1c} = 352 \\pm 11$', showlegend=True,\n"
    "    xaxis_title=r'$\\beta$', yaxis_title=r'$\\frobnicate y$',\n"
    "    annotations=[dict(x=2, y=1, text=r'$\\frac{a}{b}$')])\n"
    "fig",
    # widgets: a description, a Label and an HTMLMath with math; a Button's description is not typeset
    # bokeh: math in the title, an axis label and a legend label (drawn on a canvas)
    "from bokeh.io import output_notebook, show\n"
    "from bokeh.plotting import figure\n"
    "output_notebook(hide_banner=True)\n"
    "p = figure(title=r'$$\\alpha_{1c} = 352 \\pm 11$$', x_axis_label=r'\\(\\beta\\)',\n"
    "    width=400, height=250)\n"
    "p.line([1, 2, 3], [3, 1, 2], legend_label=r'$$\\sigma_x$$')\n"
    "show(p)",
    "import ipywidgets as widgets\n"
    "widgets.VBox([widgets.IntSlider(value=3, description=r'$\\alpha$'),\n"
    "              widgets.Label(r'$\\beta^2$'), widgets.HTMLMath(r'Area \\(\\pi r^2\\)'),\n"
    "              widgets.Button(description='$5 off')])",
]


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[str]]:
    """Return (blog root, build warnings) of a blog with the math post, built by MkDocs (strict)."""
    import nbformat
    from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_raw_cell

    from nbpress.pipeline import Options, build

    root = copy_skeleton(tmp_path_factory.mktemp("mathtext") / "blog")
    nb = new_notebook(
        metadata={"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}}
    )
    front = new_raw_cell("---\ntitle: 'The $\\chi^2$ fit'\ndate: 2024-01-01\n---")
    nb.cells = [front, new_markdown_cell(FIT_CELLS[0])]
    nb.cells += [new_code_cell(source) for source in FIT_CELLS[1:]]
    for i, cell in enumerate(nb.cells):
        cell["id"] = f"cell-{i}"
    nbformat.write(nb, root / "posts" / "fit.ipynb")
    results = build(Options(root=root, jobs=1))
    assert [r.status for r in results] == ["executed"], [str(r.error) for r in results]
    with (root / "mkdocs.yml").open("a", encoding="utf-8") as config:
        config.write("site_url: https://nbpress.github.io/nbpress-blog/\n")  # the feed needs it
    site = mkdocs(root, "build", "--strict")
    assert site.returncode == 0, site.stderr
    return root, [w for r in results for w in r.warnings]


def _no_tex(text: str) -> bool:
    return "$y" not in text and "\\" not in text and "beta" not in text


@pytest.mark.slow
def test_summary_title_meta_and_feed_are_readable_text(built: tuple[Path, list[str]]) -> None:
    root, warnings = built
    markdown = (root / "site_src" / "posts" / "fit.md").read_text(encoding="utf-8")
    front = markdown.split("---\n", 2)[1]
    assert "title: The χ² fit" in front
    readable = "We fit the line y = β₀ + β₁ x to n points, at $5 each; $HOME is code."
    assert f"description: {readable}" in front
    page = (root / "site" / "posts" / "fit" / "index.html").read_text(encoding="utf-8")
    meta = dict(re.findall(r'<meta (?:property|name)="([^"]+)" content="([^"]*)"', page))
    for key in ("description", "og:description"):
        assert html.unescape(meta[key]) == readable, key
    assert html.unescape(meta["og:title"]) == "The χ² fit"
    assert "<title>The χ² fit" in page
    home = (root / "site" / "index.html").read_text(encoding="utf-8")
    card = re.search(r'<p class="nbpress-summary">(.*?)</p>', home, re.S)
    assert card and html.unescape(card.group(1)) == readable
    channel = ET.parse(root / "site" / "feed_rss_created.xml").getroot().find("channel")
    assert channel is not None
    item = channel.find("item")
    assert item is not None
    assert item.findtext("title") == "The χ² fit"
    assert readable in (item.findtext("description") or "")
    assert _no_tex(item.findtext("description") or "")
    # The one command nbpress cannot read is said, naming the file, the cell and the text.
    assert warnings == [
        "posts/fit.ipynb, cell 3: the plotly text layout.yaxis.title.text uses LaTeX the site cannot "
        "typeset (\\frobnicate): it is shown as plain text"
    ]
    # bokeh's texts are Unicode in its document: BokehJS would ask a CDN for MathJax.
    bokeh = re.search(r'data-kind="bokeh">(.*?)</script>', markdown, re.S)
    assert bokeh and "\\\\alpha" not in bokeh.group(1) and "\\\\beta" not in bokeh.group(1)
    assert "α_(1c) = 352 ± 11" in bokeh.group(1) and "σₓ" in bokeh.group(1)
    # The page asks for KaTeX (prose math and widget math) and for the widget-math script.
    assert "vendor/katex/katex.min.js" in page and "javascripts/widget-math.js" in page


@pytest.fixture(scope="module")
def site_url(built: tuple[Path, list[str]]) -> Iterator[str]:
    with serve(built[0] / "site", "/nbpress-blog/") as url:
        yield url


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    with launch_chromium() as browser:
        yield browser


@contextlib.contextmanager
def _watched_page(browser: Any, console: tuple[str, ...]) -> Iterator[tuple[Any, list[str], list[str]]]:
    """Yield (a 1280 px page, policy violations, uncaught errors and `console` messages)."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    violations = watch_policy(context)
    errors: list[str] = []
    page = context.new_page()
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("console", lambda m: errors.append(m.text) if m.type in console else None)
    try:
        yield page, violations, errors
    finally:
        context.close()


@pytest.mark.browser
def test_home_card_and_meta_show_no_raw_latex(chromium: Any, site_url: str) -> None:
    with _watched_page(chromium, ("error",)) as (page, violations, errors):
        page.goto(site_url)
        summary = page.locator(".nbpress-summary").inner_text()
        assert "β₀" in summary and _no_tex(summary), summary
        og = page.evaluate("document.querySelector('meta[property=\"og:description\"]').content")
        assert "$" not in og and "\\" not in og
    assert violations == [] and errors == [], (violations, errors)


@pytest.mark.browser
def test_plotly_and_widget_math_is_typeset(chromium: Any, site_url: str) -> None:
    with _watched_page(chromium, ("error", "warning")) as (page, violations, errors):
        page.goto(site_url + "posts/fit/")
        page.wait_for_function("() => document.querySelector('.nbpress-chart.nbpress-drawn')")
        chart = page.locator(".nbpress-chart-plotly")
        title = chart.locator(".gtitle").text_content() or ""
        assert "α" in title and "$" not in title and "\\" not in title, title
        assert chart.locator(".gtitle tspan", has_text="1c").count() >= 1  # drawn as a subscript
        assert "β" in (chart.locator(".xtitle").text_content() or "")
        assert "σ" in (chart.locator(".legendtext").text_content() or "")
        assert "a/b" in (chart.locator(".annotation-text").text_content() or "")
        widget = page.locator(".nbpress-chart-widget")
        widget.locator(".widget-slider label.widget-label .katex").wait_for()
        assert widget.locator(".widget-slider label.widget-label .katex-mathml").text_content() == "α\\alpha"
        assert widget.locator("div.widget-label .katex").count() == 1
        assert widget.locator(".widget-htmlmath-content .katex").count() == 1
        assert "Area" in widget.locator(".widget-htmlmath-content").inner_text()
        # A button's description is not typeset in Jupyter either: "$5 off" stays text.
        assert widget.locator("button", has_text="$5 off").count() == 1
    assert violations == [] and errors == [], (violations, errors)
