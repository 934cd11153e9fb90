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
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from bench.reader_audit import AXE_TAGS, NODE, PAGES, lighthouse
from bench.reader_site import build_site
from tests.browser_pages import Tab, visit_all
from tests.helpers import FIXTURES, HANG, REPO, launch_chromium, watch_policy, zensical_build
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


@pytest.fixture(scope="module", params=["/", "/nbpress-blog/"], ids=["root", "subpath"])
def base(reader_site: Path, request: pytest.FixtureRequest) -> Iterator[str]:
    with serve(reader_site, str(request.param)) as url:
        yield url


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with launch_chromium() as chromium:
        yield chromium


class Reader:
    """Opens pages in a fresh context (viewport, colour scheme); records failed requests."""

    def __init__(self, browser: Any, base: str, viewport: dict[str, int] = DESKTOP, scheme: str = "light"):
        self.context = browser.new_context(viewport=viewport, color_scheme=scheme)
        self.base = base
        self.requests: list[str] = []
        self.failed: list[str] = []
        self.context.route(re.compile(r"^https?://(?!127\.0\.0\.1)"), lambda route: route.abort())
        self.violations = watch_policy(self.context)  # of the site's Content Security Policy
        self.page = self.context.new_page()
        self.page.on("request", lambda r: self.requests.append(r.url))
        self.page.on(
            "response",
            lambda r: (
                self.failed.append(f"{r.status} {r.url}")
                if r.status >= 400 and "127.0.0.1" in r.url
                else None
            ),
        )

    def open(self, path: str, status: int = 200) -> Any:
        response = self.page.goto(self.base + path)
        assert response is not None and response.status == status, path
        self.page.wait_for_load_state("networkidle")
        return self.page

    def close(self) -> None:
        self.context.close()


@pytest.fixture
def reader(browser: Any, base: str) -> Iterator[Reader]:
    r = Reader(browser, base)
    yield r
    r.close()
    # Whatever a reader test did (math, the 404 page's base, the lightbox), the policy refused nothing.
    assert r.violations == []


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
def test_axe_finds_no_serious_violation_on_any_page_kind(reader_site: Path, scheme: str) -> None:
    with serve(reader_site, "/") as root, serve(reader_site, "/nbpress-blog/") as subpath:
        where = {subpath + path: name for name, path in PAGES.items()}
        where[root + PAGES["404"]] = "404 at the root"
        seen = visit_all(list(where), _axe_page, color_scheme=scheme, viewport=DESKTOP)
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
    result = await tab.page.evaluate(
        "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})", AXE_TAGS
    )
    serious = [
        {
            "id": v["id"],
            "impact": v["impact"],
            "nodes": len(v["nodes"]),
            "help": v["help"],
            "targets": [n["target"] for n in v["nodes"][:3]],
        }
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]
    return (response.status if response else 0), colours, serious, failed


def test_lighthouse_accessibility_best_practices_seo_are_100(reader_site: Path) -> None:
    """Each page judged by its own Lighthouse run, the three at once (each its own Chromium):
    these categories judge the page, not how fast it came."""
    from concurrent.futures import ThreadPoolExecutor

    names = ("home", "post SLR_NN", "post Linear_Regression_SciPy_vs_Torch")
    with serve(reader_site, "/nbpress-blog/") as url, ThreadPoolExecutor(len(names)) as pool:
        runs = {
            name: pool.submit(
                lighthouse, url + PAGES[name], "mobile", ("accessibility", "best-practices", "seo")
            )
            for name in names
        }
        scores = {name: run.result() for name, run in runs.items()}
    expected = {"accessibility": 100, "best-practices": 100, "seo": 100, "failed": []}
    assert scores == {name: expected for name in scores}


# --- Reading a post ---------------------------------------------------------------------


def test_outputs_look_apart_from_code_and_from_each_other(reader: Reader) -> None:
    page = reader.open("posts/showcase/")
    style = """e => { const c = getComputedStyle(e);
        return [c.backgroundColor, c.borderLeftColor, c.borderLeftWidth, c.color].join(' ') }"""
    code = page.locator("div.highlight pre > code").first.evaluate(style)
    kinds = {
        k: page.locator(f".nbpress-{k} pre > code").evaluate(style)
        for k in ("stdout", "stderr", "error", "result")
    }
    assert len({code, *kinds.values()}) == 5, kinds  # five different looks
    assert page.locator(".nbpress-output button[data-md-type='copy']:visible").count() == 0
    assert page.locator("div.highlight button[data-md-type='copy']:visible").count() > 0


