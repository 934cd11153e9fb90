"""Computed values in prose (issue 23): a value is data the post's code made, pasted into prose.

Quarto's `{python} expr`, MyST's {eval} and MyST-NB's glue roles and directives put a value
where the author's Markdown is read. A value is text (character references), sanitized HTML
or Markdown (as an output's), escaped math, or an image file (nbpress/rendering/values.py):
never markup of its own, whatever string, HTML, Markdown, LaTeX or SVG the code made.
"""

from __future__ import annotations

from tests.attack_kit import Posts, markdown, pwn


def img(tag: str) -> str:
    # An image that does not decode: its onerror would run, were it kept.
    return f'<img src="data:image/png;base64,AAAA" onerror="{pwn(tag)}">'


def link(tag: str) -> str:
    return f"[click](javascript:{pwn(tag)})"


POSTS: Posts = {}
CLICKS: dict[str, str] = {}

PAYLOADS = (
    f"s_img = {img('values-inline-img')!r}\n"
    f"s_script = '<script>{pwn('values-inline-script')}</script>'\n"
    f"s_link = {link('values-inline-link')!r}\n"
    f"s_auto = '<javascript:{pwn('values-inline-autolink')}>'\n"
    f"s_attr = '*x*{{: onclick=\"{pwn('values-inline-attr')}\"}}'\n"
    "s_html_block = '\\n\\n<div onmouseover=\"" + pwn("values-inline-block") + "\">hover</div>\\n\\n'\n"
)

POSTS["values-inline"] = (
    {},
    [
        (PAYLOADS, []),
        markdown(
            "Values: `{python} s_img` / `{python} s_script` / `{python} s_link` / `{python} s_auto` / "
            "`{python} s_attr` / {eval}`s_html_block`.\n\n"
            "`{python} s_img`\n\n"  # alone on its line: a block of HTML if it were not text
            f"`{{python}} __import__('IPython').display.HTML({img('values-inline-html')!r})`\n\n"
            f"`{{python}} __import__('IPython').display.Markdown({link('values-inline-md')!r})`\n\n"
            "`{python} __import__('IPython').display.Latex('$\\\\href{javascript:"
            + pwn("values-inline-latex")
            + "}{x}$')`"
        ),
    ],
)
CLICKS["values-inline"] = "article p a, article p span, article p img, article div.arithmatex"

GLUE = (
    "from myst_nb import glue\nfrom IPython.display import HTML, Markdown, SVG, Latex\n"
    f"glue('text', {img('values-glue-text')!r}, display=False)\n"
    f"glue('html', HTML({img('values-glue-html')!r}), display=False)\n"
    f"glue('md', Markdown({link('values-glue-md')!r} + {' ' + img('values-glue-md-img')!r}), display=False)\n"
    'glue(\'svg\', SVG(\'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10">'
    f'<script>{pwn("values-glue-svg")}</script><rect width="10" height="10"/></svg>\'), display=False)\n'
    f"glue('latex', Latex('$\\\\href{{javascript:{pwn('values-glue-latex')}}}{{x}}$'), display=False)\n"
)

POSTS["values-glue"] = (
    {},
    [
        (GLUE, []),
        markdown(
            "Roles: {glue:}`text` {glue:text}`text` {glue}`html` {glue:md}`md` {glue:any}`latex` "
            "{glue}`svg`.\n\n"
            "```{glue} html\n```\n\n```{glue:md} md\n```\n\n```{glue:math} latex\n```\n\n"
            "```{glue:figure} svg\n:name: fig-svg\n\nCaption with a value "
            "{glue:text}`text`.\n```"
        ),
    ],
)
CLICKS["values-glue"] = (
    "article p a, article p span, article p img, article figure img, article div.arithmatex"
)
