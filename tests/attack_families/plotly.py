"""Plotly (issue 20, section 2): every part of a figure that could fetch another host's file.

Images in the layout, in its template, in an image trace, set by updatemenus' and sliders'
buttons, map styles and a map trace a button would make; HTML text plotly draws. The build
walks the whole figure (nbpress/rendering/charts.py, _plotly_clean); tests/test_charts.py clicks the
buttons and logs every request.
"""

from __future__ import annotations

from tests.attack_kit import Posts, pwn

REMOTE = "http://example.invalid/plotly"
FIG = "import plotly.graph_objects as go\nfig = go.Figure(go.Scatter(x=[1, 2], y=[1, 2]))\n"


def image(name: str) -> dict[str, object]:
    return {
        "source": f"{REMOTE}/{name}.png",
        "x": 0,
        "y": 1,
        "sizex": 1,
        "sizey": 1,
        "xref": "paper",
        "yref": "paper",
    }


TEMPLATE_IMAGE = {**image("template"), "name": "logo"}
POSTS: Posts = {}
POSTS["plotly-images"] = (
    {},
    [
        # A named template item is drawn on every figure using the template.
        (FIG + f"fig.update_layout(template=dict(layout=dict(images=[{TEMPLATE_IMAGE!r}])))\nfig", []),
        (
            FIG
            + f"fig.update_layout(images=[{image('layout')!r}, dict(source='//example.invalid/s.png')])\nfig",
            [],
        ),
        (f"go.Figure(go.Image(source={REMOTE + '/trace.png'!r}))", []),
        # A tab or a newline inside the scheme is skipped by the browser's URL parser.
        (
            FIG
            + "fig.update_layout(images=[dict(source='ht\\ttp://example.invalid/tab.png', x=0, y=1)])\nfig",
            [],
        ),
    ],
)
MENUS = [
    {
        "type": "buttons",
        "buttons": [
            {"label": "image", "method": "relayout", "args": [{"images": [image("button")]}]},
            {"label": "path", "method": "relayout", "args": [{"images[0].source": f"{REMOTE}/path.png"}]},
            {"label": "map", "method": "relayout", "args": [{"mapbox.style": f"{REMOTE}/style.json"}]},
            {
                "label": "template",
                "method": "relayout",
                "args": [{"template": {"layout": {"images": [image("t2")]}}}],
            },
        ],
    }
]
SLIDERS = [
    {
        "steps": [
            {"label": "a", "method": "relayout", "args": ["images", [image("slider")]]},
            {"label": "b", "method": "skip"},
        ]
    }
]
GEO_BUTTON = [
    {"type": "buttons", "buttons": [{"label": "geo", "method": "restyle", "args": [{"type": "scattergeo"}]}]}
]
POSTS["plotly-buttons"] = (
    {},
    [
        (FIG + f"fig.update_layout(updatemenus={MENUS!r}, sliders={SLIDERS!r})\nfig", []),
        # A button that turns the trace into a map, whose outlines come from another site.
        (FIG + f"fig.update_layout(updatemenus={GEO_BUTTON!r})\nfig", []),
    ],
)
HOVER = "<img src=missing.png onerror=" + pwn("plotly-hover") + ">%{y}"
TEXT = '<a href="javascript:' + pwn("plotly-text-link") + '">t</a>'
TITLE = "<img src=missing.png onerror=" + pwn("plotly-title") + ">t"
POSTS["plotly-html-text"] = (
    {},
    [
        (
            FIG + f"fig.update_traces(hovertemplate={HOVER!r}, text=[{TEXT!r}] * 2, mode='markers+text')\n"
            f"fig.update_layout(title={TITLE!r})\nfig",
            [],
        ),
    ],
)
