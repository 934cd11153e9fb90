"""Drafts show in `mkdocs serve` and stay out of `mkdocs build`; new features pass --strict."""

from __future__ import annotations

import functools
import os
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from nbpress.pipeline import Options, build
from tests.helpers import (
    HANG,
    copy_blog,
    copy_skeleton,
    free_port,
    mkdocs,
    site_base,
    write_post,
    zensical_build,
)
from tests.test_fastpages import write_fastpages_notebook

ENV = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}


@pytest.fixture(scope="module")
def drafts_built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Return a blog built once with a public post, a draft (a figure, an input) and a fastpages post."""
    blog = copy_skeleton(tmp_path_factory.mktemp("drafts") / "blog")
    make_blog(blog, functools.partial(write_post, blog))
    return blog


@pytest.fixture
def drafted(drafts_built: Path, tmp_path: Path) -> Path:
    """Return a copy of `drafts_built` (its cache too) for one test's site builds."""
    return copy_blog(drafts_built, tmp_path)


def make_blog(blog: Path, add_post: Callable[..., Path]) -> None:
    add_post("public", "print('public output')", "print('folded')", tags={1: ["hide-input"]})
    (blog / "posts" / "draft-data.csv").write_text("draft,data\n")
    add_post(
        "secret-draft",
        "print('draft output')",
        "import matplotlib.pyplot as plt; plt.plot([1, 2]); plt.show()",
        front="draft: true\ninputs: [draft-data.csv]\n",
    )
    write_fastpages_notebook(blog / "posts" / "2020-02-20-fast.ipynb")
    results = build(Options(root=blog, jobs=2))
    assert all(r.error is None for r in results), [str(r.error) for r in results]


@pytest.mark.slow
def test_mkdocs_build_leaves_drafts_out(drafted: Path, tmp_path: Path) -> None:
    blog = drafted
    text = (blog / "site_src" / "posts" / "secret-draft.md").read_text(encoding="utf-8")
    assert yaml.safe_load(text.split("---\n")[1])["draft"] is True
    site = tmp_path / "site"
    proc = mkdocs(blog, "build", "--strict", "--site-dir", str(site))
    assert proc.returncode == 0, proc.stderr
    assert (site / "posts" / "public" / "index.html").is_file()
    assert not (site / "posts" / "secret-draft").exists()
    published = "\n".join(p.read_text(encoding="utf-8") for p in site.rglob("*.html"))
    published += (site / "search" / "search_index.json").read_text(encoding="utf-8")
    assert "secret-draft" not in published and "draft output" not in published
    # Nothing of the draft is in the site: not its page, figures, executed notebook or inputs,
    # though build.py wrote them beside the published post's (mkdocs serve shows them).
    assert (blog / "assets" / "images" / "secret-draft" / ".draft-output_2_0.png").is_file()
    assert (blog / "assets" / "notebooks" / "secret-draft" / ".draft" / "draft-data.csv").is_file()
    assert [p for p in (p.relative_to(site).as_posix() for p in site.rglob("*")) if "draft" in p] == []
    assert (site / "assets" / "notebooks" / "public" / "public.ipynb").is_file()
    # hide-input is a collapsible block; the fastpages post builds with its mapped front matter.
    page = (site / "posts" / "public" / "index.html").read_text(encoding="utf-8")
    assert '<details class="note">\n<summary>Code</summary>' in page
    fast = (site / "posts" / "fast" / "index.html").read_text(encoding="utf-8")
    assert "My Fast Post" in fast and "A summary of what follows." in fast  # the meta description
    assert '<div class="admonition tip">' in fast


