"""The site around the posts (issue 21): downloads, figures, the 404 page, the header and the feeds.

One blog, built once by `build.py` with a real kernel: a post with `slug: pretty-url` (its page
is not named after its file), a declared input file and figures, and a plain post. It is built
by `mkdocs build --strict` and by Zensical, with a GitHub remote (a project site under
/nbpress-blog/) and without one (a site at a domain's root), and served at that path to
Debian's Chromium. The rule each test holds: a URL is decided once by the build (figures
relative to the Markdown, downloads in the post's record) and the templates only read it.
"""

from __future__ import annotations

import contextlib
import re
import shutil
import subprocess
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

import pytest

from nbpress.pipeline import Options, build
from tests.helpers import (
    GITHUB_REMOTE,
    GITHUB_REPO_URL,
    GITHUB_SITE_URL,
    REPO,
    copy_skeleton,
    launch_chromium,
    mkdocs,
    watch_policy,
    write_post,
    zensical_build,
)
from tests.siteserver import serve

pytestmark = pytest.mark.slow

FIGURE = "import matplotlib.pyplot as plt\nplt.plot([1, 3, 2])\nplt.show()"
SVG = (
    "from IPython.display import SVG\n"
    'SVG(\'<svg xmlns="http://www.w3.org/2000/svg" width="40" height="40">'
    '<rect width="40" height="40" fill="red"/></svg>\')'
)
BUILDS = ["mkdocs-sub", "mkdocs-root", "zensical-sub", "zensical-root"]
# Where each built site is served: a project site under its repository's name, or a domain root.
SUB = "/nbpress-blog/"
DC = "{http://purl.org/dc/elements/1.1/}creator"


def _source(blog: Path) -> None:
    """Write the two posts of the blog: one with a pretty URL slug and an input, one plain."""
    (blog / "posts" / "data.csv").write_text("x,y\n1,2\n", encoding="utf-8")
    write_post(
        blog,
        "notebook-name",
        "print(open('data.csv').read())",
        FIGURE,
        SVG,
        front="slug: pretty-url\nauthor: Steve Han\ninputs: [data.csv]\n",
    )
    write_post(blog, "plain", FIGURE, front="author: Steve Han\n")
    # A local image drawn dark on a transparent ground, as matplotlib's savefig(transparent=True) makes it.
    from PIL import Image, ImageDraw

    chart = Image.new("RGBA", (120, 80), (0, 0, 0, 0))
    ImageDraw.Draw(chart).line([(10, 70), (60, 10), (110, 50)], fill=(0, 0, 0, 255), width=3)
    chart.save(blog / "posts" / "chart.png")
    (blog / "posts" / "pictured.md").write_text(
        "---\ntitle: Pictured\ndate: 2024-01-03\nauthor: Steve Han\n---\n\nA figure from a file:\n\n"
        "![a rising line](chart.png)\n",
        encoding="utf-8",
    )


