"""A tutorial course moved into the blog publishes whole (tests/course/, made by its generate.py).

One build of the course (module-scoped) is checked: cross-links with and without anchors become
links MkDocs checks, local images in subfolders are published, raw cells, interactive backends,
a notebook for another kernel, broken metadata, a display error and a missing image each give
the message the issue asks for; `mkdocs build --strict` passes; `--strict` fails on the
warnings; a changed image re-renders without a kernel; and in Chromium at 390 px every image
loads, every link and anchor resolves, and no page is wider than the phone.
"""

from __future__ import annotations

import filecmp
import os
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urldefrag

import pytest

from nbpress.layout import Layout
from nbpress.rendering.links import jupyter_anchor_id
from nbpress.terminal import scrub_paths
from tests.helpers import build_cli, copy_skeleton, launch_chromium, mkdocs, watch_policy
from tests.siteserver import serve

COURSE = Path(__file__).resolve().parent / "course"
# The course proper: these build with no warning at all.
CLEAN = ["01-welcome", "03-tables", "05-palettes", "07-images", "dates", "symbols"]
# Posts that warn by design, with a piece of each warning.
WARNED = {
    "04-figures": [
        "cell 3 (figure output_2_0): %matplotlib widget asks for an interactive matplotlib backend",
        "cell 4 (figure output_3_0): %matplotlib notebook",
        "cell 5 (figure output_4_0): use('nbagg')",
    ],
    "06-raw-cells": [
        "cell 5: a raw cell with format text/restructuredtext cannot be shown and was left out",
        "cell 6: a raw cell with format text/latex cannot be shown",
    ],
    "08-odd-links": [
        "cell 2: the link to 'notes/scratch.ipynb' is not a post in posts/",
        "cell 4: JavaScript output is not shown on the page",
    ],
    "11-odd-metadata": ["the notebook metadata 'kernelspec' is invalid"],
}
FAILED = {
    "10-julia.ipynb": "needs the Jupyter kernel 'julia-1.10' (Julia), which is not installed here",
    "09-display-error.ipynb": "cell 2: ValueError: no HTML today (raised while the result was displayed)",
    "12-missing-image.ipynb": "cell 2: the image 'img/missing.png' does not exist",
}


@dataclass
class Course:
    root: Path
    build: subprocess.CompletedProcess[str]

    def post(self, slug: str) -> str:
        return (self.root / "site_src" / "posts" / f"{slug}.md").read_text(encoding="utf-8")


