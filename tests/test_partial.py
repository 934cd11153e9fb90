"""The MkDocs preview's partial render (publishing.partial), checked against MkDocs' own full build.

After each change the preview's site must equal a full build of the same tree, file by file,
except what the module says it leaves stale (the search index, the feeds); a change a partial
render cannot keep true must make a full build.
"""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from nbpress.layout import Layout
from nbpress.publishing import Preview
from nbpress.publishing.partial import Site
from tests.helpers import HANG, REPO, build_command, copy_blog, shared_blog, tree_differences

pytestmark = pytest.mark.slow

SERVED = "http://127.0.0.1:8000/"
# What a partial render leaves as the last full build wrote it.
STALE = {"search/search_index.json", "feed_rss_created.xml", "feed_rss_updated.xml"}
PARTIAL = re.compile(r"^rendered (\d+) page\(s\)", re.M)
TOPICS = ("numpy", "plotting", "notes")
# A full build of the preview, as the server's first one: argv 1 the config, 2 the site folder,
# 3 the checkout (run in the blog's root, where nbpress is not importable).
_REFERENCE = f"""
import sys
sys.path.insert(0, sys.argv[3])
from nbpress.publishing.partial import Site
site = Site(sys.argv[1], sys.argv[2], {SERVED!r})
config = site.load()
config.plugins.on_startup(command="serve", dirty=False)
site.full(config)
"""


def _note(root: Path, i: int, extra: str = "", title: str | None = None, date: str | None = None) -> None:
    """Write Markdown post number `i`: three categories, a tag each, dates a month apart."""
    topic = TOPICS[i % len(TOPICS)]
    (Layout(root).sources / f"note-{i:02d}.md").write_text(
        f"---\ntitle: {title or f'Note {i}'}\ndate: {date or f'2023-{1 + i % 12:02d}-{1 + i % 28:02d}'}\n"
        f"categories: [{topic}]\ntags: [t{i % 4}]\n---\n\nNote {i}, about {topic}. {extra}\n\n"
        f"<!-- more -->\n\n## Details\n\nMore about {topic}.\n",
        encoding="utf-8",
    )


def _make(root: Path) -> None:
    from tests.skeleton import copy_skeleton

    copy_skeleton(root)
    for i in range(23):  # three pages of the blog's index, two of the busiest category
        _note(root, i)
    _build(root)


