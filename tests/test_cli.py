"""The command line as a user types it: post names or paths to their sources, close matches, --check."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.helpers import HANG, REPO, build_cli, copy_skeleton, write_post


def _line(proc: subprocess.CompletedProcess[str]) -> str:
    """Return the one line a command stopped with (asserting it said nothing else)."""
    assert proc.stdout == ""
    lines = proc.stderr.splitlines()
    assert len(lines) == 1, proc.stderr
    return lines[0]


@pytest.fixture(scope="module")
def two_posts(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Return a blog with posts/SLR_NN.ipynb and posts/2024-01-01-dated.ipynb, built once.

    Its tests only build posts that are current (nothing runs or changes), so they share it.
    """
    blog = copy_skeleton(tmp_path_factory.mktemp("two") / "blog")
    write_post(blog, "SLR_NN", "print(1)")
    write_post(blog, "2024-01-01-dated", "print(2)")
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
        [sys.executable, str(REPO / "build.py"), "--help"], capture_output=True, text=True, timeout=HANG
    )
    assert "posts/SLR_NN.ipynb" in proc.stdout


@pytest.mark.parametrize(
    "command", [[], ["--check"], ["--report"], ["new", "A post"], ["import", "."], ["--prune-cache"]]
)
@pytest.mark.parametrize("root", ["missing", "posts", "empty"])
def test_a_root_that_is_no_blog_is_one_line_and_creates_nothing(
    blog: Path, tmp_path: Path, command: list[str], root: str
) -> None:
    # A mistyped --root (or posts/ itself) used to "build" an empty blog there: 0 posts, exit 0,
    # and a new site_src/ beside whatever the folder held.
    folder = {"missing": tmp_path / "nope", "posts": blog / "posts", "empty": tmp_path / "empty"}[root]
    if root == "empty":
        folder.mkdir()
    before = sorted(tmp_path.rglob("*"))
    proc = subprocess.run(
        [sys.executable, str(REPO / "build.py"), *command, "--root", str(folder)],
        capture_output=True,
        text=True,
        timeout=HANG,
    )
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert proc.stderr.count("\n") == 1 and proc.stderr.startswith(f"error: {folder}"), proc.stderr
    assert "pass --root the" in proc.stderr
    assert sorted(tmp_path.rglob("*")) == before


@pytest.mark.parametrize("where", ["before", "equals", "after"])
def test_root_may_come_before_a_subcommand(tmp_path: Path, where: str) -> None:
    # `--root` is every command's option: before `new` it must not make "new" a post's name.
    (tmp_path / "posts").mkdir()
    root = {"before": ["--root", str(tmp_path)], "equals": [f"--root={tmp_path}"], "after": []}[where]
    tail = ["--root", str(tmp_path)] if where == "after" else []
    proc = subprocess.run(
        [sys.executable, str(REPO / "build.py"), *root, "new", "A first post", *tail],
        capture_output=True,
        text=True,
        timeout=HANG,
    )
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "posts" / "a-first-post.ipynb").is_file()


# A typo on the header's 5th line (after ---, title, date, author), as an author makes it.
TYPOS = {
    "bracket": ("tags: [a, b", "the [ list that starts here is not closed"),
    "quote": 'tags: "a, b',
    "colon": ("tags a, b", "this key has no ':' after it"),
    "extra": ("tags: [a, b]]", "expected <block end>, but found ']'"),
}


