"""`build.py new`: a post source with front matter filled in, never an overwrite."""

from __future__ import annotations

import datetime as dt
import subprocess
from pathlib import Path

import pytest
import yaml

from nbpress.pipeline import Options, build
from nbpress.sources.posts import read_post
from tests.helpers import HANG, build_cli


def new(blog: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return build_cli(blog, *args, jobs=None, command="new", timeout=HANG)


@pytest.mark.slow
@pytest.mark.parametrize("fmt", ["ipynb", "md", "py"])
def test_new_post_builds_as_a_draft(blog: Path, fmt: str) -> None:
    proc = new(blog, "Déjà vu: my first post!", "--format", fmt)
    assert proc.returncode == 0, proc.stderr
    path = blog / "posts" / f"deja-vu-my-first-post.{fmt}"
    assert f"created posts/{path.name}" in proc.stdout and "python build.py --serve" in proc.stdout
    front = read_post(path, blog).front_matter
    assert front.title == "Déjà vu: my first post!"
    assert front.date == dt.date.today() and front.draft is True
    assert front.data["author"] == "Steve Han"  # the first author of site_src/.authors.yml

    [result] = build(Options(root=blog, jobs=1))
    assert result.status == "executed", str(result.error)
    text = (blog / "site_src" / "posts" / "deja-vu-my-first-post.md").read_text(encoding="utf-8")
    published = yaml.safe_load(text.split("---\n")[1])
    assert published["draft"] is True and published["authors"] == ["steve-han"]
    assert "nbpress-stdout}\nPython 3." in text  # the first cell ran


@pytest.mark.slow
def test_new_refuses_to_overwrite_any_format(blog: Path) -> None:
    assert new(blog, "Taken", "--format", "md").returncode == 0
    source = blog / "posts" / "taken.md"
    source.write_text(source.read_text() + "\nMy own words.\n")
    before = source.read_bytes()
    for fmt in ("md", "ipynb"):
        proc = new(blog, "Taken", "--format", fmt)
        assert proc.returncode == 1
        assert proc.stderr.strip() == (
            "error: posts/taken.md already holds the post 'taken'; nothing was written "
            "(pick another title or --slug)."
        )
    assert source.read_bytes() == before
    assert sorted(p.name for p in (blog / "posts").iterdir()) == ["taken.md"]
    assert new(blog, "Taken", "--slug", "taken-2").returncode == 0


def test_new_rejects_a_title_without_a_name(blog: Path) -> None:
    proc = new(blog, "!!!")
    assert proc.returncode == 1 and "pass --slug" in proc.stderr
    assert not any((blog / "posts").iterdir())


@pytest.mark.slow
def test_build_py_still_takes_slugs(blog: Path) -> None:
    assert new(blog, "Alpha").returncode == 0
    assert new(blog, "Beta").returncode == 0
    proc = build_cli(blog, "beta", jobs=1)
    assert proc.returncode == 0, proc.stderr
    assert (blog / "site_src" / "posts" / "beta.md").is_file()
    assert not (blog / "site_src" / "posts" / "alpha.md").exists()
