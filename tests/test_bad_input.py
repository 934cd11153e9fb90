"""Bad input ends in one line, for that post alone (issue 20, part 4).

A notebook nested thousands of levels deep, a lone surrogate, a YAML alias bomb, an unknown
author, a figure declaring gigapixels, a lock file that is a link, a busy --serve port: each
fails (or trims) its own post with one line naming the file (and cell), never a traceback,
and the other posts still build. Fast tests read posts without kernels; the build tests at
the end run real kernels, `--check`, `--report` and `mkdocs build --strict`.
"""

from __future__ import annotations

import base64
import io
import json
import os
import socket
import struct
import subprocess
import sys
import time
import zlib
from collections.abc import Callable
from pathlib import Path

import psutil
import pytest

from nbpress.errors import NbpressError, SourceError, one_post
from nbpress.notebook import MAX_NESTING, bad_data
from nbpress.publishing.lock import build_lock
from nbpress.rendering.figures import MAX_FIGURE_BYTES, too_large
from nbpress.sources.posts import read_post, read_sources
from tests.helpers import HANG, build_cli, build_command, free_port, mkdocs

DEEP = 100_000  # past any parser's recursion limit
JUST_TOO_DEEP = MAX_NESTING + 5  # parsed fine, refused by the rule


# -- writing hostile sources ------------------------------------------------------------------


def nested(depth: int) -> str:
    """Return JSON text of `depth` nested lists."""
    return "[" * depth + "]" * depth


def notebook_json(
    front: str = "title: A post\\ndate: 2024-01-01\\n",
    source: str = "print(1)",
    cell_metadata: str = "{}",
    outputs: str = "[]",
    notebook_metadata: str = "{}",
    markdown: str | None = None,
) -> str:
    """Return a notebook's JSON text: `front` is spliced in as the inside of a JSON string
    (escapes stay escapes), the metadata and outputs as JSON text, all unchecked."""
    cells: list[object] = ["FRONT", "CODE"]
    if markdown is not None:
        cells.append({"cell_type": "markdown", "id": "c2", "metadata": {}, "source": markdown})
    text = json.dumps({"cells": cells, "metadata": "NBMETA", "nbformat": 4, "nbformat_minor": 5})
    raw = f'{{"cell_type": "raw", "id": "c0", "metadata": {{}}, "source": "---\\n{front}---"}}'
    code = (
        '{"cell_type": "code", "execution_count": null, "id": "c1", "metadata": '
        f'{cell_metadata}, "outputs": {outputs}, "source": {json.dumps(source)}}}'
    )
    return text.replace('"FRONT"', raw).replace('"CODE"', code).replace('"NBMETA"', notebook_metadata)


def fm(text: str) -> str:
    """Return front matter `text` as notebook_json takes it (the inside of a JSON string)."""
    return json.dumps(text)[1:-1]


def write(blog: Path, name: str, text: str) -> Path:
    path = blog / "posts" / name
    path.write_text(text, encoding="ascii")  # every surrogate is a JSON or YAML escape
    return path


def read_error(blog: Path, path: Path) -> str:
    """Return the one line read_post raises for `path` (fails if it raises anything else)."""
    with pytest.raises(NbpressError) as caught:
        read_post(path, blog)
    line = str(caught.value)
    assert "\n" not in line and "Traceback" not in line
    line.encode("utf-8")  # printable: a lone surrogate in it would make print fail
    return line


# -- nesting ----------------------------------------------------------------------------------

NESTING: dict[str, tuple[Callable[[str], str], str]] = {
    # where the deep value is: the notebook's JSON (the cell it is in), and what the line names
    "cell metadata": (lambda v: notebook_json(cell_metadata=f'{{"x": {v}}}'), ", cell 2: "),
    "an output": (
        lambda v: notebook_json(
            outputs='[{"output_type": "display_data", "metadata": {}, "data": {"application/json": '
            + v
            + "}}]"
        ),
        ", cell 2: ",
    ),
    "notebook metadata": (lambda v: notebook_json(notebook_metadata=f'{{"x": {v}}}'), ": the notebook's "),
}


