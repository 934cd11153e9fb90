"""Every link build.py keeps, `mkdocs build --strict` accepts, and it leads somewhere in the built site.

One blog holds a post with every kind of link a notebook author writes (relative, `./`,
`../posts/`, with a date or another suffix, anchors in Jupyter's form and the site's, to
headings with punctuation, accents and duplicates, to the heading that became a title,
root-absolute, to a draft, to a post that fails and to one that cannot be read, to files that
are not posts, mailto and http, images as links, reference-style links, autolinks, HTML links,
and links in code, which stay as written), and a code cell whose Markdown and HTML outputs show
local images. The reference is MkDocs itself and the built HTML: the real build, then the real
`mkdocs build --strict`, then every link and image left in the page is followed to a file of
the site and, for an anchor, to an element with that id; in Chromium, the outputs' images load.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urljoin, urlsplit

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_raw_cell

from tests.helpers import build_cli, copy_skeleton, launch_chromium, mkdocs, zensical_build
from tests.siteserver import serve

KERNEL = {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}}
LOGO = (
    '<svg xmlns="http://www.w3.org/2000/svg" width="60" height="30" viewBox="0 0 60 30">'
    '<rect width="60" height="30" fill="#c33"/></svg>\n'
)

LINKS = """## Section One

Relative: [t1](target.ipynb), [t2](./target.ipynb), [t3](../posts/target.ipynb),
[t4](2024-01-01-target.ipynb), [t5](target.md).

