"""Hostile outputs through the whole render path, no kernel and no browser: the fast tier's
guard for what tests/test_attacks.py checks in Chromium.

Each case is one output of a code cell (as a kernel would have produced it) that tries to
put script, an event handler, a `javascript:` URL or an active tag into the page through
one output channel. The Markdown nbpress writes, and every figure file it extracts, must
hold none of them; the harmless text beside the attack must still be shown.
"""

from __future__ import annotations

import copy
import re
from html import unescape
from html.parser import HTMLParser
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook, new_output, new_raw_cell

from nbpress.execution.capture import limit_outputs
from nbpress.pipeline import files_of
from nbpress.record import Record
from nbpress.rendering.render import published_front_matter, render
from nbpress.sources.posts import read_post

ACTIVE_TAGS = {"script", "iframe", "object", "embed", "base", "meta", "form", "link", "frame", "applet"}
DATA_SCRIPTS = re.compile(r"application/(?:json|vnd\.[\w.+-]+json)")  # JSON islands, never run
URL_ATTRIBUTES = {"href", "src", "action", "formaction", "xlink:href", "data", "poster", "srcdoc"}
BAD_URL = re.compile(r"^\s*(?:javascript|vbscript|data:text/html)", re.I)
FENCE = re.compile(r"^(`{3,}|~{3,}).*?^\1\s*$", re.M | re.S)