def _header_source(suffix: str, typo: str) -> str:
    """Return a post whose YAML header holds `typo` from its 5th line on, in the format of `suffix`."""
    import json

    header = [
        "---",
        "title: A post",
        "date: 2024-01-01",
        "author: me",
        *typo.splitlines(),
        "categories: [x]",
        "---",
    ]
    if suffix == ".ipynb":
        cells = [
            {"id": "front", "cell_type": "raw", "metadata": {}, "source": "\n".join(header)},
            {
                "id": "code",
                "cell_type": "code",
                "metadata": {},
                "source": "x = 1",
                "outputs": [],
                "execution_count": None,
            },
        ]
        return json.dumps({"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5})
    if suffix == ".py":
        return "".join(f"# {line}\n" for line in header) + "\n# %%\nx = 1\n"
    fence = "```{python}" if suffix == ".qmd" else "```python"
    return "\n".join(header) + f"\n\nSome prose.\n\n{fence}\nx = 1\n```\n"


def test_a_yaml_error_points_at_the_key_mistyped(blog: Path) -> None:
    # PyYAML notices an unclosed [ or quote, or a key without its colon, at the next key (or
    # the end): the error names the line the author mistyped, in the file or cell they edit.
    wanted = {}
    for suffix in (".ipynb", ".md", ".py", ".qmd"):
        for name, typo in TYPOS.items():
            text, said = typo if isinstance(typo, tuple) else (typo, "the quoted text that starts here")
            source = blog / "posts" / f"{name}-{suffix[1:]}{suffix}"
            source.write_text(_header_source(suffix, text))
            wanted[f"posts/{source.name}"] = said
    proc = build_cli(blog, jobs=1)
    errors = {
        line.split(":")[1].strip(): line for line in proc.stderr.splitlines() if line.startswith("error: ")
    }
    assert set(errors) == set(wanted), proc.stderr
    for rel, said in wanted.items():
        line = errors[rel]
        cell = " of the first cell" if rel.endswith(".ipynb") else ""
        broken = "the YAML header is broken" if rel.endswith(".qmd") else "front matter YAML is broken"
        assert line.startswith(f"error: {rel}: {broken} at line 5{cell} ({said}"), line


BIB = "@book{knuth,\n  title={TAOCP},\n  author={Knuth, Donald},\n  year={1968}\n}\n"


_BUILD_LINE = re.compile(r"(\w+) +(?:[\d.]+ s)? +(posts/\S+)(?: \((.*)\))?")


def _built(proc: subprocess.CompletedProcess[str]) -> dict[str, str]:
    """Return {post: "status (reason)"} read from a build's lines ("cached  1.2 s  posts/x.md (why)")."""
    found = (_BUILD_LINE.fullmatch(line.strip()) for line in proc.stdout.splitlines())
    return {m[2]: f"{m[1]} ({m[3]})" if m[3] else m[1] for m in found if m}


@pytest.mark.slow
def test_a_bibliography_re_renders_only_the_posts_that_cite_and_is_named(blog: Path) -> None:
    posts = blog / "posts"
    body = "```python\nx = 1\n```\n"
    (posts / "plain.md").write_text(
        f"---\ntitle: Plain\ndate: 2024-01-01\n---\n\nNo citation; mail me@x.org.\n\n{body}"
    )
    (posts / "cites.md").write_text(
        f"---\ntitle: Cites\ndate: 2024-01-02\n---\n\nAs [@knuth] says.\n\n{body}"
    )
    (posts / "named.md").write_text(
        f"---\ntitle: Named\ndate: 2024-01-03\nbibliography: other.bib\n---\n\nNo citation yet.\n\n{body}"
    )
    (posts / "other.bib").write_text(BIB)
    assert build_cli(blog).returncode == 0
    (posts / "references.bib").write_text(BIB)  # added beside every post
    proc = build_cli(blog)
    assert proc.returncode == 0, proc.stderr
    assert _built(proc) == {
        "posts/cites.md": "cached (posts/references.bib added)",
        "posts/named.md": "unchanged",
        "posts/plain.md": "unchanged",
    }
    (posts / "references.bib").write_text(BIB.replace("1968", "1969"))
    (posts / "other.bib").write_text(BIB.replace("TAOCP", "The Art"))
    proc = build_cli(blog, "--check", jobs=None)
    assert proc.returncode == 1
    assert proc.stderr.splitlines() == [
        "stale    posts/cites.md: posts/references.bib changed: the post is rendered again",
        "stale    posts/named.md: posts/other.bib changed: the post is rendered again",
    ]
    proc = build_cli(blog)
    assert _built(proc) == {
        "posts/cites.md": "cached (posts/references.bib changed)",
        "posts/named.md": "cached (posts/other.bib changed)",
        "posts/plain.md": "unchanged",
    }
    # A change to the prose as well is not the bibliography's alone.
    (posts / "references.bib").unlink()
    (posts / "cites.md").write_text((posts / "cites.md").read_text().replace("says", "writes"))
    proc = build_cli(blog)
    assert _built(proc)["posts/cites.md"] == "cached (prose, front matter or the renderer changed)"


def test_the_committed_posts_do_not_cite(tmp_path: Path) -> None:
    # So a references.bib added to the real blog never re-renders (nor, with no cache,
    # re-executes) them: their render keys do not hold it.
    from nbpress.rendering.markup import bibliography_terms
    from nbpress.sources.posts import read_post

    folder = tmp_path / "posts"
    shutil.copytree(REPO / "posts", folder)
    (folder / "references.bib").write_text(BIB)
    sources = sorted(folder.glob("*.ipynb"))
    assert len(sources) == 2
    for source in sources:
        assert bibliography_terms(read_post(source, tmp_path)) == {}, source.name


@pytest.mark.slow
def test_a_misspelled_front_matter_key_is_named_with_the_likely_one(blog: Path) -> None:
    typos = {
        "tgas": "tags",
        "Tags": "tags",
        "DRAFT": "draft",
        "categorys": "categories",
        "Descripton": "description",
    }
    own = "my_theme_colour: teal"  # far from every known key: the author's own, published as written
    lines = [f"{typo}: [x]" if typo != "DRAFT" else f"{typo}: false" for typo in typos] + [own]
    suffixes = (".ipynb", ".md", ".py", ".qmd")
    for suffix in suffixes:
        (blog / "posts" / f"post-{suffix[1:]}{suffix}").write_text(_header_source(suffix, "\n".join(lines)))
    proc = build_cli(blog)
    assert proc.returncode == 0, proc.stderr
    warned = sorted(proc.stderr.splitlines())  # nothing else: each warning is one line
    assert warned == sorted(
        f"warning: posts/post-{suffix[1:]}{suffix}: the front matter key {typo!r} is not one nbpress knows; "
        f"did you mean {key!r}? Rename it (an unknown key is published as written and does nothing else)."
        for suffix in suffixes
        for typo, key in typos.items()
    )
    for suffix in suffixes:
        assert own in (blog / "site_src" / "posts" / f"post-{suffix[1:]}.md").read_text()


def test_a_name_that_is_no_post_is_one_line_on_a_terminal_too(
    blog: Path, add_post: Callable[..., Path]
) -> None:
    # On a terminal the build shows a live display; a name that is no post is said before it starts.
    import os
    import pty

    from nbpress.terminal import strip_ansi
    from tests.helpers import build_command

    add_post("SLR_NN", "print(1)")
    main, secondary = pty.openpty()
    try:
        proc = subprocess.run(
            build_command(blog, "slr_nn"), stdout=secondary, stderr=secondary, timeout=120, check=False
        )
        os.close(secondary)
        said = b""
        while True:
            try:
                chunk = os.read(main, 4096)
            except OSError:  # the terminal closed: everything was read
                break
            if not chunk:
                break
            said += chunk
    finally:
        os.close(main)
    assert proc.returncode == 2
    text = strip_ansi(said.decode()).replace("\r", "")
    assert text == "error: posts/slr_nn: no such post in posts/; did you mean SLR_NN?\n", repr(said)


@pytest.mark.slow
def test_a_path_to_a_text_source_names_its_post(blog: Path) -> None:
    posts = blog / "posts"
    for name, suffix in (("note", ".md"), ("script", ".py"), ("doc", ".qmd")):
        (posts / f"{name}{suffix}").write_text(_header_source(suffix, "tags: [x]"))
    typed = [
        ("posts/note.md", blog, "posts/note.md"),
        ("./posts/script.py", blog, "posts/script.py"),
        ("doc.qmd", blog / "posts", "posts/doc.qmd"),
        ("../posts/doc.qmd", blog / "site_src", "posts/doc.qmd"),
        (str(posts / "script.py"), blog.parent, "posts/script.py"),
        ("script", blog, "posts/script.py"),
    ]
    for name, cwd, rel in typed:
        proc = build_cli(blog, name, cwd=cwd)
        assert proc.returncode == 0, (name, proc.stderr)
        assert list(_built(proc)) == [rel], (name, proc.stdout)
    proc = build_cli(blog, "posts/Note.md", cwd=blog)
    assert _line(proc) == "error: posts/Note.md: no such post in posts/; did you mean note?"


@pytest.mark.slow
def test_a_path_without_its_suffix_or_the_posts_folder_itself(two_posts: Path) -> None:
    blog = two_posts
    both = ["posts/2024-01-01-dated.ipynb", "posts/SLR_NN.ipynb"]
    typed = [
        ("posts/SLR_NN", blog, ["posts/SLR_NN.ipynb"]),  # completion stopped before the suffix
        ("./posts/2024-01-01-dated", blog, ["posts/2024-01-01-dated.ipynb"]),
        ("../posts/dated", blog / "site_src", ["posts/2024-01-01-dated.ipynb"]),
        ("posts/", blog, both),  # the folder of the posts: every post
        ("posts", blog, both),
        (".", blog / "posts", both),
        ("../posts", blog / "site_src", both),
    ]
    for name, cwd, built in typed:
        proc = build_cli(blog, name, cwd=cwd)
        assert proc.returncode == 0, (name, proc.stderr)
        assert sorted(_built(proc)) == built, (name, proc.stdout)
    # From the blog, '.' is the blog, not posts/.
    proc = build_cli(blog, ".", cwd=blog)
    assert (
        _line(proc)
        == "error: . is outside posts/: build.py builds only the posts in posts/ (move the source there)."
    )


def test_a_yaml_error_in_the_authors_file_points_at_the_key(
    blog: Path, add_post: Callable[..., Path]
) -> None:
    add_post("one", "print(1)")
    authors = blog / "site_src" / ".authors.yml"
    authors.write_text('authors:\n  me:\n    name: "Me\n    description: Author\n    avatar: a.svg\n')
    proc = build_cli(blog)
    assert proc.returncode == 2
    assert _line(proc).startswith(
        "error: site_src/.authors.yml, line 3: the quoted text that starts here is not closed"
    ), proc.stderr
