"""Table cell styles (issue 21): a pandas Styler's `<style>` rules that colour one cell by its id
move into that cell's `style` (nbpress.rendering.sanitize._inline_cell_rules). Nothing that rides in on
that channel may run script or load from another host: id rules that load a URL (plain,
escaped, in a shorthand), that try to leave the attribute or the rule, ids that try to leave
their attribute, and cell styles written directly. The cells are hovered and clicked.
"""

from __future__ import annotations

from tests.attack_kit import Posts, pwn, show

R = "http://example.invalid"


def _styled(css: str, cell: str = '<td id="c">cell</td>') -> str:
    return f'<style type="text/css">{css}</style><table id="t"><tbody><tr>{cell}</tr></tbody></table>'


POSTS: Posts = {
    "tablestyle-id-rules": (
        {},
        [
            (
                show(
                    "HTML",
                    _styled(f"#c {{ background-color: url({R}/plain.png); }}"),
                    _styled(f"#c {{ background: yellow url({R}/shorthand.png); }}"),
                    _styled(f"#c {{ background-image: url({R}/image.png); color: red; }}"),
                    _styled(f"#c {{ background-color: \\75 rl({R}/escaped.png); }}"),
                    _styled(f"#c {{ color: red; }} #c {{ list-style: url({R}/list.png) }}"),
                    _styled(f"#c {{ color: image-set('{R}/set.png' 1x); }}"),
                    _styled(f'#c {{ color: red" onmouseover="{pwn("tablestyle-quote")}"; }}'),
                    _styled(f'#c {{ color: red; }} </style><img src=x onerror="{pwn("tablestyle-close")}">'),
                    _styled(f"#c {{ color: expression({pwn('tablestyle-expression')}); }}"),
                    _styled(
                        "#c { color: red; }",
                        f'<td id="c" onclick="{pwn("tablestyle-onclick")}" '
                        f'style="background:url({R}/own.png)">cell</td>',
                    ),
                    _styled(
                        f'#c" onmouseover="{pwn("tablestyle-id")}" x=" {{ color: red; }}',
                        f"<td id='c\" onmouseover=\"{pwn('tablestyle-id2')}'>cell</td>",
                    ),
                    _styled(
                        "#c { color: red; }",
                        f'<th id="c"><a href="javascript:{pwn("tablestyle-link")}">heading</a></th>',
                    ),
                ),
                [],
            )
        ],
    )
}
CLICKS = {"tablestyle-id-rules": "td, th, th a"}