@pytest.mark.parametrize("where", sorted(NESTING))
def test_too_deep_a_value_fails_its_post_in_one_line_naming_the_cell(blog: Path, where: str) -> None:
    make, place = NESTING[where]
    line = read_error(blog, write(blog, "deep.ipynb", make(nested(JUST_TOO_DEEP))))
    assert line.startswith("posts/deep.ipynb") and place in line, line
    assert f"nested more than {MAX_NESTING} levels deep" in line


@pytest.mark.parametrize("where", sorted(NESTING))
def test_a_value_nested_past_the_parser_fails_its_post_in_one_line(blog: Path, where: str) -> None:
    make, _ = NESTING[where]
    line = read_error(blog, write(blog, "deep.ipynb", make(nested(DEEP))))
    assert line.startswith("posts/deep.ipynb: ") and "nested too deeply" in line, line


def test_nesting_a_notebook_needs_is_read(blog: Path) -> None:
    path = write(blog, "ok.ipynb", notebook_json(cell_metadata=f'{{"x": {nested(MAX_NESTING - 10)}}}'))
    assert read_post(path, blog).front_matter.title == "A post"


@pytest.mark.parametrize(
    "front",
    [
        f"title: A post\ndate: 2024-01-01\nx: {nested(DEEP)}\n",  # flow YAML past the composer
        f"title: A post\ndate: 2024-01-01\nx: {nested(JUST_TOO_DEEP)}\n",
    ],
    ids=["past-the-parser", "past-the-rule"],
)
def test_too_deep_front_matter_fails_its_post_in_one_line(blog: Path, front: str) -> None:
    line = read_error(blog, write(blog, "deep.ipynb", notebook_json(front=fm(front))))
    assert line.startswith("posts/deep.ipynb") and "nested" in line, line


@pytest.mark.parametrize("depth", [DEEP, JUST_TOO_DEEP], ids=["past-the-parser", "past-the-rule"])
def test_too_deep_a_markdown_posts_header_fails_in_one_line(blog: Path, depth: int) -> None:
    path = blog / "posts" / "deep.md"
    path.write_text(f"---\ntitle: A post\ndate: 2024-01-01\nx: {nested(depth)}\n---\n\nText.\n")
    line = read_error(blog, path)
    assert line.startswith("posts/deep.md") and ("nested" in line or "recursion" in line), line


# -- lone surrogates ----------------------------------------------------------------------------

SURROGATES = {
    # a JSON escape that json.loads turns into a lone surrogate, in each place a post has text
    "title as JSON": (notebook_json(front="title: A \\ud800 post\\ndate: 2024-01-01\\n"), ", cell 1: "),
    "title as a YAML escape": (
        notebook_json(front='title: \\"A \\\\ud800 post\\"\\ndate: 2024-01-01\\n'),
        "",
    ),
    "tags": (notebook_json(front='title: A post\\ndate: 2024-01-01\\ntags: [\\"\\\\udfff\\"]\\n'), ""),
    "a code cell": (notebook_json(source="print('\ud800')"), ", cell 2: "),
    "a Markdown cell": (notebook_json(markdown="Hello \udc00"), ", cell 3: "),
    "an output": (
        notebook_json(outputs='[{"output_type": "stream", "name": "stdout", "text": "\\udbff"}]'),
        ", cell 2: ",
    ),
    "a metadata key": (notebook_json(cell_metadata='{"\\ud800": 1}'), ", cell 2: "),
    "notebook metadata": (notebook_json(notebook_metadata='{"x": "\\ud800"}'), ": the notebook's "),
}


@pytest.mark.parametrize("where", sorted(SURROGATES))
def test_a_lone_surrogate_fails_its_post_in_one_line(blog: Path, where: str) -> None:
    text, place = SURROGATES[where]
    line = read_error(blog, write(blog, "odd.ipynb", text.encode("ascii", "backslashreplace").decode()))
    assert line.startswith("posts/odd.ipynb") and place in line, line
    assert "lone surrogate" in line


