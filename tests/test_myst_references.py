"""MyST targets, roles and references across posts, and the one policy for what cannot be resolved.

A target `(label)=` becomes an anchor; `{ref}`, `{numref}`, `{eq}`, `@fig-x`, `{doc}`, `{download}`
and links without a suffix resolve across the posts of a blog (one label index, read from the
sources); whatever cannot be resolved warns, naming file, cell and target, and keeps its text.
"""

from __future__ import annotations

import copy
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from nbpress.errors import RenderError
from nbpress.execution.capture import limit_outputs
from nbpress.pipeline import files_of
from nbpress.record import Record
from nbpress.rendering.key import render_key
from nbpress.rendering.links import linked_posts
from nbpress.rendering.render import published_front_matter, render
from nbpress.sources.posts import read_post
from tests.helpers import FIXTURES, TINY_PNG, build_cli, copy_skeleton, launch_chromium, mkdocs, wait_until
from tests.siteserver import serve

PNG = TINY_PNG

POST_A = """---
title: Post A
date: 2024-01-01
---

(top-a)=
# Post A

Intro of A.

(sec-one)=
## Section One

Text.

(para-x)=
A paragraph with a target.

```md
(not-a-label)=
# Example
```

$$ E = mc^2 $$ (eq-energy)

Local: {ref}`sec-one`, {ref}`para-x`, {eq}`eq-energy`.
"""

POST_B = """---
title: Post B
date: 2024-01-02
---

Intro of B.

(sec-two)=
## Section Two B

![A picture](pic.png){#fig-b}

$$ a = b $$ (eq-b)
"""

CROSS = """---
title: Post C
date: 2024-01-03
---

Intro of C.

- ref: {ref}`sec-two`
- ref text: {ref}`the second <sec-two>`
- numref: {numref}`fig-b`
- numref text: {numref}`Picture %s <fig-b>`
- quarto: @fig-b
- eq: {eq}`eq-b`
- doc: {doc}`b`
- doc text: {doc}`Other <../chapter/b>`
- download: {download}`data.csv`
- download text: {download}`the data <data.csv>`
- link: [bare](b)
- link folder: [folder](../chapter/b#sec-two)
- title target: {ref}`top-a`
"""


def _blog(tmp_path: Path, **posts: str) -> Path:
    folder = tmp_path / "blog" / "posts"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "pic.png").write_bytes(PNG)
    (folder / "data.csv").write_text("a,b\n1,2\n", encoding="utf-8")
    for slug, text in posts.items():
        (folder / f"{slug}.md").write_text(text, encoding="utf-8")
    return folder


def _render(path: Path) -> tuple[str, tuple[str, ...]]:
    post = read_post(path, path.parent.parent)
    executed = limit_outputs(copy.deepcopy(post.notebook))
    front = published_front_matter(post, {}, Record(post.rel_path))
    rendered = render(post, executed, front, files_of(post, path.parent.parent))
    return rendered.markdown, rendered.warnings


def _key(path: Path) -> str:
    post = read_post(path, path.parent.parent)
    return render_key(post, "exec", "renderer")


def _body(markdown: str) -> str:
    """Return a generated post without its front matter (which repeats the warnings)."""
    return markdown.split("\n---\n", 1)[1]


# -- targets ------------------------------------------------------------------------------------


def test_targets_become_anchors_and_never_text(tmp_path: Path) -> None:
    folder = _blog(tmp_path, a=POST_A)
    md, warnings = _render(folder / "a.md")
    body = _body(md)
    assert warnings == ()
    # Before a heading: its id, the reference's text is the heading's.
    assert "## Section One {#sec-one}" in body and "[Section One](#sec-one)" in body
    # Before a paragraph: an empty anchor, the label as the text.
    assert '<span id="para-x"></span>\n\nA paragraph with a target.' in body and "[para-x](#para-x)" in body
    # Before the title heading (shown as the page's title): an anchor where it was.
    assert '<span id="top-a"></span>' in body and "# Post A" not in body
    # In a code fence: shown as written, no label.
    assert "```md\n(not-a-label)=\n# Example\n```" in body
    # Never as literal text outside code, nor in the summary.
    assert re.findall(r"^\([\w:-]+\)=", body.replace("(not-a-label)=", ""), re.M) == []
    description = re.search(r"^description: (.*)$", md, re.M)
    assert description is not None and description.group(1) == "Intro of A."