@pytest.mark.parametrize("slug", ["showcase", *POSTS])
def test_no_text_runs_under_a_copy_button_on_a_phone(browser: Any, base: str, slug: str) -> None:
    reader = Reader(browser, base, viewport=PHONE)
    page = reader.open(f"posts/{slug}/")
    overlaps = page.evaluate(
        """() => [...document.querySelectorAll('pre > nav button[data-md-type="copy"]')].filter(b => {
            const code = b.closest('pre').querySelector('code').getBoundingClientRect();
            const r = b.getBoundingClientRect();
            return r.width > 0 && r.left < code.right && r.top < code.bottom && r.bottom > code.top;
        }).length"""
    )
    buttons = page.locator("pre > nav button[data-md-type='copy']:visible").count()
    reader.close()
    assert buttons > 0 and overlaps == 0


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
@pytest.mark.parametrize("slug", sorted(POSTS))
def test_date_author_and_reading_time_lead_the_post(
    browser: Any, base: str, slug: str, viewport: dict[str, int]
) -> None:
    reader = Reader(browser, base, viewport=viewport)
    page = reader.open(f"posts/{slug}/")
    byline = page.locator("article .nbpress-byline")
    assert byline.is_visible()
    text = byline.inner_text()
    title, date, _ = POSTS[slug]
    assert date in text and "Steve Han" in text and re.search(r"\d+ min read", text), text
    assert page.locator("article h1").first.inner_text().strip().rstrip("¶").strip() == title
    box = byline.bounding_box()
    first_code = page.locator("article div.highlight").first.bounding_box()
    reader.close()
    assert box is not None and first_code is not None
    assert box["y"] + box["height"] <= min(first_code["y"], viewport["height"])


def test_colour_scheme_follows_the_system_and_the_toggle(browser: Any, base: str) -> None:
    reader = Reader(browser, base, scheme="dark")
    page = reader.open("posts/SLR_NN/")
    body = page.locator("body")
    assert body.get_attribute("data-md-color-scheme") == "slate"
    page.locator("form[data-md-component='palette'] label:visible").first.click()
    assert body.get_attribute("data-md-color-scheme") == "default"
    reader.close()


def test_figures_sit_on_a_dark_page_as_framed_dimmed_cards(browser: Any, base: str) -> None:
    reader = Reader(browser, base, scheme="dark")
    page = reader.open("posts/SLR_NN/")
    looks = page.locator("article img.img-responsive").evaluate_all(
        "imgs => imgs.map(i => { const c = getComputedStyle(i); "
        "return [c.filter, c.backgroundColor, c.paddingTop] })"
    )
    (REPO / "screenshots").mkdir(exist_ok=True)
    page.screenshot(path=str(REPO / "screenshots" / "post-dark-figures.png"))
    reader.close()
    assert len(looks) == 5
    for filter_, background, padding in looks:
        assert filter_.startswith("brightness(") and float(filter_[11:-1]) < 1
        assert background == "rgb(255, 255, 255)" and padding != "0px"


def test_small_headings_keep_their_case(reader: Reader) -> None:
    page = reader.open("posts/showcase/")
    h5 = page.locator("article h5").first
    assert h5.evaluate("h => getComputedStyle(h).textTransform") == "none"
    assert h5.inner_text().startswith("torch.manual_seed(0) keeps its case")
    page = reader.open("posts/SLR_NN/")
    # The seed's h5 follows an h3: published as an h3 (no gap in the outline) that looks like an h5.
    small = page.locator("article .nbpress-h5").first
    assert small.inner_text().startswith("a. Both models") and small.evaluate("h => h.tagName") == "H3"
    assert small.evaluate("h => getComputedStyle(h).textTransform") == "none"


def test_slr_nn_has_a_table_of_contents(reader: Reader) -> None:
    page = reader.open("posts/SLR_NN/")
    entries = [t.strip() for t in page.locator("nav.md-nav--secondary a.md-nav__link").all_inner_texts()]
    assert "1. Linear Regression Model in Tensorflow" in entries
    assert "2. Linear Regression Model in PyTorch" in entries


