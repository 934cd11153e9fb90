"""`build.py --serve`: the server renders the preview's copy of the published tree, once per save."""

from __future__ import annotations

import re
import signal
import subprocess
import threading
import time
import urllib.parse
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from nbpress.publishing import Changes, Preview
from tests.helpers import HANG, free_port, site_base, start_serve, watcher_armed
from tests.test_watch import fetch, wait_for

# The line each renderer's server prints once per site render: MkDocs' full build or partial one.
REBUILD_LINE = {
    "mkdocs": re.compile(r"Building documentation|^rendered \d+ page", re.M),
    "zensical": re.compile("No issues found"),
}


def test_the_copy_follows_the_published_tree_and_nothing_else(blog: Path) -> None:
    page = blog / "site_src" / "posts" / "a.md"
    figure = blog / "assets" / "images" / "a" / "output_1_0.png"
    page.parent.mkdir(parents=True, exist_ok=True)
    figure.parent.mkdir(parents=True)
    page.write_text("one\n")
    figure.write_bytes(b"first figure")
    (page.parent / ".nbpress-writing-a.json").write_text("{}")  # a publish under way
    preview = Preview(blog)
    preview.create()
    copy = preview.folder / "site_src"
    assert (copy / "posts" / "a.md").read_text() == "one\n"
    # assets/ is inside the copy's tree (a server does not watch through site_src/assets, a link).
    assert not (copy / "assets").is_symlink()
    assert (copy / "assets" / "images" / "a" / "output_1_0.png").read_bytes() == b"first figure"
    assert not (copy / "posts" / ".nbpress-writing-a.json").exists()
    # The server's config watches nothing of the blog: posts/ and assets/ are not in the copy.
    assert not (preview.folder / "posts").exists() and not (preview.folder / "assets").exists()
    assert preview.sync() == 0  # nothing changed, nothing for the server to see
    assert preview.sync(Changes()) == 0
    # A figure rewritten under the same name, as the build writes it: replaced, not edited.
    new = figure.with_name("new.png")
    new.write_bytes(b"second figure")
    new.replace(figure)
    report = blog / "site_src" / "execution" / "index.md"
    report.parent.mkdir()
    report.write_text("report\n")
    # After a build, only what it reports is compared (and the pages every build may rewrite).
    assert preview.sync(Changes(written=frozenset({"site_src/posts/a.md"}))) == 2
    assert (copy / "assets" / "images" / "a" / "output_1_0.png").read_bytes() == b"second figure"
    assert (copy / "execution" / "index.md").read_text() == "report\n"
    page.unlink()
    assert preview.sync(Changes(removed=frozenset({"site_src/posts/a.md"}))) == 1
    assert not (copy / "posts" / "a.md").exists()
    edited = blog / "site_src" / "about.md.new"
    edited.write_text("edited by hand\n")
    edited.replace(blog / "site_src" / "about.md")  # saved as editors save: a new file
    assert preview.sync(Changes()) == 0 and preview.sync() == 1  # a whole-tree sync sees the rest


def _png(url: str) -> bool:
    """Return True if `url` serves a PNG image."""
    import urllib.request

    try:
        with urllib.request.urlopen(url, timeout=HANG) as response:
            return bytes(response.read(8)) == b"\x89PNG\r\n\x1a\n"
    except OSError:
        return False


def _collect(proc: subprocess.Popen[str], lines: list[str]) -> None:
    assert proc.stdout is not None
    for line in proc.stdout:
        lines.append(line)


@pytest.mark.slow
@pytest.mark.parametrize("renderer", sorted(REBUILD_LINE))
def test_one_save_renders_the_site_once(blog: Path, add_post: Callable[..., Path], renderer: str) -> None:
    # A draft (as `build.py new` writes one) with a figure: a dot-file the preview must serve too.
    figure = "import matplotlib.pyplot as plt\nplt.plot([1, 2])\nplt.show()"
    add_post("live", "print('served one')", figure, front="draft: true\n")
    port = free_port()
    url = f"http://127.0.0.1:{port}{site_base(blog)}/posts/live/"
    proc = start_serve(blog, port, "--renderer", renderer)
    lines: list[str] = []
    reader = threading.Thread(target=_collect, args=(proc, lines), daemon=True)
    reader.start()
    line = REBUILD_LINE[renderer]
    try:
        assert wait_for(lambda: "served one" in fetch(url), proc)
        assert wait_for(lambda: watcher_armed(proc.pid), proc)
        first = sum(bool(line.search(text)) for text in lines)
        assert first == 1, "".join(lines)  # the server's first build
        figures = re.findall(r'src="([^"]*\.draft-[^"]*\.png)"', fetch(url))
        assert figures, fetch(url)
        assert _png(urllib.parse.urljoin(url, figures[0]))
        # Runs a kernel, writes the page and the execution report.
        add_post("live", "print('served two')", figure, front="draft: true\n")
        assert wait_for(lambda: "served two" in fetch(url), proc)
        time.sleep(3)  # room for a second rebuild, if one were coming (no time is asserted)
    finally:
        proc.send_signal(signal.SIGINT)  # Ctrl-C ends the watch and its server
        try:
            proc.wait(timeout=HANG)
        except subprocess.TimeoutExpired:
            proc.kill()
        reader.join(timeout=HANG)
    out = "".join(lines)
    assert proc.returncode == 0, out
    assert sum(bool(line.search(text)) for text in lines) == 2, out
    assert "served two" in (blog / ".nbpress-preview" / "site_src" / "posts" / "live.md").read_text()


@pytest.mark.slow
def test_the_page_in_the_browser_reloads_itself_after_a_save_under_the_site_policy(blog: Path) -> None:
    # MkDocs' own reload script is inline, which the site's policy refuses (no page would ever
    # reload): the preview's server gives it as a file. A reader's Chromium, nothing reloaded by hand.
    from tests.helpers import launch_chromium, watch_policy

    source = blog / "posts" / "live.md"
    front = "---\ntitle: Live\ndate: 2024-05-05\n---\n\n"
    source.write_text(f"{front}The first words.\n", encoding="utf-8")
    port = free_port()
    url = f"http://127.0.0.1:{port}{site_base(blog)}/posts/live/"
    proc = start_serve(blog, port)
    try:
        assert wait_for(lambda: "The first words." in fetch(url), proc)
        assert wait_for(lambda: watcher_armed(proc.pid), proc)
        base = url.removesuffix("posts/live/")
        with launch_chromium() as browser:
            context = browser.new_context()
            refused = watch_policy(context)
            # The post, the blog's index (its listing shows the post) and a page the save does
            # not change, each marked: a mark is gone once its page is loaded again.
            pages = {}
            for name, address in (("post", url), ("index", base), ("about", f"{base}about/")):
                pages[name] = context.new_page()
                pages[name].goto(address)
                pages[name].wait_for_load_state("load")
                pages[name].evaluate("window.nbpressMark = 1")
            source.write_text(f"{front}The second words.\n", encoding="utf-8")
            # (Polled from here: playwright's wait_for_function runs eval, which the policy refuses.)
            for name in ("post", "index"):

                def shown(page: Any = pages[name]) -> bool:
                    return "The second words." in page.inner_text("article")

                assert wait_for(shown, proc)
                assert pages[name].evaluate("window.nbpressMark") is None, f"{name}: changed without a reload"
            time.sleep(2)  # room for a reload that should not come (no time is asserted)
            assert pages["about"].evaluate("window.nbpressMark") == 1, "an unchanged page reloaded"
            assert refused == []
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=HANG)
        except subprocess.TimeoutExpired:
            proc.kill()
