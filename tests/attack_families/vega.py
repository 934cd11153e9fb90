"""Vega and Vega-Lite (issue 20, section 2): a spec may not change the site's embed options,
nor load data or images from another host.

`usermeta.embedOptions` would turn the actions menu back on (its "View Source" writes the
`sourceHeader` as a page; "Open in Vega Editor" posts the spec to `editorUrl`), or set
vega-embed's other options. The build strips `usermeta` and charts.js deletes it again; the
site's loader refuses another host's data and images (site_src/javascripts/charts.js).
"""

from __future__ import annotations

from tests.attack_kit import Posts, pwn

OPTIONS = {
    "actions": True,
    "sourceHeader": f"<script>{pwn('vega-source-header')}</script>",
    "sourceFooter": f'<img src="missing.png" onerror="{pwn("vega-source-footer")}">',
    "editorUrl": "http://example.invalid/editor",
    "defaultStyle": True,
}
BARS = {
    "data": {"values": [{"a": "x", "b": 1}, {"a": "y", "b": 2}]},
    "mark": "bar",
    "encoding": {"x": {"field": "a", "type": "nominal"}, "y": {"field": "b", "type": "quantitative"}},
}
VEGA = {
    "width": 100,
    "height": 50,
    "data": [{"name": "remote", "url": "http://example.invalid/vega/data.json"}],
    "marks": [
        {
            "type": "image",
            "encode": {
                "enter": {"url": {"value": "http://example.invalid/vega/mark.png"}, "width": {"value": 20}}
            },
        }
    ],
}


def display(mime: str, spec: dict[str, object]) -> str:
    data = f"{{{mime!r}: {spec!r}, 'text/plain': 'chart'}}"
    return f"from IPython.display import display\ndisplay({data}, raw=True)"


VL = "application/vnd.vegalite.v5+json"
POSTS: Posts = {}
CLICKS: dict[str, str] = {}
POSTS["vega-usermeta"] = (
    {},
    [
        (display(VL, {**BARS, "usermeta": {"embedOptions": OPTIONS}}), []),
        (
            display(
                "application/vnd.vega.v5+json",
                {"usermeta": {"embedOptions": OPTIONS}, "width": 50, "height": 50},
            ),
            [],
        ),
        (
            "import altair as alt\nimport pandas as pd\n"
            "alt.Chart(pd.DataFrame({'a': ['x'], 'b': [1]})).mark_bar().encode(x='a', y='b')"
            f".properties(usermeta={{'embedOptions': {OPTIONS!r}}})",
            [],
        ),
    ],
)
# The actions menu, were it drawn, and its links (View Source, Open in Vega Editor).
CLICKS["vega-usermeta"] = ".vega-embed summary, .vega-actions a"
POSTS["vega-remote"] = (
    {},
    [
        (display(VL, {**BARS, "data": {"url": "http://example.invalid/vega-lite/data.json"}}), []),
        (display(VL, {**BARS, "data": {"url": "//example.invalid/vega-lite/slashes.csv"}}), []),
        (
            display(
                VL,
                {
                    "data": {"values": [{"u": "http://example.invalid/vega-lite/image.png"}]},
                    "mark": {"type": "image", "width": 20, "height": 20},
                    "encoding": {"url": {"field": "u", "type": "nominal"}},
                },
            ),
            [],
        ),
        (display("application/vnd.vega.v5+json", VEGA), []),
    ],
)
