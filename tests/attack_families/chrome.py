"""The site's chrome (issue 21): what the templates print around a post from its record.

A post's download links are the build's URLs (nbpress.layout.PostFiles.download_url, in the record as
`notebook` and `inputs`), printed by overrides/partials/nbpress-links.html. A declared input's
file name is the author's: here it tries to leave the link's href, to open a tag in the link's
text, and to be a javascript: URL. The payloads write '/' as '&#47;' (a file name holds no
slash), which a browser decodes in an attribute, so one that escaped its place would run.
Their date is older than the other attacks': the home page's first ten cards stay theirs.
"""

from __future__ import annotations

from tests.attack_kit import Posts, pwn


def _unslashed(tag: str) -> str:
    """Return pwn(tag) without a slash: as an HTML attribute would decode it."""
    return pwn(tag).replace("/", "&#47;")


NAMES = {
    "chrome-input-attr": f'x" onmouseover="{_unslashed("chrome-input-attr")}" y=".csv',
    "chrome-input-tag": f"<img src=x onerror={_unslashed('chrome-input-tag')}>.csv",
    "chrome-input-js": f"javascript:{_unslashed('chrome-input-js')}",
}
FILES = {name: "x,y\n1,2\n" for name in NAMES.values()}
POSTS: Posts = {
    slug: ({"inputs": [name], "date": "2020-01-01"}, [("print('the input is published')", [])])
    for slug, name in NAMES.items()
}
CLICKS = {slug: ".nbpress-inputs a, a.nbpress-download" for slug in NAMES}
