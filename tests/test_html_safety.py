"""HTML outputs cannot put script into the site: checked in the built page by a real Chromium.

A post whose output holds <script>, an onerror= handler and a javascript: link is built and
opened; none of it runs. The same output in a post that opts in with `raw_html: true` is
published, and the site's Content Security Policy refuses to run it (a violation the check
sees: it can see script when there is some).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from nbpress.rendering.sanitize import sanitize_html
from tests.helpers import build_cli, launch_chromium, mkdocs, wait_until, watch_policy
from tests.siteserver import serve

# Each attack sets window.pwned; a page that ran none of them leaves it undefined.
ATTACK = (
    "from IPython.display import HTML\n"
    "HTML('<p class=\"kept\">kept</p>'\n"
    "     '<script>window.pwned = \"script\"</script>'\n"
    "     '<img src=\"missing.png\" onerror=\"window.pwned = \\'onerror\\'\">'\n"
    "     '<a class=\"js\" href=\"javascript:window.pwned = \\'href\\'\">click</a>'\n"
    "     '<svg><script>window.pwned = \"svg\"</script></svg>'\n"
    "     '<iframe src=\"javascript:parent.pwned = \\'iframe\\'\"></iframe>')"
)


@pytest.mark.parametrize(
    "html",
    [
        "<script>alert(1)</script>",
        '<img src="x" onerror="alert(1)">',
        '<a href="javascript:alert(1)">x</a>',
        '<a href="JaVaScRiPt:alert(1)">x</a>',
        '<div onclick="alert(1)" style="background:url(javascript:alert(1))">x</div>',
        "<iframe src=\"javascript:alert(1)\"></iframe><object data='x'></object>",
    ],
)
def test_sanitizer_removes_script(html: str) -> None:
    clean = sanitize_html(html).lower()
    assert "<script" not in clean and "onerror" not in clean and "onclick" not in clean
    assert "javascript:" not in clean and "<iframe" not in clean and "<object" not in clean


def test_pandas_table_keeps_its_shape() -> None:
    table = '<table border="1" class="dataframe"><thead><tr><th>x</th></tr></thead></table>'
    assert sanitize_html(table) == table


@pytest.fixture
def served_site(blog: Path, add_post: Callable[..., Path]) -> Iterator[str]:
    """Return the base URL of the built site of a blog with the attack, safe and opted in."""
    add_post("safe", ATTACK)
    add_post("trusted", ATTACK, front="raw_html: true\n")
    built = build_cli(blog)
    assert built.returncode == 0, built.stderr
    site = mkdocs(blog, "build", "--strict")
    assert site.returncode == 0, site.stderr
    with serve(blog / "site") as url:
        yield url.rstrip("/")


@pytest.mark.browser
def test_browser_runs_no_script_from_outputs(served_site: str) -> None:
    from playwright.sync_api import Dialog

    with launch_chromium() as browser:
        context = browser.new_context()
        violations = watch_policy(context)
        page = context.new_page()
        dialogs: list[str] = []

        def on_dialog(dialog: Dialog) -> None:
            dialogs.append(dialog.message)
            dialog.dismiss()

        page.on("dialog", on_dialog)

        page.goto(f"{served_site}/posts/safe/", wait_until="load")
        assert page.locator("p.kept").inner_text() == "kept"
        page.locator("a.js").click()
        page.wait_for_timeout(500)  # let a delayed onerror or navigation happen if it were there
        assert page.evaluate("window.pwned") is None
        assert page.url.rstrip("/").endswith("/posts/safe")

        assert violations == []  # the sanitizer left nothing for the policy to refuse
        # A post that trusts its HTML keeps the script: the site's Content Security Policy
        # refuses to run it, and says so (the check sees script when there is some).
        page.goto(f"{served_site}/posts/trusted/", wait_until="load")
        wait_until(
            lambda: any(v.startswith("script-src") for v in violations),
            f"a script-src violation (violations: {violations})",
            pause=lambda: page.wait_for_timeout(200),
        )
        assert page.evaluate("window.pwned") is None
        assert not dialogs
