"""Remote resources (issue 20, section 2): nothing a page publishes makes the reader's browser
ask another host, whatever channel carries the URL (outputs, raw cells, captions, the author's
Markdown cells) and whatever attribute or CSS loads it.

The browser check logs every request not to 127.0.0.1: these posts must make none. Plain
links to other hosts stay (navigation on a click); they are not clicked here.
"""

from __future__ import annotations

import json

from tests.attack_kit import Posts, markdown, raw, show

R = "http://example.invalid"

# Every HTML way of loading a URL on its own.
LOADERS = [
    f'<img src="{R}/img.png" alt="remote">',
    f'<img srcset="{R}/srcset.png 1x, {R}/srcset2.png 2x">',
    '<img src="//example.invalid/protocol-relative.png">',
    '<img src="\\\\example.invalid\\backslashes.png">',
    f'<img src=" \t{R}/spaced.png ">',
    '<img src="ht\ttp://example.invalid/tab.png">',
    f'<picture><source srcset="{R}/picture.png"><img src="markup-broken.png"></picture>',
    f'<video src="{R}/v.mp4" poster="{R}/poster.png" autoplay muted></video>',
    f'<video autoplay muted><source src="{R}/source.mp4"><track src="{R}/track.vtt" default></video>',
    f'<audio src="{R}/a.mp3" autoplay></audio>',
    f'<iframe src="{R}/frame.html"></iframe>',
    f'<object data="{R}/object.png"></object>',
    f'<embed src="{R}/embed.png">',
    f'<link rel="stylesheet" href="{R}/style.css">',
    f'<input type="image" src="{R}/input.png">',
    f'<table background="{R}/table.png"><tr><td background="{R}/td.png">t</td></tr></table>',
    f'<body background="{R}/body.png">',
    f'<div style="background:url({R}/style-url.png)">s</div>',
    f'<div style="background:\\75 rl({R}/escaped.png)">e</div>',
    f"<div style=\"background-image:image-set('{R}/image-set.png' 1x)\">i</div>",
    f'<style>@import url({R}/import.css); .x {{ background: url({R}/sheet.png) }}</style><p class="x">x</p>',
]
SVG_LOADERS = [
    f'<svg width="20" height="20"><image href="{R}/svg-image.png" width="5" height="5"/></svg>',
    '<svg xmlns:xlink="http://www.w3.org/1999/xlink" width="20" height="20">'
    f'<image xlink:href="{R}/svg-xlink.png" width="5" height="5"/></svg>',
    f'<svg width="20" height="20"><use href="{R}/sprite.svg#a"/></svg>',
    f'<svg width="20" height="20"><filter id="f"><feImage href="{R}/fe.png"/></filter></svg>',
    f'<svg width="20" height="20"><rect width="5" height="5" fill="url({R}/paint.svg#g)"/></svg>',
    f'<svg width="20" height="20"><image width="5" height="5"><set attributeName="href" to="{R}/set.png"/>'
    "</image></svg>",
    f'<iframe srcdoc="&lt;img src=&quot;{R}/srcdoc.png&quot;&gt;"></iframe>',
]

POSTS: Posts = {}
POSTS["remote-html-output"] = ({}, [(show("HTML", *LOADERS, *SVG_LOADERS), [])])
POSTS["remote-markdown-output"] = (
    {},
    [
        (
            show(
                "Markdown",
                f"![md]({R}/markdown.png)",
                f"![ref][logo]\n\n[logo]: {R}/reference.png",
                f'<img src="{R}/markdown-html.png">',
            ),
            [],
        )
    ],
)
POSTS["remote-image-url"] = (
    {},
    [(f"from IPython.display import Image\nImage(url={R + '/ipython-image.png'!r})", [])],
)
POSTS["remote-svg-output"] = (
    {},
    [
        (
            show(
                "SVG",
                '<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" '
                f'width="20" height="20"><image href="{R}/svg-figure.png" width="5" height="5"/>'
                f'<image xlink:href="{R}/svg-figure-xlink.png" width="5" height="5"/>'
                f"<style>rect {{ fill: url({R}/svg-figure-paint.svg#p) }}</style><rect width='5' height='5'/>"
                "</svg>",
            ),
            [],
        )
    ],
)
POSTS["remote-raw-cells"] = (
    {},
    [
        raw("\n".join(LOADERS + SVG_LOADERS), "text/html"),
        raw(
            f"![raw]({R}/raw-markdown.png)\n\n<video src='{R}/raw-video.mp4' autoplay muted></video>",
            "text/markdown",
        ),
    ],
)
PLOT = "import matplotlib.pyplot as plt\nplt.plot([1, 2])\nplt.show()"
POSTS["remote-caption"] = (
    {},
    [("#| fig-cap: " + json.dumps(f"A line ![logo]({R}/caption.png)") + "\n" + PLOT, [])],
)
# The author's own Markdown cells: their HTML is published as written, but nothing in them
# loads from another host either (the same rule; a warning names file, cell and URL).
POSTS["remote-markdown-cell"] = (
    {},
    [
        markdown(
            f"Text ![inline]({R}/cell-inline.png) and ![ref][logo] and a [plain link]({R}/page.html).\n\n"
            f"[logo]: {R}/cell-reference.png\n"
        ),
        # The same tag in a code span (text to CommonMark) and as HTML (a request).
        markdown(f'Code `<img src="{R}/code-span.png">` then <img src="{R}/code-span.png">\n'),
        # <body> and <picture> are never closed: Python-Markdown reads the rest as HTML.
        markdown("\n\n".join(LOADERS + SVG_LOADERS)),
        markdown(f'<meta http-equiv="refresh" content="0; url={R}/refresh.html">\n\n<base href="{R}/">\n\n'),
        markdown(f":::{{figure}} {R}/myst-figure.png\n:name: fig-remote\n\nA remote figure.\n:::\n"),
        markdown(f"![Quarto]({R}/quarto.png){{#fig-quarto}}\n"),
    ],
)
# A post that trusts its outputs (raw_html: true) publishes their HTML and Markdown as written,
# but what would load from another host is taken out all the same.
POSTS["remote-trusted-outputs"] = (
    {"raw_html": True},
    [
        (show("HTML", *LOADERS, *SVG_LOADERS), []),
        (
            show(
                "Markdown",
                f"![md]({R}/trusted-markdown.png) and <video src='{R}/trusted.mp4' autoplay muted>",
            ),
            [],
        ),
    ],
)
