"""Series (issue 23): a part's siblings' titles and the series' name are shown on every part.

The box near the top (each title a link text, the series' name in a link and an aria-label),
the previous/next links at the bottom, the series page and the page of all series all show
author text: as typed, never markup, whatever Markdown, attribute-list or HTML it holds
(nbpress/rendering/series.py). The series pages are judged too (tests/test_attacks.py PAGES).
"""

from __future__ import annotations

from nbpress.sources.series import series_slug
from tests.attack_kit import Posts, pwn

NAME = f'Series attack <img src=x onerror="{pwn("series-name")}"> [n](javascript:{pwn("series-name-link")})'
# The series' own page and the page of all series, judged beside the posts.
PAGES = [f"series/{series_slug(NAME)}/", "series/"]
POSTS: Posts = {}
CLICKS: dict[str, str] = {}
CELL: list[tuple[str, list[str]]] = [("print('part')", [])]

POSTS["series-title-html"] = (
    {"title": f"<img src=x onerror={pwn('series-title-html')}>", "series": NAME, "series_order": 1},
    CELL,
)
POSTS["series-title-link"] = (
    {"title": f"t](javascript:{pwn('series-title-link')}) [u", "series": NAME, "series_order": 2},
    CELL,
)
POSTS["series-title-attr"] = (
    {"title": f'x" onmouseover="{pwn("series-title-attr")}" y="', "series": NAME, "series_order": 3},
    CELL,
)
POSTS["series-title-attr-list"] = (
    {
        "title": f'x{{: onclick="{pwn("series-title-attr-list")}" }} *y*',
        "series": NAME,
        "description": f"<script>{pwn('series-summary')}</script> "
        f"[d](javascript:{pwn('series-summary-link')})",
        "series_order": 4,
    },
    CELL,
)
for _slug in POSTS:
    CLICKS[_slug] = ".nbpress-series a, .nbpress-series-nav a, .nbpress-series__current"
