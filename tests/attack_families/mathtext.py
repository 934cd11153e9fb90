"""Math turned into text or typeset outside the post's prose (issue 21, nbpress/rendering/mathtext.py).

Markup hidden in LaTeX that becomes text (a plotly title's \\text{...}, a summary's math,
a title's math), and KaTeX commands that would link, load or write HTML in a widget's
description, Label or HTMLMath (\\href, \\url, \\includegraphics, \\htmlData): KaTeX runs
untrusted there (its `trust` off), and the text channels stay text.
"""

from __future__ import annotations

from tests.attack_kit import Posts, markdown, pwn

REMOTE = "http://example.invalid/math"


def img(tag: str) -> str:
    return f'<img src="missing.png" onerror="{pwn(tag)}">'


def bold(tag: str) -> str:
    """Return HTML that runs on hover (a Markdown cell may not name a missing image)."""
    return f'<b class="math-hover" onmouseover="{pwn(tag)}">hover</b>'


POSTS: Posts = {}
CLICKS: dict[str, str] = {}

# Summaries and titles: math becomes plain text, which is escaped like any shown value.
POSTS["mathtext-summary"] = (
    {"title": f"The $\\text{{{img('math-title')}}}$ fit"},
    [
        markdown(
            f"We fit $\\text{{{bold('math-summary')}}}$ and "
            f"$\\mathrm{{</p><script>{pwn('math-summary-script')}</script>}}$ here."
        ),
        ("1", []),
    ],
)
POSTS["mathtext-description"] = (
    {"title": "described", "description": f"Math $\\text{{{img('math-description')}}} x^2$ too"},
    [("1", [])],
)
# plotly: a whole-math text becomes plotly's markup; markup inside the LaTeX stays text.
POSTS["mathtext-plotly"] = (
    {},
    [
        (
            "import plotly.graph_objects as go\n"
            "fig = go.Figure(go.Scatter(x=[1, 2], y=[1, 2], name=r'$\\text{"
            + img("math-plotly-name")
            + "}$'))\n"
            "fig.update_layout(title=r'$\\text{<a href=\"javascript:"
            + pwn("math-plotly-link")
            + "\">click</a>} \\alpha$', "
            "xaxis_title=r'$\\href{javascript:" + pwn("math-plotly-href") + "}{x}$',\n"
            "    annotations=[dict(x=1, y=1, text=r'$<b onmouseover=\""
            + pwn("math-plotly-b")
            + "\">b</b>$')])\n"
            "fig",
            [],
        ),
    ],
)
# Widgets: KaTeX commands that link, load another host's file or write attributes.
POSTS["mathtext-widgets"] = (
    {},
    [
        (
            "import ipywidgets as w\n"
            "w.VBox([\n"
            f"    w.IntSlider(description=r'$\\href{{javascript:{pwn('katex-href')}}}{{go}}$'),\n"
            f"    w.Label(r'$\\url{{javascript:{pwn('katex-url')}}}$'),\n"
            f"    w.Label(r'$\\includegraphics{{{REMOTE}/graphic.png}}$'),\n"
            f"    w.HTMLMath(r'\\(\\htmlData{{onerror={pwn('katex-data')}}}{{x}}\\) '\n"
            f"               r'{img('katex-htmlmath')}'),\n"
            f"    w.Checkbox(description=r'$\\text{{{img('katex-checkbox')}}}$'),\n"
            f"    w.IntSlider(description=r'$x$ {img('katex-allow-html')}', description_allow_html=True),\n"
            "])",
            [],
        ),
    ],
)
CLICKS["mathtext-summary"] = ".math-hover, .arithmatex"
CLICKS["mathtext-widgets"] = ".nbpress-chart-widget a, .nbpress-chart-widget .katex"
# plotly's texts are SVG (no click()); the default selector's javascript: links are enough there.