def test_a_target_shown_in_code_is_no_label(tmp_path: Path) -> None:
    folder = _blog(tmp_path, a=POST_A.replace("Local:", "Example: {ref}`not-a-label`. Local:"))
    md, warnings = _render(folder / "a.md")
    assert "Example: not-a-label." in md
    [warning] = warnings
    assert warning.startswith("posts/a.md, cell ") and "'{ref}`not-a-label`' names no label" in warning


def test_a_label_used_twice_in_a_post_fails_it(tmp_path: Path) -> None:
    folder = _blog(tmp_path, a=POST_A.replace("(para-x)=", "(sec-one)="))
    with pytest.raises(RenderError, match="the label 'sec-one' is used twice"):
        _render(folder / "a.md")


def test_a_target_before_a_demoted_heading_keeps_one_attribute_list(tmp_path: Path) -> None:
    text = POST_A.replace("(sec-one)=\n## Section One", "(sec-one)=\n#### Section One")
    folder = _blog(tmp_path, a=text)
    md, _ = _render(folder / "a.md")
    assert "## Section One {: #sec-one .nbpress-h4 }" in md


# -- across posts ---------------------------------------------------------------------------------


def test_every_reference_resolves_across_posts(tmp_path: Path) -> None:
    folder = _blog(tmp_path, a=POST_A, b=POST_B, c=CROSS)
    md, warnings = _render(folder / "c.md")
    assert warnings == ()
    expected = [
        "- ref: [Section Two B](b.md#sec-two)",
        "- ref text: [the second](b.md#sec-two)",
        "- numref: [Figure 1 in Post B](b.md#fig-b)",
        "- numref text: [Picture 1](b.md#fig-b)",
        "- quarto: [Figure 1 in Post B](b.md#fig-b)",
        "- eq: [(1) in Post B](b.md#eq-b)",
        "- doc: [Post B](b.md)",
        "- doc text: [Other](b.md)",
        "- download: [data.csv](<../assets/images/c/data.csv>)",
        "- download text: [the data](<../assets/images/c/data.csv>)",
        "- link: [bare](b.md)",
        "- link folder: [folder](b.md#sec-two)",
        "- title target: [Post A](a.md#top-a)",
    ]
    for line in expected:
        assert line in md
    assert linked_posts(read_post(folder / "c.md", folder.parent)) == {"a", "b"}


def test_a_link_to_a_label_with_slashes_or_colons_is_a_reference(tmp_path: Path) -> None:
    """Jupyter Book names targets like paths (`(toc/structure)=`, `(file-types:custom)=`): a Markdown
    link to one, in this post or another, is the reference, never a link to a post of that name."""
    other = "---\ntitle: Other\ndate: 2024-01-02\n---\n\n(toc/structure)=\n## The structure\n\nText.\n"
    here = (
        "---\ntitle: Here\ndate: 2024-01-03\n---\n\n(here/local:x)=\n## Local part\n\n"
        "- [see the structure](toc/structure) and [](toc/structure)\n"
        "- [the local part](here/local:x) and [](#here/local:x)\n"
    )
    folder = _blog(tmp_path, other=other, here=here)
    md, warnings = _render(folder / "here.md")
    assert warnings == ()
    # The anchor is the label as an HTML id (nbpress's one spelling of it), on both pages.
    assert "- [see the structure](other.md#toc-structure) and [The structure](other.md#toc-structure)" in md
    assert "- [the local part](#here-local-x) and [Local part](#here-local-x)" in md
    assert "{#toc-structure}" in _render(folder / "other.md")[0]


def test_an_image_from_elsewhere_without_alt_text_becomes_a_link_one_can_see(tmp_path: Path) -> None:
    """Jupyter Book's front page shows other books' logos, `![](https://...)` with no alt text: as a
    link to the image (the site loads none from elsewhere), its text is the address, never empty."""
    body = (
        "---\ntitle: Logos\ndate: 2024-01-01\n---\n\n"
        "![](https://example.invalid/a_logo.png){height=100}\n\n"
        "![The logo](https://example.invalid/b.png)\n\n"
        '<img src="https://example.invalid/c.png">\n\n'
        "[![](https://example.invalid/stars.svg)](https://example.invalid/repo) "
        "[![DOI](https://example.invalid/doi.svg){height=20}](https://example.invalid/doi)\n"
    )
    folder = _blog(tmp_path, logos=body)
    md, _ = _render(folder / "logos.md")
    page = _body(md)
    assert "[https://example.invalid/a\\_logo.png](https://example.invalid/a_logo.png){height=100}" in page
    assert "[The logo](https://example.invalid/b.png)" in page
    assert '<a href="https://example.invalid/c.png">https://example.invalid/c.png</a>' in page
    assert "[](" not in page
    # A badge (an image inside a link) is the link, its text the image's: never a link in a link.
    assert (
        "[https://example.invalid/stars.svg](https://example.invalid/repo) [DOI](https://example.invalid/doi)"
        in page
    )