def test_posts_hold_the_seed_text_only_and_math_renders_where_it_is(reader: Reader) -> None:
    page = reader.open("posts/SLR_NN/")
    assert "mean squared error" not in page.locator("article").inner_text()
    assert page.locator(".arithmatex").count() == 0
    assert not [u for u in reader.requests if "katex" in u]  # KaTeX only where there is math
    reader.requests.clear()
    page = reader.open("posts/showcase/")
    page.locator(".katex").first.wait_for()
    assert page.locator(".arithmatex .katex").count() == 2
    assert page.locator(".katex-display").count() == 1 and page.locator(".katex-error").count() == 0
    assert any(u.endswith(".woff2") for u in reader.requests) and reader.failed == []


def test_glightbox_only_on_pages_with_figures(reader: Reader) -> None:
    reader.open("")
    reader.open("tags/")
    assert not [u for u in reader.requests if "glightbox" in u]
    page = reader.open("posts/SLR_NN/")
    assert [u for u in reader.requests if "glightbox.min.js" in u]
    page.locator("article img.img-responsive").first.click()
    page.locator(".glightbox-container .gslide-image img").first.wait_for(state="visible")
    assert reader.failed == []


# --- Listings -----------------------------------------------------------------------------


def test_cards_show_a_summary_and_a_sized_thumbnail(reader: Reader) -> None:
    page = reader.open("")
    for slug, (title, _, _) in POSTS.items():
        card = page.locator("article.md-post--excerpt", has_text=title)
        assert card.locator(".nbpress-summary").inner_text() == description(slug)
        img = card.locator("a.nbpress-thumb img")
        assert int(img.get_attribute("width") or 0) > 0 and int(img.get_attribute("height") or 0) > 0
        assert card.locator("h2 a").inner_text() == title
    shift = page.evaluate(
        """() => new Promise(done => { let total = 0;
            new PerformanceObserver(l => l.getEntries().forEach(e => total += e.value))
              .observe({type: 'layout-shift', buffered: true});
            setTimeout(() => done(total), 500); })"""
    )
    assert shift < 0.1


def test_titles_and_summaries_show_as_typed(reader: Reader) -> None:
    page = reader.open("posts/showcase/")
    assert page.title().startswith("Showcase of outputs & math <b>as typed</b>")
    assert (
        page.locator("article h1").first.inner_text().startswith("Showcase of outputs & math <b>as typed</b>")
    )
    assert page.locator("article h1 b").count() == 0 and page.locator("script:text('alert(1)')").count() == 0
    og = page.locator("meta[property='og:description']").get_attribute("content")
    assert (
        og
        == "A hand-made post <script>alert(1)</script> holding every kind of output, math and small headings."
    )
    page = reader.open("")
    card = page.locator("article.md-post--excerpt", has_text="Showcase of outputs")
    assert "<script>alert(1)</script>" in card.locator(".nbpress-summary").inner_text()


# --- Any base path, links, downloads ----------------------------------------------------


def test_404_page_is_styled_at_any_base_path(reader: Reader, base: str) -> None:
    page = reader.open("no/such/page/", status=404)
    assert page.locator(".md-header").evaluate("h => getComputedStyle(h).position") == "sticky"
    # Everything under the site's own folders loaded (misses are the missing address itself,
    # the script's probes for 404.html and the preload scanner's guesses below it).
    assert all(f.split(" ", 1)[1].startswith(f"{base}no/") for f in reader.failed), reader.failed
    page.locator("a", has_text="home page").click()
    page.wait_for_load_state("networkidle")
    assert page.url == base


@pytest.mark.parametrize("slug", sorted(POSTS))
def test_download_serves_the_executed_notebook(reader: Reader, slug: str) -> None:
    page = reader.open(f"posts/{slug}/")
    href = page.locator("a.nbpress-download").get_attribute("href")
    response = page.request.get(urllib.parse.urljoin(page.url, href))
    notebook = json.loads(response.body())
    outputs = [o for c in notebook["cells"] if c["cell_type"] == "code" for o in c["outputs"]]
    assert response.status == 200 and any("image/png" in o.get("data", {}) for o in outputs)
    assert page.locator("a.nbpress-colab").get_attribute("href") == (
        f"https://colab.research.google.com/github/nbpress/nbpress-blog/blob/main/posts/{slug}.ipynb"
    )
    assert page.locator("a.nbpress-source").get_attribute("href") == (
        f"https://github.com/nbpress/nbpress-blog/blob/main/posts/{slug}.ipynb"
    )


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
