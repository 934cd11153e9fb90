"""Drafts show in `mkdocs serve` and stay out of `mkdocs build`; new features pass --strict."""

from __future__ import annotations

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
from tests.helpers import free_port, mkdocs, site_base
from tests.test_fastpages import write_fastpages_notebook

ENV = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}


def make_blog(blog: Path, add_post: Callable[..., Path]) -> None:
    add_post("public", "print('public output')", "print('folded')", tags={1: ["hide-input"]})
    add_post("secret-draft", "print('draft output')", front="draft: true\n")
    write_fastpages_notebook(blog / "posts" / "2020-02-20-fast.ipynb")
    results = build(Options(root=blog, jobs=2))
    assert all(r.error is None for r in results), [str(r.error) for r in results]


@pytest.mark.slow
def test_mkdocs_build_leaves_drafts_out(blog: Path, add_post: Callable[..., Path], tmp_path: Path) -> None:
    make_blog(blog, add_post)
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
    # hide-input is a collapsible block; the fastpages post builds with its mapped front matter.
    page = (site / "posts" / "public" / "index.html").read_text(encoding="utf-8")
    assert '<details class="note">\n<summary>Code</summary>' in page
    fast = (site / "posts" / "fast" / "index.html").read_text(encoding="utf-8")
    assert "My Fast Post" in fast and "A summary of what follows." in fast  # the meta description
    assert '<div class="admonition tip">' in fast


@pytest.mark.slow
def test_mkdocs_serve_shows_drafts(blog: Path, add_post: Callable[..., Path]) -> None:
    make_blog(blog, add_post)
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
    try:
        end = time.monotonic() + 120  # a deadline against a stuck server, not a speed requirement
        while time.monotonic() < end and proc.poll() is None and not page:
            try:
                with urllib.request.urlopen(
                    f"http://127.0.0.1:{port}{base}/posts/secret-draft/", timeout=5
                ) as r:
                    page = r.read().decode("utf-8")
            except (urllib.error.URLError, ConnectionError):
                time.sleep(0.5)
    finally:
        proc.terminate()
        _, err = proc.communicate(timeout=60)
    assert "draft output" in page, err
