"""The Content Security Policy every page carries (issue 20, section 1), read from built files.

No browser: the real blog's generated posts, a hand-made post with math and one with chart
libraries are built by `mkdocs build --strict` at the root and under a project sub-path, and by
Zensical; every HTML page must open its <head> with the one policy, and hold no inline script
but the 404 page's, whose hash comes from the template. Chromium's side (the policy lets the
site work and stops attacks) is in tests/test_attacks.py, test_charts.py and test_browser.py.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import re
import shutil
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from bench.reader_site import build_site
from tests.helpers import FIXTURES, REPO, mkdocs, zensical_build

pytestmark = pytest.mark.slow

# The policy, as README's "Safe builds" states it; SCRIPTS is where pages differ.
POLICY = (
    "default-src 'self'; script-src {scripts}; style-src 'self' 'unsafe-inline'; img-src 'self' data:;"
    " font-src 'self'; media-src 'self'; frame-src 'self'; connect-src 'self'; worker-src 'self';"
    " object-src 'none'; base-uri 'self'; form-action 'none'"
)
CHARTS = """---
title: Charts
date: 2024-01-03
authors: [steve-han]
slug: {slug}
nbpress:
  source: posts/{slug}.ipynb
  charts: {charts}
---

A post whose front matter names chart libraries.

{body}
"""
# plotly's WebGL traces: plotly.min.js compiles their shaders' code with new Function; the
# site serves plotly.js's strict bundle, which needs no eval.
GL_FIGURES = [
    {"data": [{"type": "scattergl", "x": [1, 2, 3], "y": [3, 1, 2], "mode": "markers"}]},
    {"data": [{"type": "scatter3d", "x": [1, 2], "y": [1, 2], "z": [1, 2]}]},
    {"data": [{"type": "parcoords", "dimensions": [{"values": [1, 2]}, {"values": [3, 4]}]}]},
]


# A widget whose state the manager's schema refuses (a model without its module): the
# validators, compiled ahead of time instead of by ajv's new Function, still run.
BAD_WIDGET = (
    '<div class="nbpress-chart nbpress-chart-widget" id="w-0" data-nbpress-chart="widget">'
    '<script type="application/vnd.jupyter.widget-state+json">'
    '{"version_major":2,"version_minor":0,"state":{"m":{"model_name":"IntSliderModel","state":{}}}}'
    '</script><script type="application/vnd.jupyter.widget-view+json">'
    '{"model_id":"m","version_major":2,"version_minor":0}</script></div>'
)


def plotly_embeds() -> str:
    """Return GL_FIGURES as nbpress/rendering/charts.py embeds a plotly chart."""
    from nbpress.rendering.charts import embed_json

    return "\n\n".join(
        f'<div class="nbpress-chart nbpress-chart-plotly" id="gl-{i}" data-nbpress-chart="plotly">'
        '<script type="application/json" class="nbpress-chart-data" data-kind="plotly">'
        f"{embed_json(f)}</script></div>"
        for i, f in enumerate(GL_FIGURES)
    )


def template_script_hash() -> str:
    """Return the CSP source of the 404 page's inline script, hashed from the template's text."""
    text = (REPO / "overrides" / "404.html").read_text(encoding="utf-8")
    # Inline scripts only: one with a src is a file of the site ('self').
    scripts = re.findall(r"<script\b(?![^>]*\bsrc=)[^>]*>(.*?)</script>", text, re.S)
    assert len(scripts) == 1 and "{{" not in scripts[0] and "{%" not in scripts[0], "one constant script"
    return "'sha256-" + base64.b64encode(hashlib.sha256(scripts[0].encode()).digest()).decode() + "'"


class _Head(HTMLParser):
    """Collects the start tags of <head> and every <script> with its attributes and text."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.head: list[tuple[str, dict[str, str]]] = []
        self.scripts: list[tuple[dict[str, str], str]] = []
        self._in_head = False
        self._script: dict[str, str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k: v or "" for k, v in attrs}
        if tag == "head":
            self._in_head = True
        elif self._in_head:
            self.head.append((tag, values))
        if tag == "script":
            self._script = values
            self.scripts.append((values, ""))

    def handle_endtag(self, tag: str) -> None:
        if tag == "head":
            self._in_head = False
        if tag == "script":
            self._script = None

    def handle_data(self, data: str) -> None:
        if self._script is not None:
            attrs, text = self.scripts[-1]
            self.scripts[-1] = (attrs, text + data)


def policies(site: Path) -> dict[str, str]:
    """Return {page: its policy} of every HTML page of `site`, checking where each stands."""
    found = {}
    pages = sorted(site.rglob("*.html"))
    assert pages
    for path in pages:
        name = path.relative_to(site).as_posix()
        html = path.read_text(encoding="utf-8")
        parsed = _Head()
        parsed.feed(html)
        assert parsed.head, name
        tag, attrs = parsed.head[0]
        # The first element of <head>: a policy governs only what the browser parses after it.
        assert tag == "meta" and attrs.get("http-equiv") == "Content-Security-Policy", (
            f"{name}: {tag} {attrs}"
        )
        assert sum(a.get("http-equiv") == "Content-Security-Policy" for _, a in parsed.head) == 1, name
        assert html.index("<meta charset") < 1024, f"{name}: the charset past the first 1024 bytes"
        found[name] = attrs["content"]
        for script, text in parsed.scripts:
            if "src" in script or script.get("type", "").endswith("json"):
                continue  # a file of the site, or data (Material's __config, chart data, widget state)
            digest = "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"
            assert name == "404.html" and digest == template_script_hash(), (
                f"{name}: inline script {text[:80]!r}"
            )
            assert digest in attrs["content"], name
    return found


