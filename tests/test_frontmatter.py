"""Front matter has one owner: nbpress.sources.frontmatter's table, read by every rule.

Validation, the published keys, the execution and render keys and the "did you mean" warning
all follow the table (KEYS); reading a post leaves the notebook as its author wrote it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path

import nbformat
import pytest
import yaml

from nbpress.errors import SourceError
from nbpress.execution import environment, keys
from nbpress.pipeline import Options, build
from nbpress.record import Record
from nbpress.rendering.key import render_key
from nbpress.rendering.render import published_front_matter, renderer_fingerprint
from nbpress.sources import frontmatter
from nbpress.sources.frontmatter import KEYS, FrontMatter, Part
from nbpress.sources.posts import Post, read_post
from tests.test_fastpages import write_fastpages_notebook

PACKAGE = Path(frontmatter.__file__).resolve().parents[1]

# A valid value for each key, other than the base post's: the test refuses a table key
# without one, so a new key gets its part checked here.
EXAMPLES: dict[str, object] = {
    "title": "Another title",
    "date": "2024-02-02",
    "tags": ["a"],
    "categories": ["b"],
    "timeout": 30,
    "inputs": ["data.csv"],
    "depends": ["pandas"],
    "kernel": "python3-other",
    "stderr": "remove",
    "allow_errors": True,
    "draft": True,
    "slug": "pretty-url",
    "raw_html": True,
    "authors": ["steve-han"],
    "author": "Steve Han",
    "description": "A summary.",
    "bibliography": "refs.bib",
    "image": "picture.png",
    "series": "A course",
    "series_order": 3,
    "nbpress": {"ignored": True},
    **{key: "changed" for key in frontmatter.THEIRS},
}


def keys_of(blog: Path, post: Post) -> tuple[str, str]:
    """Return (execution key, render key) of `post` as the build computes them."""
    env = environment.environment_fingerprint(blog)
    exec_key = keys.digest_parts(keys.key_parts(post, blog / "posts", env))
    return exec_key, render_key(post, exec_key, renderer_fingerprint())


def test_every_key_has_an_example_and_every_typed_field_is_a_key() -> None:
    assert set(EXAMPLES) == set(KEYS)
    fields = set(FrontMatter.__dataclass_fields__) - {"data", "implied"}
    assert fields <= set(KEYS)


def test_the_code_reads_no_front_matter_key_the_table_lacks() -> None:
    """Every key the package looks up in a post's front matter is one of the table's."""
    lookup = re.compile(r"front_matter\.data(?:\.get\(|\[)\"(\w+)\"")
    read = {key for path in PACKAGE.rglob("*.py") for key in lookup.findall(path.read_text(encoding="utf-8"))}
    assert read, "the pattern no longer finds the lookups"
    assert read <= set(KEYS)


@pytest.mark.slow
def test_each_key_changes_the_key_the_table_puts_it_in(blog: Path, add_post: Callable[..., Path]) -> None:
    (blog / "posts" / "data.csv").write_text("x\n1\n", encoding="utf-8")
    (blog / "posts" / "refs.bib").write_text("@misc{a, title={A}}\n", encoding="utf-8")
    path = add_post("p", "print('x')")
    base = keys_of(blog, read_post(path, blog))
    seen = set()
    for key, value in EXAMPLES.items():
        front = yaml.safe_dump({key: value}) if key not in ("title", "date") else ""
        add_post("p", "print('x')", front=front)
        if key in ("title", "date"):
            nb = nbformat.read(path, as_version=4)
            nb.cells[0].source = nb.cells[0].source.replace(
                "title: p" if key == "title" else "date: 2024-01-01", f"{key}: {value}"
            )
            nbformat.write(nb, path)
        exec_key, render_key = keys_of(blog, read_post(path, blog))
        part = KEYS[key].part
        assert (exec_key != base[0]) == (part is Part.EXECUTION), key
        assert (render_key != base[1]) == (part is not Part.NONE), key
        seen.add(part)
    assert seen == set(Part)


def test_published_keys_are_the_tables(blog: Path, add_post: Callable[..., Path]) -> None:
    (blog / "posts" / "data.csv").write_text("x\n", encoding="utf-8")
    (blog / "posts" / "refs.bib").write_text("@misc{a, title={A}}\n", encoding="utf-8")
    written = {k: v for k, v in EXAMPLES.items() if k not in ("title", "date")}
    path = add_post("p", "print('x')", front=yaml.safe_dump({**written, "mood": "sunny"}))
    post = read_post(path, blog)
    data = published_front_matter(post, {"Steve Han": "steve-han"}, Record(post.rel_path))
    # `nbpress` is the build's record (the author's value is not published), `mood` the author's own.
    expected = {k for k, entry in KEYS.items() if entry.published} | {"mood", "nbpress"}
    assert set(data) == expected
    assert data["nbpress"] == Record(post.rel_path)
    assert list(data)[:6] == ["layout", "title", "author", "tags", "categories", "date"]


def test_reading_a_post_leaves_it_as_written(tmp_path: Path) -> None:
    path = tmp_path / "posts" / "2020-02-20-fast.ipynb"
    path.parent.mkdir()
    write_fastpages_notebook(path)
    nb = json.loads(path.read_text(encoding="utf-8"))
    nb["cells"].append(
        {
            "cell_type": "code",
            "execution_count": None,
            "metadata": {},
            "outputs": [],
            "source": "#| echo: false\n1",
        }
    )
    path.write_text(json.dumps(nb), encoding="utf-8")
    before = path.read_bytes()
    post = read_post(path, tmp_path)
    assert post.written == nbformat.read(path, as_version=4)  # the callout and the flags as written
    assert "> Tip: a fastpages callout." in post.written.cells[2].source
    assert all("tags" not in c.metadata for c in post.written.cells)
    # The date of the file name is implied, not written into the author's front matter.
    assert "date" not in post.front_matter.data and post.front_matter.implied == {"date": "2020-02-20"}
    # What nbpress runs: the same cells, every flag and option as a Jupyter Book tag.
    assert post.notebook.cells[1].metadata["tags"] == ["remove-cell"]
    assert post.notebook.cells[-1].metadata["tags"] == ["remove-input"]
    assert post.notebook.cells[2] is post.written.cells[2]
    again = read_post(path, tmp_path)
    assert again == post and again.written == post.written and path.read_bytes() == before


def test_a_misspelled_key_is_named_with_the_likely_one(blog: Path, add_post: Callable[..., Path]) -> None:
    path = add_post("p", "print('x')", front="tgas: [a]\nhide: [toc]\nmood: sunny\n")
    post = read_post(path, blog)
    assert post.warnings == (
        "posts/p.ipynb: the front matter key 'tgas' is not one nbpress knows; did you mean 'tags'? "
        "Rename it (an unknown key is published as written and does nothing else).",
    )


@pytest.mark.parametrize(
    ("front", "problem"),
    [
        ("timeout: 0\n", "timeout 0 must be a whole number of seconds above 0"),
        ("draft: maybe\n", "draft must be true or false"),
        ("authors: 5\n", "authors must be a list of author keys"),
        ("slug: a/b\n", "slug 'a/b' is not a safe URL part"),
    ],
)
def test_a_bad_value_is_one_clause_of_one_line(
    blog: Path, add_post: Callable[..., Path], front: str, problem: str
) -> None:
    path = add_post("p", "print('x')", front=front + "tags: {a: 1}\n")
    with pytest.raises(SourceError) as caught:
        read_post(path, blog)
    message = str(caught.value)
    assert message.startswith("posts/p.ipynb (front matter cell): front matter: ") and "\n" not in message
    assert problem in message and "tags must be a list of names or one name" in message


@pytest.mark.slow
def test_a_key_re_runs_only_what_its_part_says(blog: Path, add_post: Callable[..., Path]) -> None:
    """A real build: a render key re-renders from the cache, `timeout` does nothing, `depends` re-runs."""
    add_post("p", "print('x')")
    status = {"": "executed", "timeout: 30\n": "unchanged", "timeout: 30\ndescription: new\n": "cached"}
    status["timeout: 30\ndescription: new\ndepends: [pandas]\n"] = "executed"
    for front, expected in status.items():
        add_post("p", "print('x')", front=front)
        [result] = build(Options(root=blog, jobs=1))
        assert (result.status, result.error) == (expected, None), front