def test_a_lone_surrogate_in_a_markdown_posts_header_fails_in_one_line(blog: Path) -> None:
    path = blog / "posts" / "odd.md"
    path.write_text('---\ntitle: "A \\ud800 post"\ndate: 2024-01-01\n---\n\nText.\n')
    line = read_error(blog, path)
    assert line.startswith("posts/odd.md") and "lone surrogate" in line, line


@pytest.mark.parametrize(
    "outputs",
    [
        nested(DEEP),
        f"[[{nested(JUST_TOO_DEEP)}]]",
        '[[{"output_type": "stream", "name": "stdout", "text": "\\ud800"}]]',
    ],
    ids=["past-the-parser", "past-the-rule", "surrogate"],
)
def test_a_forged_cache_entry_is_a_miss_with_one_warning(tmp_path: Path, outputs: str) -> None:
    from nbpress.execution.store import Store

    store = Store(tmp_path / "cache")
    store.directory.mkdir()
    (store.directory / "k.json").write_text(f'{{"key": "k", "outputs": {outputs}}}')
    found, warning = store.lookup("k")
    assert found is None and warning is not None and "\n" not in warning
    assert warning.startswith("cache entry cache/k.json is ") and warning.endswith("the post will run again.")
    assert store.provenance("k") is None


def test_bad_data_walks_any_depth_without_recursing() -> None:
    value: object = "x"
    for _ in range(200_000):
        value = [value]
    assert bad_data(value) is not None  # no RecursionError
    assert bad_data({"a": ["ok", {"b": "fine"}]}) is None
    assert "lone surrogate" in str(bad_data({"a": ["ok", {"b": "\ud800"}]}))


def test_an_unexpected_exception_becomes_its_posts_one_line() -> None:
    with pytest.raises(NbpressError) as caught, one_post("posts/x.ipynb", "rendering it"):
        raise KeyError("boom")
    assert str(caught.value).startswith("posts/x.ipynb: rendering it failed unexpectedly (KeyError")
    for passing in (KeyboardInterrupt, SystemExit, MemoryError):
        with pytest.raises(passing), one_post("posts/x.ipynb", "rendering it"):
            raise passing()


# -- YAML anchors and aliases ---------------------------------------------------------------------

BOMB = "a: &a [x,x,x,x,x,x,x,x,x]\n" + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [{','.join(['*' + chr(97 + i)] * 9)}]\n" for i in range(9)
)
ALIASES = {
    "bomb": BOMB,
    "alias": "base: &b hello\nsummary: *b\n",
    "merge key": "base: &b {x: 1}\nextra:\n  <<: *b\n",
    "anchor alone": "tags: &t [a, b]\n",
}


@pytest.mark.parametrize("case", sorted(ALIASES))
def test_yaml_aliases_in_front_matter_are_refused_at_once(blog: Path, case: str) -> None:
    front = "title: A post\ndate: 2024-01-01\n" + ALIASES[case]
    start = time.monotonic()
    line = read_error(blog, write(blog, "yaml.ipynb", notebook_json(front=fm(front))))
    assert time.monotonic() - start < 5  # a bomb is refused before it grows
    assert line.startswith("posts/yaml.ipynb: front matter YAML is broken at line ")
    assert "anchors and aliases" in line


@pytest.mark.parametrize("suffix", [".md", ".py"])
def test_yaml_aliases_in_a_text_posts_header_are_refused(blog: Path, suffix: str) -> None:
    header = "title: A post\ndate: 2024-01-01\n" + BOMB
    if suffix == ".md":
        text = f"---\n{header}---\n\n```python\nx = 1\n```\n"
    else:
        text = "# ---\n" + "".join(f"# {line}\n" for line in header.splitlines()) + "# ---\n\n# %%\nx = 1\n"
    path = blog / "posts" / f"yaml{suffix}"
    path.write_text(text)
    line = read_error(blog, path)
    assert line.startswith(f"posts/yaml{suffix}: front matter YAML is broken") and "aliases" in line