def _check(site: Path) -> None:
    """Every page has the one policy; the 404 page also allows its own script, by hash."""
    plain = POLICY.format(scripts="'self'")
    found = policies(site)
    assert found.pop("404.html") == POLICY.format(scripts=f"'self' {template_script_hash()}")
    # The chart pages too: no library the site serves needs 'unsafe-eval'.
    assert {"posts/widgets-post/index.html", "posts/plotly-post/index.html"} <= found.keys()
    assert found and all(policy == plain for policy in found.values()), found


@pytest.fixture(scope="module")
def blog(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Return a blog root: the real blog's generated posts, the showcase and two chart posts."""
    folder = tmp_path_factory.mktemp("csp")
    extra = [FIXTURES / "reader" / "showcase.md"]
    for slug, charts, body in (
        ("widgets-post", "[vega, vega-lite, vega-embed, widgets]", BAD_WIDGET),
        ("plotly-post", "[plotly]", plotly_embeds()),
    ):
        extra.append(folder / f"{slug}.md")
        extra[-1].write_text(CHARTS.format(slug=slug, charts=charts, body=body), encoding="utf-8")
    build_site(folder / "blog", extra_posts=extra)
    return folder / "blog"


def test_every_page_of_a_sub_path_build_opens_with_the_policy(blog: Path) -> None:
    assert (blog / "site" / "404.html").read_text(encoding="utf-8").count(
        'data-site="https://nbpress.github.io/nbpress-blog/"'
    ) == 1
    _check(blog / "site")


def test_every_page_of_a_root_build_opens_with_the_policy(blog: Path, tmp_path: Path) -> None:
    root = tmp_path / "blog"
    shutil.copytree(blog, root, symlinks=True, ignore=shutil.ignore_patterns("site", ".git"))
    proc = mkdocs(root, "build", "--strict")
    assert proc.returncode == 0, proc.stderr
    assert 'data-site="/"' in (root / "site" / "404.html").read_text(encoding="utf-8")
    _check(root / "site")


def test_every_page_of_a_zensical_build_opens_with_the_policy(blog: Path, tmp_path: Path) -> None:
    root = tmp_path / "blog"
    shutil.copytree(blog, root, symlinks=True, ignore=shutil.ignore_patterns("site"))
    zensical_build(root)
    _check(root / "site")


def test_the_404_hash_is_the_templates() -> None:
    text = (REPO / "overrides" / "404.html").read_text(encoding="utf-8")
    assert f'{{% set nbpress_script_hash = "{template_script_hash()}" %}}' in text


def test_the_sanitizer_switch_is_test_only_and_shapes_the_fingerprint(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from nbpress.rendering.render import renderer_fingerprint
    from nbpress.rendering.sanitize import TEST_ONLY_SANITIZER_OFF, html_text, sanitize_html, sanitize_svg

    hostile = '<img src=x onerror="top.__pwned=1">'
    svg = '<svg xmlns="http://www.w3.org/2000/svg"><script>top.__pwned=1</script></svg>'
    monkeypatch.delenv(TEST_ONLY_SANITIZER_OFF, raising=False)
    normal = renderer_fingerprint()
    assert "onerror" not in sanitize_html(hostile) and "script" not in (sanitize_svg(svg) or "")
    assert "<" not in html_text(hostile)
    monkeypatch.setenv(TEST_ONLY_SANITIZER_OFF, "1")
    assert sanitize_html(hostile) == hostile and sanitize_svg(svg) == svg and html_text(hostile) == hostile
    assert renderer_fingerprint() != normal
    # Read in one place only.
    readers = [p for p in (REPO / "nbpress").rglob("*.py") if "TEST_ONLY_SANITIZER_OFF" in p.read_text()]
    assert readers == [REPO / "nbpress" / "rendering" / "sanitize.py"]
    assert (REPO / "nbpress" / "rendering" / "sanitize.py").read_text().count("os.environ") == 1


@contextlib.contextmanager
def _watched_page(blog: Path, path: str) -> Iterator[tuple[Any, list[str], list[str]]]:
    """Yield (the page at `path` of the blog served under a sub-path, policy violations, errors).

    Errors are uncaught exceptions and console errors; the lists are complete once it closes.
    """
    from tests.helpers import launch_chromium, watch_policy
    from tests.siteserver import serve

    with serve(blog / "site", "/nbpress-blog/") as base, launch_chromium() as browser:
        context = browser.new_context()
        violations = watch_policy(context)
        errors: list[str] = []
        page = context.new_page()
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
        page.goto(base + path)
        yield page, violations, errors
        context.close()


@pytest.mark.browser
def test_plotly_webgl_charts_draw_under_the_policy(blog: Path) -> None:
    with _watched_page(blog, "posts/plotly-post/") as (page, violations, errors):
        page.wait_for_function(
            f"() => document.querySelectorAll('.nbpress-chart.nbpress-drawn').length === {len(GL_FIGURES)}"
        )
        assert page.locator("#gl-0 canvas").count() >= 1  # scattergl drew with WebGL
    assert violations == [] and errors == []


@pytest.mark.browser
def test_the_widget_manager_validates_state_without_eval(blog: Path) -> None:
    from tests.helpers import wait_until

    with _watched_page(blog, "posts/widgets-post/") as (page, violations, errors):
        page.wait_for_load_state("networkidle")
        wait_until(
            lambda: any("Model state has errors" in e for e in errors),
            f"the widget manager's error (errors: {errors})",
            pause=lambda: page.wait_for_timeout(200),
        )
    assert violations == []