@pytest.mark.parametrize(
    ("text", "needle", "kept"),
    [
        ("{ref}`nowhere`", "the reference '{ref}`nowhere`' names no label", "nowhere"),
        ("{ref}`the text <nowhere>`", "names no label of this post or another one", "the text"),
        ("{doc}`nothing`", "the reference '{doc}`nothing`' names no post", "nothing"),
        ("{download}`gone.csv`", "'{download}`gone.csv`' names no file", "gone.csv"),
        ("[missing](no-such-page)", "the link to 'no-such-page' names no post", "missing"),
        ("[Index](genindex)", "the link to 'genindex' names a page Sphinx generates", "Index"),
        ("{ref}`genindex`", "names a page Sphinx generates", "genindex"),
        ("[gone](b#no-anchor)", "the link to 'b#no-anchor' names no heading or anchor", "gone"),
    ],
)
def test_what_cannot_be_resolved_warns_and_keeps_its_text(
    tmp_path: Path, text: str, needle: str, kept: str
) -> None:
    folder = _blog(
        tmp_path, b=POST_B, d=f"---\ntitle: D\ndate: 2024-01-04\n---\n\nIntro.\n\nSee {text} here.\n"
    )
    md, warnings = _render(folder / "d.md")
    [warning] = warnings
    assert warning.startswith("posts/d.md, cell 2: ") and needle in warning, warning
    assert warning.count(";") == 1 and "so its text is published without a link" in warning
    assert f"See {kept} here." in _body(md)


def test_a_label_two_other_posts_define_is_named_ambiguous(tmp_path: Path) -> None:
    folder = _blog(tmp_path, b=POST_B, e=POST_B.replace("Post B", "Post E"), c=CROSS)
    md, warnings = _render(folder / "c.md")
    assert any("'{ref}`sec-two`' names a label that several posts define (b, e)" in w for w in warnings)
    assert "- ref: Section Two B" not in md and "- ref: sec-two" in md


def test_a_reference_to_a_draft_warns(tmp_path: Path) -> None:
    folder = _blog(tmp_path, b=POST_B.replace("date: 2024-01-02", "date: 2024-01-02\ndraft: true"), c=CROSS)
    md, warnings = _render(folder / "c.md")
    assert any("the link to 'b.md#sec-two' names a draft" in w for w in warnings)
    assert "- ref: Section Two B\n" in md


def test_the_render_key_follows_the_labels_a_post_references(tmp_path: Path) -> None:
    folder = _blog(tmp_path, a=POST_A, b=POST_B, c=CROSS)
    c, a = folder / "c.md", folder / "a.md"
    before_c, before_a = _key(c), _key(a)
    payload_free = _key(a)
    b = folder / "b.md"
    # Renamed heading, renumbered figure, removed label: the referencing post renders again.
    b.write_text(POST_B.replace("## Section Two B", "## Section Two, renamed"), encoding="utf-8")
    renamed = _key(c)
    assert renamed != before_c
    b.write_text(
        POST_B.replace("![A picture]", "![First](pic.png){#fig-first}\n\n![A picture]"), encoding="utf-8"
    )
    renumbered = _key(c)
    assert renumbered not in (before_c, renamed)
    b.write_text(POST_B.replace("(sec-two)=\n", ""), encoding="utf-8")
    assert _key(c) not in (before_c, renamed, renumbered)
    md, warnings = _render(c)
    assert any("'{ref}`sec-two`' names no label" in w for w in warnings) and "- ref: sec-two" in md
    # A post that references nothing elsewhere keeps its key whatever the other posts do.
    assert _key(a) == before_a == payload_free


