"""Links and images in outputs (issue 21): an output's local file is published only as safe.

An output resolves its local images and links as a Markdown cell does (nbpress/rendering/links.py), but
it is not the author's writing: its code can write the file it names. So an SVG it shows or
links is published sanitized, a web page or script it links is not published, and a link it
makes is a page-relative attribute value, never markup. The browser check clicks each output
link: the file it opens runs no script either.
"""

from __future__ import annotations

from tests.attack_kit import Posts, pwn, show

SVG = (
    f'<svg xmlns="http://www.w3.org/2000/svg" width="30" height="30" onload="{pwn("links-svg-onload")}">'
    f"<script>{pwn('links-svg-script')}</script>"
    '<rect width="30" height="30" fill="#c33"/></svg>\n'
)
PAGE = f"<!doctype html><title>x</title><script>{pwn('links-page-script')}</script>\n"

FILES = {
    "links-evil.svg": SVG,
    "links-linked.svg": SVG.replace("links-svg-", "links-linked-svg-"),
    "links-page.html": PAGE,
    "links-page.xhtml": PAGE.replace("links-page-", "links-xhtml-"),
}

POSTS: Posts = {
    "links-output-files": (
        {},
        [
            (
                show(
                    "Markdown",
                    "![shown](links-evil.svg)",
                    "[opens the svg](links-linked.svg) [opens a page](links-page.html)",
                    "[opens xhtml](links-page.xhtml) [anchor](#x%22%20onmouseover=%22alert(1))",
                ),
                [],
            ),
            (
                show(
                    "HTML",
                    f'<img src="links-evil.svg" onerror="{pwn("links-img-onerror")}">',
                    f'<a href="links-linked.svg" onclick="{pwn("links-a-onclick")}">html link</a>',
                    '<a href="links-page.html">html page</a>',
                ),
                [],
            ),
        ],
    ),
}
# Not the links to SVG files: an SVG document opened at its own URL carries no policy, so in the
# suite's "policy alone" mode it is the sanitizer's (tests/test_link_family.py checks those files).
CLICKS = {"links-output-files": ".nbpress-output a:not([href$='.svg']), .nbpress-output img"}
