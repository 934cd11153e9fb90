"""The execution report: `build.py --report`, the site's page and a failing post's log."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.helpers import build_cli, mkdocs


@pytest.mark.slow
def test_report_lists_posts_and_links_the_failure_log(blog: Path, add_post: Callable[..., Path]) -> None:
    add_post("good", "import json\nprint(json.dumps([1]))")
    bad = add_post("bad", "x = 1", "def inner():\n    return 1 / 0\n\ninner()")
    first = build_cli(blog)
    assert first.returncode == 1, first.stdout + first.stderr

    page = (blog / "site_src" / "execution" / "index.md").read_text(encoding="utf-8")
    assert '<td><code>posts/bad.ipynb</code></td><td><a href="logs/bad.log">failed</a></td>' in page
    good_row = next(line for line in page.splitlines() if "posts/good.ipynb" in line)
    assert "<td>ok</td>" in good_row and "<td>cached</td>" in good_row
    assert " UTC</td><td>Python 3." in good_row
    log = (blog / "site_src" / "execution" / "logs" / "bad.log").read_text(encoding="utf-8")
    # The whole traceback, down to the frame that raised, and the one-line error.
    assert "ZeroDivisionError" in log and "return 1 / 0" in log and "inner()" in log
    assert "posts/bad.ipynb, cell 3" in log
    assert "\x1b[" not in log and str(blog) not in log

    report = build_cli(blog, "--report")
    assert report.returncode == 1
    lines = report.stdout.splitlines()
    assert lines[0].split() == ["post", "status", "run", "time", "cache", "executed", "with"]
    bad_line = next(line for line in lines if line.startswith("posts/bad.ipynb"))
    # Never cached: it never finished; its run time is the time until it failed.
    assert bad_line.split()[1] == "failed" and bad_line.split()[3:6] == ["s", "not", "cached"]
    assert "traceback: site_src/execution/logs/bad.log" in report.stdout

    # The page is part of the site and its log is served beside it.
    built = mkdocs(blog, "build", "--strict")
    assert built.returncode == 0, built.stderr
    assert "ZeroDivisionError" in (blog / "site" / "execution" / "logs" / "bad.log").read_text(
        encoding="utf-8"
    )
    assert 'href="logs/bad.log"' in (blog / "site" / "execution" / "index.html").read_text(encoding="utf-8")

    # Fixed, the post is ok and its log is gone.
    import nbformat

    nb = nbformat.read(bad, as_version=4)
    nb.cells[2].source = "print('fine')"
    nbformat.write(nb, bad)
    second = build_cli(blog)
    assert second.returncode == 0, second.stderr
    assert not (blog / "site_src" / "execution" / "logs" / "bad.log").exists()
    fixed = build_cli(blog, "--report")
    assert fixed.returncode == 0
    assert next(x for x in fixed.stdout.splitlines() if x.startswith("posts/bad.ipynb")).split()[1] == "ok"


@pytest.mark.slow
def test_what_a_failing_cell_says_is_text_on_the_report_page(
    blog: Path, add_post: Callable[..., Path]
) -> None:
    # An error's message is the code's to choose: markup in it is shown, never made part of the page.
    add_post("loud", 'raise ValueError("<img src=x onerror=alert(1)> <b>bold</b> | a pipe")')
    assert build_cli(blog).returncode == 1
    page = (blog / "site_src" / "execution" / "index.md").read_text(encoding="utf-8")
    assert "<img" not in page and "<b>" not in page
    assert "ValueError: &lt;img src=x onerror=alert(1)&gt; &lt;b&gt;bold&lt;/b&gt; | a pipe" in page
    built = mkdocs(blog, "build", "--strict")
    assert built.returncode == 0, built.stderr
    html = (blog / "site" / "execution" / "index.html").read_text(encoding="utf-8")
    assert "<img src=x" not in html and "<b>bold" not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
