"""MyST directives (issue 23) reach a page only from the author's Markdown cells.

A directive that would publish HTML as written (`{raw} html`) or put text into an attribute (an
aside's title, an image's options) is converted in Markdown cells only: the same syntax in a
Markdown output, a raw cell or a caption is text that passes nbpress.rendering.sanitize.
"""

from __future__ import annotations

import json

from tests.attack_kit import Posts, pwn, raw, show, with_metadata

PLOT = "import matplotlib.pyplot as plt\nplt.plot([1, 2])\nplt.show()"


def _directives(tag: str, broken: str = "directives-broken.png") -> str:
    """Return Markdown holding MyST directives whose conversion would run a tag-named payload.

    `broken`: the image that fails to load (so onerror would fire). A raw cell is the author's
    Markdown, whose missing local image fails the post, so it names no local file.
    """
    return (
        f':::{{raw}} html\n<img src="{broken}" onerror="{pwn(tag + "-raw")}">\n:::\n\n'
        f"```{{raw}} html\n<script>{pwn(tag + '-raw-script')}</script>\n```\n\n"
        f':::{{margin}} <img src="{broken}" onerror="{pwn(tag + "-aside")}">\n'
        "body\n:::\n\n"
        f'```{{image}} {broken}\n:alt: a" onerror="{pwn(tag + "-alt")}\n'
        f":target: javascript:{pwn(tag + '-target')}\n```\n\n"
        f':::{{figure}} {broken}\n:name: fig-evil\n:width: 5" onerror="{pwn(tag + "-width")}\n\n'
        "caption\n:::\n"
    )


POSTS: Posts = {}
POSTS["directives-markdown-output"] = ({}, [(show("Markdown", _directives("md-output")), [])])
POSTS["directives-raw-markdown"] = ({}, [raw(_directives("raw-md", "#broken"), "text/markdown")])
POSTS["directives-mystnb-caption"] = (
    {},
    [
        with_metadata(
            PLOT,
            {"mystnb": {"figure": {"caption": _directives("caption").replace("\n", " "), "name": "fig-c"}}},
        )
    ],
)
POSTS["directives-fig-cap"] = (
    {},
    [
        (
            "#| label: fig-evil\n#| fig-cap: "
            + json.dumps(_directives("fig-cap").replace("\n", " "))
            + "\n"
            + PLOT,
            [],
        )
    ],
)
