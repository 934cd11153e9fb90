"""The seams: an executor is anything that turns posts into cache entries; publishing reports
which pages changed; MkDocs and Zensical render the same published tree."""

from __future__ import annotations

import copy
import shutil
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import nbformat
import pytest

from nbpress.execution.executor import Outcome, entry_of, shard_of
from nbpress.execution.store import Entry, Store
from nbpress.layout import CACHE
from nbpress.pipeline import Options, build
from nbpress.publishing.renderers import RENDERERS, build_site
from nbpress.sources.posts import Post
from tests.helpers import copy_blog, copy_skeleton, published, without_execution_time, write_post

CELLS = (
    "print('hello from', 6 * 7)",
    "{'answer': 42}",
    "from IPython.display import Markdown\nMarkdown('**bold**')",
)


class InProcess:
    """An executor of its own: each post through nbclient's plain public API, one after another."""

    def __init__(self) -> None:
        self.ran: list[str] = []

    def selects(self, post: Post) -> bool:
        return True

    def run(
        self,
        posts: Sequence[Post],
        cwd: Path,
        started: Callable[[Post], None],
        finished: Callable[[Outcome], None],
    ) -> None:
        from nbclient import NotebookClient

        for post in posts:
            started(post)
            self.ran.append(post.file_slug)
            start = time.perf_counter()
            notebook = nbformat.from_dict(copy.deepcopy(post.notebook))
            client = NotebookClient(
                notebook,
                kernel_name=post.front_matter.kernel,
                resources={"metadata": {"path": str(cwd)}},
                record_timing=False,
            )
            client.execute()
            # What every executor hands back: outputs capped and checked, with provenance.
            entry = entry_of(notebook, post)
            finished(Outcome(post, entry, None, time.perf_counter() - start))


class Recorder:
    """An executor that runs nothing: each post's entry has no outputs; it notes what it was given."""

    def __init__(self) -> None:
        self.ran: list[str] = []

    def selects(self, post: Post) -> bool:
        return True

    def run(
        self,
        posts: Sequence[Post],
        cwd: Path,
        started: Callable[[Post], None],
        finished: Callable[[Outcome], None],
    ) -> None:
        for post in posts:
            started(post)
            self.ran.append(post.file_slug)
            code = [c for c in post.notebook.cells if c.cell_type == "code"]
            finished(Outcome(post, Entry([[] for _ in code]), None, 0.0))


def _markdown(blog: Path) -> dict[str, str]:
    return {
        name: without_execution_time(data.decode("utf-8")) if name.endswith(".md") else repr(data)
        for name, data in published(blog).items()
    }


@pytest.mark.slow
def test_a_second_executor_publishes_what_the_local_one_does(tmp_path: Path) -> None:
    local = copy_skeleton(tmp_path / "local")
    other = copy_skeleton(tmp_path / "other")
    for blog in (local, other):
        write_post(blog, "seam", *CELLS)
    assert {r.status for r in build(Options(local, jobs=1))} == {"executed"}
    executor = InProcess()
    results = build(Options(other, executor=executor))
    assert [(r.status, r.error) for r in results] == [("executed", None)]
    assert executor.ran == ["seam"]
    assert _markdown(other) == _markdown(local)
    assert "hello from 42" in (other / "site_src" / "posts" / "seam.md").read_text(encoding="utf-8")
    # Its entry is a cache entry like any other: the local executor has nothing left to run.
    assert Store(other / CACHE).keys() == Store(local / CACHE).keys()
    shutil.rmtree(other / "site_src" / "posts")
    assert [r.status for r in build(Options(other, jobs=1))] == ["cached"]
    assert _markdown(other) == _markdown(local)


def test_a_shard_hands_its_executor_only_its_own_posts(blog: Path) -> None:
    slugs = [f"post-{i}" for i in range(8)]
    for n, slug in enumerate(slugs):
        write_post(blog, slug, f"print({n})")
    inner = Recorder()
    results = build(Options(blog, shard=(2, 3), executor=inner))
    mine = sorted(s for s in slugs if shard_of(s, 3) == 1)
    assert mine and sorted(inner.ran) == mine
    assert sorted(r.name for r in results) == [f"posts/{s}.ipynb" for s in mine]
    assert {r.status for r in results} == {"executed"}
    assert len(Store(blog / CACHE).keys()) == len(mine)
    assert not (blog / "site_src" / "posts").exists() or not list((blog / "site_src" / "posts").glob("*.md"))


