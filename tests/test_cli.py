"""The command line as a user types it: post names or paths to their sources, close matches, --check."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.helpers import REPO, build_cli


def _line(proc: subprocess.CompletedProcess[str]) -> str:
    """Return the one line a command stopped with (asserting it said nothing else)."""
    assert proc.stdout == ""
    lines = proc.stderr.splitlines()
    assert len(lines) == 1, proc.stderr
    return lines[0]


@pytest.fixture
def two_posts(blog: Path, add_post: Callable[..., Path]) -> Path:
    """Return a blog with posts/SLR_NN.ipynb and posts/2024-01-01-dated.ipynb, built once."""
    add_post("SLR_NN", "print(1)")
    add_post("2024-01-01-dated", "print(2)")
    proc = build_cli(blog)
    assert proc.returncode == 0, proc.stderr
    return blog


@pytest.mark.slow
def test_a_path_to_a_source_names_its_post(two_posts: Path) -> None:
    blog = two_posts
    source = blog / "posts" / "SLR_NN.ipynb"
    # As tab completion gives it, from the blog, from posts/, from elsewhere, absolute.
    typed = [
        ("posts/SLR_NN.ipynb", blog),
        ("./posts/SLR_NN.ipynb", blog),
        ("SLR_NN.ipynb", blog),
        ("SLR_NN.ipynb", blog / "posts"),
        ("../posts/SLR_NN.ipynb", blog / "site_src"),
        (str(source), blog.parent),
        ("blog/posts/SLR_NN.ipynb", blog.parent),
        ("SLR_NN", blog / "posts"),
        ("posts/2024-01-01-dated.ipynb", blog),
        ("2024-01-01-dated", blog),
        ("dated", blog),
    ]
    for name, cwd in typed:
        proc = build_cli(blog, name, cwd=cwd)
        assert proc.returncode == 0, (name, proc.stderr)
        built = [
            word for line in proc.stdout.splitlines() for word in line.split() if word.startswith("posts/")
        ]
        slug = "2024-01-01-dated" if "dated" in name else "SLR_NN"
        assert built == [f"posts/{slug}.ipynb"], (name, proc.stdout)


@pytest.mark.parametrize(
    ("name", "said"),
    [
        ("slr_nn", "posts/slr_nn: no such post in posts/; did you mean SLR_NN?"),
        ("posts/slr_nn.ipynb", "posts/slr_nn.ipynb: no such post in posts/; did you mean SLR_NN?"),
        ("SLR-NM", "posts/SLR-NM: no such post in posts/; did you mean SLR_NN?"),
        ("datd", "posts/datd: no such post in posts/; did you mean dated?"),
        ("zzz", "posts/zzz: no such post in posts/; python build.py --report lists the posts."),
        (
            "site_src/posts/SLR_NN.md",
            "site_src/posts/SLR_NN.md is outside posts/: build.py builds only the posts in posts/ "
            "(move the source there); did you mean SLR_NN?",
        ),
        (
            "mkdocs.yml",
            "mkdocs.yml is outside posts/: build.py builds only the posts in posts/ (move the source there).",
        ),
        (
            "posts/notes.txt",
            "posts/notes.txt is not a post: a post is a notebook, or a .md or .py file with front matter, "
            "in posts/ itself.",
        ),
    ],
)
def test_a_name_that_is_no_post_stops_in_one_line_with_the_close_matches(
    blog: Path, add_post: Callable[..., Path], name: str, said: str
) -> None:
    add_post("SLR_NN", "print(1)")
    add_post("2024-01-01-dated", "print(2)")
    (blog / "posts" / "notes.txt").write_text("notes\n")
    (blog / "site_src" / "posts").mkdir(exist_ok=True)
    (blog / "site_src" / "posts" / "SLR_NN.md").write_text("generated, say\n")
    for args in ([name], ["SLR_NN", name], ["--watch", name]):
        proc = build_cli(blog, *args, cwd=blog)
        assert proc.returncode == 2, (args, proc.stderr)
        assert _line(proc) == f"error: {said}", args
    assert not (blog / "assets" / "notebooks" / "SLR_NN").exists()  # nothing was built


def test_a_path_outside_the_blog_is_one_line(blog: Path, add_post: Callable[..., Path]) -> None:
    add_post("SLR_NN", "print(1)")
    outside = blog.parent / "SLR_NN.ipynb"
    outside.write_text("{}")
    proc = build_cli(blog, str(outside))
    assert _line(proc) == (
        f"error: {outside} is outside posts/: build.py builds only the posts in posts/ "
        "(move the source there); did you mean SLR_NN?"
    )


@pytest.mark.slow
def test_check_says_a_post_fails_and_where_its_log_is(blog: Path, add_post: Callable[..., Path]) -> None:
    add_post("good", "print(1)")
    add_post("bad", "print(1)")
    assert build_cli(blog).returncode == 0
    add_post("bad", "1 / 0")
    add_post("new", "1 / 0")  # never built: no Markdown, and a log
    assert build_cli(blog).returncode == 1
    assert (blog / "site_src" / "execution" / "logs" / "bad.log").is_file()
    proc = build_cli(blog, "--check", jobs=None)
    assert proc.returncode == 1
    assert proc.stderr.splitlines() == [
        "failed   posts/bad.ipynb: its last build failed; the traceback is in "
        "site_src/execution/logs/bad.log (fix it, then run python build.py bad)",
        "failed   posts/new.ipynb: its last build failed; the traceback is in "
        "site_src/execution/logs/new.log (fix it, then run python build.py new)",
    ]
    # Fixed and built, it is current again; fixed but not built, it is stale as before.
    add_post("bad", "print(2)")
    add_post("new", "print(3)")
    assert build_cli(blog, "bad").returncode == 0
    proc = build_cli(blog, "--check", jobs=None)
    assert proc.stderr.splitlines() == [
        "failed   posts/new.ipynb: its last build failed; the traceback is in "
        "site_src/execution/logs/new.log (fix it, then run python build.py new)",
    ]


def test_help_names_a_post_or_its_path() -> None:
    proc = subprocess.run(
        [sys.executable, str(REPO / "build.py"), "--help"], capture_output=True, text=True, timeout=60
    )
    assert "posts/SLR_NN.ipynb" in proc.stdout


@pytest.mark.parametrize("where", ["before", "equals", "after"])
def test_root_may_come_before_a_subcommand(tmp_path: Path, where: str) -> None:
    # `--root` is every command's option: before `new` it must not make "new" a post's name.
    root = {"before": ["--root", str(tmp_path)], "equals": [f"--root={tmp_path}"], "after": []}[where]
    tail = ["--root", str(tmp_path)] if where == "after" else []
    proc = subprocess.run(
        [sys.executable, str(REPO / "build.py"), *root, "new", "A first post", *tail],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "posts" / "a-first-post.ipynb").is_file()
