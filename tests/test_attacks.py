"""Hostile notebooks against a real build: no script reaches a reader, front matter is text,
only the blog's own files are published (issue 9, sections 1, 2 and 6).

One blog holding every attack is built once (real kernels, `mkdocs build --strict`), served on
127.0.0.1 and opened in Chromium. Every attack that would run script sets `window.__pwned` (or
opens a dialog); every page and every SVG figure, opened at its own URL, must leave it unset.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.attack_families import collect, collect_files
from tests.attack_families.series import PAGES as SERIES_PAGES
from tests.attack_kit import CELL_KIND, Cell, Posts, prints, pwn, show
from tests.browser_pages import SEARCH_INDEX, Tab, visit_all
from tests.helpers import build_cli, copy_skeleton, launch_chromium, mkdocs, shared_blog
from tests.siteserver import serve

pytestmark = pytest.mark.browser


POSTS: Posts = {}

POSTS["out-markdown"] = (
    {},
    [
        (
            show(
                "Markdown",
                f'![attr](missing.png){{: onerror="{pwn("md-attr-list")}"}}',
                f"[md-js](javascript:{pwn('md-js-link')})",
                f"<script>{pwn('md-script')}</script>",
                f'<img src="missing.png" onerror="{pwn("md-img-onerror")}">',
                f"[md-data](data:text/html,<script>{pwn('md-data')}</script>)",
            ),
            [],
        )
    ],
)
POSTS["out-html"] = (
    {},
    [
        (
            show(
                "HTML",
                # The first paragraph of a post becomes its og:description: entities stay text.
                f"<p>&lt;script&gt;{pwn('og-entities')}&lt;/script&gt;</p>",
                f'<p>![h](missing.png){{: onerror="{pwn("html-attr-list")}"}}</p>',
                f"<p>[html-js](javascript:{pwn('html-md-link')})</p>",
                f'<div markdown="1">![m](missing.png){{: onerror="{pwn("html-md-in-html")}"}}</div>',
                f'<iframe srcdoc="<script>{pwn("srcdoc")}</script>"></iframe>',
                f'<meta http-equiv="refresh" content="0; url=javascript:{pwn("refresh")}">',
                '<style>body { display: none }</style><p class="still-shown">shown</p>',
                f'<a class="data-link" href="data:text/html,<script>{pwn("data")}</script>">d</a>',
                f"<svg><script>{pwn('inline-svg-script')}</script></svg>",
                f'<svg onload="{pwn("inline-svg-onload")}"><rect width="5" height="5"/></svg>',
                f'<img src="data:image/svg+xml,<svg xmlns=&quot;http://www.w3.org/2000/svg&quot; '
                f'onload=&quot;{pwn("data-svg")}&quot;/>">',
                f'<a class="html-js" href="javascript:{pwn("html-js-href")}">j</a>',
                f"<p>$\\href{{javascript:{pwn('katex-href')}}}{{k}}$</p>",
                f'<p>\x02wzxhzdk:0\x03 <img src=x onerror="{pwn("html-onerror")}"></p>',
            ),
            [],
        )
    ],
)
POSTS["out-latex"] = (
    {},
    [
        (
            show(
                "Latex",
                f'<img src="missing.png" onerror="{pwn("latex-img")}">',
                f"$$\\href{{javascript:{pwn('latex-href')}}}{{x}}$$",
                "$$\\frac{a}{b} < c$$",
            ),
            [],
        )
    ],
)
POSTS["out-stream"] = (
    {},
    [
        # A long stream is folded into <details>: a printed </details> must not close it.
        (
            prints(
                *(f"line {i}" for i in range(40)), "</details>", f'<img src=m.png onerror="{pwn("details")}">'
            ),
            [],
        ),
        (
            prints(
                "```",
                f'<img src=m.png onerror="{pwn("fence")}">',
                "~~~~",
                f"</div><script>{pwn('div')}</script>",
            ),
            [],
        ),
        (prints(f"<script>{pwn('stderr')}</script>", stream="stderr"), []),
        (prints("{{ config.site_name }} {% raw %}"), []),
    ],
)
REPR = f"</details>\n```\n<img src=m.png onerror={pwn('repr')!r}>"
POSTS["out-error"] = (
    {},
    [
        (
            f"raise ValueError({'<img src=missing.png onerror=' + repr(pwn('traceback'))!r})",
            ["raises-exception"],
        ),
        (
            f"class Repr:\n    def __repr__(self):\n        return {REPR!r}\nRepr()",
            [],
        ),
    ],
)
# A post that fails: its error is listed on the execution report's page, and its text is the
# attacker's (the report put a cell's error on the page as HTML until 0933c05).
FAILING = "out-failed"
REPORTED = "<img src=missing.png onerror=" + repr(pwn("report-error")) + "> <b>bold</b>"
POSTS[FAILING] = ({}, [(f"raise ValueError({REPORTED!r})", [])])
SVG_ATTACKS = {
    "svg-script": f"<script>{pwn('svg-script')}</script>",
    "svg-onload": f'<rect width="10" height="10" onload="{pwn("svg-onload")}"/>',
    "svg-foreign": (
        '<foreignObject width="100" height="100"><body xmlns="http://www.w3.org/1999/xhtml">'
        f'<img src="missing.png" onerror="{pwn("svg-foreign")}"/></body></foreignObject>'
    ),
    "svg-js-href": f'<a id="jslink" href="javascript:{pwn("svg-href")}"><rect width="50" height="50"/></a>',
    "svg-xlink-href": (
        f'<a id="jslink" xlink:href="javascript:{pwn("svg-xlink")}"><rect width="50" height="50"/></a>'
    ),
    "svg-external": '<image href="http://example.invalid/leak.png" width="5" height="5"/>',
    "svg-animate": (
        f'<a id="jslink"><animate attributeName="href" to="javascript:{pwn("svg-animate")}"/>'
        '<rect width="50" height="50"/></a>'
    ),
}
POSTS["out-svg"] = (
    {},
    [
        (
            show(
                "SVG",
                *(
                    '<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" '
                    f'width="60" height="60">{body}</svg>'
                    for body in SVG_ATTACKS.values()
                ),
            ),
            [],
        )
    ],
)
# hide-output folds outputs into an indented ??? block, where raw HTML is no longer one block.
POSTS["out-folded"] = (
    {},
    [
        (
            show(
                "HTML",
                f"<p>[f](javascript:{pwn('fold-link')})</p>",
                f'<p>![f](m.png){{: onerror="{pwn("fold-attr")}"}}</p>',
            )
            + show("Markdown", f'![g](m.png){{: onerror="{pwn("fold-md")}"}}')
            + show(
                "Latex",
                f"$$x$$ [l](javascript:{pwn('fold-latex-link')}) "
                f'![i](m.png){{: onerror="{pwn("fold-latex")}"}}',
                f"\\text{{[l](javascript:{pwn('fold-math-link')}) "
                f'![i](m.png){{: onerror="{pwn("fold-math")}"}}}}',
            )
            + prints(f'</details><img src=m.png onerror="{pwn("fold-stream")}">'),
            ["hide-output"],
        )
    ],
)
PLOT = "import matplotlib.pyplot as plt\nplt.plot([1, 2])\nplt.show()"
POSTS["fm-title"] = ({"title": f"</title><script>{pwn('title')}</script>"}, [(PLOT, [])])
# The blog's listings render a post's title as a Markdown heading.
POSTS["fm-title-markdown"] = ({"title": f'![t](missing.png){{: onerror="{pwn("title-md")}"}}'}, [(PLOT, [])])
POSTS["fm-title-link"] = ({"title": f"t](javascript:{pwn('title-link')}) [u"}, [(PLOT, [])])
POSTS["fm-title-attr"] = ({"title": f'x" onload="{pwn("title-attr")}" y="'}, [(PLOT, [])])
POSTS["fm-description"] = (
    {
        "description": (
            f"&lt;script&gt;{pwn('desc-entities')}&lt;/script&gt; " + f'<img src=x onerror="{pwn("desc")}">'
        )
    },
    [(PLOT, [])],
)
POSTS["fm-taxonomy"] = (
    {
        "tags": [f'<img src=x onerror="{pwn("tag")}">', f't" onmouseover="{pwn("tag-attr")}'],
        "categories": [f'<svg onload="{pwn("category")}">'],
        "author": f'<img src=x onerror="{pwn("author")}">',
    },
    [(PLOT, [])],
)
# The figure's caption is its alt text, also copied into the listing's thumbnail.
CAPTION = f'x" onerror="{pwn("caption")}" y="'
POSTS["fm-caption"] = ({}, [(f"#| fig-cap: {json.dumps(CAPTION)}\n" + PLOT, [])])
# Issue 10: what a static page can show faithfully is shown.
POSTS["shown"] = (
    {},
    [
        ("import seaborn as sns\nsns.color_palette('husl', 4)", []),
        ("import matplotlib\nmatplotlib.colormaps['viridis']", []),
        ("import sympy\nsympy.Rational(1, 3) + sympy.Symbol('x') ** 2", []),
        ("from IPython.display import HTML\nHTML('<script>console.log(1)</script>')", []),
        # Script-only HTML with a PNG beside it (a chart library's static fallback): the PNG.
        (
            "import io\nimport matplotlib.pyplot as plt\n"
            "class Chart:\n"
            "    def _repr_html_(self):\n        return '<script>console.log(2)</script>'\n"
            "    def _repr_png_(self):\n"
            "        buf = io.BytesIO()\n        plt.figure(figsize=(1, 1))\n"
            "        plt.savefig(buf, format='png')\n        plt.close()\n        return buf.getvalue()\n"
            "Chart()",
            [],
        ),
    ],
)
# The control: a post that trusts its HTML (raw_html: true) does run it, which shows the browser
# check sees script when there is some.
POSTS["control"] = (
    {"raw_html": True},
    # An image that does not decode (an output's missing local file is left out: nbpress.rendering.links).
    [(show("HTML", f'<img src="data:image/png;base64,AAAA" onerror="{pwn("control")}">'), [])],
)
# Issue 20's families (tests/attack_families/), built into the same blog.
FAMILY_POSTS, FAMILY_CLICKS = collect()
assert not FAMILY_POSTS.keys() & POSTS.keys(), "an attack family reuses a slug of this module"
POSTS.update(FAMILY_POSTS)
SECRET = "nbpress-secret-4f1c"


def _notebook(front: dict[str, Any], cells: list[Cell]) -> Any:
    import yaml
    from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_raw_cell

    nb = new_notebook(
        metadata={"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}}
    )
    nb.cells.append(new_raw_cell("---\n" + yaml.safe_dump(front, allow_unicode=True) + "---"))
    for source, tags in cells:
        kinds = [t.removeprefix(CELL_KIND) for t in tags if t.startswith(CELL_KIND)]
        tags = [t for t in tags if not t.startswith(CELL_KIND)]
        cell = new_markdown_cell(source) if "markdown" in kinds else new_code_cell(source)
        for kind in kinds:
            if kind.startswith("raw:"):
                cell = new_raw_cell(source, metadata=json.loads(kind.removeprefix("raw:")))
            elif kind.startswith("metadata:"):
                cell.metadata.update(json.loads(kind.removeprefix("metadata:")))
        if tags:
            cell.metadata["tags"] = tags
        nb.cells.append(cell)
    for i, cell in enumerate(nb.cells):
        cell["id"] = f"cell-{i}"
    return nb


class Built:
    """The hostile blog after `build.py` and `mkdocs build --strict`."""

    def __init__(self, root: Path, build_err: str, build_code: int) -> None:
        self.root = root
        self.site = root / "site"
        self.build_err = build_err
        self.build_code = build_code


def _make_hostile_blog(root: Path) -> None:
    """Build the blog holding every attack (and the sources it must refuse), then its site."""
    import nbformat

    root = copy_skeleton(root)
    # The feed needs the site's address (a clone takes it from its GitHub remote; none here).
    with (root / "mkdocs.yml").open("a", encoding="utf-8") as config:
        config.write("site_url: https://nbpress.github.io/nbpress-blog/\n")
    posts = root / "posts"
    for name, text in collect_files().items():
        (posts / name).write_text(text, encoding="utf-8")
    for slug, (front, cells) in POSTS.items():
        nbformat.write(
            _notebook({"title": slug, "date": "2024-01-01", **front}, cells), posts / f"{slug}.ipynb"
        )
    # Section 6: a notebook outside posts/ that would build, reached through a link.
    outside = root.parent / "outside.ipynb"
    nbformat.write(_notebook({"title": SECRET, "date": "2024-01-01"}, [(f"print('{SECRET}')", [])]), outside)
    (posts / "leak.ipynb").symlink_to(outside)
    (posts / "leak-text.md").symlink_to(root.parent / "outside.md")
    (root.parent / "outside.md").write_text(
        f"---\ntitle: {SECRET}\ndate: 2024-01-01\n---\n\n```python\n1\n```\n"
    )
    (posts / "folder.ipynb").mkdir()
    os.mkfifo(posts / "fifo.ipynb")
    (posts / "broken.ipynb").write_text('{"cells": [' + SECRET)
    try:
        proc = build_cli(root)
    except subprocess.TimeoutExpired as hung:  # say which posts ran and which never ended
        parts = [hung.stdout, hung.stderr]  # bytes so far, whatever the text mode
        text = "".join(p.decode(errors="replace") if isinstance(p, bytes) else p or "" for p in parts)
        raise AssertionError(f"the hostile build hung; its last lines:\n{text[-4000:]}") from hung
    output = {"output": proc.stderr + proc.stdout, "code": proc.returncode}
    (root.parent / "build.json").write_text(json.dumps(output), encoding="utf-8")
    site = mkdocs(root, "build", "--strict")
    assert site.returncode == 0, site.stderr


def hostile_blog(tmp_path_factory: pytest.TempPathFactory) -> Built:
    """Return the hostile blog, built once per run for every module that reads it (test_charts'
    chart families are among its posts): helpers.shared_blog. A test that changes it copies it."""
    root = shared_blog(tmp_path_factory, "hostile", _make_hostile_blog)
    output = json.loads((root.parent / "build.json").read_text(encoding="utf-8"))
    return Built(root, output["output"], output["code"])


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Built:
    """Return the built blog holding every attack (and the sources it must refuse)."""
    return hostile_blog(tmp_path_factory)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with launch_chromium() as chromium:
        yield chromium


@pytest.fixture(scope="module")
def url(built: Built) -> Iterator[str]:
    with serve(built.site) as base:
        yield base.rstrip("/")


# --- Judging a page ---------------------------------------------------------------------

# Installed in every frame before any of its scripts: `top.__pwned = tag` (attack_kit.pwn) and
# every Content Security Policy violation are reported to the test, across navigations.
WATCH = """
(() => {
  let last;
  try {
    Object.defineProperty(window, "__pwned", {
      configurable: false,
      get: () => last,
      set: (tag) => { last = tag; window.__nbpressRan(String(tag)); },
    });
  } catch (error) { /* a frame that has it already */ }
  document.addEventListener("securitypolicyviolation", (e) => window.__nbpressViolation(
    `${e.effectiveDirective} ${e.blockedURI || "inline"} ${e.sourceFile || ""}:${e.lineNumber}`));
})();
"""


class Judged:
    """What a page did in Chromium: attacks that ran, dialogs, policy violations, outside requests."""

    def __init__(self) -> None:
        self.ran: list[str] = []
        self.dialogs: list[str] = []
        self.violations: list[str] = []
        self.outside: list[str] = []
        self.url = ""  # where the page ended up (parallel judging)
        self.ran_in_svg_files: list[str] = []  # of `ran`, those in an SVG file opened at its own URL

    def problems(self) -> list[str]:
        """Return what a reader would have suffered: script that ran, another host asked."""
        return [f"ran {t}" for t in self.ran] + [f"dialog {d}" for d in self.dialogs] + self.outside

    @classmethod
    def of(cls, tab: Tab) -> Judged:
        """Return what the page of `tab` (tests/browser_pages.py), and any page it opened, did."""
        judged = cls()
        for frame, (tag,) in tab.calls.get("__nbpressRan", []):
            judged.ran.append(tag)
            if frame.split("?")[0].endswith(".svg"):
                judged.ran_in_svg_files.append(tag)
        judged.violations = [violation for _, (violation,) in tab.calls.get("__nbpressViolation", [])]
        judged.dialogs = list(tab.dialogs)
        judged.outside = [f"request {u}" for u in tab.outside] + [f"websocket {u}" for u in tab.websockets]
        judged.url = tab.url
        return judged


LOCAL = re.compile(r"^https?://127\.0\.0\.1[:/]")
# Hover first (tooltips, onmouseover), then a script click, which follows any link, even one
# inside a closed <details>.
HOVER = (
    "els => els.forEach(e => ['mouseover', 'mouseenter', 'mousemove'].forEach("
    "t => e.dispatchEvent(new MouseEvent(t, {bubbles: true}))))"
)
CLICK = "links => links.forEach(a => a.click())"


def _open(browser: Any, address: str, click: str | None = None) -> tuple[Any, Judged]:
    """Return (the page opened at `address` after any script had its chance, what it did).

    Every request to a host other than 127.0.0.1 is logged (and aborted): a reader's browser
    must ask no other host. The page's context closes with `page.context.close()`.
    """
    judged = Judged()
    context = browser.new_context()
    context.expose_binding("__nbpressRan", lambda _, tag: judged.ran.append(tag))
    context.expose_binding("__nbpressViolation", lambda _, v: judged.violations.append(v))
    context.add_init_script(WATCH)

    def route(route: Any) -> None:
        if LOCAL.match(route.request.url):
            route.continue_()
        else:
            judged.outside.append(f"request {route.request.url}")
            route.abort()

    context.route("**/*", route)
    page = context.new_page()

    def on_dialog(dialog: Any) -> None:
        judged.dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", on_dialog)
    page.on("websocket", lambda ws: judged.outside.append(f"websocket {ws.url}"))
    page.goto(address, wait_until="load")
    if click:
        page.locator(click).evaluate_all(HOVER)
        page.wait_for_timeout(100)
        page.locator(click).evaluate_all(CLICK)
    page.wait_for_timeout(300)  # an onerror or a delayed navigation would have run by now
    return page, judged


async def _open_async(tab: Tab, click: str) -> Tab:
    """Open the page of `tab` as `_open` does (its bindings, policy watch and request log are
    the pass's: tests/browser_pages.visit_all); `Judged.of(tab)` is the verdict."""
    page = tab.page
    await page.goto(tab.address, wait_until="load")
    await page.locator(click).evaluate_all(HOVER)
    await page.wait_for_timeout(100)
    await page.locator(click).evaluate_all(CLICK)
    await page.wait_for_timeout(300)  # an onerror or a delayed navigation would have run by now
    return tab


async def _ask_another_host(tab: Tab) -> Tab:
    """Open about:blank (no Content Security Policy guards it) and load an image from another
    host: the pass's own proof that it sees such a request."""
    await tab.page.goto(tab.address)
    await tab.page.evaluate(
        "() => new Promise(done => { const i = new Image(); i.onerror = i.onload = done;"
        " i.src = 'http://example.invalid/seen.png'; })"
    )
    return tab


def _assert_no_script(browser: Any, address: str, click: str | None = None) -> Any:
    page, judged = _open(browser, address, click)
    pwned = page.evaluate("window.__pwned")
    assert pwned is None and not judged.problems(), f"{address}: {judged.problems()}"
    return page


# "N tried": the distinct attacks whose payload reached a judged page (file) in any form.
_TAG = re.compile(
    # attack_kit.pwn writes the tag as a regular expression's source (`=/tag/.source`); older
    # payloads quote it. Either may be escaped or split by syntax highlighting.
    r"__pwned\s*=(?:\s|<[^>]*>)*"
    r"(?:\\?'|&#0*39;|&#x0*27;|&apos;|\\u0027|\\x27|\\?/|&#0*47;|&#x0*2f;|\\u002f)"
    r"(?:<[^>]*>)*([A-Za-z0-9._-]+)",
    re.I,
)
SUMMARY: dict[str, dict[str, set[str]]] = {}


def _tried(site: Path, path: str) -> set[str]:
    """Return the attack tags the file serving `path` holds (a page or a figure)."""
    file = site / path / "index.html" if path == "" or path.endswith("/") else site / path
    if not file.is_file():
        file = site / "404.html"  # what the server answers there
    return set(_TAG.findall(file.read_text(encoding="utf-8", errors="replace"))) - {"control"}


def _click(path: str) -> str:
    """Return the CSS selector of what to hover and click on the page (or figure) at `path`."""
    if path.endswith(".svg"):
        return "#jslink"
    click = "a[href^='javascript'], a.html-js"
    slug = path.removeprefix("posts/").rstrip("/")
    return click + ", " + FAMILY_CLICKS[slug] if slug in FAMILY_CLICKS else click


BLANK = "about:blank"


def _judge_all(passes: dict[str, tuple[str, Path, list[str]]]) -> dict[str, dict[str, Judged]]:
    """Return {mode: {path: what it did}} for each mode's (base URL, site, paths), counted for it.

    Every page of every mode at once, in one Chromium (tests/browser_pages.py), each page
    opened as an attacker would have it: one page's verdict is its own. BLANK among a mode's
    paths is about:blank asking another host (`_ask_another_host`).
    """
    where = {
        (BLANK if path == BLANK else f"{base}/{path}"): (mode, path)
        for mode, (base, _, paths) in passes.items()
        for path in paths
    }
    assert len(where) == sum(len(paths) for _, _, paths in passes.values()), "about:blank in two modes"

    def visit(tab: Tab) -> Any:
        path = where[tab.address][1]
        return _ask_another_host(tab) if path == BLANK else _open_async(tab, _click(path))

    tabs = visit_all(
        list(where),
        visit,
        bindings=("__nbpressRan", "__nbpressViolation"),
        init_script=WATCH,
        reuse_pages=True,
        skip=SEARCH_INDEX,
    )
    judged_by_mode: dict[str, dict[str, Judged]] = {mode: {} for mode in passes}
    for address, tab in tabs.items():
        mode, path = where[address]
        base, site, _ = passes[mode]
        judged = judged_by_mode[mode][path] = Judged.of(tab)
        if path == BLANK:
            continue
        if not judged.url.startswith(base):
            judged.outside.append(f"navigated to {judged.url}")
        counts = SUMMARY.setdefault(mode, {"tried": set(), "ran": set(), "refused": set()})
        counts["tried"] |= _tried(site, path)
        counts["ran"] |= set(judged.ran) | {f"dialog:{d}" for d in judged.dialogs}
        counts["refused"] |= {f"{path} {v}" for v in judged.violations}
    return judged_by_mode


def summary_line(mode: str) -> str:
    """Return "<mode>: N tried, N held (...)": a tag that ran (or a dialog) is an attack not held."""
    counts = SUMMARY.get(mode, {"tried": set(), "ran": set(), "refused": set()})
    tried = counts["tried"] | counts["ran"]
    sources = [repr(front) + "".join(source for source, _ in cells) for front, cells in POSTS.values()]
    everywhere = {tag for source in sources for tag in _TAG.findall(source)}
    return (
        f"{mode}: {len(tried)} tried, {len(tried) - len(counts['ran'])} held"
        f" ({len(everywhere - {'control'})} attacks in the sources;"
        f" {len(counts['refused'])} policy refusals on the pages)"
    )


@pytest.fixture(scope="module", autouse=True)
def report_counts() -> Iterator[None]:
    """Print each mode's "N tried, N held" once the module's tests ran (shown with -s)."""
    yield
    for mode in SUMMARY:
        print(f"\nattack suite, {summary_line(mode)}")


PAGES = [f"posts/{slug}/" for slug in POSTS if slug not in ("control", FAILING)]
PAGES += ["", "tags/", "archive/2024/", "category/", "execution/"]
PAGES += SERIES_PAGES  # a series' page and the page of all series (tests/attack_families/series.py)


# --- The modes, judged in one run ---------------------------------------------------------
# Both layers (the published site), the policy alone (sanitizer off) and the sanitizer alone
# (policy off, issue 20, section 1): each mode's site served on its own port, every page of
# every mode the run's tests judge opened at once in one Chromium (`judged`).

BOTH, POLICY, SANITIZER = "both layers", "policy alone (sanitizer off)", "sanitizer alone (policy off)"
CONTROL = "posts/control/"
CSP_META = re.compile(r'<meta http-equiv="Content-Security-Policy" content="[^"]*">\s*')


@pytest.fixture(scope="module")
def policy_alone(built: Built, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Return the site of the same hostile blog built with the sanitizer switched off.

    A copy of the first blog's root, its execution cache included: the outputs are rendered
    again (the switch is part of the renderer's fingerprint), no kernel runs.
    """
    from nbpress.rendering.sanitize import TEST_ONLY_SANITIZER_OFF

    root = tmp_path_factory.mktemp("attacks-policy-alone") / "blog"
    shutil.copytree(built.root, root, symlinks=True, ignore=shutil.ignore_patterns("site", "fifo.ipynb"))
    proc = build_cli(root, env={**os.environ, TEST_ONLY_SANITIZER_OFF: "1"})
    assert "executed" not in proc.stdout + proc.stderr, "the copy ran kernels: the cache was not reused"
    # The switch took: the payloads are in the Markdown as the notebooks made them.
    raw = (root / "site_src" / "posts" / "out-markdown.md").read_text(encoding="utf-8")
    assert f"<script>{pwn('md-script')}</script>" in raw, "the sanitizer was not switched off"
    site = mkdocs(root, "build")
    assert site.returncode == 0, site.stderr
    assert CSP_META.search((root / "site" / "posts" / "out-html" / "index.html").read_text(encoding="utf-8"))
    return root / "site"


@pytest.fixture(scope="module")
def sanitizer_alone(built: Built, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Return the normal build's site with the policy's <meta> taken out of every HTML file."""
    site = tmp_path_factory.mktemp("attacks-sanitizer-alone") / "site"
    shutil.copytree(built.site, site)
    pages = list(site.rglob("*.html"))
    for page in pages:
        text, count = CSP_META.subn("", page.read_text(encoding="utf-8"))
        assert count == 1, f"{page}: {count} policies"
        page.write_text(text, encoding="utf-8")
    return site


def _svg_figures(site: Path) -> list[str]:
    return sorted(
        p.relative_to(site).as_posix() for p in (site / "assets" / "images" / "out-svg").glob("*.svg")
    )


@pytest.fixture(scope="module")
def judged(built: Built, request: pytest.FixtureRequest) -> dict[str, dict[str, Judged]]:
    """Return {mode: {path: what it did}} for the pages this run's tests of the module judge.

    Only the modes (and, with both layers on, the posts) whose tests were selected are built
    and opened: `-k out-html` judges one page.
    """
    chosen = [
        item
        for item in request.session.items
        if isinstance(item, pytest.Function) and item.module is request.module
    ]
    names = {item.originalname for item in chosen}
    posts = [str(i.callspec.params["path"]) for i in chosen if i.originalname == "test_page_runs_no_script"]
    both = posts + [CONTROL] * ("test_the_browser_check_sees_script_that_runs" in names)
    both += _svg_figures(built.site) * ("test_every_svg_figure_opened_alone_runs_no_script" in names)
    both += [BLANK] * ("test_the_browser_check_sees_requests_to_other_hosts" in names)
    sites: dict[str, tuple[Path | str, list[str]]] = {
        BOTH: (built.site, both),
        POLICY: ("policy_alone", [*PAGES, CONTROL]),
        SANITIZER: ("sanitizer_alone", [*PAGES, *_svg_figures(built.site), CONTROL]),
    }
    wanted = {
        BOTH: bool(both),
        POLICY: "test_policy_alone_stops_every_script_and_outside_request" in names,
        SANITIZER: "test_sanitizer_alone_stops_every_script_and_outside_request" in names,
    }
    with contextlib.ExitStack() as stack:
        passes = {}
        for mode, (site, paths) in sites.items():
            if wanted[mode]:
                served = site if isinstance(site, Path) else request.getfixturevalue(site)
                passes[mode] = (stack.enter_context(serve(served)).rstrip("/"), served, paths)
        return _judge_all(passes)


def test_the_browser_check_sees_script_that_runs(
    browser: Any, url: str, judged: dict[str, dict[str, Judged]]
) -> None:
    # The control post trusts its HTML, so the sanitizer keeps its onerror; the policy alone
    # refuses to run it (without the policy it runs: test_sanitizer_alone_...). Both the page
    # opened alone (`_open`, the module's other tests) and in the parallel run see it.
    page, alone = _open(browser, f"{url}/{CONTROL}")
    page.context.close()
    for control in (alone, judged[BOTH][CONTROL]):
        assert control.ran == [] and any("script-src" in v for v in control.violations), control.violations


def test_the_browser_check_sees_requests_to_other_hosts(
    browser: Any, judged: dict[str, dict[str, Judged]]
) -> None:
    page, alone = _open(browser, BLANK)  # a page no Content Security Policy guards
    page.evaluate(
        "() => new Promise(done => { const i = new Image(); i.onerror = i.onload = done;"
        " i.src = 'http://example.invalid/seen.png'; })"
    )
    page.context.close()
    assert alone.outside == judged[BOTH][BLANK].outside == ["request http://example.invalid/seen.png"]


@pytest.mark.parametrize("path", PAGES)
def test_page_runs_no_script(judged: dict[str, dict[str, Judged]], path: str) -> None:
    page = judged[BOTH][path]
    assert not page.problems(), f"{path}: {page.problems()} (policy violations: {page.violations})"


def test_every_svg_figure_opened_alone_runs_no_script(
    built: Built, judged: dict[str, dict[str, Judged]]
) -> None:
    figures = sorted((built.root / "assets" / "images" / "out-svg").glob("*.svg"))
    assert len(figures) == len(SVG_ATTACKS)
    paths = [f"assets/images/out-svg/{figure.name}" for figure in figures]
    for path, figure in zip(paths, figures, strict=True):
        page = judged[BOTH][path]
        assert not page.problems(), f"{path}: {page.problems()}"
        text = figure.read_text(encoding="utf-8")
        assert "script" not in text.lower() and "onload" not in text and "foreignObject" not in text
        assert "javascript" not in text and "example.invalid" not in text


def test_policy_alone_stops_every_script_and_outside_request(judged: dict[str, dict[str, Judged]]) -> None:
    """With the sanitizer off, the policy alone holds on every attack page (not the SVG files:
    an SVG document opened at its own URL carries no <meta> policy, and GitHub Pages sends no
    header; those stay the sanitizer's, below)."""
    failed = {}
    for path in PAGES:
        page = judged[POLICY][path]
        # A link the page's clicks follow to an SVG file runs that file's script: out of the
        # policy's reach (above), and judged with the sanitizer on in test_page_runs_no_script.
        problems = [p for p in page.problems() if p.removeprefix("ran ") not in page.ran_in_svg_files]
        if problems:
            failed[path] = problems
    print(f"\n{summary_line(POLICY)}")
    assert not failed, failed
    # The proof the policy did something: payloads were on the pages, and it refused them.
    assert SUMMARY[POLICY]["tried"]
    control = judged[POLICY][CONTROL]
    assert control.ran == [] and control.violations, "the control post's script ran under the policy"


def test_sanitizer_alone_stops_every_script_and_outside_request(
    built: Built, judged: dict[str, dict[str, Judged]]
) -> None:
    failed = {}
    for path in PAGES + _svg_figures(built.site):
        page = judged[SANITIZER][path]
        if page.problems():
            failed[path] = page.problems()
        assert not page.violations, f"{path} still carries a policy: {page.violations}"
    print(f"\n{summary_line(SANITIZER)}")
    assert not failed, failed
    # Without the policy, the control post (raw_html: true) runs: the check sees script.
    assert judged[SANITIZER][CONTROL].ran == ["control"], judged[SANITIZER][CONTROL].ran


def test_front_matter_is_shown_as_typed(browser: Any, url: str) -> None:
    page = _assert_no_script(browser, f"{url}/posts/fm-title/")
    assert page.title().startswith(f"</title><script>{pwn('title')}</script>")
    assert page.locator("h1").first.inner_text() == f"</title><script>{pwn('title')}</script>"
    page.context.close()
    page = _assert_no_script(browser, f"{url}/posts/fm-title-attr/")
    title = f'x" onload="{pwn("title-attr")}" y="'
    assert page.locator('meta[property="og:title"]').get_attribute("content") == title
    assert page.locator("img.img-responsive").first.get_attribute("alt") == f"{title}, figure 1"
    page.context.close()
    page = _assert_no_script(browser, f"{url}/posts/fm-description/")
    description = POSTS["fm-description"][0]["description"]
    assert page.locator('meta[name="description"]').get_attribute("content") == description
    assert page.locator('meta[property="og:description"]').get_attribute("content") == description
    page.context.close()
    # The cards of every listing page (the blog paginates; how many posts reach the first page
    # depends on how many attack families there are).
    alts: list[str] = []
    listing, n = f"{url}/", 1
    while True:
        page = _assert_no_script(browser, listing)
        alts += page.locator("a.nbpress-thumb img").evaluate_all("els => els.map(e => e.alt)")
        more = page.locator(f'a[href$="page/{n + 1}/"]').count()
        page.context.close()
        if not more:
            break
        n += 1
        listing = f"{url}/page/{n}/"
    assert f"{title}, figure 1" in alts and CAPTION in alts, alts
    page = _assert_no_script(browser, f"{url}/posts/fm-taxonomy/")
    tags = page.locator(".md-tag").all_inner_texts()
    assert POSTS["fm-taxonomy"][0]["tags"][0] in tags
    page.context.close()


def test_og_description_from_content_keeps_entities_as_text(browser: Any, url: str) -> None:
    page = _assert_no_script(browser, f"{url}/posts/out-html/")
    content = page.locator('meta[property="og:description"]').get_attribute("content")
    # A post's summary is its description or its first paragraph of prose (issue 12), never
    # output markup: this post has neither, so the site's description stands.
    assert content == "Tutorial posts written as Jupyter notebooks, executed on every build."
    assert page.locator("p.still-shown").is_visible(), "a <style> output hid the page"
    assert page.locator(".nbpress-result img:not([src])").count() == 0, "an empty image"
    page.context.close()


def test_streams_hold_any_text_and_carry_classes(browser: Any, url: str) -> None:
    page = _assert_no_script(browser, f"{url}/posts/out-stream/")
    folded = page.locator("details.nbpress-fold .nbpress-stdout").text_content() or ""
    assert "</details>" in folded and "onerror" in folded and "line 39" in folded
    stdout = page.locator(".nbpress-output.nbpress-stdout").all_inner_texts()
    assert any("```" in t and "</div><script>" in t for t in stdout)
    assert any("{{ config.site_name }} {% raw %}" in t for t in stdout)
    assert "<script>" in page.locator(".nbpress-output.nbpress-stderr").inner_text()
    page.context.close()
    page = _assert_no_script(browser, f"{url}/posts/out-error/")
    assert "ValueError: <img src=missing.png" in page.locator(".nbpress-output.nbpress-error").inner_text()
    assert "</details>" in page.locator(".nbpress-output.nbpress-result").inner_text()
    page.context.close()


def test_latex_is_math_not_markup(browser: Any, url: str) -> None:
    page = _assert_no_script(browser, f"{url}/posts/out-latex/", click="a[href^='javascript']")
    assert page.locator(".nbpress-result .katex").count() >= 2
    assert page.locator(".nbpress-result img").count() == 0
    page.context.close()


def test_outputs_a_page_can_show_are_shown(browser: Any, url: str, built: Built) -> None:
    page = _assert_no_script(browser, f"{url}/posts/shown/")
    assert page.locator(".nbpress-result svg rect").count() == 4, "the seaborn palette"
    # ...in its own colours (seaborn sets each swatch's fill in a style attribute), not black.
    fills = page.locator(".nbpress-result svg rect").evaluate_all(
        "rs => rs.map(r => getComputedStyle(r).fill)"
    )
    assert len(set(fills)) == 4 and "rgb(0, 0, 0)" not in fills, fills
    width = page.locator(".nbpress-result img[src^='data:image/png']").evaluate("img => img.naturalWidth")
    assert width > 0, "the colormap preview"
    assert page.locator(".nbpress-result .katex").count() == 1, "SymPy's LaTeX"
    page.context.close()
    linked = (built.root / "site_src" / "posts" / "shown.md").read_text(encoding="utf-8")
    figures = [p.name for p in (built.root / "assets" / "images" / "shown").glob("*")]
    assert all(name in linked for name in figures), "a figure no page links"
    assert "](../assets/images/shown/output_5_0.png)" in linked, "the PNG beside script-only HTML"
    assert figures == ["output_5_0.png"]
    assert "shown.ipynb, cell 5: an HTML output held nothing" in built.build_err
    assert "[nbpress: an HTML output held nothing a static page can show" in linked
    assert "IPython.core.display.HTML object" not in linked
    assert "shown.ipynb, cell 6" not in built.build_err


def test_sources_are_regular_files_inside_posts(built: Built) -> None:
    err = built.build_err
    assert built.build_code == 1
    for name, kind in [
        ("leak.ipynb", "a symbolic link"),
        ("leak-text.md", "a symbolic link"),
        ("folder.ipynb", "a folder"),
        ("fifo.ipynb", "not a regular file"),
    ]:
        assert any(f"posts/{name}: {kind}, not a regular file" in line for line in err.splitlines()), err
    assert not (built.root / "site_src" / "posts" / "leak.md").exists()


def test_a_failing_cells_error_is_text_on_the_execution_report(built: Built) -> None:
    # Judged in the browser with every page (test_page_runs_no_script, both layers and each alone).
    assert f"posts/{FAILING}.ipynb, cell 2: ValueError: <img" in built.build_err
    assert not (built.root / "site_src" / "posts" / f"{FAILING}.md").exists()
    page = (built.site / "execution" / "index.html").read_text(encoding="utf-8")
    assert "report-error" in page and "&lt;b&gt;bold&lt;/b&gt;" in page and "<b>bold</b>" not in page


def test_site_serves_only_built_notebooks(built: Built) -> None:
    # Each published post's executed notebook, in its own folder (assets/notebooks/<slug>/).
    served = sorted(p.name for p in (built.site / "assets" / "notebooks").glob("*/*.ipynb"))
    assert served == sorted(f"{slug}.ipynb" for slug in POSTS if slug != FAILING), built.build_err
    for path in built.site.rglob("*"):
        if path.is_file():
            assert SECRET.encode() not in path.read_bytes(), path
    assert json.loads((built.site / "assets" / "notebooks" / "shown" / "shown.ipynb").read_text())["cells"]


def test_feed_is_well_formed_and_its_values_are_text(built: Built) -> None:
    from xml.etree import ElementTree as ET

    feed = ET.parse(built.site / "feed_rss_created.xml").getroot()
    tags = {element.tag for element in feed.iter()}
    assert not tags & {"script", "img", "svg", "iframe"}, tags
    categories = {c.text for c in feed.iter("category")}
    assert f'<img src=x onerror="{pwn("tag")}">' in categories  # shown as typed by a feed reader
    titles = {t.text for t in feed.iter("title")}
    for slug in ("fm-title", "fm-title-markdown", "fm-title-link", "fm-title-attr"):
        assert POSTS[slug][0]["title"] in titles, slug  # plain text, as typed: no &lt; shown


def test_markup_channels_show_their_text_as_typed(browser: Any, url: str) -> None:
    from tests.attack_families.markup import DOI

    page = _assert_no_script(browser, f"{url}/posts/markup-bibtex/")
    references = page.locator(".nbpress-reference").all_inner_texts()
    assert any(DOI in text for text in references), references  # a real DOI, "<" and all
    assert any("<script>" in text for text in references)  # a journal named in markup is text
    page.close()
    page = _assert_no_script(browser, f"{url}/posts/markup-code-fence/")
    code = page.locator("pre code").first.inner_text()  # the cell's code, whole, in one block
    assert code.startswith('x = """') and "```\n<img" in code and code.rstrip().endswith('"""\nx')
    page.close()
    page = _assert_no_script(browser, f"{url}/posts/markup-fig-cap-link/")
    assert page.locator("figcaption").inner_text() == "Figure 1: see"
    page.close()
    page = _assert_no_script(browser, f"{url}/posts/markup-raw-markdown/")
    assert page.locator(".nbpress-raw").count() == 1 and "link" in page.locator(".nbpress-raw").inner_text()
    page.close()


def test_remote_images_become_links_with_a_warning(browser: Any, url: str, built: Built) -> None:
    page = _assert_no_script(browser, f"{url}/posts/remote-html-output/")
    assert page.locator("a[href='http://example.invalid/img.png']").inner_text() == "remote"
    page.close()
    page = _assert_no_script(browser, f"{url}/posts/remote-markdown-cell/")
    assert page.locator("a[href='http://example.invalid/cell-inline.png']").inner_text() == "inline"
    assert page.locator("a[href='http://example.invalid/page.html']").count() == 1  # a plain link stays
    page.close()
    for where, address in [
        ("remote-markdown-cell.ipynb, cell 2", "http://example.invalid/cell-inline.png"),
        ("remote-markdown-cell.ipynb, cell 3", "http://example.invalid/code-span.png"),
        ("remote-markdown-cell.ipynb, cell 4", "http://example.invalid/style-url.png"),
        ("remote-raw-cells.ipynb, cell 3", "http://example.invalid/raw-markdown.png"),
        ("remote-html-output.ipynb, cell 2", "http://example.invalid/srcset2.png"),
        ("remote-image-url.ipynb, cell 2", "http://example.invalid/ipython-image.png"),
        ("remote-svg-output.ipynb, cell 2", "http://example.invalid/svg-figure-xlink.png"),
        ("remote-caption.ipynb, cell 2", "http://example.invalid/caption.png"),
    ]:
        assert any(where in line and f"'{address}'" in line for line in built.build_err.splitlines()), (
            where,
            address,
        )