def test_the_render_key_of_a_post_without_references_is_as_before(tmp_path: Path) -> None:
    from nbpress.execution import json_digest
    from nbpress.rendering import links
    from nbpress.rendering.markup import references_term
    from nbpress.sources import frontmatter

    folder = _blog(tmp_path, a=POST_A, b=POST_B)
    post = read_post(folder / "a.md", folder.parent)
    assert references_term(post) == []
    cells: list[list[object]] = []
    for index, c in enumerate(post.notebook.cells):
        if index == post.front_matter_cell:
            cells.append([c.cell_type, post.origin])
        else:
            cells.append([c.cell_type, c.source, sorted(c.get("metadata", {}).get("tags", []))])
    payload: dict[str, object] = {
        "exec": "exec",
        "cells": cells,
        "front_matter": frontmatter.render_values(post.front_matter),
        "slug": post.file_slug,
        "renderer": "renderer",
    }
    assert not links.render_term(post)
    assert render_key(post, "exec", "renderer") == json_digest(payload)


# -- roles ---------------------------------------------------------------------------------------


def test_simple_roles_become_html_and_others_their_text(tmp_path: Path) -> None:
    text = (
        "Press {kbd}`Ctrl+C`, H{sub}`2`O, x{sup}`2`, {abbr}`MyST (Markedly Structured Text)`, "
        "{math}`a^2`, a {term}`notebook`, {term}`<b>x</b>`, a value {glue:}`answer`, "
        "{glue:text}`pi:.2f`, {eval}`x`."
    )
    folder = _blog(tmp_path, d=f"---\ntitle: D\ndate: 2024-01-04\n---\n\nIntro.\n\n{text}\n")
    md, warnings = _render(folder / "d.md")
    body = _body(md)
    assert "<kbd>Ctrl+C</kbd>" in body and "H<sub>2</sub>O" in body and "x<sup>2</sup>" in body
    assert '<abbr title="Markedly Structured Text">MyST</abbr>' in body and "$a^2$" in body
    assert "a notebook, &lt;b&gt;x&lt;/b&gt;," in body
    # The values step's roles (nbpress.rendering.values): with no value in this unexecuted
    # render they keep their text as code and warn, never the role's syntax.
    assert "a value `answer`, `pi:.2f`, `x`." in body and "{glue" not in body and "{eval}" not in body
    assert sum("no value" in w or "glue" in w for w in warnings) == 3
    [warning] = {w for w in warnings if "{term}" in w}
    assert warning == (
        "posts/d.md, cell 2: the MyST role {term} is not supported here, so its content is shown as "
        "plain text."
    )


# -- BibTeX ----------------------------------------------------------------------------------------

BIB = """@article{perez2011,
  title = {Python: an ecosystem for scientific computing},
  author = {Perez, Fernando and Granger, Brian E},
  journal = {Computing in Science \\& Engineering},
  year = {2011}
}

@article{linebreak,
  title = {A {\\textit{fine}} title},
  author = {Doe, Jane},
  journal = {Data \\\\& Code},
  year = {2020}
}

@online{site,
  title = {A web site},
  author = {Roe, Rick},
  year = {2021}
}
"""


def test_bibtex_values_latex_allows_are_read(tmp_path: Path) -> None:
    folder = _blog(
        tmp_path, d="---\ntitle: D\ndate: 2024-01-04\n---\n\nAs [@perez2011; @linebreak; @site].\n"
    )
    (folder / "references.bib").write_text(BIB, encoding="utf-8")
    md, warnings = _render(folder / "d.md")
    assert warnings == ()
    assert "<i>Computing in Science &amp; Engineering</i>" in md
    assert "<i>Data  &amp; Code</i>" in md or "<i>Data &amp; Code</i>" in md
    assert "A fine title" in md and 'id="ref-site"' in md


@pytest.mark.parametrize(
    ("entry", "needle"),
    [
        (
            "@article{broken,\n  title = {Unclosed {brace},\n  year = {2020}\n}\n",
            "the entry 'broken' (line {line})",
        ),
        ('@article{quoted,\n  title = "Unclosed,\n  year = {2020}\n}\n', "the entry 'quoted' (line {line})"),
        (
            "@article{badyear,\n  title = {T},\n  year = {20x0},\n  month = {Smarch}\n}\n",
            "'badyear' (line {line})",
        ),
    ],
)
def test_an_unreadable_bibtex_entry_is_named_with_its_line(tmp_path: Path, entry: str, needle: str) -> None:
    folder = _blog(tmp_path, d="---\ntitle: D\ndate: 2024-01-04\n---\n\nAs [@perez2011].\n")
    (folder / "references.bib").write_text(BIB + "\n" + entry, encoding="utf-8")
    with pytest.raises(RenderError) as caught:
        _render(folder / "d.md")
    message = str(caught.value)
    assert message.startswith("posts/d.md: the bibliography references.bib cannot be read at ")
    needle = needle.format(line=(BIB + "\n").count("\n") + 1)
    assert needle in message and ("remove the entry" in message or "remove it" in message)


