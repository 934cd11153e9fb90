"""Property tests (hypothesis): front matter round trips, output cleaning, safe slugs."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import yaml
from hypothesis import example, given, settings
from hypothesis import strategies as st

from nbpress.errors import SourceError, WriteError
from nbpress.execution.capture import truncate
from nbpress.layout import Layout
from nbpress.rendering.render import dump_front_matter
from nbpress.sources.frontmatter import validate_front_matter
from nbpress.sources.posts import _parse_yaml_block, slug_for
from nbpress.terminal import clean_text, collapse_terminal, strip_ansi

titles = st.text(min_size=1).filter(lambda t: t.strip() != "")
names = st.text(min_size=1, max_size=30)
dates = st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2999, 12, 31))
# Text rich in what terminals and notebooks produce: escapes, \r, \b, newlines, paths.
terminal = st.text(
    alphabet=st.one_of(
        st.sampled_from(["\x1b", "[", "]", "m", "0", "3", "1", ";", "\r", "\b", "\n", "\x07", "/", "\\"]),
        st.characters(),
    )
)


@settings(max_examples=300)
@given(title=titles, tags=st.lists(names, max_size=5), categories=st.lists(names, max_size=3), date=dates)
@pytest.mark.slow
def test_front_matter_round_trips(title: str, tags: list[str], categories: list[str], date: dt.date) -> None:
    data = {"title": title, "date": date, "tags": tags, "categories": categories}
    text = dump_front_matter(data)
    # What MkDocs reads from a generated post:
    assert yaml.safe_load(text) == data
    # What nbpress reads from a source notebook's front matter cell:
    parsed = validate_front_matter(_parse_yaml_block(f"---\n{text}---", "post.ipynb"), "post.ipynb")
    assert (parsed.title, parsed.date) == (title, date)
    assert (list(parsed.tags), list(parsed.categories)) == (tags, categories)


@settings(max_examples=500)
@given(text=terminal)
@example(text="\x1b[\x1b[0m31mred")  # stripping one escape must not leave another behind
@example(text="\x1b\x1b[0m[31mred")
@example(text="50%\r\x1b[2K100%\n")
@example(text="\x1b[")  # a sequence cut before its final byte (found by hypothesis)
@example(text="done\x1b[1;3")
def test_cleaning_is_idempotent_and_never_grows(text: str) -> None:
    once = clean_text(text)
    assert clean_text(once) == once
    assert len(once) <= len(text)
    assert "\r" not in once and "\b" not in once and "\x1b[" not in once


@given(text=terminal)
@example(text="\x1b[\x1b[0m31m")
def test_each_cleaning_step_never_grows(text: str) -> None:
    assert len(collapse_terminal(text)) <= len(text)
    assert len(strip_ansi(text)) <= len(text)
    assert strip_ansi(strip_ansi(text)) == strip_ansi(text)


@given(text=st.text(alphabet="ab\n", min_size=0, max_size=3000), limit=st.integers(10, 1000))
def test_truncate_is_idempotent_and_never_grows(text: str, limit: int) -> None:
    once = truncate(text, limit)
    assert truncate(once, limit) == once
    assert len(once) <= len(text)
    if once != text:
        assert once.startswith(text[: limit // 2]) and "[nbpress: output truncated," in once


@settings(max_examples=500)
@given(name=st.text(min_size=1, max_size=40))
@example(name="0\n")  # found by hypothesis: "$" in the slug pattern accepted a trailing newline
def test_slugs_from_arbitrary_names_are_safe_paths(name: str) -> None:
    layout = Layout(Path("/nonexistent-blog"))  # resolved purely; nothing is written
    try:
        slug = slug_for(Path(f"{name}.ipynb"))
    except SourceError:
        return
    assert "/" not in slug and "\\" not in slug and ".." not in slug
    assert all(ord(c) >= 32 for c in slug) and not slug.startswith(".")
    files = layout.post(slug)
    assert files.markdown.parent == layout.generated and files.journal.parent == layout.generated
    assert files.figures.parent == layout.images and files.downloads.parent == layout.downloads


@settings(max_examples=500)
@given(name=st.text(min_size=1, max_size=40))
def test_output_paths_never_leave_their_folder(name: str) -> None:
    files = Layout(Path("/nonexistent-blog")).post("post")
    try:
        path = files.figure(name)
    except WriteError:
        return
    assert path.parent == files.figures