@pytest.fixture(scope="module")
def sources(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Return a blog whose posts build.py executed and published (no site built)."""
    blog = copy_skeleton(tmp_path_factory.mktemp("chrome") / "blog")
    _source(blog)
    results = build(Options(root=blog, jobs=2))
    assert {r.status for r in results} == {"executed"}, [str(r.error) for r in results]
    return blog


def _copy(sources: Path, dest: Path, remote: bool) -> Path:
    shutil.copytree(sources, dest, symlinks=True, ignore=shutil.ignore_patterns("site", ".git"))
    subprocess.run(["git", "init", "-q", str(dest)], check=True)
    if remote:
        subprocess.run(["git", "-C", str(dest), "remote", "add", "origin", GITHUB_REMOTE], check=True)
    return dest


@pytest.fixture(scope="module")
def sites(sources: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, str]]:
    """Return {name: (built site, the path it is served at)} for both builders, with and without a remote."""
    folder = tmp_path_factory.mktemp("sites")
    found = {}
    for remote in (True, False):
        where = "sub" if remote else "root"
        blog = _copy(sources, folder / f"mkdocs-{where}", remote)
        proc = mkdocs(blog, "build", "--strict")
        assert proc.returncode == 0, proc.stderr
        found[f"mkdocs-{where}"] = (blog / "site", SUB if remote else "/")
        blog = _copy(sources, folder / f"zensical-{where}", remote)
        if remote:  # Zensical runs no hooks: what hooks/reader.py takes from the remote is set by hand
            with (blog / "mkdocs.yml").open("a", encoding="utf-8") as config:
                config.write(f"site_url: {GITHUB_SITE_URL}\nrepo_url: {GITHUB_REPO_URL}\n")
        found[f"zensical-{where}"] = (zensical_build(blog), SUB if remote else "/")
    return found


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with launch_chromium() as chromium:
        yield chromium


def _links(html: str, tag: str, **wanted: str) -> list[dict[str, str]]:
    """Return the attributes of every `tag` element of `html` whose attributes include `wanted`."""
    found = []
    for attrs in re.findall(rf"<{tag}\b([^>]*)>", html):
        values = dict(re.findall(r'([\w:-]+)="([^"]*)"', attrs))
        if all(values.get(k) == v for k, v in wanted.items()):
            found.append(values)
    return found


# --- Downloads: the build's URL, whatever the post's slug ---------------------------------


def _served(site: Path, page: str, href: str) -> Path:
    """Return the file of `site` a link `href` of the page at `page` (a folder URL) names."""
    return site / urljoin(f"http://site/{page}", href).removeprefix("http://site/")


@pytest.mark.parametrize("name", BUILDS)
def test_a_pretty_slug_keeps_its_download_and_input_links(
    sites: dict[str, tuple[Path, str]], name: str
) -> None:
    site, _ = sites[name]
    html = (site / "posts" / "pretty-url" / "index.html").read_text(encoding="utf-8")
    downloads = [a["href"] for a in _links(html, "a", **{"class": "md-button nbpress-download"})]
    assert len(downloads) == 1, "the Download notebook button"
    inputs = re.search(r'<p class="nbpress-inputs">(.*?)</p>', html, re.S)
    assert inputs is not None
    data = re.findall(r'href="([^"]*)"', inputs.group(1))
    assert len(data) == 1 and ">data.csv<" in inputs.group(1)
    for href in (*downloads, *data):
        assert not href.startswith(("/", "http")), href  # relative: any base path
    notebook = _served(site, "posts/pretty-url/", downloads[0])
    assert notebook.name == "notebook-name.ipynb" and '"cells"' in notebook.read_text(encoding="utf-8")
    assert _served(site, "posts/pretty-url/", data[0]).read_text(encoding="utf-8") == "x,y\n1,2\n"


@pytest.mark.parametrize("name", BUILDS)
def test_each_posts_files_are_where_its_post_files_say(
    sources: Path, sites: dict[str, tuple[Path, str]], name: str
) -> None:
    # One value per post (nbpress.layout.PostFiles) names its page, figures and downloads; both
    # builders, at a sub-path and at a domain's root, put them exactly there.
    from nbpress.pipeline import files_of
    from nbpress.record import read
    from nbpress.sources.posts import read_post

    site, _ = sites[name]
    for source, page in (("notebook-name.ipynb", "posts/pretty-url/"), ("plain.ipynb", "posts/plain/")):
        files = files_of(read_post(sources / "posts" / source, sources), sources)
        assert files.page_url == page
        record = read(files.markdown)
        assert record is not None and record.figure is not None and record.figures
        assert record.notebook == files.download_url(files.notebook)
        html = (site / files.page_url / "index.html").read_text(encoding="utf-8")
        shown = {_served(site, files.page_url, img["src"]) for img in _links(html, "img")}
        for figure in record.figures:
            assert (site / files.figure_src(figure)).read_bytes() == files.figure(figure).read_bytes()
            assert site / files.figure_src(figure) in shown, figure
        assert (site / record.figure.src).is_file()
        for url in (record.notebook, *(i.url for i in record.inputs)):
            assert (site / url).is_file(), url


def test_no_template_makes_a_url_from_the_slug() -> None:
    # The build writes every published URL (figures, downloads) into the record; a template
    # that put one together from the post's slug would break with a slug: front matter key.
    for path in (REPO / "overrides").rglob("*.html"):
        text = path.read_text(encoding="utf-8")
        assert "meta.slug" not in text and "'assets/" not in text and '"assets/' not in text, path.name


@contextlib.contextmanager
def _watched_page(browser: Any, site: Path, prefix: str) -> Iterator[tuple[str, Any, list[str]]]:
    """Yield (the site's base URL, a 1280 px page, the policy violations) for `site` served at `prefix`."""
    with serve(site, prefix) as base:
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        violations = watch_policy(context)
        try:
            yield base, context.new_page(), violations
        finally:
            context.close()


# --- Figures: relative to the Markdown, so both builders resolve them at any base path -----


def test_the_markdown_links_figures_relative_to_itself(sources: Path) -> None:
    markdown = (sources / "site_src" / "posts" / "notebook-name.md").read_text(encoding="utf-8")
    links = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", markdown)
    assert len(links) == 2 and all(link.startswith("../assets/images/notebook-name/") for link in links)
    assert "](/" not in markdown


@pytest.mark.browser
@pytest.mark.parametrize("name", BUILDS)
def test_every_image_loads_on_posts_and_listing(
    sites: dict[str, tuple[Path, str]], browser: Any, name: str
) -> None:
    site, prefix = sites[name]
    with _watched_page(browser, site, prefix) as (base, page, violations):
        failed: list[str] = []
        page.on("response", lambda r: failed.append(f"{r.status} {r.url}") if r.status >= 400 else None)
        for path, least in (("posts/pretty-url/", 3), ("posts/plain/", 2), ("", 2)):
            page.goto(base + path)
            page.wait_for_load_state("networkidle")
            images = page.locator("img")
            assert images.count() >= least, path  # the figures (and the author's avatar)
            for i in range(images.count()):  # figures below the fold load lazily
                images.nth(i).scroll_into_view_if_needed()
            page.wait_for_function("() => [...document.images].every(i => i.complete)")
            widths = page.evaluate("[...document.images].map(i => [i.getAttribute('src'), i.naturalWidth])")
            assert all(width > 0 for _, width in widths), (path, widths)
    # Zensical's bundle asks a CDN for glightbox unless the page has it: the site's own copy.
    assert failed == [] and violations == [], (failed, violations)


@pytest.mark.browser
def test_zensical_header_shows_its_own_search(
    sites: dict[str, tuple[Path, str]], browser: Any, tmp_path: Path
) -> None:
    site, prefix = sites["zensical-sub"]
    html = (site / "index.html").read_text(encoding="utf-8")
    assert "md-search__button" in html and "md-search__input" not in html
    mk = (sites["mkdocs-sub"][0] / "index.html").read_text(encoding="utf-8")
    assert "md-search__input" in mk and "md-search__button" not in mk
    with serve(site, prefix) as base:
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.goto(base)
        page.wait_for_load_state("networkidle")
        # One line in the header, not stacked icons: no taller than the header's title line.
        box = page.locator(".md-search").bounding_box()
        title = page.locator(".md-header__title").bounding_box()
        assert box is not None and title is not None
        assert box["height"] <= title["height"], (box, title)
        page.locator("header.md-header").screenshot(path=str(tmp_path / "zensical-header.png"))
        page.close()


# --- The 404 page: search and palette at any missing address -------------------------------


@pytest.mark.browser
@pytest.mark.parametrize("name", BUILDS)
def test_search_and_palette_work_on_a_deep_404(
    sites: dict[str, tuple[Path, str]], browser: Any, name: str
) -> None:
    site, prefix = sites[name]
    with _watched_page(browser, site, prefix) as (base, page, violations):
        uncaught: list[str] = []
        asked: list[str] = []
        page.on("pageerror", lambda error: uncaught.append(str(error)))
        page.on("request", lambda r: asked.append(r.url) if "search" in urlsplit(r.url).path else None)
        response = page.goto(base + "a/b/c/missing/")
        assert response is not None and response.status == 404
        page.wait_for_load_state("networkidle")
        if name.startswith("zensical"):
            page.locator(".md-search__button").click()
        else:
            page.locator("input.md-search__input").click()
        page.keyboard.type("matplotlib")
        if name.startswith("zensical"):
            page.get_by_text(re.compile(r"^\d+ results?$")).first.wait_for()
        else:
            page.locator(".md-search-result__item a").first.wait_for()
            assert page.locator(".md-search-result__item").count() >= 1
        page.keyboard.press("Escape")
        body = page.locator("body")
        before = body.get_attribute("data-md-color-scheme")
        page.locator("form[data-md-component='palette'] label:visible").first.click()
        after = body.get_attribute("data-md-color-scheme")
        assert {before, after} == {"default", "slate"}
    assert uncaught == [] and violations == []
    # The index was asked for where the site is, never relative to the missing address.
    assert asked and all(urlsplit(url).path.startswith(prefix) and "/a/b/c/" not in url for url in asked), (
        asked
    )


# --- Feeds: advertised when written; RSS 2.0 by structure ---------------------------------


@pytest.mark.parametrize("name", BUILDS)
def test_pages_advertise_exactly_the_feeds_written(sites: dict[str, tuple[Path, str]], name: str) -> None:
    site, _ = sites[name]
    written = {p.name for p in site.glob("feed_*")}
    for page in ("index.html", "posts/pretty-url/index.html", "404.html"):
        html = (site / page).read_text(encoding="utf-8")
        feeds = _links(html, "link", rel="alternate", type="application/rss+xml")
        advertised = {urljoin(f"http://site/{page}", f["href"]).removeprefix("http://site/") for f in feeds}
        if page == "404.html":  # resolved against the site's root, its <base>
            advertised = {Path(a).name for a in advertised}
        assert advertised <= written, (page, advertised, written)
        if name.startswith("mkdocs"):  # Material links every feed MkDocs writes
            assert advertised == written, (page, advertised, written)
    if name == "mkdocs-root":  # no remote, no site_url: no feed, and no page names one
        assert written == set()
    if name == "mkdocs-sub":
        assert written == {"feed_rss_created.xml", "feed_rss_updated.xml"}


@pytest.mark.parametrize("feed", ["feed_rss_created.xml", "feed_rss_updated.xml"])
def test_the_feed_is_rss_2_with_authors_as_dc_creator(sites: dict[str, tuple[Path, str]], feed: str) -> None:
    site, _ = sites["mkdocs-sub"]
    text = (site / feed).read_text(encoding="utf-8")
    root = ET.fromstring(text)
    assert root.tag == "rss" and root.get("version") == "2.0"
    channels = root.findall("channel")
    assert len(channels) == 1
    channel = channels[0]
    for required in ("title", "link", "description"):
        assert (channel.findtext(required) or "").strip(), required
    items = channel.findall("item")
    assert {i.findtext("title") for i in items} == {"notebook-name", "plain", "Pictured"}
    for item in items:
        assert item.findtext("title") or item.findtext("description")
        assert (item.findtext("link") or "").startswith(GITHUB_SITE_URL)
        # RSS 2.0's author is an e-mail address; a name goes in Dublin Core's creator.
        assert all("@" in (a.text or "") for a in item.iter("author")), ET.tostring(item)
        assert [c.text for c in item.findall(DC)] == ["Steve Han"]
    assert 'xmlns:dc="http://purl.org/dc/elements/1.1/"' in text


@pytest.mark.browser
@pytest.mark.parametrize("name", ["mkdocs-root", "zensical-root"])
def test_a_local_image_sits_on_a_dark_page_as_a_framed_card(
    sites: dict[str, tuple[Path, str]], browser: Any, name: str
) -> None:
    # Outputs carry img-responsive; an image from a Markdown cell does not, and its dark lines on a
    # transparent ground would vanish on the dark scheme without the card every post image gets.
    site, prefix = sites[name]
    with serve(site, prefix) as base:
        page = browser.new_page(color_scheme="dark")
        try:
            page.goto(f"{base}posts/pictured/", wait_until="load")
            look = page.locator("article img[alt='a rising line']").evaluate(
                "i => { const c = getComputedStyle(i); return [c.backgroundColor, c.filter, c.paddingTop] }"
            )
        finally:
            page.close()
    background, filter_, padding = look
    assert background == "rgb(255, 255, 255)" and filter_.startswith("brightness(") and padding != "0px"