Anchors: [a1](target.ipynb#Intro), [a2](target.ipynb#intro_1), [a3](target.ipynb#What's-new?),
[a4](target.ipynb#Über-café), [a5](target.ipynb#custom-id), [a6](target.ipynb#manual),
[a7](target.ipynb#No-Such-Heading), [a8](target.ipynb#Target-title), [a9](target.ipynb#uber-cafe),
[a10](target.ipynb#Jumped-down).

Self: [s1](#Section-One), [s2](#Links-title), [s3](#nowhere), [s4](links.ipynb#Section-One),
[s5](#section-one), [s6](#out-id).

Root: [r1](/python/index.html), [r2](/about.md).

Others: [d1](drafted.ipynb), [b1](broken.ipynb), [u1](unreadable.ipynb), [n1](notes/readme.md),
[c1](data.csv), [m1](mailto:someone@example.invalid), [h1](http://example.invalid/page),
<http://example.invalid/auto>.

Image as a link: [![logo](images/logo.svg)](target.ipynb#Intro).

References: [ref one][r1], [bad ref][r2] and [r3][].

[r1]: target.ipynb#Intro
[r2]: target.ipynb#Missing
[r3]: drafted.ipynb

HTML: <a href="target.ipynb#Intro">html a</a> and <a href="#nowhere">html bad</a>.

Code: `[code](target.ipynb#Nope)` stays.

```
[fenced](target.ipynb#Nope)
```
"""

OUTPUTS = """from IPython.display import HTML, Markdown, display

display(Markdown('Markdown output: ![md logo](images/logo.svg)'))
display(HTML('<p>HTML output: <img src="images/logo.svg" alt="html logo" width="60"></p>'))
display(Markdown('![gone](images/missing.png)'))
display(Markdown('![hidden](.hidden/secret.svg)'))
display(Markdown('![evil](images/evil.svg)'))
display(Markdown('Output links: [o1](target.ipynb#Intro), [o2](data.csv), [o3](#Section-One), '
                 '[o4](drafted.ipynb), [o5](/about.md).'))
display(HTML('<p><a href="target.ipynb#What&#39;s-new?">o6</a> and <a href="nowhere.csv">o7</a></p>'))
display(HTML('<p><a href="images/linked.svg">o8</a> and <a href="images/page.html">o9</a></p>'))
display(HTML('<p id="out-id">An id a sanitized output cannot set.</p>'))
"""
# A trusted post's Markdown output stays Markdown: its links and images are read as a cell's.
TRUSTED = (
    "from IPython.display import HTML, Markdown, display\n\n"
    "display(Markdown('![trusted logo](images/logo.svg) [to intro](target.ipynb#Intro)'))\n"
    "display(HTML('<p id=\"out-id\">An id a trusted output sets.</p>'))"
)
EVIL = (
    '<svg xmlns="http://www.w3.org/2000/svg" width="40" height="40" onload="alert(1)">'
    '<script>alert(2)</script><rect width="40" height="40" fill="#36c"/></svg>\n'
)

# (cell, what the warning names): each link or image that cannot be resolved, and only those.
UNRESOLVED = [
    ("cell 3", "'target.md' is not a post"),
    ("cell 3", "'target.ipynb#No-Such-Heading' names no heading or anchor of that post"),
    ("cell 3", "'#nowhere' names no heading or anchor of this post"),
    ("cell 3", "'#out-id' names no heading or anchor of this post"),
    ("cell 3", "'/python/index.html' is root-absolute"),
    ("cell 3", "'drafted.ipynb' names a draft"),
    ("cell 3", "'broken.ipynb' names a post that has no page after this build"),
    ("cell 3", "'unreadable.ipynb' names a post that has no page after this build"),
    ("cell 3", "'target.ipynb#Missing' names no heading or anchor of that post"),
    ("cell 4", "the image 'images/missing.png' does not exist"),
    ("cell 4", "the image '.hidden/secret.svg' is in a hidden file or folder"),
    ("cell 4", "'drafted.ipynb' names a draft"),
    ("cell 4", "the linked file 'nowhere.csv' does not exist"),
    ("cell 4", "'images/page.html' names a web page or script, which an output may not publish"),
]
# Links that must still be links, as the built page has them (relative to posts/links/).
KEPT = [
    "../target/",
    "../target/#intro",
    "../target/#intro_1",
    "../target/#whats-new",
    "../target/#uber-cafe",
    "../target/#custom-id",
    "../target/#manual",
    "../target/#jumped-down",
    "#section-one",
    "../../about/",
    # From the outputs: HTML on the page, linked relative to it.
    "../../assets/images/links/data.csv",
    "../target/#whats-new",
    "../../assets/images/links/images-linked.svg",
]


def _notebook(path: Path, cells: list[nbformat.NotebookNode]) -> None:
    nb = new_notebook(metadata=KERNEL)
    nb.cells = cells
    for i, cell in enumerate(nb.cells):
        cell["id"] = f"c{i}"
    nbformat.write(nb, path)


def _front(title: str, extra: str = "") -> nbformat.NotebookNode:
    cell: nbformat.NotebookNode = new_raw_cell(f'---\ntitle: "{title}"\ndate: 2024-01-01\n{extra}---')
    return cell


def _write_blog(root: Path) -> None:
    posts = root / "posts"
    target = (
        "## Intro\n\nFirst.\n\n## Intro\n\nAgain.\n\n## What's new?\n\n## Über café\n\n"
        '### Deep {#custom-id}\n\n<a id="manual"></a>Manual anchor.\n\n##### Jumped down\n'
    )
    _notebook(
        posts / "2024-01-01-target.ipynb",
        [_front("Target title"), new_markdown_cell("# Target title"), new_markdown_cell(target)],
    )
    _notebook(
        posts / "links.ipynb",
        [
            _front("Links title"),
            new_markdown_cell("# Links title"),
            new_markdown_cell(LINKS),
            new_code_cell(OUTPUTS),
        ],
    )
    _notebook(
        posts / "trusted.ipynb",
        [
            _front("Trusted", "raw_html: true\n"),
            new_code_cell(TRUSTED),
            new_markdown_cell("[to the output](#out-id)"),
        ],
    )
    _notebook(
        posts / "drafted.ipynb", [_front("Drafted", "draft: true\n"), new_markdown_cell("## Draft part")]
    )
    _notebook(
        posts / "broken.ipynb", [_front("Broken"), new_code_cell("raise ValueError('broken on purpose')")]
    )
    (posts / "unreadable.ipynb").write_text("{not json", encoding="utf-8")
    (posts / "notes").mkdir()
    (posts / "notes" / "readme.md").write_text("# Notes\n", encoding="utf-8")
    (posts / "data.csv").write_text("a,b\n1,2\n", encoding="utf-8")
    (posts / "images").mkdir()
    (posts / "images" / "logo.svg").write_text(LOGO, encoding="utf-8")
    (posts / "images" / "evil.svg").write_text(EVIL, encoding="utf-8")
    (posts / "images" / "linked.svg").write_text(EVIL, encoding="utf-8")
    (posts / "images" / "page.html").write_text("<script>alert(1)</script>\n", encoding="utf-8")
    (posts / ".hidden").mkdir()
    (posts / ".hidden" / "secret.svg").write_text(LOGO, encoding="utf-8")


@dataclass
class Blog:
    root: Path
    build: subprocess.CompletedProcess[str]
    site: subprocess.CompletedProcess[str]


@pytest.fixture(scope="module")
def blog(tmp_path_factory: pytest.TempPathFactory) -> Blog:
    root = copy_skeleton(tmp_path_factory.mktemp("links") / "blog")
    _write_blog(root)
    # ipykernel stops capturing raw fd writes under pytest; give the kernels a user's environment.
    env = {k: v for k, v in os.environ.items() if k != "PYTEST_CURRENT_TEST"}
    built = build_cli(root, timeout=600, env=env)
    return Blog(root, built, mkdocs(root, "build", "--strict"))


class _Refs(HTMLParser):
    """Collects the links, images and ids of a built page's article."""

    def __init__(self) -> None:
        super().__init__()
        self.depth = 0  # inside <article> when > 0
        self.hrefs: list[str] = []
        self.srcs: list[str] = []
        self.ids: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if values.get("id"):
            self.ids.add(str(values["id"]))
        if values.get("name"):
            self.ids.add(str(values["name"]))
        if tag == "article":
            self.depth += 1
        if self.depth and tag == "a" and values.get("href"):
            self.hrefs.append(str(values["href"]))
        if self.depth and tag == "img" and values.get("src"):
            self.srcs.append(str(values["src"]))

    def handle_endtag(self, tag: str) -> None:
        if tag == "article":
            self.depth -= 1


def _page(site: Path, path: str) -> _Refs:
    refs = _Refs()
    refs.feed((site / path).read_text(encoding="utf-8"))
    return refs


def _warnings(build: subprocess.CompletedProcess[str]) -> list[str]:
    return [line[len("warning: ") :] for line in build.stderr.splitlines() if line.startswith("warning: ")]


@pytest.mark.slow
def test_build_warns_once_for_each_link_it_cannot_resolve(blog: Blog) -> None:
    errors = [line for line in blog.build.stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 2 and any("broken.ipynb" in e for e in errors), blog.build.stderr
    warnings = [w for w in _warnings(blog.build) if w.startswith("posts/links.ipynb")]
    for cell, text in UNRESOLVED:
        assert any(f", {cell}: " in w and text in w for w in warnings), (cell, text, warnings)
    assert len(warnings) == len(UNRESOLVED), warnings
    page = (blog.root / "site_src" / "posts" / "links.md").read_text(encoding="utf-8")
    # Its text stays, as plain text.
    for text in ("a7", "s3", "r1", "d1", "b1", "u1", "t5", "bad ref", "r3", "html bad"):
        assert re.search(rf"(?<![\[\w]){re.escape(text)}(?![\]\w])", page), text
    assert "`[code](target.ipynb#Nope)`" in page and "[fenced](target.ipynb#Nope)" in page, (
        "code was rewritten"
    )
    assert "[r2]:" not in page and "[r3]:" not in page


@pytest.mark.slow
def test_mkdocs_strict_accepts_every_link_build_kept(blog: Blog) -> None:
    assert blog.site.returncode == 0, blog.site.stderr


def _followed(site: Path, path: str) -> tuple[_Refs, int]:
    """Return the page's links and images, after following each local one to a file (and id) of `site`."""
    page = _page(site, f"{path}index.html")
    followed = 0
    for ref in [*page.hrefs, *page.srcs]:
        if urlsplit(ref).scheme:
            continue
        parts = urlsplit(urljoin(f"http://site/{path}", ref))
        name = unquote(parts.path).lstrip("/")
        file = site / name / "index.html" if name.endswith("/") or not name else site / name
        assert file.is_file(), (path, ref, file)
        if parts.fragment:
            ids = _page(site, file.relative_to(site).as_posix()).ids if file.suffix == ".html" else set()
            assert parts.fragment in ids, (path, ref, sorted(ids))
        followed += 1
    return page, followed


@pytest.mark.slow
def test_every_kept_link_and_image_resolves_in_the_built_site(blog: Blog) -> None:
    assert blog.site.returncode == 0, blog.site.stderr
    site = blog.root / "site"
    page, followed = _followed(site, "posts/links/")
    for kept in KEPT:
        assert kept in page.hrefs, (kept, page.hrefs)
    assert followed >= len(KEPT) + 4
    assert "mailto:someone@example.invalid" in page.hrefs and "http://example.invalid/auto" in page.hrefs
    trusted, followed = _followed(site, "posts/trusted/")
    assert "../target/#intro" in trusted.hrefs and "#out-id" in trusted.hrefs and followed >= 3
    # An output's SVG file is sanitized as an output's SVG is.
    for name in ("images-evil.svg", "images-linked.svg"):  # shown, linked
        evil = (blog.root / "assets" / "images" / "links" / name).read_text(encoding="utf-8")
        assert "<rect" in evil and "script" not in evil and "onload" not in evil
    assert not (blog.root / "assets" / "images" / "links" / "images-page.html").exists()


@pytest.mark.slow
@pytest.mark.browser
@pytest.mark.parametrize("builder", ["mkdocs", "zensical"])
def test_output_images_load_in_the_browser(blog: Blog, builder: str, tmp_path: Path) -> None:
    """Both builders: MkDocs leaves an output's HTML as written (hooks/reader.py resolves the
    links the build marked), Zensical resolves its relative URLs from the Markdown file."""
    assert blog.site.returncode == 0, blog.site.stderr
    site = blog.root / "site"
    if builder == "zensical":
        shutil.copytree(blog.root, tmp_path / "blog", symlinks=True, ignore=shutil.ignore_patterns("site"))
        site = zensical_build(tmp_path / "blog")
    with serve(site, "/sub/") as url, launch_chromium() as browser:
        page = browser.new_page()
        shown: dict[str, int] = {}
        for path in ("posts/links/", "posts/trusted/"):
            page.goto(f"{url}{path}", wait_until="load")
            followed = page.evaluate(
                """async () => Promise.all([...document.querySelectorAll('article a[href]')]
                     .filter(a => a.closest('.nbpress-output, .nbpress-raw'))
                     .filter(a => !/^(#|[a-z]+:)/.test(a.getAttribute('href')))
                     .map(async a => [a.href, (await fetch(a.href)).status]))"""
            )
            assert all(status == 200 for _href, status in followed), (builder, path, followed)
            if path == "posts/links/":
                assert followed, "the post's outputs link nothing local: the check would see nothing"
            sizes = page.evaluate(
                """async () => Promise.all([...document.querySelectorAll('article img')].map(async i => {
                     i.loading = 'eager';
                     try { await i.decode(); } catch (e) {}
                     return [i.alt, i.naturalWidth];
                   }))"""
            )
            assert all(width > 0 for _alt, width in sizes), (path, sizes)
            shown |= dict(sizes)
        for alt in ("md logo", "html logo", "evil", "trusted logo"):
            assert shown.get(alt, 0) > 0, (alt, shown)
        assert "gone" not in shown and "hidden" not in shown


def test_pages_resolve_anchors_as_toc_gives_ids(tmp_path: Path) -> None:
    from nbpress.rendering.links import Page, heading_ids

    ids = heading_ids(["## Intro\n\n## Intro\n\n## Intro_1 x {: .nbpress-h5 }\n\n## A {#own}\n\n## Ça *va*?"])
    assert ids == {"intro", "intro_1", "intro_1-x", "own", "ca-va"}
    page = Page(frozenset(ids), title="the-title")
    assert page.anchor("Intro") == "intro" and page.anchor("intro_1") == "intro_1"
    assert page.anchor("Ça-va?") == "ca-va" and page.anchor("The-Title") == "" and page.anchor("nope") is None
    assert json.loads(json.dumps(page.term())) == page.term()  # plain values the render key can hold


@pytest.mark.slow
def test_a_link_to_a_failed_post_comes_back_once_that_post_builds(blog: Blog) -> None:
    # Last: it changes the blog.
    env = {k: v for k, v in os.environ.items() if k != "PYTEST_CURRENT_TEST"}
    page = blog.root / "site_src" / "posts" / "links.md"
    again = build_cli(blog.root, timeout=600, env=env)
    assert "executed" not in again.stdout.replace("broken", ""), again.stdout  # only the failing post ran
    assert "b1, u1" in page.read_text(encoding="utf-8")
    assert sum("'broken.ipynb' names a post that has no page" in w for w in _warnings(again)) == 1
    _notebook(blog.root / "posts" / "broken.ipynb", [_front("Broken"), new_code_cell("1 + 1")])
    fixed = build_cli(blog.root, timeout=600, env=env)
    assert "[b1](broken.md)" in page.read_text(encoding="utf-8"), fixed.stderr
    assert not [w for w in _warnings(fixed) if "broken.ipynb" in w]
    assert mkdocs(blog.root, "build", "--strict").returncode == 0
    settled = build_cli(blog.root, timeout=600, env=env)
    assert "cached" not in settled.stdout and "executed" not in settled.stdout, settled.stdout
