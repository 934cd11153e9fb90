"""What a reader meets (issue 12), in Debian's Chromium: the real blog's two posts plus a
hand-made post (tests/fixtures/reader/showcase.md: every kind of output, math, small
headings, a title and summary with markup characters), built with a GitHub remote as a
clone of the blog has, served at the root and under /nbpress-blog/.
"""

from __future__ import annotations

import json
import re
import shutil
import urllib.error
import urllib.request
import xml.etree.ElementTree as ET
from collections.abc import Awaitable, Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from bench.reader_audit import AXE_RUN, AXE_TAGS, LIGHTHOUSE_PAGES, NODE, PAGES, lighthouse, violations
from bench.reader_site import build_site
from tests.browser_pages import Tab, visit_all
from tests.helpers import _POLICY_WATCH as POLICY_WATCH
from tests.helpers import FIXTURES, HANG, REPO, zensical_build
from tests.siteserver import serve

pytestmark = [pytest.mark.browser, pytest.mark.slow]

SHOWCASE = FIXTURES / "reader" / "showcase.md"
AXE_SOURCE = NODE / "node_modules" / "axe-core" / "axe.min.js"
POSTS = {
    "SLR_NN": ("Simple Linear Regression Model in PyTorch and Tensorflow", "June 11, 2024", "2024-06-11"),
    "Linear_Regression_SciPy_vs_Torch": (
        "Linear Regression with SciPy and PyTorch",
        "June 18, 2024",
        "2024-06-18",
    ),
}
SITE_URL = "https://nbpress.github.io/nbpress-blog/"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1366, "height": 900}


def description(slug: str) -> str:
    """Return the description the seed post's source gives, as the feed and cards show it."""
    text = (REPO / "site_src" / "posts" / f"{slug}.md").read_text(encoding="utf-8")
    return str(re.search(r"^description: (.*)$", text, re.M).group(1))  # type: ignore[union-attr]


