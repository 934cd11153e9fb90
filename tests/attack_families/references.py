"""References (issue 23): BibTeX values read through the lenient paths stay text.

An entry citeproc-py's LaTeX reader trips on is read again with its unknown macros left out
(nbpress.rendering.markup.read_bibtex), a LaTeX line break becomes a space, a biblatex type
reads as misc: whatever the value holds is still escaped as text in the citation and the
reference list.
"""

from __future__ import annotations

from tests.attack_kit import Posts, markdown, pwn


def _img(tag: str) -> str:
    return f'<img src="references-broken.png" onerror="{pwn(tag)}">'


FILES = {
    "references-broken.png": "not an image\n",
    "references-attack.bib": (
        "@article{macro,\n"
        "  author = {Doe, Jane},\n"
        f"  title = {{A {{\\textit{{{_img('refs-macro-title')}}}}} title}},\n"
        f"  journal = {{Data \\\\& {_img('refs-linebreak')}}},\n"
        "  year = {2020}\n"
        "}\n"
        "@online{site,\n"
        f"  author = {{Roe, {_img('refs-online-author')}}},\n"
        f"  title = {{<script>{pwn('refs-online-title')}</script>}},\n"
        "  year = {2021}\n"
        "}\n"
    ),
}
POSTS: Posts = {
    "references-bibtex": (
        {"bibliography": "references-attack.bib"},
        [markdown("As {cite}`macro` and {cite:t}`site` say, and [@macro; @site].\n")],
    ),
    # A role this site does not support keeps its text, escaped; an abbreviation's expansion is an attribute.
    "references-roles": (
        {},
        [
            markdown(
                f'A {{term}}`{_img("refs-term")}` and {{abbr}}`X (" onmouseover="{pwn("refs-abbr")})`'
                f" and {{kbd}}`{_img('refs-kbd')}`.\n"
            )
        ],
    ),
}
CLICKS = {slug: ".nbpress-reference a, abbr" for slug in POSTS}