def _prose(blog: Path, slug: str, text: str) -> None:
    """Put `text` in the post's one Markdown cell (added after its front matter if missing)."""
    path = blog / "posts" / f"{slug}.ipynb"
    notebook = nbformat.read(path, as_version=4)
    cells = [c for c in notebook.cells if c.cell_type == "markdown"]
    if cells:
        cells[0].source = text
    else:
        cell = nbformat.v4.new_markdown_cell(text)
        cell["id"] = "prose"
        notebook.cells.insert(1, cell)
    nbformat.write(notebook, path)


@pytest.fixture(scope="module")
def two_posts(tmp_path_factory: pytest.TempPathFactory) -> Path:
    blog = copy_skeleton(tmp_path_factory.mktemp("changes") / "blog")
    for slug in ("first", "second"):
        write_post(blog, slug, f"print('{slug}')")
        _prose(blog, slug, f"The {slug} post.")
    results = build(Options(blog, jobs=2))
    assert {r.status for r in results} == {"executed"}
    assert results.changes.written == {"site_src/posts/first.md", "site_src/posts/second.md"}
    assert not results.changes.removed
    return blog


@pytest.fixture
def changed_blog(two_posts: Path, tmp_path: Path) -> Path:
    return copy_blog(two_posts, tmp_path)


@pytest.mark.slow
def test_a_build_that_changes_nothing_reports_no_page(changed_blog: Path) -> None:
    results = build(Options(changed_blog, jobs=1))
    assert {r.status for r in results} == {"unchanged"}
    assert not results.changes and results.changes.pages == frozenset()


def test_a_prose_edit_reports_exactly_that_posts_page(changed_blog: Path) -> None:
    _prose(changed_blog, "second", "The second post, edited.")
    results = build(Options(changed_blog, jobs=1))
    assert {r.name: r.status for r in results} == {
        "posts/first.ipynb": "unchanged",
        "posts/second.ipynb": "cached",
    }
    assert results.changes.written == {"site_src/posts/second.md"}
    assert not results.changes.removed
    # Built again, the page is what it was: nothing changed, nothing reported.
    assert not build(Options(changed_blog, jobs=1)).changes


def test_a_gone_source_reports_its_page_removed(changed_blog: Path) -> None:
    (changed_blog / "posts" / "first.ipynb").unlink()
    results = build(Options(changed_blog, jobs=1))
    assert results.changes.removed == {"site_src/posts/first.md"}
    assert not results.changes.written


@pytest.mark.parametrize(
    "name", [pytest.param(n, marks=pytest.mark.slow) if n == "mkdocs" else n for n in sorted(RENDERERS)]
)
def test_each_renderer_builds_the_published_tree(two_posts: Path, tmp_path: Path, name: str) -> None:
    blog = copy_blog(two_posts, tmp_path)
    renderer = RENDERERS[name]
    assert renderer.serve_command("127.0.0.1:8123")[-2:] == ["--dev-addr", "127.0.0.1:8123"]
    done = build_site(renderer, blog)
    assert done.returncode == 0, done.stdout + done.stderr
    pages = [p for p in (blog / "site").rglob("index.html") if "second" in p.parent.name]
    assert pages and "The second post." in pages[0].read_text(encoding="utf-8")


def test_serve_runs_the_renderer_asked_for() -> None:
    import build

    # MkDocs by default, the deploy's renderer: its server renders only the pages a save changed.
    args = build.parse_args(["--serve"])
    assert args.renderer == "mkdocs"
    command = RENDERERS[args.renderer].serve_command("127.0.0.1:8000", "conf.yml")
    assert command[1] == "-c" and "nbpress.publishing.partial" in command[2]
    assert command[3:] == ["--config-file", "conf.yml", "--dev-addr", "127.0.0.1:8000"]
    args = build.parse_args(["--serve", "--renderer", "zensical"])
    assert RENDERERS[args.renderer].serve_command("127.0.0.1:8000")[1:4] == ["-m", "zensical", "serve"]
    with pytest.raises(SystemExit):
        build.parse_args(["--serve", "--renderer", "hugo"])