def test_yaml_aliases_in_cell_options_are_refused(blog: Path) -> None:
    path = write(blog, "opts.ipynb", notebook_json(source="#| a: &x [1, 2]\n#| b: *x\nprint(1)"))
    line = read_error(blog, path)
    assert "posts/opts.ipynb, cell 2" in line and "aliases" in line


def test_yaml_aliases_in_the_authors_file_stop_the_build_in_one_line(blog: Path) -> None:
    (blog / "site_src" / ".authors.yml").write_text("authors:\n  a: &x {name: A}\n  b: *x\n")
    write(blog, "ok.ipynb", notebook_json())
    result = build_cli(blog, "--check")
    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith("error: site_src/.authors.yml, line 2: YAML anchors and aliases")
    assert "Traceback" not in result.stderr


def test_plain_front_matter_is_still_read(blog: Path) -> None:
    front = "title: A post\ndate: 2024-01-01\ntags: [a, b]\nextra: {x: '&y *z'}\n"
    post = read_post(write(blog, "ok.ipynb", notebook_json(front=fm(front))), blog)
    assert post.front_matter.tags == ("a", "b")


# -- authors ------------------------------------------------------------------------------------


@pytest.mark.parametrize("authors", ["[someone-unknown]", "someone-unknown", "[steve-han, someone-unknown]"])
def test_an_unknown_author_fails_its_post_naming_the_authors_file(blog: Path, authors: str) -> None:
    front = f"title: A post\ndate: 2024-01-01\nauthors: {authors}\n"
    line = read_error(blog, write(blog, "who.ipynb", notebook_json(front=fm(front))))
    assert line.startswith("posts/who.ipynb (front matter cell): front matter: the author 'someone-unknown'")
    assert "site_src/.authors.yml" in line and "steve-han" in line


def test_known_authors_and_other_posts_are_read(blog: Path) -> None:
    front = "title: A post\ndate: 2024-01-01\nauthors: [steve-han]\n"
    write(blog, "known.ipynb", notebook_json(front=fm(front)))
    bad = "title: A post\ndate: 2024-01-01\nauthors: [nobody]\n"
    write(blog, "unknown.ipynb", notebook_json(front=fm(bad)))
    read, failures = read_sources(sorted((blog / "posts").iterdir()), blog)
    assert [p.rel_path for p in read] == ["posts/known.ipynb"]
    assert [f.name for f in failures] == ["posts/unknown.ipynb"]
    assert isinstance(failures[0].error, SourceError)


# -- figures ------------------------------------------------------------------------------------