@pytest.fixture(scope="module")
def reader_site(real_site: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Return the built site of the real blog's generated posts plus the showcase post."""
    return build_site(tmp_path_factory.mktemp("reader") / "blog", source=real_site, extra_posts=[SHOWCASE])


@pytest.fixture(scope="module")
def bases(reader_site: Path) -> Iterator[dict[str, str]]:
    """Return {"root": address, "subpath": address}: the one built site served at / and under
    /nbpress-blog/ (two servers of the same folder), for the whole module."""
    with serve(reader_site, "/") as root, serve(reader_site, "/nbpress-blog/") as subpath:
        yield {"root": root, "subpath": subpath}


@pytest.fixture(scope="module", params=["root", "subpath"])
def base(bases: dict[str, str], request: pytest.FixtureRequest) -> str:
    return bases[str(request.param)]


# --- What a reader sees: each page loaded once per view, its facts gathered for the tests ------
#
# A reader test used to open its own browser context and load its page (about 2 s each, most
# of it the context's new renderer and the wait for the network to settle); several tests read
# the same page. Now each (base, view, page) is loaded once, every page of a view at once in one
# browser context (tests/browser_pages.visit_all), and the test's "look" (registered with @look,
# run on the loaded page in registration order, those that click after those that only read)
# records what the test then asserts. A look that raises records the error: the test that asks
# for it fails with it, the others still judge their own facts. What a page's context would
# have kept apart stays apart: routing turns the browser's cache off (every page fetches what it
# links, so a page's requests are its own), the bases are two origins (their storage apart),
# and the one look that changes stored state (the palette toggle) is its view's and origin's last.

VIEWS: dict[str, dict[str, Any]] = {
    "desktop": {"viewport": DESKTOP, "color_scheme": "light"},
    "phone": {"viewport": PHONE, "color_scheme": "light"},
    "dark": {"viewport": DESKTOP, "color_scheme": "dark"},
}
POLICY = "__nbpressPolicyViolation"  # the binding tests.helpers' policy watch calls


@dataclass
class Broken:
    """What a look raised instead of its facts."""

    error: str


@dataclass
class Seen:
    """One loaded page: its status, requests, failed site requests and the facts of its looks."""

    status: int = 0
    requests: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    facts: dict[str, Any] = field(default_factory=dict)
    calls: dict[str, list[tuple[str, tuple[Any, ...]]]] = field(default_factory=dict)

    def __getitem__(self, look: str) -> Any:
        fact = self.facts[look]
        if isinstance(fact, Broken):
            pytest.fail(f"{look}: {fact.error}")
        return fact

    @property
    def violations(self) -> list[str]:
        """What the site's Content Security Policy refused on the page (none, whatever it did)."""
        return [str(args[0]) for _, args in self.calls.get(POLICY, [])]


Look = Callable[[Any, Seen], Awaitable[Any]]
LOOKS: dict[tuple[str, str], list[tuple[bool, str, Look]]] = {}


def look(view: str, *paths: str, clicks: bool = False) -> Callable[[Look], Look]:
    """Register a look at `paths` in `view`; one that `clicks` runs after those that only read."""

    def register(f: Look) -> Look:
        for path in paths:
            LOOKS.setdefault((view, path), []).append((clicks, f.__name__, f))
        return f

    return register


async def _visit(view: str, path: str, tab: Tab) -> Seen:
    seen = Seen(calls=tab.calls)
    page = tab.page
    page.on("request", lambda r: seen.requests.append(r.url))
    page.on(
        "response",
        lambda r: (
            seen.failed.append(f"{r.status} {r.url}") if r.status >= 400 and "127.0.0.1" in r.url else None
        ),
    )
    response = await page.goto(tab.address)
    await page.wait_for_load_state("networkidle")
    seen.status = response.status if response else 0
    for _, name, f in sorted(LOOKS[view, path], key=lambda entry: entry[0]):
        try:
            seen.facts[name] = await f(page, seen)
        except Exception as error:  # the test that asks for this look fails with it
            seen.facts[name] = Broken(f"{view} {tab.address}: {error!r}")
    return seen


def _see(bases: dict[str, str]) -> SeenPages:
    """Return {(base, view, path): Seen} for every registered look's page at both bases: one
    browser context per view, the views at once."""

    def one_view(view: str) -> SeenPages:
        paths = sorted({path for (v, path) in LOOKS if v == view})
        where = {url + path: (url, path) for url in bases.values() for path in paths}

        async def visit(tab: Tab) -> Seen:
            return await _visit(view, where[tab.address][1], tab)

        results = visit_all(list(where), visit, bindings=[POLICY], init_script=POLICY_WATCH, **VIEWS[view])
        return {(url, view, path): results[address] for address, (url, path) in where.items()}

    with ThreadPoolExecutor(len(VIEWS)) as pool:
        return {key: page for found in pool.map(one_view, VIEWS) for key, page in found.items()}


SeenPages = dict[tuple[str, str, str], Seen]


def page_of(seen: SeenPages, base: str, view: str, path: str, status: int = 200) -> Seen:
    """Return the page at `path` of `base` in `view`, once it came with `status` and the site's
    policy refused nothing on it (whatever its looks did: math, the 404 page's base, the lightbox)."""
    page = seen[base, view, path]
    assert page.status == status, path
    assert page.violations == [], page.violations
    return page


# --- Every browser pass at once ---------------------------------------------------------
#
# The module's browser work is a handful of passes: the pages the reader tests look at (_see),
# one axe pass per colour scheme, then three Lighthouse runs. Each spends much of its time
# waiting (a page's network to settle, a browser's start), so the passes the selected tests
# need start together when the first of them asks, each in its own browser, and each test
# waits for its own pass's result: a pass that fails fails its tests only. Lighthouse runs after
# them, its three runs at once as before: its robots.txt audit fetches with a 2 s timeout
# (lighthouse's core/gather/fetcher.js), which a machine crowded with browsers can miss.

LIGHTHOUSE_CATEGORIES = ("accessibility", "best-practices", "seo")


@pytest.fixture(scope="module")
def started(bases: dict[str, str], request: pytest.FixtureRequest) -> Iterator[dict[str, Future[Any]]]:
    """Return {pass: its future} for the passes the module's selected tests ask for, all started."""
    mine = [item for item in request.session.items if item.module is request.module]  # type: ignore[attr-defined]
    asked = {name for item in mine for name in getattr(item, "fixturenames", ())}
    schemes = {
        item.callspec.params["scheme"]
        for item in mine
        if "axe_found" in getattr(item, "fixturenames", ()) and hasattr(item, "callspec")
    }
    jobs: dict[str, tuple[Callable[..., Any], tuple[Any, ...]]] = {}
    if "seen" in asked:
        jobs["seen"] = (_see, (bases,))
    for scheme in sorted(schemes):
        jobs[f"axe {scheme}"] = (_axe_pass, (bases, scheme))
    with ThreadPoolExecutor(max(len(jobs), 1)) as pool:
        yield {name: pool.submit(job, *args) for name, (job, args) in jobs.items()}


@pytest.fixture(scope="module")
def seen(started: dict[str, Future[Any]]) -> SeenPages:
    """Return {(base, view, path): Seen} for every registered look's page at both bases."""
    found: SeenPages = started["seen"].result()
    return found


@pytest.fixture(scope="module")
def axe_found(started: dict[str, Future[Any]]) -> dict[str, Future[Any]]:
    """Return {scheme: the future of its axe pass's (where, seen)}."""
    return {name.split(" ", 1)[1]: run for name, run in started.items() if name.startswith("axe ")}


@pytest.fixture(scope="module")
def lighthouse_scores(bases: dict[str, str], started: dict[str, Future[Any]]) -> dict[str, Any]:
    """Return {page name: its Lighthouse run's scores and failed audits}, the three runs at once
    once the other passes are done (whether they passed is their tests' to say)."""
    wait(started.values())
    with ThreadPoolExecutor(len(LIGHTHOUSE_PAGES)) as pool:
        runs = {
            name: pool.submit(lighthouse, bases["subpath"] + PAGES[name], "mobile", LIGHTHOUSE_CATEGORIES)
            for name in LIGHTHOUSE_PAGES
        }
        return {name: run.result() for name, run in runs.items()}


# --- Accessibility ----------------------------------------------------------------------


# One axe pass per colour scheme, not one per base path too. Served at the root or under
# /nbpress-blog/, a page is the same file (MkDocs links every page, stylesheet and script
# relatively), so axe judges the same document, provided everything it links loaded: the pass
# runs under the sub-path, as GitHub Pages serves a project site, and asserts that nothing of
# the site's own failed to load there. The one page whose links do not follow the address it is
# served at is the 404 page (its links start from site_url's path, whatever address was asked):
# it is judged at both bases. A pass's pages are judged at once (tests/browser_pages.py), each
# page's violations and failed requests its own.
@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_axe_finds_no_serious_violation_on_any_page_kind(
    axe_found: dict[str, Future[Any]], scheme: str
) -> None:
    where, seen = axe_found[scheme].result()
    for address, (status, colours, _, _) in seen.items():
        assert status == (404 if where[address].startswith("404") else 200), address
        assert colours == ("slate" if scheme == "dark" else "default"), address
    found = {where[address]: violations for address, (_, _, violations, _) in seen.items()}
    assert found == {name: [] for name in found} and len(found) == len(PAGES) + 1
    # What a page links loaded (the 404 page's misses are the missing address itself, the
    # script's probes for 404.html and the preload scanner's guesses below it).
    failed = [f for _, _, _, page_failed in seen.values() for f in page_failed]
    missed = [f for f in failed if not re.match(r"\d+ http://127\.0\.0\.1:\d+/(nbpress-blog/)?no/", f)]
    assert missed == [], missed


def _axe_pass(
    bases: dict[str, str], scheme: str
) -> tuple[dict[str, str], dict[str, tuple[int, str | None, list[dict[str, Any]], list[str]]]]:
    """Return ({address: page name}, {address: _axe_page's verdict}) of one scheme's pass."""
    where = {bases["subpath"] + path: name for name, path in PAGES.items()}
    where[bases["root"] + PAGES["404"]] = "404 at the root"
    return where, visit_all(list(where), _axe_page, color_scheme=scheme, viewport=DESKTOP)


async def _axe_page(tab: Tab) -> tuple[int, str | None, list[dict[str, Any]], list[str]]:
    """Return (status, data-md-color-scheme, axe's serious and critical violations, site requests
    that failed) of the page at `tab.address`, once its network is idle."""
    failed: list[str] = []
    tab.page.on(
        "response",
        lambda r: failed.append(f"{r.status} {r.url}") if r.status >= 400 and "127.0.0.1" in r.url else None,
    )
    response = await tab.page.goto(tab.address)
    await tab.page.wait_for_load_state("networkidle")
    colours = await tab.page.locator("body").get_attribute("data-md-color-scheme")
    # Evaluated by the debugger protocol (bench/reader_audit.axe): the policy stays on.
    await tab.page.evaluate(AXE_SOURCE.read_text(encoding="utf-8"))
    result = await tab.page.evaluate(AXE_RUN, AXE_TAGS)
    serious = [v for v in violations(result) if v["impact"] in ("serious", "critical")]
    return (response.status if response else 0), colours, serious, failed


def test_lighthouse_accessibility_best_practices_seo_are_100(lighthouse_scores: dict[str, Any]) -> None:
    """Each page judged by its own Lighthouse run (each its own Chromium), the three at once:
    these categories judge the page, not how fast it came."""
    expected = {"accessibility": 100, "best-practices": 100, "seo": 100, "failed": []}
    assert lighthouse_scores == {name: expected for name in LIGHTHOUSE_PAGES}


# --- Reading a post ---------------------------------------------------------------------

STYLE = """e => { const c = getComputedStyle(e);
    return [c.backgroundColor, c.borderLeftColor, c.borderLeftWidth, c.color].join(' ') }"""


@look("desktop", "posts/showcase/")
async def outputs_look(page: Any, seen: Seen) -> dict[str, Any]:
    return {
        "code": await page.locator("div.highlight pre > code").first.evaluate(STYLE),
        "kinds": {
            k: await page.locator(f".nbpress-{k} pre > code").evaluate(STYLE)
            for k in ("stdout", "stderr", "error", "result")
        },
        "output copy buttons": await page.locator(
            ".nbpress-output button[data-md-type='copy']:visible"
        ).count(),
        "code copy buttons": await page.locator("div.highlight button[data-md-type='copy']:visible").count(),
    }


def test_outputs_look_apart_from_code_and_from_each_other(seen: SeenPages, base: str) -> None:
    looks = page_of(seen, base, "desktop", "posts/showcase/")["outputs_look"]
    kinds = looks["kinds"]
    assert len({looks["code"], *kinds.values()}) == 5, kinds  # five different looks
    assert looks["output copy buttons"] == 0
    assert looks["code copy buttons"] > 0


@look("phone", "posts/showcase/", *(f"posts/{slug}/" for slug in POSTS))
async def copy_buttons(page: Any, seen: Seen) -> tuple[int, int]:
    overlaps = await page.evaluate(
        """() => [...document.querySelectorAll('pre > nav button[data-md-type="copy"]')].filter(b => {
            const code = b.closest('pre').querySelector('code').getBoundingClientRect();
            const r = b.getBoundingClientRect();
            return r.width > 0 && r.left < code.right && r.top < code.bottom && r.bottom > code.top;
        }).length"""
    )
    buttons = await page.locator("pre > nav button[data-md-type='copy']:visible").count()
    return buttons, overlaps


@pytest.mark.parametrize("slug", ["showcase", *POSTS])
def test_no_text_runs_under_a_copy_button_on_a_phone(seen: SeenPages, base: str, slug: str) -> None:
    buttons, overlaps = page_of(seen, base, "phone", f"posts/{slug}/")["copy_buttons"]
    assert buttons > 0 and overlaps == 0


@look("phone", *(f"posts/{slug}/" for slug in POSTS))
@look("desktop", *(f"posts/{slug}/" for slug in POSTS))
async def byline(page: Any, seen: Seen) -> dict[str, Any]:
    byline = page.locator("article .nbpress-byline")
    return {
        "visible": await byline.is_visible(),
        "text": await byline.inner_text(),
        "h1": await page.locator("article h1").first.inner_text(),
        "box": await byline.bounding_box(),
        "first code": await page.locator("article div.highlight").first.bounding_box(),
    }


@pytest.mark.parametrize("view", ["phone", "desktop"])
@pytest.mark.parametrize("slug", sorted(POSTS))
def test_date_author_and_reading_time_lead_the_post(seen: SeenPages, base: str, slug: str, view: str) -> None:
    facts = page_of(seen, base, view, f"posts/{slug}/")["byline"]
    assert facts["visible"]
    text = facts["text"]
    title, date, _ = POSTS[slug]
    assert date in text and "Steve Han" in text and re.search(r"\d+ min read", text), text
    assert facts["h1"].strip().rstrip("¶").strip() == title
    box, first_code = facts["box"], facts["first code"]
    assert box is not None and first_code is not None
    assert box["y"] + box["height"] <= min(first_code["y"], VIEWS[view]["viewport"]["height"])


@look("dark", "posts/SLR_NN/", clicks=True)
async def palette_toggle(page: Any, seen: Seen) -> tuple[str | None, str | None]:
    body = page.locator("body")
    before = await body.get_attribute("data-md-color-scheme")
    await page.locator("form[data-md-component='palette'] label:visible").first.click()
    return before, await body.get_attribute("data-md-color-scheme")


def test_colour_scheme_follows_the_system_and_the_toggle(seen: SeenPages, base: str) -> None:
    assert page_of(seen, base, "dark", "posts/SLR_NN/")["palette_toggle"] == ("slate", "default")


@look("dark", "posts/SLR_NN/")
async def dark_figures(page: Any, seen: Seen) -> list[list[str]]:
    looks: list[list[str]] = await page.locator("article img.img-responsive").evaluate_all(
        "imgs => imgs.map(i => { const c = getComputedStyle(i); "
        "return [c.filter, c.backgroundColor, c.paddingTop] })"
    )
    (REPO / "screenshots").mkdir(exist_ok=True)
    await page.screenshot(path=str(REPO / "screenshots" / "post-dark-figures.png"))
    return looks


def test_figures_sit_on_a_dark_page_as_framed_dimmed_cards(seen: SeenPages, base: str) -> None:
    looks = page_of(seen, base, "dark", "posts/SLR_NN/")["dark_figures"]
    assert len(looks) == 5
    for filter_, background, padding in looks:
        assert filter_.startswith("brightness(") and float(filter_[11:-1]) < 1
        assert background == "rgb(255, 255, 255)" and padding != "0px"


@look("desktop", "posts/showcase/")
async def showcase_h5(page: Any, seen: Seen) -> tuple[str, str]:
    h5 = page.locator("article h5").first
    return await h5.evaluate("h => getComputedStyle(h).textTransform"), await h5.inner_text()


@look("desktop", "posts/SLR_NN/")
async def seed_h5(page: Any, seen: Seen) -> tuple[str, str, str]:
    small = page.locator("article .nbpress-h5").first
    return (
        await small.inner_text(),
        await small.evaluate("h => h.tagName"),
        await small.evaluate("h => getComputedStyle(h).textTransform"),
    )


def test_small_headings_keep_their_case(seen: SeenPages, base: str) -> None:
    transform, text = page_of(seen, base, "desktop", "posts/showcase/")["showcase_h5"]
    assert transform == "none"
    assert text.startswith("torch.manual_seed(0) keeps its case")
    # The seed's h5 follows an h3: published as an h3 (no gap in the outline) that looks like an h5.
    text, tag, transform = page_of(seen, base, "desktop", "posts/SLR_NN/")["seed_h5"]
    assert text.startswith("a. Both models") and tag == "H3"
    assert transform == "none"


@look("desktop", "posts/SLR_NN/")
async def toc(page: Any, seen: Seen) -> list[str]:
    return [t.strip() for t in await page.locator("nav.md-nav--secondary a.md-nav__link").all_inner_texts()]


def test_slr_nn_has_a_table_of_contents(seen: SeenPages, base: str) -> None:
    entries = page_of(seen, base, "desktop", "posts/SLR_NN/")["toc"]
    assert "1. Linear Regression Model in Tensorflow" in entries
    assert "2. Linear Regression Model in PyTorch" in entries


@look("desktop", "posts/SLR_NN/")
async def seed_math(page: Any, seen: Seen) -> tuple[str, int]:
    return await page.locator("article").inner_text(), await page.locator(".arithmatex").count()


@look("desktop", "posts/showcase/")
async def showcase_math(page: Any, seen: Seen) -> tuple[int, int, int]:
    await page.locator(".katex").first.wait_for()
    return (
        await page.locator(".arithmatex .katex").count(),
        await page.locator(".katex-display").count(),
        await page.locator(".katex-error").count(),
    )


def test_posts_hold_the_seed_text_only_and_math_renders_where_it_is(seen: SeenPages, base: str) -> None:
    seed = page_of(seen, base, "desktop", "posts/SLR_NN/")
    text, arithmatex = seed["seed_math"]
    assert "mean squared error" not in text
    assert arithmatex == 0
    assert not [u for u in seed.requests if "katex" in u]  # KaTeX only where there is math
    showcase = page_of(seen, base, "desktop", "posts/showcase/")
    typeset, display, errors = showcase["showcase_math"]
    assert typeset == 2
    assert display == 1 and errors == 0
    assert any(u.endswith(".woff2") for u in showcase.requests)
    assert seed.failed == [] and showcase.failed == []


@look("desktop", "posts/SLR_NN/", clicks=True)
async def lightbox(page: Any, seen: Seen) -> bool:
    await page.locator("article img.img-responsive").first.click()
    await page.locator(".glightbox-container .gslide-image img").first.wait_for(state="visible")
    return True


LOOKS["desktop", "tags/"] = []  # loaded for its requests only (the test below)


def test_glightbox_only_on_pages_with_figures(seen: SeenPages, base: str) -> None:
    listings = [page_of(seen, base, "desktop", path) for path in ("", "tags/")]
    assert not [u for p in listings for u in p.requests if "glightbox" in u]
    post = page_of(seen, base, "desktop", "posts/SLR_NN/")
    assert [u for u in post.requests if "glightbox.min.js" in u]
    assert post["lightbox"]
    assert [f for p in (*listings, post) for f in p.failed] == []


# --- Listings -----------------------------------------------------------------------------


@look("desktop", "")
async def cards(page: Any, seen: Seen) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for title, _, _ in POSTS.values():
        card = page.locator("article.md-post--excerpt", has_text=title)
        img = card.locator("a.nbpress-thumb img")
        found[title] = {
            "summary": await card.locator(".nbpress-summary").inner_text(),
            "size": (await img.get_attribute("width"), await img.get_attribute("height")),
            "title": await card.locator("h2 a").inner_text(),
        }
    showcase = page.locator("article.md-post--excerpt", has_text="Showcase of outputs")
    found["Showcase of outputs"] = {"summary": await showcase.locator(".nbpress-summary").inner_text()}
    found["shift"] = await page.evaluate(
        """() => new Promise(done => { let total = 0;
            new PerformanceObserver(l => l.getEntries().forEach(e => total += e.value))
              .observe({type: 'layout-shift', buffered: true});
            setTimeout(() => done(total), 500); })"""
    )
    return found


def test_cards_show_a_summary_and_a_sized_thumbnail(seen: SeenPages, base: str) -> None:
    cards = page_of(seen, base, "desktop", "")["cards"]
    for slug, (title, _, _) in POSTS.items():
        card = cards[title]
        assert card["summary"] == description(slug)
        width, height = card["size"]
        assert int(width or 0) > 0 and int(height or 0) > 0
        assert card["title"] == title
    assert cards["shift"] < 0.1


@look("desktop", "posts/showcase/")
async def showcase_title(page: Any, seen: Seen) -> dict[str, Any]:
    return {
        "title": await page.title(),
        "h1": await page.locator("article h1").first.inner_text(),
        "h1 b": await page.locator("article h1 b").count(),
        "alert scripts": await page.locator("script:text('alert(1)')").count(),
        "og": await page.locator("meta[property='og:description']").get_attribute("content"),
    }


def test_titles_and_summaries_show_as_typed(seen: SeenPages, base: str) -> None:
    facts = page_of(seen, base, "desktop", "posts/showcase/")["showcase_title"]
    assert facts["title"].startswith("Showcase of outputs & math <b>as typed</b>")
    assert facts["h1"].startswith("Showcase of outputs & math <b>as typed</b>")
    assert facts["h1 b"] == 0 and facts["alert scripts"] == 0
    assert (
        facts["og"]
        == "A hand-made post <script>alert(1)</script> holding every kind of output, math and small headings."
    )
    card = page_of(seen, base, "desktop", "")["cards"]["Showcase of outputs"]
    assert "<script>alert(1)</script>" in card["summary"]


# --- Any base path, links, downloads ----------------------------------------------------


@look("desktop", "no/such/page/", clicks=True)
async def not_found(page: Any, seen: Seen) -> dict[str, Any]:
    position = await page.locator(".md-header").evaluate("h => getComputedStyle(h).position")
    failed = list(seen.failed)  # before the click: the home page's requests are not the 404 page's
    await page.locator("a", has_text="home page").click()
    await page.wait_for_load_state("networkidle")
    return {"position": position, "failed": failed, "home": page.url}


def test_404_page_is_styled_at_any_base_path(seen: SeenPages, base: str) -> None:
    facts = page_of(seen, base, "desktop", "no/such/page/", status=404)["not_found"]
    assert facts["position"] == "sticky"
    # Everything under the site's own folders loaded (misses are the missing address itself,
    # the script's probes for 404.html and the preload scanner's guesses below it).
    assert all(f.split(" ", 1)[1].startswith(f"{base}no/") for f in facts["failed"]), facts["failed"]
    assert facts["home"] == base


@look("desktop", *(f"posts/{slug}/" for slug in POSTS))
async def download(page: Any, seen: Seen) -> dict[str, Any]:
    href = await page.locator("a.nbpress-download").get_attribute("href")
    response = await page.request.get(urllib.parse.urljoin(page.url, href))
    notebook = json.loads(await response.body())
    return {
        "status": response.status,
        "outputs": [  # each output's kinds of data
            list(o.get("data", {}))
            for c in notebook["cells"]
            if c["cell_type"] == "code"
            for o in c["outputs"]
        ],
        "colab": await page.locator("a.nbpress-colab").get_attribute("href"),
        "source": await page.locator("a.nbpress-source").get_attribute("href"),
    }


@pytest.mark.parametrize("slug", sorted(POSTS))
def test_download_serves_the_executed_notebook(seen: SeenPages, base: str, slug: str) -> None:
    facts = page_of(seen, base, "desktop", f"posts/{slug}/")["download"]
    outputs = facts["outputs"]
    assert facts["status"] == 200 and any("image/png" in kinds for kinds in outputs)
    assert facts["colab"] == (
        f"https://colab.research.google.com/github/nbpress/nbpress-blog/blob/main/posts/{slug}.ipynb"
    )
    assert facts["source"] == f"https://github.com/nbpress/nbpress-blog/blob/main/posts/{slug}.ipynb"


def test_no_placeholder_link_anywhere(reader_site: Path) -> None:
    pages = [p.read_text(encoding="utf-8") for p in reader_site.rglob("*.html")]
    assert pages and not any("example/nbpress-blog" in p or "example.github.io" in p for p in pages)


# --- Feed, meta, sitemap ----------------------------------------------------------------


def test_feed_items_carry_summary_figure_date_author_categories(reader_site: Path) -> None:
    root = ET.fromstring((reader_site / "feed_rss_created.xml").read_bytes())
    assert [u.text for u in root.iter("url")] == []  # no <image><url>None</url>
    items = {i.findtext("link"): i for i in root.iter("item")}
    for slug, (_, _, day) in POSTS.items():
        item = items[f"{SITE_URL}posts/{slug}/"]
        assert item.findtext("description") == description(slug)
        # A name is Dublin Core's creator: RSS 2.0's <author> is an e-mail address.
        assert item.findtext("{http://purl.org/dc/elements/1.1/}creator") == "Steve Han"
        assert item.find("author") is None
        assert [c.text for c in item.iter("category")] == ["NN", "Python"]
        assert item.findtext("pubDate", "").startswith(
            {"2024-06-11": "Tue, 11 Jun 2024", "2024-06-18": "Tue, 18 Jun 2024"}[day]
        )
        enclosure = item.find("enclosure")
        assert enclosure is not None and enclosure.get("url", "").startswith(
            f"{SITE_URL}assets/images/{slug}/"
        )
        local = reader_site / enclosure.get("url", "")[len(SITE_URL) :]
        assert int(enclosure.get("length", "0")) == local.stat().st_size


def test_post_meta_and_sitemap_dates(reader_site: Path) -> None:
    sitemap = (reader_site / "sitemap.xml").read_text(encoding="utf-8")
    for slug, (_, _, day) in POSTS.items():
        html = (reader_site / "posts" / slug / "index.html").read_text(encoding="utf-8")
        meta = dict(re.findall(r'<meta property="([^"]+)" content="([^"]*)"', html))
        assert meta["og:description"] == description(slug)
        assert meta["og:image"].startswith(f"{SITE_URL}assets/images/{slug}/output_")
        assert meta["article:published_time"] == day
        assert re.search(
            rf"<loc>{re.escape(SITE_URL)}posts/{slug}/</loc>\s*<lastmod>{day}</lastmod>", sitemap
        )


def test_without_a_github_remote_no_repository_link(tmp_path: Path, real_site: Path) -> None:
    site = build_site(tmp_path / "blog", source=real_site, remote="https://gitlab.example/some/where.git")
    html = (site / "posts" / "SLR_NN" / "index.html").read_text(encoding="utf-8")
    assert "nbpress-download" in html
    assert "nbpress-colab" not in html and "nbpress-source" not in html and "md-source" not in html
    assert not (site / "feed_rss_created.xml").exists()


def test_404_status_is_served(base: str) -> None:
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(base + "no/such/page/", timeout=HANG)
    assert err.value.code == 404 and b"404 - Not found" in err.value.read()
    assert urlsplit(base).hostname == "127.0.0.1"


def test_zensical_builds_the_same_sources_and_every_figure_resolves(
    reader_site: Path, tmp_path: Path
) -> None:
    blog = tmp_path / "blog"  # a copy: the served site stays MkDocs' build
    shutil.copytree(reader_site.parent, blog, symlinks=True, ignore=shutil.ignore_patterns("site"))
    zensical_build(blog)
    site = blog / "site"
    for slug in POSTS:
        html = (site / "posts" / slug / "index.html").read_text(encoding="utf-8")
        figures = re.findall(rf'<img[^>]*src="([^"]*assets/images/{slug}/[^"]*)"', html)
        assert len(figures) == len(list((blog / "assets" / "images" / slug).glob("*.png")))
        for src in figures:
            # The Markdown links figures relative to itself (nbpress.layout.PostFiles.figure_url).
            target = site / src.lstrip("/") if src.startswith("/") else site / "posts" / slug / src
            assert target.resolve().is_file(), src
        assert "nbpress-byline" in html and "nbpress-download" in html