@pytest.fixture(scope="session")
def notes_blog(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Return a built blog of 23 Markdown posts (no test changes it: see `preview`)."""
    return shared_blog(tmp_path_factory, "partial-notes", _make)


def _build(root: Path) -> None:
    done = subprocess.run(build_command(root), capture_output=True, text=True, timeout=HANG, check=False)
    assert done.returncode == 0, done.stdout + done.stderr


class Served:
    """The blog's preview: its copy, the partial-render site over it, and how to check it."""

    def __init__(self, root: Path, tmp: Path) -> None:
        self.root = root
        self.tmp = tmp
        self.preview = Preview(root)
        self.preview.create()
        config = str(self.preview.config.relative_to(root))
        self.site = Site(config, str(tmp / "served"), SERVED, watched=[config])
        # What the server is told, in order: the pages written one by one (None: every page).
        self.written: list[list[str] | None] = []
        self.site.written = self.written.append
        loaded = self.site.load()
        loaded.plugins.on_startup(command="serve", dirty=False)
        self.site.full(loaded)

    def change(self, capsys: pytest.CaptureFixture[str], edit: Callable[[], object]) -> int | None:
        """Make `edit`, build, sync the copy and render; return the pages rendered (None: a full build)."""
        edit()
        _build(self.root)
        self.preview.sync(None)
        capsys.readouterr()
        self.written.clear()
        self.site.update()
        found = PARTIAL.search(capsys.readouterr().out)
        return int(found.group(1)) if found else None

    def differences(self) -> set[str]:
        """Return the files the served site and a fresh full build of the same tree differ in.

        The full build runs in a process of its own: MkDocs keeps one instance of a plugin
        with an `on_startup` per process, the blog's among them, and a build resets its state.
        """
        reference = self.tmp / "reference"
        done = subprocess.run(
            [sys.executable, "-c", _REFERENCE, self.site.config_file, str(reference), str(REPO)],
            capture_output=True,
            text=True,
            timeout=HANG,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        return set(tree_differences(self.site.site_dir, reference))


@pytest.fixture
def served(notes_blog: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Served:
    root = copy_blog(notes_blog, tmp_path / "blog")
    monkeypatch.chdir(root)  # as the server runs: in the blog's root
    monkeypatch.setenv("NO_MKDOCS_2_WARNING", "1")
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")  # the feeds' build date, in both builds
    return Served(root, tmp_path)


def test_an_edit_renders_its_pages_and_listings_alone_as_a_full_build_would(
    served: Served, capsys: pytest.CaptureFixture[str]
) -> None:
    rendered = served.change(capsys, lambda: _note(served.root, 3, extra="A sentence added."))
    assert rendered is not None and 2 <= rendered <= 6, rendered
    page = Path(served.site.site_dir, "posts", "note-03", "index.html").read_text(encoding="utf-8")
    assert "A sentence added." in page
    # Each page is announced as it is written, once: the post first (the browser showing it
    # reloads then, before the listings are rendered), then the listings that show it.
    assert all(pages is not None and len(pages) == 1 for pages in served.written), served.written
    order = [pages[0] for pages in served.written if pages is not None]
    assert len(order) == len(set(order)) == rendered, order
    assert order[0] == "posts/note-03/index.html", order
    assert "category/numpy/index.html" in order[1:], order
    assert served.differences() <= STALE
    # Again, and a listing's excerpt: the excerpt shows the prose before the <!-- more -->. A
    # page beside it changed too (as the execution report does when a post runs): written after
    # the post, before the listings.
    about = served.root / "site_src" / "about.md"

    def both() -> None:
        _note(served.root, 3, extra="Another one.")
        about.write_text(about.read_text(encoding="utf-8") + "\nMore about.\n", encoding="utf-8")

    rendered = served.change(capsys, both)
    assert rendered is not None
    order = [pages[0] for pages in served.written if pages is not None]
    assert order[:2] == ["posts/note-03/index.html", "about/index.html"], order
    site = Path(served.site.site_dir)
    listings = [p for p in site.rglob("index.html") if "Note 3, about" in p.read_text(encoding="utf-8")]
    assert len(listings) >= 4  # the post, the index's page, the category's, the archive's
    for listing in listings:
        assert "Another one." in listing.read_text(encoding="utf-8"), listing
    assert served.differences() <= STALE


def test_every_kind_of_page_that_is_not_a_post_renders_alone_as_a_full_build_would(
    served: Served, capsys: pytest.CaptureFixture[str]
) -> None:
    # A plain page, the tags page (a listing the tags plugin fills), the generated report, the
    # blog's index (the first page of a listing; last, since a post's edit renders it too).
    for page in ["about.md", "tags.md", "execution/index.md", "index.md"]:
        source = served.root / "site_src" / page
        text = source.read_text(encoding="utf-8")

        def added(source: Path = source, text: str = text) -> None:
            source.write_text(text + "\nA line added.\n", encoding="utf-8")

        assert served.change(capsys, added) == 1, page
        url = page.removesuffix("index.md").removesuffix(".md")
        assert served.written == [[f"{url}{'/' if url and not url.endswith('/') else ''}index.html"]], page
        html = Path(served.site.site_dir, url, "index.html").read_text(encoding="utf-8")
        # (The report is the build's: it writes its own text again.)
        assert ("A line added." in html) == ("A line added." in source.read_text(encoding="utf-8")), page
    sheet = served.root / "site_src" / "stylesheets" / "nbpress.css"
    css = sheet.read_text(encoding="utf-8")
    assert served.change(capsys, lambda: sheet.write_text(css + "\n/* changed */\n", encoding="utf-8")) == 0
    assert served.written == [None], served.written  # a stylesheet: every page reloads
    served_sheet = Path(served.site.site_dir, "stylesheets", "nbpress.css")
    assert "/* changed */" in served_sheet.read_text(encoding="utf-8")
    # Each page rendered alone stays as it was rendered: one comparison sees every one.
    assert served.differences() <= STALE


def test_what_a_partial_render_cannot_keep_true_is_built_in_full(
    served: Served, capsys: pytest.CaptureFixture[str]
) -> None:
    sources = Layout(served.root).sources
    note = sources / "note-03.md"
    changes: dict[str, Callable[[], object]] = {
        "a title": lambda: _note(served.root, 3, title="A new title"),  # the tags page shows it
        "a date": lambda: _note(served.root, 3, date="2024-02-02"),  # the listings' order, the archive
        "a category": lambda: note.write_text(
            note.read_text(encoding="utf-8").replace("[numpy]", "[plotting]"), encoding="utf-8"
        ),
        "a new post": lambda: _note(served.root, 40),
        "a removed post": lambda: (sources / "note-05.md").unlink(),
    }
    for name, change in changes.items():
        assert served.change(capsys, change) is None, name
        assert served.written[-1:] == [None], name  # every page reloads, once the build is done
    # After full builds the next edit is rendered alone again, from the last full build's state.
    assert served.change(capsys, lambda: _note(served.root, 8, extra="After them.")) is not None
    assert served.differences() <= STALE


def test_a_page_is_dated_by_its_own_writes_at_any_mount_path(tmp_path: Path) -> None:
    # What the preview's reload script asks (tests/test_preview.py drives it in Chromium): a
    # page's date moves when that page is written, or when every page is (a full build).
    from nbpress.publishing.partial import _Server

    server = _Server(builder=lambda: None, host="127.0.0.1", port=0, root=str(tmp_path), mount_path="/blog/")
    try:
        assert server._page_of("/blog/") == "index.html"
        assert server._page_of("/blog/posts/caf%C3%A9/") == "posts/café/index.html"
        assert server._page_of("/blog/about.html") == "about.html"
        start = server._epoch_of("posts/café/index.html")
        server.written(["posts/café/index.html"])
        post = server._epoch_of("posts/café/index.html")
        assert post > start and server._epoch_of("about/index.html") == start
        server.written(["about/index.html"])
        assert server._epoch_of("posts/café/index.html") == post  # another page's write
        server.written(None)
        everything = server._epoch_of("index.html")  # every page, once the full build is done
        assert server._epoch_of("posts/café/index.html") == server._epoch_of("about/index.html") == everything
        assert everything > post
    finally:
        server.server_close()