def png(width: int, height: int) -> bytes:
    """Return a small 1-bit PNG declaring `width` x `height` (a few rows of data are enough)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = zlib.compress(b"\x00" * ((width + 7) // 8 + 1) * 4)
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", rows) + chunk(b"IEND", b"")


def pillow_image(kind: str, width: int, height: int) -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("L", (width, height)).save(out, kind)
    return out.getvalue()


def gif_header(width: int, height: int) -> bytes:
    """Return a GIF that declares `width` x `height` and holds one tiny frame."""
    small = pillow_image("GIF", 2, 2)
    return small[:6] + struct.pack("<HH", width, height) + small[10:]


@pytest.mark.parametrize(
    ("make", "limit"),
    [
        (lambda: png(50_000, 50_000), "megapixels"),
        (lambda: png(9_000, 5_000), "megapixels"),
        (lambda: gif_header(60_000, 60_000), "megapixels"),
        (lambda: gif_header(9_000, 9_000), "megapixels"),
        (lambda: pillow_image("JPEG", 8_000, 5_500), "megapixels"),
        # Encoding 42 megapixels takes pillow about 2 s.
        pytest.param(lambda: pillow_image("WEBP", 7_000, 6_000), "megapixels", marks=pytest.mark.slow),
        (lambda: b"<svg xmlns='http://www.w3.org/2000/svg'>" + b" " * MAX_FIGURE_BYTES + b"</svg>", "MB"),
        (lambda: png(100, 100) + b"\x00" * MAX_FIGURE_BYTES, "MB"),
    ],
    ids=["png-bomb", "png-45mp", "gif-bomb", "gif-81mp", "jpeg-44mp", "webp-42mp", "svg-10mb", "png-10mb"],
)
def test_a_figure_past_a_limit_is_too_large(make: Callable[[], bytes], limit: str) -> None:
    why = too_large(make())
    assert why is not None and limit in why


def test_ordinary_figures_are_not_too_large() -> None:
    assert too_large(png(1600, 1200)) is None
    assert too_large(pillow_image("JPEG", 2000, 1500)) is None
    assert too_large(b"<svg xmlns='http://www.w3.org/2000/svg'><rect/></svg>") is None


def _executed_post(blog: Path, outputs: str, markdown: str | None = None, attachments: str = "") -> Path:
    text = notebook_json(outputs=outputs, markdown=markdown)
    if attachments:
        text = text.replace(
            '"id": "c2", "metadata": {}', f'"id": "c2", "attachments": {attachments}, "metadata": {{}}'
        )
    return write(blog, "fig.ipynb", text)


def _render(blog: Path, path: Path) -> tuple[str, dict[str, bytes], tuple[str, ...]]:
    from nbpress.pipeline import files_of
    from nbpress.record import Record
    from nbpress.rendering.render import published_front_matter, render

    post = read_post(path, blog)
    front = published_front_matter(post, {}, Record(post.rel_path))
    rendered = render(post, post.notebook, front, files_of(post, blog), roots=(blog,))
    return rendered.markdown, rendered.figures, rendered.warnings


def _display(mime: str, data: bytes) -> str:
    value = base64.b64encode(data).decode()
    return json.dumps(
        [{"output_type": "display_data", "metadata": {}, "data": {mime: value, "text/plain": "<Figure>"}}]
    )


@pytest.mark.parametrize(
    ("mime", "make"),
    [("image/png", lambda: png(50_000, 50_000)), ("image/jpeg", lambda: pillow_image("JPEG", 8_000, 5_500))],
    ids=["png", "jpeg"],
)
def test_a_huge_output_figure_is_left_out_with_a_warning(
    blog: Path, mime: str, make: Callable[[], bytes]
) -> None:
    small = _display("image/png", png(640, 480))
    huge = _display(mime, make())
    path = _executed_post(blog, f"[{huge[1:-1]}, {small[1:-1]}]")
    markdown, figures, warnings = _render(blog, path)
    assert sorted(figures) == ["output_1_1.png"]  # the small one only
    assert "width: 640" in markdown and "50000" not in markdown  # the card and og:image: the small one
    assert "figure too large to publish was left out" in markdown
    (warning,) = [w for w in warnings if "left out" in w]
    assert warning.startswith(f"posts/fig.ipynb, cell 2: the {mime} figure of output 1 ")


@pytest.mark.parametrize(
    ("mime", "make"),
    [
        ("image/gif", lambda: gif_header(60_000, 60_000)),
        ("image/webp", lambda: pillow_image("WEBP", 7_000, 6_000)),
    ],
    ids=["gif", "webp"],
)
@pytest.mark.slow
def test_a_huge_gif_or_webp_output_is_never_published(
    blog: Path, mime: str, make: Callable[[], bytes]
) -> None:
    small = _display("image/png", png(640, 480))
    path = _executed_post(blog, f"[{_display(mime, make())[1:-1]}, {small[1:-1]}]")
    markdown, figures, _ = _render(blog, path)
    assert sorted(figures) == ["output_1_1.png"] and "width: 640" in markdown


def test_a_huge_attachment_becomes_a_placeholder_with_a_warning(blog: Path) -> None:
    bomb = base64.b64encode(gif_header(60_000, 60_000)).decode()
    attachments = json.dumps({"big.gif": {"image/gif": bomb}})
    path = _executed_post(blog, "[]", markdown="![big](attachment:big.gif)", attachments=attachments)
    markdown, figures, warnings = _render(blog, path)
    assert "attachment_2_0.svg" in figures and b"too large" in figures["attachment_2_0.svg"]
    assert "attachment_2_0.gif" not in figures and "attachment_2_0.svg" in markdown
    assert any(w.startswith("posts/fig.ipynb, cell 3: the attachment 'big.gif' declares") for w in warnings)


@pytest.mark.parametrize("html", [False, True], ids=["markdown-image", "html-img"])
def test_a_huge_local_image_becomes_a_placeholder_with_a_warning(blog: Path, html: bool) -> None:
    (blog / "posts" / "huge.png").write_bytes(png(50_000, 50_000))
    (blog / "posts" / "small.png").write_bytes(png(64, 64))
    text = '<img src="huge.png" alt="x">' if html else "![x](huge.png)"
    path = _executed_post(blog, "[]", markdown=f"{text}\n\n![y](small.png)")
    markdown, figures, warnings = _render(blog, path)
    assert "huge.png-left-out.svg" in markdown
    assert figures["huge.png-left-out.svg"].startswith(b"<svg") and figures["small.png"] == png(64, 64)
    assert "huge.png" not in figures
    assert any(w.startswith("posts/fig.ipynb, cell 3: the image 'huge.png' declares") for w in warnings)


@pytest.mark.parametrize(
    ("name", "make", "problem"),
    [
        ("empty.png", lambda: b"", "is empty"),
        ("page.png", lambda: b"<!DOCTYPE html><title>404 Not Found</title>", "is not a PNG image"),
        ("cut.png", lambda: png(64, 64)[:40], "is not a PNG image"),
        ("photo.jpg", lambda: b"GIF89a not a jpeg", "is not a JPEG image"),
        ("drawing.svg", lambda: b"<html>no drawing</html>", "holds no <svg> element"),
    ],
    ids=["empty", "an-error-page", "cut-short", "wrong-kind", "svg-without-svg"],
)
def test_a_local_image_a_browser_cannot_show_becomes_a_placeholder_with_a_warning(
    blog: Path, name: str, make: Callable[[], bytes], problem: str
) -> None:
    (blog / "posts" / name).write_bytes(make())
    (blog / "posts" / "small.png").write_bytes(png(64, 64))
    path = _executed_post(blog, "[]", markdown=f"![x]({name})\n\n![y](small.png)")
    markdown, figures, warnings = _render(blog, path)
    assert f"{name}-left-out.svg" in markdown and figures[f"{name}-left-out.svg"].startswith(b"<svg")
    assert name not in figures and figures["small.png"] == png(64, 64)
    assert [w for w in warnings if "placeholder" in w] == [
        f"posts/fig.ipynb, cell 3: the image '{name}' {problem}"
        + (" a browser can show (its bytes are not one, or are cut short)" if "image" in problem else "")
        + ", so a placeholder is shown instead; replace it with the image itself"
    ]


def test_an_attachment_that_is_no_image_becomes_a_placeholder_with_a_warning(blog: Path) -> None:
    fake = base64.b64encode(b"<html>not a gif</html>").decode()
    attachments = json.dumps({"pic.gif": {"image/gif": fake}})
    path = _executed_post(blog, "[]", markdown="![pic](attachment:pic.gif)", attachments=attachments)
    markdown, figures, warnings = _render(blog, path)
    assert "attachment_2_0.svg" in figures and "attachment_2_0.gif" not in figures
    assert "attachment_2_0.svg" in markdown
    assert "posts/fig.ipynb, cell 3: the attachment 'pic.gif' is not a GIF image" in " ".join(warnings)


def test_a_huge_inline_data_image_in_html_is_removed() -> None:
    from nbpress.rendering.sanitize import sanitize_html

    bomb = base64.b64encode(png(50_000, 50_000)).decode()
    small = base64.b64encode(png(10, 10)).decode()
    clean = sanitize_html(
        f'<img src="data:image/png;base64,{bomb}"><img src="data:image/png;base64,{small}">'
    )
    assert bomb not in clean and small in clean


# -- the build lock -------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["symlink", "hardlink"])
def test_a_lock_file_that_is_a_link_is_refused_and_its_target_untouched(blog: Path, kind: str) -> None:
    victim = write(blog, "victim.ipynb", notebook_json())
    before = victim.read_bytes()
    lock = blog / ".nbpress-cache" / "build.lock"
    lock.parent.mkdir()
    if kind == "symlink":
        lock.symlink_to(victim)
    else:
        os.link(victim, lock)
    with pytest.raises(NbpressError) as caught, build_lock(blog):
        pass
    assert str(caught.value).startswith(".nbpress-cache/build.lock: the build lock ")
    result = build_cli(blog)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert result.stderr.startswith("error: .nbpress-cache/build.lock: the build lock")
    assert victim.read_bytes() == before


def test_a_cache_folder_that_is_a_link_is_refused(blog: Path, tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (blog / ".nbpress-cache").symlink_to(elsewhere)
    with pytest.raises(NbpressError, match="cache folder is a symbolic link"), build_lock(blog):
        pass
    assert not list(elsewhere.iterdir())


def test_the_lock_is_never_truncated(blog: Path) -> None:
    lock = blog / ".nbpress-cache" / "build.lock"
    with build_lock(blog):
        held = lock.read_bytes()
    assert held.split() == [str(os.getpid()).encode()]
    assert lock.read_bytes().strip() == b"" and len(lock.read_bytes()) == len(held)


# -- builds with real kernels ------------------------------------------------------------------

DEEP_OUTPUT = (
    "from IPython.display import display\n"
    "v = []\n"
    "for _ in range(300):\n"
    "    v = [v]\n"
    "display({'application/json': v}, raw=True)"
)
HUGE_FIGURE = (
    "import base64\n"
    "from IPython.display import Image, display\n"
    f"display(Image(data=base64.b64decode({base64.b64encode(png(50_000, 50_000)).decode()!r})))\n"
    f"display(Image(data=base64.b64decode({base64.b64encode(png(320, 200)).decode()!r})))"
)


@pytest.fixture
def hostile_blog(blog: Path, add_post: Callable[..., Path]) -> Path:
    add_post("good", "print('fine')")
    add_post("figure", HUGE_FIGURE)
    add_post("outdeep", DEEP_OUTPUT)
    write(blog, "deep.ipynb", notebook_json(cell_metadata=f'{{"x": {nested(DEEP)}}}'))
    write(blog, "title.ipynb", notebook_json(front="title: A \\ud800 post\\ndate: 2024-01-01\\n"))
    write(blog, "bomb.ipynb", notebook_json(front=fm("title: A\ndate: 2024-01-01\n" + BOMB)))
    write(
        blog, "who.ipynb", notebook_json(front="title: A\\ndate: 2024-01-01\\nauthors: [someone-unknown]\\n")
    )
    return blog


EXPECTED = {
    "deep": "posts/deep.ipynb: the notebook's JSON is nested too deeply to read",
    "title": "posts/title.ipynb, cell 1: 'source' holds a lone surrogate character (\\ud800)",
    "bomb": "posts/bomb.ipynb: front matter YAML is broken at line 4 of the first cell (YAML anchors",
    "who": "posts/who.ipynb (front matter cell): front matter: the author 'someone-unknown' is not in",
}


def _error_lines(stderr: str) -> dict[str, str]:
    return {
        line.split(":", 2)[1].strip().split(",")[0].split(" ")[0]: line
        for line in stderr.splitlines()
        if line.startswith("error: ")
    }


@pytest.mark.slow
def test_bad_posts_fail_alone_in_one_line_each_and_the_others_publish(hostile_blog: Path) -> None:
    blog = hostile_blog
    result = build_cli(blog, timeout=600)
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    errors = _error_lines(result.stderr)
    for slug, start in EXPECTED.items():
        assert errors[f"posts/{slug}.ipynb"].startswith(f"error: {start}"), errors
    assert errors["posts/outdeep.ipynb"].startswith(
        "error: posts/outdeep.ipynb, cell 2: in its outputs, a value is nested more than "
        f"{MAX_NESTING} levels"
    ), result.stderr
    assert len(errors) == 5, errors
    posts = blog / "site_src" / "posts"
    assert sorted(p.name for p in posts.glob("*.md")) == ["figure.md", "good.md"]
    assert "fine" in (posts / "good.md").read_text()
    figure = (posts / "figure.md").read_text()
    assert "width: 320" in figure and "50000" not in figure
    assert sorted(p.name for p in (blog / "assets" / "images" / "figure").iterdir()) == ["output_1_1.png"]
    assert "warning: posts/figure.ipynb, cell 2: the image/png figure of output 1 declares" in result.stderr

    check = build_cli(blog, "--check", jobs=None)
    assert check.returncode == 1 and "Traceback" not in check.stderr + check.stdout
    for start in EXPECTED.values():
        assert f"error    {start}" in check.stderr, check.stderr
    assert "2 current" in check.stdout

    report = build_cli(blog, "--report", jobs=None)
    assert report.returncode == 1 and "Traceback" not in report.stderr + report.stdout
    for slug in EXPECTED:
        assert f"posts/{slug}.ipynb" in report.stdout
    assert "failed: posts/who.ipynb (front matter cell): front matter: the author" in report.stdout
    page = (blog / "site_src" / "execution" / "index.md").read_text(encoding="utf-8")
    assert "posts/title.ipynb" in page

    # The site builds: no unknown author reaches Material's blog plugin.
    site = mkdocs(blog, "build", "--strict")
    assert site.returncode == 0, site.stderr


# -- --serve ---------------------------------------------------------------------------------------


@pytest.mark.slow
def test_a_second_serve_on_a_busy_port_says_so_in_one_line_and_leaves_nothing(
    blog: Path, add_post: Callable[..., Path]
) -> None:
    add_post("good", "print('fine')")
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        proc = psutil.Popen(
            [*build_command(blog, "--serve", jobs=1), "--dev-addr", f"127.0.0.1:{port}"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        out, err = proc.communicate(timeout=HANG)
    assert proc.returncode == 1, out + err
    assert err == (
        f"error: port {port} is in use: another server (another --serve?) listens on 127.0.0.1:{port}; "
        "stop it, or choose another address with --dev-addr IP:PORT (e.g. --dev-addr 127.0.0.1:8001).\n"
    )
    assert not (blog / "site_src" / "posts" / "good.md").exists()  # refused before building


@pytest.mark.slow
@pytest.mark.parametrize("renderer", ["mkdocs", "zensical"])
def test_a_server_that_stops_ends_the_watch_with_exit_1_and_nothing_running(
    blog: Path, add_post: Callable[..., Path], renderer: str
) -> None:
    add_post("good", "print('fine')")
    (blog / "mkdocs.yml").write_text("site_name: [unclosed\n")  # the server fails; the build does not
    proc = psutil.Popen(
        [
            *build_command(blog, "--serve", "--renderer", renderer, jobs=1),
            "--dev-addr",
            f"127.0.0.1:{free_port()}",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
    )
    children: list[psutil.Process] = []
    deadline = time.monotonic() + HANG
    while time.monotonic() < deadline and proc.poll() is None:
        children = [*{c.pid: c for c in [*children, *proc.children(recursive=True)]}.values()]
        time.sleep(0.1)
    out, err = proc.communicate(timeout=HANG)
    assert proc.returncode == 1, out + err
    assert err.splitlines()[-1].startswith(
        f"error: {renderer} serve stopped (exit code 1), so the watch stopped too"
    )
    assert (blog / "site_src" / "posts" / "good.md").is_file()
    assert not [c for c in children if c.is_running() and c.status() != psutil.STATUS_ZOMBIE]
    assert sys.executable  # the server ran under this interpreter
