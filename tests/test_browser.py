"""The built site in a real browser: Debian's Chromium driven by playwright, served from 127.0.0.1.

Every test runs twice: with the site at the server's root and under a project sub-path
(/nbpress-blog/), as GitHub Pages serves a project site. Screenshots of the home page and
a post land in screenshots/ (git-ignored) for a person to look at.
"""

from __future__ import annotations

import json
import urllib.request
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.helpers import HANG, REPO, launch_chromium, watch_policy
from tests.siteserver import serve
from tests.test_build import SEED_FIGURES

pytestmark = [pytest.mark.browser, pytest.mark.slow]

# Hosts a page may ask for besides the local server. Material's header fetches the stars and
# forks of repo_url from GitHub's API; the test answers nothing (the request is aborted).
ALLOWED_HOSTS = {"api.github.com"}
TITLES = {
    "SLR_NN": "Simple Linear Regression Model in PyTorch and Tensorflow",
    "Linear_Regression_SciPy_vs_Torch": "Linear Regression with SciPy and PyTorch",
}
SCREENSHOTS = REPO / "screenshots"


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Yield a headless Chromium (Debian's), closed after the module."""
    with launch_chromium() as chromium:
        yield chromium


@pytest.fixture(scope="module", params=["/", "/nbpress-blog/"], ids=["root", "subpath"])
def base_url(real_site: Path, request: pytest.FixtureRequest) -> Iterator[str]:
    """Yield the URL of the real blog's built site, served at the root or under a sub-path."""
    with serve(real_site / "site", str(request.param)) as url:
        yield url


@dataclass
class Tab:
    """A browser page that records console errors, uncaught exceptions and requests leaving the host."""

    page: Any
    base: str
    errors: list[str] = field(default_factory=list)
    outside: list[str] = field(default_factory=list)
    violations: list[str] = field(default_factory=list)  # of the site's Content Security Policy

    def open(self, path: str) -> Any:
        """Load `path` (relative to the site) and wait until the network is idle; return the page."""
        response = self.page.goto(self.base + path)
        assert response is not None and response.status == 200, path
        self.page.wait_for_load_state("networkidle")
        return self.page

    def assert_clean(self) -> None:
        """Fail on a console error, an uncaught exception, a request to a host not allowed, or
        anything of the site its own Content Security Policy refuses (search, palette, lightbox)."""
        assert self.errors == [] and self.violations == []
        assert {urlsplit(u).hostname for u in self.outside} <= ALLOWED_HOSTS, self.outside


@pytest.fixture
def tab(browser: Any, base_url: str) -> Iterator[Tab]:
    """Yield a fresh page on the served site."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    violations = watch_policy(context)
    page = context.new_page()
    tab = Tab(page, base_url, violations=violations)

    def route(route: Any) -> None:
        if urlsplit(route.request.url).hostname == "127.0.0.1":
            route.continue_()
        else:
            tab.outside.append(route.request.url)
            route.abort()

    def console(message: Any) -> None:
        # An aborted request to an allowed host logs a failed load; that is the allowance.
        origin = urlsplit(message.location.get("url", "")).hostname
        if message.type == "error" and origin not in ALLOWED_HOSTS:
            tab.errors.append(f"{message.text} ({message.location.get('url')})")

    context.route("**/*", route)
    page.on("console", console)
    page.on("pageerror", lambda error: tab.errors.append(f"uncaught: {error}"))
    yield tab
    context.close()


def test_home_lists_both_posts(tab: Tab, base_url: str) -> None:
    page = tab.open("")
    titles = page.locator("article.md-post--excerpt h2").all_inner_texts()
    assert sorted(t.strip() for t in titles) == sorted(TITLES.values())
    assert page.locator("article.md-post--excerpt", has_text="min read").count() == 2
    # Each excerpt shows its post's first figure.
    thumbs = page.locator("article.md-post--excerpt a.nbpress-thumb img")
    assert thumbs.count() == 2
    for i in range(2):  # they load lazily, as a reader scrolls to them
        thumbs.nth(i).scroll_into_view_if_needed()
    page.wait_for_function(
        "() => [...document.querySelectorAll('a.nbpress-thumb img')].every(i => i.complete)"
    )
    assert all(w > 0 for w in thumbs.evaluate_all("imgs => imgs.map(i => i.naturalWidth)"))
    page.evaluate("window.scrollTo(0, 0)")
    SCREENSHOTS.mkdir(exist_ok=True)
    where = "subpath" if base_url.endswith("/nbpress-blog/") else "root"
    page.screenshot(path=str(SCREENSHOTS / f"home-{where}.png"))
    tab.assert_clean()


@pytest.mark.parametrize("slug", sorted(TITLES))
def test_post_shows_figures_copy_buttons_and_links(tab: Tab, slug: str) -> None:
    page = tab.open(f"posts/{slug}/")
    figures = page.locator("article img[src*='assets/images/']")
    assert figures.count() == len(SEED_FIGURES[slug])
    for i in range(figures.count()):  # figures below the fold load lazily, as a reader scrolls
        figures.nth(i).scroll_into_view_if_needed()
    page.wait_for_function("() => [...document.querySelectorAll('article img')].every(i => i.complete)")
    widths = figures.evaluate_all("imgs => imgs.map(i => i.complete ? i.naturalWidth : 0)")
    assert all(w > 0 for w in widths), widths
    code_blocks = page.locator("article div.highlight pre").count()
    assert code_blocks > 0 and page.locator("article button[data-md-type='copy']").count() == code_blocks
    # The download link is served by the site and is the executed notebook.
    href = page.locator("a.nbpress-download").get_attribute("href")
    notebook = page.request.get(page.url.rsplit("/", 1)[0] + "/" + href)
    assert notebook.status == 200 and json.loads(notebook.body())["cells"]
    assert page.locator("a.nbpress-colab").get_attribute("href").endswith(f"/posts/{slug}.ipynb")
    # A figure opens in the lightbox.
    figures.first.click()
    page.locator(".glightbox-container .gslide-image img").first.wait_for(state="visible")
    page.keyboard.press("Escape")
    tab.assert_clean()


def test_post_screenshot(tab: Tab, base_url: str) -> None:
    page = tab.open("posts/SLR_NN/")
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "post.png"), full_page=True)
    tab.assert_clean()


def test_search_for_pytorch_finds_both_posts(tab: Tab) -> None:
    page = tab.open("")
    page.locator("input.md-search__input").click()
    # Typed key by key, as a reader does: the search listens to keyboard events.
    page.keyboard.type("PyTorch")
    results = page.locator(".md-search-result__item a.md-search-result__link")
    results.first.wait_for()
    found = {
        href.split("posts/")[1].split("/")[0]
        for href in results.evaluate_all("a => a.map(x => x.href)")
        if "posts/" in href
    }
    assert found == set(TITLES)
    tab.assert_clean()


def test_dark_mode_toggle(tab: Tab) -> None:
    page = tab.open("posts/SLR_NN/")
    body = page.locator("body")
    assert body.get_attribute("data-md-color-scheme") == "default"
    light = body.evaluate("b => getComputedStyle(b).backgroundColor")
    page.locator("form[data-md-component='palette'] label:visible").first.click()
    assert body.get_attribute("data-md-color-scheme") == "slate"
    page.wait_for_function("light => getComputedStyle(document.body).backgroundColor !== light", arg=light)
    page.screenshot(path=str(SCREENSHOTS / "post-dark.png"))
    tab.assert_clean()


def test_feed_parses_with_both_posts(base_url: str) -> None:
    with urllib.request.urlopen(base_url + "feed_rss_created.xml", timeout=HANG) as response:
        root = ET.fromstring(response.read())
    titles = [item.findtext("title") for item in root.iter("item")]
    assert sorted(t or "" for t in titles) == sorted(TITLES.values())