@pytest.mark.slow
def test_mkdocs_serve_shows_drafts(drafted: Path) -> None:
    blog = drafted
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "mkdocs", "serve", "--no-livereload", "-a", f"127.0.0.1:{port}"],
        cwd=blog,
        env=ENV,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    base = site_base(blog)
    page = ""
    figure = download = b""
    try:
        end = time.monotonic() + HANG  # a deadline against a stuck server, not a speed requirement
        while time.monotonic() < end and proc.poll() is None and not page:
            try:
                with urllib.request.urlopen(
                    f"http://127.0.0.1:{port}{base}/posts/secret-draft/", timeout=HANG
                ) as r:
                    page = r.read().decode("utf-8")
            except OSError:  # not served yet (URLError, refused, reset); a slow answer is waited for
                time.sleep(0.5)
        if page:
            assets = f"http://127.0.0.1:{port}{base}/assets"
            with urllib.request.urlopen(
                f"{assets}/images/secret-draft/.draft-output_2_0.png", timeout=HANG
            ) as r:
                figure = r.read()
            with urllib.request.urlopen(
                f"{assets}/notebooks/secret-draft/.draft/secret-draft.ipynb", timeout=HANG
            ) as r:
                download = r.read()
    finally:
        proc.terminate()
        _, err = proc.communicate(timeout=HANG)
    assert "draft output" in page, err
    assert "../../assets/images/secret-draft/.draft-output_2_0.png" in page, err
    assert figure.startswith(b"\x89PNG") and download.startswith(b"{"), err


@pytest.mark.slow
def test_publishing_drafts_keeps_their_files(
    blog: Path, add_post: Callable[..., Path], tmp_path: Path
) -> None:
    """With the blog plugin's draft: true (publish drafts), hooks/ownership.py holds nothing back."""
    figure = blog / "assets" / "images" / "d" / ".draft-f.png"
    figure.parent.mkdir(parents=True)
    figure.write_bytes(b"png")
    post = blog / "site_src" / "posts" / "d.md"
    post.parent.mkdir(parents=True)
    post.write_text(
        "---\ntitle: D\ndate: 2024-01-01\ndraft: true\n---\n\n![f](../assets/images/d/.draft-f.png)\n"
    )
    config = blog / "mkdocs.yml"
    config.write_text(config.read_text().replace("      draft: false\n", "      draft: true\n"))
    site = tmp_path / "site"
    proc = mkdocs(blog, "build", "--strict", "--site-dir", str(site))
    assert proc.returncode == 0, proc.stderr
    assert (site / "posts" / "d" / "index.html").is_file()
    assert (site / "assets" / "images" / "d" / ".draft-f.png").read_bytes() == b"png"


@pytest.mark.slow
def test_a_draft_published_later_leaves_no_draft_file(blog: Path, add_post: Callable[..., Path]) -> None:
    from tests.helpers import build_cli

    (blog / "posts" / "data.csv").write_text("1\n")
    figure = "import matplotlib.pyplot as plt; plt.plot([1, 2]); plt.show()"
    add_post("p", figure, front="draft: true\ninputs: [data.csv]\n")
    assert build_cli(blog).returncode == 0
    images, downloads = blog / "assets" / "images" / "p", blog / "assets" / "notebooks" / "p"
    assert sorted(f.name for f in images.iterdir()) == [".draft-output_1_0.png"]
    assert sorted(f.relative_to(downloads).as_posix() for f in downloads.rglob("*")) == [
        ".draft",
        ".draft/data.csv",
        ".draft/p.ipynb",
    ]
    add_post("p", figure, front="inputs: [data.csv]\n")
    result = build_cli(blog)
    assert result.returncode == 0, result.stderr
    assert sorted(f.name for f in images.iterdir()) == ["output_1_0.png"]
    assert sorted(f.relative_to(downloads).as_posix() for f in downloads.rglob("*")) == [
        "data.csv",
        "p.ipynb",
    ]
    page = (blog / "site_src" / "posts" / "p.md").read_text(encoding="utf-8")
    assert ".draft" not in page and "](../assets/images/p/output_1_0.png)" in page
    site = blog / "site"
    proc = mkdocs(blog, "build", "--strict", "--site-dir", str(site))
    assert proc.returncode == 0, proc.stderr
    assert (site / "assets" / "images" / "p" / "output_1_0.png").is_file()
    assert (site / "assets" / "notebooks" / "p" / "p.ipynb").is_file()


@pytest.mark.slow
def test_zensical_build_leaves_drafts_out(drafted: Path) -> None:
    """Zensical runs no MkDocs hook: a draft's files stay out because they are dot-files."""
    blog = drafted
    zensical_build(blog)
    site = blog / "site"
    assert (site / "posts" / "public" / "index.html").is_file()
    assert (site / "assets" / "notebooks" / "public" / "public.ipynb").is_file()
    assert [p for p in (p.relative_to(site).as_posix() for p in site.rglob("*")) if "draft" in p] == []
