"""The Quarto, MyST and fastpages samples built and opened in Chromium.

One blog holds the three sample posts and their BibTeX file; `build.py` executes them with
real kernels and `mkdocs build --strict` renders them (so every cross-reference anchor and
figure link is checked by MkDocs too). Served under a sub-path, as on GitHub Pages.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from typing import Any

import pytest

from tests.helpers import FIXTURES, build_cli, copy_skeleton, launch_chromium, mkdocs
from tests.siteserver import serve

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def site_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    blog = copy_skeleton(tmp_path_factory.mktemp("markup") / "blog")
    for path in (FIXTURES / "markup").iterdir():
        shutil.copy(path, blog / "posts" / path.name)
    proc = build_cli(blog)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    built = mkdocs(blog, "build", "--strict")
    assert built.returncode == 0, built.stderr
    with serve(blog / "site", "/nbpress-blog/") as url:
        yield url


@pytest.fixture(scope="module")
def page(site_url: str) -> Iterator[Any]:
    with launch_chromium() as browser:
        tab = browser.new_page(viewport={"width": 1200, "height": 400})
        # Material's header asks GitHub's API about repo_url: answered by nothing.
        tab.route(
            "**/*", lambda route: route.abort() if "127.0.0.1" not in route.request.url else route.continue_()
        )
        yield tab
        browser.close()


_IN_VIEW = "e => { const r = e.getBoundingClientRect(); return r.top >= 0 && r.top < window.innerHeight; }"


def _in_view(page: Any, selector: str) -> bool:
    return bool(page.eval_on_selector(selector, _IN_VIEW))


def _comes_into_view(page: Any, selector: str) -> bool:
    """Return True once a click's scroll brought `selector` into view (the page's patience: HANG)."""
    page.wait_for_function(f"s => ({_IN_VIEW})(document.querySelector(s))", arg=selector)
    return True


def test_figure_link_lands_on_the_numbered_figure(page: Any, site_url: str) -> None:
    page.goto(site_url + "posts/quarto_sample/")
    page.wait_for_load_state("networkidle")
    assert not _in_view(page, "#fig-quarto-line")
    page.click("a[href='#fig-quarto-line']")
    assert _comes_into_view(page, "#fig-quarto-line")
    assert page.url.endswith("#fig-quarto-line")
    caption = page.inner_text("#fig-quarto-line figcaption")
    assert caption == "Figure 1: A line, drawn by matplotlib."
    image = page.query_selector("#fig-quarto-line img")
    assert image.get_attribute("width") == "146" and image.get_attribute("height") == "98"
    # Relative (MkDocs rewrote it), and the figure really loads.
    assert image.get_attribute("src").startswith("../../assets/images/quarto_sample/")
    assert page.eval_on_selector("#fig-quarto-line img", "e => e.complete && e.naturalWidth") == 146


def test_references_list_the_titles_and_citations_link_to_them(page: Any, site_url: str) -> None:
    page.goto(site_url + "posts/quarto_sample/")
    entries = page.query_selector_all(".nbpress-reference")
    texts = [e.inner_text() for e in entries]
    assert any("Deep learning" in t for t in texts) and any("The TeXbook" in t for t in texts)
    page.click("a[href='#ref-lecun2015']")
    assert _comes_into_view(page, "#ref-lecun2015")


def test_admonitions_render_and_fold(page: Any, site_url: str) -> None:
    page.goto(site_url + "posts/quarto_sample/")
    tip = page.query_selector(".admonition.tip")
    assert tip is not None and page.inner_text(".admonition.tip .admonition-title") == "A titled tip"
    folded = page.query_selector("details.warning")
    assert folded is not None and folded.get_attribute("open") is None
    assert not page.is_visible("details.warning p")
    page.click("details.warning summary")
    assert page.is_visible("details.warning p")
    page.goto(site_url + "posts/myst_sample/")
    assert page.inner_text(".admonition.note").strip().endswith("MyST notes become Material admonitions.")
    assert page.query_selector("details.tip") is not None


def test_numbered_equation_is_typeset_with_its_number(page: Any, site_url: str) -> None:
    page.goto(site_url + "posts/myst_sample/")
    page.wait_for_load_state("networkidle")
    page.click("a[href='#eq-myst-loss']")
    assert _comes_into_view(page, "#eq-myst-loss")
    assert page.query_selector("#eq-myst-loss .katex-display") is not None
    assert page.inner_text("#eq-myst-loss .katex-html").strip().endswith("(1)")


# For each formula: whether a word of its paragraph (outside the formulas) shares its line, and
# the formula is less than two of the paragraph's lines tall.
_BESIDE_ITS_WORDS = """els => els.map(m => {
  const p = m.closest('p'), box = (m.querySelector('.katex') || m).getBoundingClientRect();
  const middle = (box.top + box.bottom) / 2;
  const lines = box.height / parseFloat(getComputedStyle(p).lineHeight);
  const walker = document.createTreeWalker(p, NodeFilter.SHOW_TEXT);
  for (let text; (text = walker.nextNode()); ) {
    if (text.parentElement.closest('.arithmatex') || !text.data.trim()) continue;
    const range = document.createRange();
    range.selectNodeContents(text);
    if ([...range.getClientRects()].some(r => r.top <= middle && middle <= r.bottom)) return lines < 2;
  }
  return false;
})"""


@pytest.mark.parametrize("width", [390, 1200])
def test_inline_math_stays_in_its_sentence_and_a_number_clears_its_formula(
    page: Any, site_url: str, width: int
) -> None:
    page.set_viewport_size({"width": width, "height": 800})
    page.goto(site_url + "posts/myst_sample/")
    page.wait_for_load_state("networkidle")
    inline = page.locator("p span.arithmatex")
    assert inline.count() == 3 and inline.locator(".katex").count() == 3, "typeset, as inline math"
    assert set(inline.evaluate_all("els => els.map(e => getComputedStyle(e).display)")) == {"inline"}
    # The sentence reads as prose: each formula sits on a line beside its words, no taller than
    # two lines (judged against the page's own text, whatever the machine's fonts make of it).
    beside = inline.evaluate_all(_BESIDE_ITS_WORDS)
    assert beside == [True, True, True], beside
    # The number (1) sits beside the formula, never over its last terms.
    gap = page.eval_on_selector(
        "#eq-myst-loss .katex-html",
        "h => { const tag = h.querySelector('.katex-tag').getBoundingClientRect();"
        " const bases = [...h.querySelectorAll('.katex-base')].map(b => b.getBoundingClientRect().right);"
        " const right = Math.max(...bases);"
        " return tag.left - right; }",
    )
    assert gap >= 0, f"the equation number covers its formula by {-gap:.0f} px at {width} px"


def test_second_figure_loads_lazily(page: Any, site_url: str) -> None:
    page.goto(site_url + "posts/fastpages-sample/")
    images = page.query_selector_all("article img.img-responsive")
    assert [i.get_attribute("loading") for i in images] == [None, "lazy"]
    assert all(i.get_attribute("width") and i.get_attribute("height") for i in images)