def _build(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return build_cli(
        root,
        *args,
        timeout=600,
        # ipykernel stops capturing raw fd writes under pytest; give the kernels a user's environment.
        env={k: v for k, v in os.environ.items() if k != "PYTEST_CURRENT_TEST"},
    )


@pytest.fixture(scope="module")
def course(tmp_path_factory: pytest.TempPathFactory) -> Course:
    root = copy_skeleton(tmp_path_factory.mktemp("course") / "blog")
    for path in COURSE.iterdir():
        if path.name in ("generate.py", "__pycache__"):
            continue
        if path.is_dir():
            shutil.copytree(path, root / "posts" / path.name)
        else:
            shutil.copy2(path, root / "posts" / path.name)
    return Course(root, _build(root))


def _lines(text: str, prefix: str) -> list[str]:
    return [line[len(prefix) :] for line in text.splitlines() if line.startswith(prefix)]


@pytest.mark.slow
def test_course_builds_with_the_expected_messages(course: Course) -> None:
    stderr = course.build.stderr
    assert course.build.returncode == 1, stderr
    assert "\x1b[" not in stderr, "ANSI codes in a traceback printed to a pipe"
    errors = _lines(stderr, "error: ")
    assert len(errors) == len(FAILED), errors
    for name, text in FAILED.items():
        [line] = [e for e in errors if e.startswith(f"posts/{name}")]
        assert text in line, line
        assert stderr.count(line) == 1, "an error printed twice"
    warnings = _lines(stderr, "warning: ")
    for slug in CLEAN:
        assert not [w for w in warnings if f"/{slug}." in w or f"-{slug}." in w], slug
    expected = [(slug, text) for slug, texts in WARNED.items() for text in texts]
    for slug, text in expected:
        assert any(w.startswith(f"posts/{slug}.ipynb") and text in w for w in warnings), (slug, text)
    assert len(warnings) == len(expected), warnings
    assert f"{len(expected)} warnings" in course.build.stdout
    built = {p.stem for p in (course.root / "site_src" / "posts").glob("*.md")}
    assert built == {*CLEAN, *WARNED}


@pytest.mark.slow
def test_links_between_notebooks_become_links_between_posts(course: Course) -> None:
    welcome = course.post("01-welcome")
    # A text source linked as a notebook, a relative ./ link with a Jupyter anchor, a dated file.
    assert "[symbols](symbols.md)" in welcome
    assert "[wide tables](03-tables.md#wide-tables)" in welcome
    assert "[dates](dates.md#parsing-dates)" in welcome
    assert "[several parts](#what-you-will-learn)" in welcome
    assert "[figs]: 04-figures.md#interactive-figures" in welcome
    assert "`[not a link](02-numbers.ipynb)`" in welcome, "a code span was rewritten"
    assert "[data.csv](../assets/images/01-welcome/data.csv)" in welcome
    # In a table cell and a block quote too.
    assert "| [Figures](04-figures.md#interactive-figures) | ![a diagram](../assets/" in welcome
    assert "> Quoted: [the palettes](05-palettes.md)." in welcome
    # Raw HTML is not rewritten by MkDocs: the link becomes a Markdown one.
    assert "An HTML link to [the tables](03-tables.md#wide-tables)." in course.post("07-images")
    # A notebook that is not a post: its text stays, the link goes.
    assert "A scratch notebook that is not a post" in course.post("08-odd-links")
    assert "[anchor](#odd-links)" in course.post("08-odd-links")
    assert jupyter_anchor_id("Further-Resources-on-Regular-Expressions") == (
        "further-resources-on-regular-expressions"
    )


@pytest.mark.slow
def test_local_images_are_published_beside_the_figures(course: Course) -> None:
    images = course.root / "assets" / "images"
    logo = (COURSE / "img" / "logo.png").read_bytes()
    assert (images / "01-welcome" / "img-logo.png").read_bytes() == logo
    assert (images / "07-images" / "img-logo.png").read_bytes() == logo
    diagram = (images / "07-images" / "figures-sub-diagram.png").read_bytes()
    assert diagram == (COURSE / "figures" / "sub" / "diagram.png").read_bytes()
    page = course.post("07-images")
    assert '![diagram](../assets/images/07-images/figures-sub-diagram.png){: width="40" }' in page
    assert '<div align="center" markdown="1">' in page
    assert (images / "04-figures" / "figures-steps.svg").is_file()
    assert "img-logo.png" in page.split("figures:", 1)[1].split("\n", 1)[0], "not recorded as the post's"


@pytest.mark.slow
def test_raw_cells_and_interactive_figures(course: Course) -> None:
    raw = course.post("06-raw-cells")
    # Raw cells are sanitized like outputs (Markdown rendered first); their links still lead to posts.
    assert '<p markdown="1"><strong>Raw Markdown</strong> with a [link](01-welcome.md).</p>' in raw
    assert '<p class="from-raw">Raw <b>HTML</b></p>' in raw, "raw HTML not sanitized"
    assert "reST" not in raw and "section{LaTeX}" not in raw
    figures = course.post("04-figures")
    assert "%matplotlib widget" in figures and "matplotlib.use('nbagg')" in figures, "the source changed"
    for name in ("output_2_0.png", "output_3_0.png", "output_4_0.png"):
        assert (course.root / "assets" / "images" / "04-figures" / name).read_bytes()[:4] == b"\x89PNG"
        assert f"/assets/images/04-figures/{name}" in figures
    assert "cannot be shown" not in figures


@pytest.mark.slow
def test_mkdocs_strict_accepts_the_course(course: Course) -> None:
    site = mkdocs(course.root, "build", "--strict")
    assert site.returncode == 0, site.stderr


def test_paths_under_home_keep_their_tilde() -> None:
    assert scrub_paths("File ~/.venv/lib/python3.11/site-packages/x.py:3") == "File .../site-packages/x.py:3"


# The hooks that only make the render faster, each compared with Material's own render.
SPEED_HOOKS = ["hooks/excerpts.py", "hooks/blog_yaml.py", "hooks/theme_files.py"]


@pytest.mark.slow  # the course's build is this tier's alone
def test_the_speed_hooks_change_no_byte_of_the_site(course: Course) -> None:
    # hooks/excerpts.py renders the excerpt of a post nbpress built from its title alone, where
    # Material converts the whole post again for each listing; hooks/blog_yaml.py gives Material's
    # blog libyaml's loader; hooks/theme_files.py lists the theme's files without its hidden
    # ones. The reference: the same course rendered without each hook, file
    # by file (feeds and search index included).
    root = course.root
    config = (root / "mkdocs.yml").read_text(encoding="utf-8")
    same = {"SOURCE_DATE_EPOCH": "1700000000"}  # the feeds' build date
    with_hooks = root.parent / "with"
    done = mkdocs(root, "build", "--strict", "-d", str(with_hooks), env=same)
    assert done.returncode == 0, done.stderr
    files = sorted(p.relative_to(with_hooks).as_posix() for p in with_hooks.rglob("*") if p.is_file())
    assert len([f for f in files if f.startswith("posts/") and f.endswith("/index.html")]) >= 8
    for hook in SPEED_HOOKS:
        assert f"\n  - {hook}\n" in config
        other = root / f".without-{Path(hook).stem}.yml"
        other.write_text(config.replace(f"\n  - {hook}\n", "\n"), encoding="utf-8")
        without = root.parent / f"without-{Path(hook).stem}"
        done = mkdocs(root, "build", "--strict", "-f", other.name, "-d", str(without), env=same)
        assert done.returncode == 0, done.stderr
        assert files == sorted(p.relative_to(without).as_posix() for p in without.rglob("*") if p.is_file())
        differ = [f for f in files if not filecmp.cmp(with_hooks / f, without / f, shallow=False)]
        assert differ == [], f"{hook} changed {differ}"


@pytest.fixture(scope="module")
def served(course: Course) -> Iterator[str]:
    site = course.root / "site"
    if not (site / "index.html").is_file():
        assert mkdocs(course.root, "build", "--strict").returncode == 0
    # Under a project sub-path, as GitHub Pages serves it: relative links must hold everywhere.
    with serve(site, "/nbpress-blog/") as url:
        yield url


# Every image complete and decoded (the seaborn palette and colormap preview included); every
# link in the content to this site answers, and its #anchor names an element of the page it
# leads to; nothing wider than the viewport.
_PAGE_CHECK = """async () => {
  const content = document.querySelector('.md-content');
  const all = [...content.querySelectorAll('img')];
  all.forEach(i => { i.loading = 'eager'; });  // lazy thumbnails load too
  const broken = await Promise.all(all.map(i => i.decode().then(() => null, () => i.getAttribute('src'))));
  const links = [...content.querySelectorAll('a[href]')].map(a => a.href)
    .filter(h => h.startsWith(location.origin));
  const page = document.documentElement;
  return {images: broken.filter(b => b !== null), links, wider: page.scrollWidth - page.clientWidth};
}"""


@pytest.mark.browser
def test_course_in_a_phone_browser(course: Course, served: str) -> None:
    from playwright.sync_api import Route

    with launch_chromium() as browser:
        context = browser.new_context(viewport={"width": 390, "height": 844})
        violations = watch_policy(context)  # the site's Content Security Policy refuses nothing here
        page = context.new_page()

        def only_here(route: Route) -> None:
            if route.request.url.startswith(served):
                route.continue_()
            else:
                route.abort()

        page.route("**/*", only_here)
        links: set[str] = set()
        # The home page too: its excerpts show the posts' first images and links.
        for path in ["", *(f"posts/{slug}/" for slug in [*CLEAN, *WARNED])]:
            page.goto(f"{served}{path}", wait_until="load")
            found = page.evaluate(_PAGE_CHECK)
            assert found["images"] == [], (path, found["images"])
            assert found["wider"] <= 0, (path, found["wider"])  # the page never scrolls sideways
            links |= set(found["links"])
            if path == "posts/symbols/":
                assert page.locator(".katex").count() >= 2, "SymPy's LaTeX is not typeset"
        checked = 0
        for link in sorted(links):
            url, fragment = urldefrag(link)
            if not url.endswith("/"):  # a file: the notebook download, data.csv
                assert page.request.get(url).ok, link
                continue
            response = page.goto(url, wait_until="load")
            assert response is not None and response.ok, link
            if fragment:
                assert page.locator(f"[id='{fragment}']").count() == 1, link
                checked += 1
        assert checked >= 5  # in-page and cross-post anchors were among them
        assert violations == []


@pytest.mark.slow
def test_strict_fails_on_the_warnings_of_unchanged_posts(course: Course) -> None:
    again = _build(course.root, "--strict", *CLEAN, *WARNED)
    assert "executed" not in again.stdout
    assert again.returncode == 1
    assert "strict: " in again.stderr
    assert again.stderr.count("warning: ") == sum(len(t) for t in WARNED.values())
    clean = _build(course.root, "--strict", *CLEAN)
    assert clean.returncode == 0, clean.stderr


@pytest.mark.slow
def test_a_changed_image_renders_the_post_again_without_a_kernel(course: Course) -> None:
    # Last: it changes the course's files.
    logo = course.root / "posts" / "img" / "logo.png"
    new = (COURSE / "figures" / "sub" / "diagram.png").read_bytes()
    logo.write_bytes(new)
    again = _build(course.root, *CLEAN)
    # A status line: "<status>  <seconds> s  <path> (<why>)"; the path is the first word naming posts/.
    statuses = {
        next(w for w in line.split() if w.startswith("posts/")): line.split()[0]
        for line in again.stdout.splitlines()
        if line.split() and line.split()[0] in ("executed", "cached", "unchanged", "failed")
    }
    assert statuses["posts/01-welcome.ipynb"] == "cached", again.stdout
    assert statuses["posts/07-images.ipynb"] == "cached"
    assert statuses["posts/03-tables.ipynb"] == "unchanged"
    assert (course.root / "assets" / "images" / "01-welcome" / "img-logo.png").read_bytes() == new


@pytest.mark.parametrize(
    ("source", "published"),
    [
        ('[x [y]](other.ipynb "t")', '[x [y]](other.md "t")'),
        ("[a](nope.ipynb) and [b](nope.ipynb#X) end", "a and b end"),
        ("[s](me.ipynb#Top-Part)", "[s](#top-part)"),
        ("[x](<other.ipynb#A B>)", "[x](<other.md#a-b>)"),
        ("[What's new](#What's-new?)", "[What's new](#whats-new)"),
        ("[Figure 1](#fig_Scatter)", None),
        ("[ext](https://github.com/a/b.ipynb) <https://x.org/a.ipynb>", None),
        ("```\n[x](other.ipynb)\n```", None),
        ("    [x](other.ipynb)", None),
        ("`[x](other.ipynb)`", None),
    ],
)
def test_link_forms(tmp_path: Path, source: str, published: str | None) -> None:
    from types import SimpleNamespace

    import nbformat
    from nbformat.v4 import new_markdown_cell, new_notebook, new_raw_cell

    from nbpress.rendering.links import Linker, Page, _Cell

    (tmp_path / "posts").mkdir()
    for name, heading in (("other", "## A B"), ("me", "## Top Part")):
        nb = new_notebook(
            cells=[new_raw_cell(f"---\ntitle: {name}\ndate: 2024-01-01\n---"), new_markdown_cell(heading)]
        )
        nbformat.write(nb, tmp_path / "posts" / f"{name}.ipynb")
    post = SimpleNamespace(path=tmp_path / "posts" / "me.ipynb", file_slug="me", rel_path="posts/me.ipynb")
    cell = _Cell(1, "posts/me.ipynb, cell 2")
    linker = Linker(post, Layout(Path("blog")).post("me").figure_url)
    # The page MkDocs will see: an in-page anchor changes only when it names a heading.
    linker.page = Page(frozenset({"whats-new", "top-part", "fig_Scatter"}))
    assert linker.rewrite(source, cell) == (published or source)
    assert len(cell.warnings) == (2 if "nope" in source else 0)


@pytest.mark.slow
def test_palettes_and_sympy_are_shown(course: Course) -> None:
    palettes = course.post("05-palettes")
    assert "<svg" in palettes and "<rect" in palettes, "the seaborn palette vanished"
    assert 'src="data:image/png;base64,' in palettes, "the colormap preview has no picture"
    symbols = course.post("symbols")
    assert "\\int\\limits_{-\\infty}^{\\infty} e^{- x^{2}}" in symbols
