"""Markup channels (issue 20, section 2): notebook text that reaches a page as markup without
being an output: raw cells, caption options, BibTeX values, the code of a cell.

One rule holds them: only the author's Markdown cells are published as written; everything
else passes nbpress.rendering.sanitize (escaped as text, or sanitized as HTML).
"""

from __future__ import annotations

import json

from tests.attack_kit import Posts, markdown, pwn, raw, with_metadata

PLOT = "import matplotlib.pyplot as plt\nplt.plot([1, 2])\nplt.show()"
TABLE = "import pandas as pd\npd.DataFrame({'a': [1, 2]})"


def _markup(tag: str) -> str:
    """Return Markdown holding every way a tag-named payload could become script."""
    return (
        f'<img src="markup-broken.png" onerror="{pwn(tag + "-img")}">\n\n'
        f"<script>{pwn(tag + '-script')}</script>\n\n"
        f"[link](javascript:{pwn(tag + '-link')})\n\n"
        f'![attr](markup-broken.png){{: onerror="{pwn(tag + "-attr")}"}}\n\n'
        f'<div markdown="1">![m](markup-broken.png){{: onerror="{pwn(tag + "-md-in-html")}"}}</div>\n\n'
        f'<a class="markup-js" href="javascript:{pwn(tag + "-href")}">a</a>\n\n'
        f'<details open ontoggle="{pwn(tag + "-toggle")}"><summary>s</summary>d</details>\n'
    )


POSTS: Posts = {}

# A raw cell is published as Markdown or HTML by its format: either way it is sanitized.
POSTS["markup-raw-markdown"] = ({}, [raw(_markup("raw-md"), "text/markdown")])
POSTS["markup-raw-x-markdown"] = ({}, [raw(_markup("raw-x-md"), "text/x-markdown")])
POSTS["markup-raw-format-key"] = ({}, [raw(_markup("raw-format"), "text/markdown", key="format")])
POSTS["markup-raw-html"] = (
    {},
    [
        raw(
            _markup("raw-html")
            + f'<svg onload="{pwn("raw-svg")}"><rect width="5" height="5"/></svg>\n'
            + f'<iframe srcdoc="<script>{pwn("raw-srcdoc")}</script>"></iframe>\n'
            + f'<object data="data:text/html,<script>{pwn("raw-object")}</script>"></object>\n',
            "text/html",
        )
    ],
)
# A local <img> of a raw cell is published as a Markdown image whose attributes are attr_list
# text: a quote in a value must not start another attribute.
POSTS["markup-raw-img-attributes"] = (
    {},
    [
        raw(
            f'<img src="markup-broken.png" title=\'t" onerror="{pwn("img-title")}\' '
            f"width='5\" onerror=\"{pwn('img-width')}' alt='a}} {{: onerror=\"{pwn('img-alt')}\"'>",
            "text/html",
        ),
        raw(f"<img src='markup-broken.png' title='t\" onerror=\"{pwn('md-img-title')}'>", "text/markdown"),
    ],
)
# Caption options: Quarto's fig-cap and tbl-cap, myst-nb's figure caption (cell metadata).
POSTS["markup-fig-cap-link"] = (
    {},
    [
        (
            "#| label: fig-link\n#| fig-cap: "
            + json.dumps(f"[see](javascript:{pwn('fig-cap-link')})")
            + "\n"
            + PLOT,
            [],
        )
    ],
)
POSTS["markup-fig-cap-html"] = (
    {},
    [
        (
            "#| fig-cap: "
            + json.dumps(
                f'<img src="markup-broken.png" onerror="{pwn("fig-cap-img")}"> '
                f'![i](markup-broken.png){{: onerror="{pwn("fig-cap-attr")}"}} '
                f'<a class="markup-js" href="javascript:{pwn("fig-cap-href")}">a</a>'
            )
            + "\n"
            + PLOT,
            [],
        )
    ],
)
POSTS["markup-tbl-cap"] = (
    {},
    [
        (
            "#| label: tbl-evil\n#| tbl-cap: "
            + json.dumps(
                f'<img src="markup-broken.png" onerror="{pwn("tbl-cap-img")}"> '
                f"[t](javascript:{pwn('tbl-cap-link')})"
            )
            + "\n"
            + TABLE,
            [],
        )
    ],
)
POSTS["markup-mystnb-caption"] = (
    {},
    [
        with_metadata(
            PLOT,
            {
                "mystnb": {
                    "figure": {
                        "caption": f'<svg onload="{pwn("mystnb-svg")}"></svg> '
                        f"[m](javascript:{pwn('mystnb-link')})",
                        "name": "fig-mystnb",
                    }
                }
            },
        )
    ],
)
# BibTeX values are text: a real DOI holds "<" and ">", a title can hold anything.
DOI = "10.1002/(SICI)1097-4571(199806)49:8<693::AID-ASI4>3.0.CO;2-0"
FILES = {
    # An image that does not decode, so an onerror= would run; Markdown and raw cells may
    # only show files that exist.
    "markup-broken.png": "not an image\n",
    "markup-attack.bib": (
        "@article{evil,\n"
        f"  author = {{x](javascript:{pwn('bib-author')}) [y and Knuth, Donald}},\n"
        f'  title = {{<img src="markup-broken.png" onerror="{pwn("bib-title")}"> '
        f"[t](javascript:{pwn('bib-link')})}},\n"
        f"  journal = {{<script>{pwn('bib-journal')}</script>}},\n"
        "  year = {1984},\n"
        f"  doi = {{{DOI}}},\n"
        f"  publisher = {{<svg onload={pwn('bib-publisher')}></svg>}}\n"
        "}\n"
        "@book{real,\n  author = {Knuth, Donald},\n  title = {The TeXbook},\n"
        f"  year = {{1984}},\n  doi = {{{DOI}}}\n}}\n"
    ),
}
POSTS["markup-bibtex"] = (
    {"bibliography": "markup-attack.bib"},
    [markdown("As @evil shows, and as [see @evil, p. 3] and [@real] do.\n\n::: {#refs}\n:::\n"), (PLOT, [])],
)
# The code of a cell is shown in a fence: a line of backticks in it must not end the fence.
FENCE_BREAK = f'x = """\n```\n<img src="markup-broken.png" onerror="{pwn("code-fence")}">\n```\n"""\nx'
POSTS["markup-code-fence"] = ({}, [(FENCE_BREAK, [])])
POSTS["markup-code-fence-folded"] = ({}, [(FENCE_BREAK.replace("code-fence", "code-fold"), ["hide-input"])])
POSTS["markup-code-language"] = (
    {},
    [
        with_metadata(
            "1", {"magics_language": f'python\n<img src="markup-broken.png" onerror="{pwn("language")}">'}
        )
    ],
)

CLICKS = {slug: "a.markup-js, figcaption a, .nbpress-caption a, .nbpress-reference a" for slug in POSTS}