class _Active(HTMLParser):
    """Collects the tags and attributes of an HTML text that would run script or load a page."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag in ACTIVE_TAGS and not (tag == "script" and DATA_SCRIPTS.fullmatch(values.get("type") or "")):
            self.found.append(f"<{tag}>")
        for name, value in attrs:
            if name.startswith("on"):
                self.found.append(f"{tag} {name}=")
            if name in URL_ATTRIBUTES and value and BAD_URL.match(unescape(value).replace("\t", "")):
                self.found.append(f"{tag} {name}={value}")


def active_parts(markdown: str) -> list[str]:
    """Return what in generated Markdown would run script or load a page in a reader's browser.

    Fenced blocks are left out (the site shows them as escaped code); the rest is read as HTML,
    plus the Markdown forms that become HTML: links and attribute lists.
    """
    text = FENCE.sub("", markdown)
    parser = _Active()
    parser.feed(text)
    parser.close()
    found = parser.found
    found += re.findall(r"\]\(\s*(?:javascript|vbscript|data:text/html)[^)]*\)", text, re.I)
    found += re.findall(r"\{:[^}]*\bon[a-z]+\s*=[^}]*\}", text, re.I)
    return found


SVG_ATTACK = (
    '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10" onload="alert(1)">'
    "<script>alert(2)</script>"
    '<a href="javascript:alert(3)"><rect width="10" height="10"/></a>'
    '<foreignObject><iframe src="javascript:alert(4)"></iframe></foreignObject>'
    '<text x="1" y="9">svg-kept</text></svg>'
)


def display(data: dict[str, object]) -> dict[str, object]:
    return {"output_type": "display_data", "data": data, "metadata": {}}


# name -> (outputs of one code cell, text that must still be shown)
CASES: dict[str, tuple[list[dict[str, object]], str]] = {
    "html-script": (
        [display({"text/html": "<p>html-kept</p><script>alert(1)</script>", "text/plain": "x"})],
        "html-kept",
    ),
    "html-handlers": (
        [
            display(
                {
                    "text/html": '<img src="x.png" onerror="alert(1)"><div onmouseover="alert(2)">'
                    "handler-kept</div><body onload=alert(3)>",
                }
            )
        ],
        "handler-kept",
    ),
    "html-urls": (
        [
            display(
                {
                    "text/html": '<a href="JaVaScRiPt:alert(1)">url-kept</a>'
                    '<a href="java&#x09;script:alert(2)">b</a>'
                    '<a href="vbscript:msgbox(1)">c</a>'
                    '<a href="data:text/html,<script>alert(3)</script>">d</a>'
                    '<form action="javascript:alert(4)"><button>e</button></form>'
                }
            )
        ],
        "url-kept",
    ),
    "html-active-tags": (
        [
            display(
                {
                    "text/html": '<iframe src="https://example.org"></iframe><object data="x"></object>'
                    '<embed src="x"><base href="https://evil.example/"><meta http-equiv="refresh" '
                    'content="0;url=https://evil.example/"><link rel="import" href="x">'
                    "<p>tags-kept</p>"
                }
            )
        ],
        "tags-kept",
    ),
    "html-svg-inline": ([display({"text/html": SVG_ATTACK})], "svg-kept"),
    "markdown": (
        [
            display(
                {
                    "text/markdown": "md-kept [a](javascript:alert(1)) "
                    '![b](x.png){: onerror="alert(2)"} <script>alert(3)</script> '
                    '<img src=x onerror="alert(4)">',
                    "text/plain": "x",
                }
            )
        ],
        "md-kept",
    ),
    "markdown-html-block": (
        [
            display(
                {
                    "text/markdown": '<div markdown="1">block-kept ![m](x.png){: onload="alert(1)"}</div>\n\n'
                    '[ref]\n\n[ref]: javascript:alert(2) "t"',
                }
            )
        ],
        "block-kept",
    ),
    "latex": (
        [
            display(
                {
                    "text/latex": r"$x^2$ \href{javascript:alert(1)}{latex-kept} <script>alert(2)</script>",
                    "text/plain": "latex-kept",
                }
            )
        ],
        "latex-kept",
    ),
    "svg-figure": ([display({"image/svg+xml": SVG_ATTACK, "text/plain": "<Figure>"})], ""),
    "javascript": (
        [display({"application/javascript": "alert(1)", "text/plain": "js-fallback"})],
        "JavaScript output cannot be shown",
    ),
    "stream": (
        [
            new_output(
                "stream",
                name="stdout",
                text="stream-kept </code></pre><script>alert(1)</script>\n"
                "```\n<img src=x onerror=alert(2)>\n",
            )
        ],
        "stream-kept",
    ),
    "stderr": (
        [new_output("stream", name="stderr", text="stderr-kept <script>alert(1)</script>\n")],
        "stderr-kept",
    ),
    "plain-result": (
        [
            new_output(
                "execute_result",
                data={"text/plain": "'plain-kept <script>alert(1)</script> [x](javascript:alert(2))'"},
                execution_count=1,
            )
        ],
        "plain-kept",
    ),
}


def write_post(folder: Path, outputs: list[dict[str, object]], front: str = "title: A post\n") -> Path:
    """Write posts/p.ipynb under `folder`: front matter, then one code cell holding `outputs`."""
    cell = new_code_cell("show()", execution_count=1)
    cell.outputs = [nbformat.from_dict(o) for o in outputs]
    nb = new_notebook(
        cells=[new_raw_cell(f"---\n{front}date: 2024-01-01\n---"), cell],
        metadata={"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}},
    )
    for i, c in enumerate(nb.cells):
        c["id"] = f"cell-{i}"
    (folder / "posts").mkdir(parents=True, exist_ok=True)
    path = folder / "posts" / "p.ipynb"
    nbformat.write(nb, path)
    return path


def render_post(
    folder: Path, outputs: list[dict[str, object]], front: str = "title: A post\n"
) -> tuple[str, dict[str, bytes]]:
    """Return (Markdown, {figure: bytes}) as the build would publish the post."""
    post = read_post(write_post(folder, outputs, front), folder)
    executed = limit_outputs(copy.deepcopy(post.notebook))
    front_matter = published_front_matter(post, {}, Record(post.rel_path))
    rendered = render(post, executed, front_matter, files_of(post, folder), roots=(folder,))
    return rendered.markdown, rendered.figures


@pytest.mark.parametrize(
    "markdown",
    [
        '<img src=x onerror="a()">',
        "<script>a()</script>",
        '<a href="java&#x09;script:a()">x</a>',
        "[x](javascript:a())",
        '![x](y.png){: onload="a()"}',
        '<svg><a xlink:href="javascript:a()">x</a></svg>',
        '<iframe src="https://example.org"></iframe>',
    ],
)
def test_the_oracle_sees_active_content(markdown: str) -> None:
    assert active_parts(markdown)


def test_the_oracle_passes_text_code_and_data() -> None:
    assert not active_parts(
        '<script type="application/json">{}</script> <p>one: x onerror="a()" &#123;: onload=x&#125;</p>\n'
        "```text\n<script>a()</script> [x](javascript:a())\n```\n"
    )


@pytest.mark.parametrize("case", sorted(CASES))
def test_hostile_output_publishes_no_active_content(tmp_path: Path, case: str) -> None:
    outputs, shown = CASES[case]
    markdown, figures = render_post(tmp_path, outputs)
    body = markdown.split("\n---\n", 1)[1]
    assert not active_parts(body), f"{case}: {active_parts(body)}"
    for name, data in figures.items():
        assert not active_parts(data.decode("utf-8", "replace")), f"{case}: figure {name}"
    assert shown in body


@pytest.mark.parametrize(
    "front",
    [
        'title: "</title><script>alert(1)</script>"\n',
        'title: \'x" onload="alert(1)" y="\'\n',
        "title: t\ndescription: '<img src=x onerror=alert(1)> desc'\n",
        "title: t\ntags: ['<script>alert(1)</script>']\n",
    ],
)
def test_hostile_front_matter_is_published_as_html_text(tmp_path: Path, front: str) -> None:
    # The templates print front matter values raw: each must already be HTML text.
    markdown, _ = render_post(tmp_path, [], front=front)
    header = markdown.split("\n---\n", 1)[0]
    assert "<script" not in header and "<img" not in header and 'onload="' not in header
    assert "&lt;" in header or "&quot;" in header