# -- the built site ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    blog = copy_skeleton(tmp_path_factory.mktemp("myst-refs") / "blog")
    folder = blog / "posts"
    (folder / "pic.png").write_bytes(PNG)
    (folder / "data.csv").write_text("a,b\n1,2\n", encoding="utf-8")
    long = "\n\n".join(f"Filler paragraph {i}." for i in range(60))
    (folder / "a.md").write_text(POST_A.replace("Intro of A.", f"Intro of A.\n\n{long}"), encoding="utf-8")
    (folder / "b.md").write_text(POST_B.replace("Intro of B.", f"Intro of B.\n\n{long}"), encoding="utf-8")
    (folder / "c.md").write_text(CROSS, encoding="utf-8")
    shutil.copy(FIXTURES / "markup" / "references.bib", folder / "references.bib")
    proc = build_cli(blog, "--strict")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    built = mkdocs(blog, "build", "--strict")
    assert built.returncode == 0, built.stderr
    with serve(blog / "site", "/nbpress-blog/") as url:
        yield url


@pytest.mark.browser
@pytest.mark.parametrize(
    ("text", "anchor", "slug"),
    [("Section Two B", "sec-two", "b"), ("Figure 1 in Post B", "fig-b", "b"), ("Post A", "top-a", "a")],
)
def test_a_cross_post_reference_lands_on_its_target(site: str, text: str, anchor: str, slug: str) -> None:
    with launch_chromium() as browser:
        page = browser.new_page(viewport={"width": 1200, "height": 500})
        page.route(
            "**/*", lambda route: route.abort() if "127.0.0.1" not in route.request.url else route.continue_()
        )
        page.goto(site + "posts/c/")
        page.wait_for_load_state("networkidle")
        page.click(f"article a:text-is('{text}')")
        page.wait_for_load_state("networkidle")
        # The click's scroll lands it in view (waited for, never for a fixed time).
        wait_until(
            lambda: page.eval_on_selector(
                f"[id='{anchor}']",
                "e => { const r = e.getBoundingClientRect(); return r.top >= 0 && r.top < innerHeight; }",
            ),
            f"#{anchor} in view",
            pause=lambda: page.wait_for_timeout(100),
        )
        assert page.url.endswith(f"/posts/{slug}/#{anchor}")


def test_a_link_shown_in_code_beside_the_same_link_is_left_as_written(tmp_path: Path) -> None:
    text = "| `` Here is [](no-such-page) `` | Here is [](no-such-page) |\n|---|---|\n| a | b |"
    folder = _blog(tmp_path, d=f"---\ntitle: D\ndate: 2024-01-04\n---\n\nIntro.\n\n{text}\n")
    md, warnings = _render(folder / "d.md")
    assert "| `` Here is [](no-such-page) `` | Here is  |" in md
    assert len(warnings) == 1


def test_a_link_in_an_admonition_is_resolved(tmp_path: Path) -> None:
    text = "```{note}\nSee [gone](no-such-page) and `[gone](no-such-page)`.\n```"
    folder = _blog(tmp_path, d=f"---\ntitle: D\ndate: 2024-01-04\n---\n\nIntro.\n\n{text}\n")
    md, warnings = _render(folder / "d.md")
    assert "    See gone and `[gone](no-such-page)`." in md and len(warnings) == 1


def test_a_renamed_post_is_followed_by_the_posts_that_reference_it(tmp_path: Path) -> None:
    folder = _blog(tmp_path, a=POST_A, b=POST_B, c=CROSS)
    before = _key(folder / "c.md")
    (folder / "b.md").rename(folder / "2024-01-02-renamed.md")
    assert _key(folder / "c.md") != before
    md, warnings = _render(folder / "c.md")
    assert "- ref: [Section Two B](renamed.md#sec-two)" in md
    # {doc}`b` and [bare](b) named the file: they warn now, their text kept.
    assert "- doc: b\n" in md and "- link: bare\n" in md
    assert any("'{doc}`b`' names no post" in w for w in warnings)
