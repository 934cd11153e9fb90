"""Computed values in prose (nbpress.rendering.values): Quarto's `{python} expr`, MyST's {eval}, glue.

Real kernels, real builds, a real `mkdocs build --strict`: the value on the page is what the
post's own run computed at the Markdown cell's place, cached like any output.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import nbformat
import pytest

from nbpress.execution.inline import expressions
from nbpress.pipeline import Options, build
from nbpress.rendering.values import format_plain_text, uses
from tests.helpers import copy_blog, copy_skeleton, mkdocs

Cells = list[tuple[str, str, list[str]]]  # (kind "code" or "md", source, tags)


def write_notebook(blog: Path, slug: str, cells: Cells, front: str = "") -> Path:
    nb = nbformat.v4.new_notebook(
        metadata={"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}}
    )
    nb.cells.append(nbformat.v4.new_raw_cell(f"---\ntitle: {slug}\ndate: 2024-01-01\n{front}---"))
    for kind, source, tags in cells:
        cell = nbformat.v4.new_code_cell(source) if kind == "code" else nbformat.v4.new_markdown_cell(source)
        if tags:
            cell.metadata["tags"] = tags
        nb.cells.append(cell)
    for i, cell in enumerate(nb.cells):
        cell["id"] = f"cell-{i}"
    path = blog / "posts" / f"{slug}.ipynb"
    nbformat.write(nb, path)
    return path


INLINE: Cells = [
    (
        "code",
        "import random\nx = random.randint(10**9, 10**10)\nprint(x)\nhtml = '<script>top.__pwned=1</script>'",
        [],
    ),
    (
        "md",
        "The number is `{python} x` and one more is {eval}`x + 1`.\n\n"
        "Shown, not run:\n\n```md\nThe number is `{python} x`.\n```\n\nand `` `{python} x` `` inline.\n\n"
        "HTML-ish: `{python} html`; Markdown-ish: `{python} '*not bold* @knuth1984 [a](b)'`.",
        [],
    ),
    ("code", "x = 0", []),
    ("md", "Below the second cell: `{python} x`.\n\n```{note}\nIn a note: `{python} x + 5`.\n```", []),
]

GLUE: Cells = [
    (
        "code",
        "from myst_nb import glue\nfrom IPython.display import Markdown\n"
        "glue('mean', 0.123456, display=False)\nglue('shown', 7)\n"
        "glue('md', Markdown('**bold** text'), display=False)\nglue('tag', '<b>x</b>', display=False)",
        [],
    ),
    ("code", "glue('secret', 31337, display=False)", ["remove-cell"]),
    (
        "code",
        "import matplotlib.pyplot as plt\nfig, ax = plt.subplots(figsize=(2, 2))\nax.plot([1, 3, 2])\n"
        "glue('fig', fig, display=False)\nplt.close(fig)",
        [],
    ),
    (
        "md",
        "Mean {glue:text}`mean:.2f`, shown {glue:}`shown`, bold {glue:md}`md`, tag {glue}`tag`, "
        "hidden cell {glue}`secret`, unknown {glue:text}`nope:.1f`.\n\n"
        "```{glue:figure} fig\n:name: fig-glued\n\nA glued figure, mean {glue:text}`mean:.3f`.\n```\n\n"
        "See {numref}`fig-glued`.",
        [],
    ),
]

TEXT_POST = """---
title: text
date: 2024-01-02
jupytext:
  text_representation:
    format_name: myst
kernelspec:
  name: python3
  display_name: Python 3
---

```{code-cell} python
y = sum(range(11))
```

The sum is `{python} y` in a text source.
"""


def statuses(root: Path) -> dict[str, str]:
    return {r.name: r.status for r in build(Options(root=root, jobs=2))}


def page(root: Path, slug: str) -> str:
    return (root / "site_src" / "posts" / f"{slug}.md").read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def built_once(tmp_path_factory: pytest.TempPathFactory) -> Path:
    blog = copy_skeleton(tmp_path_factory.mktemp("values") / "blog")
    write_notebook(blog, "inline", INLINE)
    write_notebook(blog, "glue", GLUE)
    (blog / "posts" / "text.md").write_text(TEXT_POST, encoding="utf-8")
    results = build(Options(root=blog, jobs=2))
    assert {r.name: r.status for r in results} == {
        "posts/inline.ipynb": "executed",
        "posts/glue.ipynb": "executed",
        "posts/text.md": "executed",
    }, [str(r.error) for r in results]
    return blog


@pytest.fixture
def built(built_once: Path, tmp_path: Path) -> Path:
    return copy_blog(built_once, tmp_path)


def printed(root: Path) -> str:
    """Return the number the first code cell printed (its output on the page)."""
    found = re.search(r"^(\d{10,11})$", page(root, "inline"), re.M)
    assert found, page(root, "inline")
    return found.group(1)


# -- Quarto's and MyST's inline expressions ------------------------------------------------------


def test_inline_value_is_the_printed_value_of_the_code_above(built_once: Path) -> None:
    md = page(built_once, "inline")
    number = printed(built_once)
    assert f"The number is {number} and one more is {int(number) + 1}." in md
    # At the cell's place in the run: after the second code cell, x is 0.
    assert "Below the second cell: 0." in md
    assert "!!! note\n\n    In a note: 5." in md  # a directive's prose body is prose


def test_syntax_shown_in_code_stays_code(built_once: Path) -> None:
    md = page(built_once, "inline")
    assert "```md\nThe number is `{python} x`.\n```" in md
    assert "`` `{python} x` ``" in md


def test_html_and_markdown_values_show_as_text(built_once: Path) -> None:
    line = next(line for line in page(built_once, "inline").splitlines() if line.startswith("HTML-ish:"))
    assert "<" not in line and "*" not in line and "@" not in line and "[" not in line
    assert "HTML-ish: &#60;script&#62;top.&#95;&#95;pwned&#61;1&#60;/script&#62;;" in line
    # Neither emphasis, nor a citation, nor a link: character references, shown as typed.
    assert "&#42;not bold&#42; &#64;knuth1984 &#91;a&#93;&#40;b&#41;" in line


def test_text_source_inline_value(built_once: Path) -> None:
    assert "The sum is 55 in a text source." in page(built_once, "text")


@pytest.mark.slow
def test_page_shows_values_as_text(built_once: Path, tmp_path: Path) -> None:
    """mkdocs build --strict passes; the page shows the HTML-ish value as text, no script."""
    site = Path(shutil.copytree(built_once, tmp_path / "site", symlinks=True))
    result = mkdocs(site, "build", "--strict")
    assert result.returncode == 0, result.stderr
    html = next((site / "site").rglob("inline/index.html")).read_text(encoding="utf-8")
    assert "HTML-ish: &lt;script&gt;top.__pwned=1&lt;/script&gt;;" in html
    assert "<script>top.__pwned" not in html
    assert "*not bold* @knuth1984 [a](b)" in html
    glue = next((site / "site").rglob("glue/index.html")).read_text(encoding="utf-8")
    assert "Mean 0.12, shown 7, bold <strong>bold</strong> text" in glue
    assert "tag &#x27;&lt;b&gt;x&lt;/b&gt;&#x27;" in glue or "tag '&lt;b&gt;x&lt;/b&gt;'" in glue
    assert 'id="fig-glued"' in glue and "Figure 1" in glue
    assert re.search(r'<img[^>]+src="[^"]*attachment_\d+_\d+\.png"', glue), glue


@pytest.mark.slow
def test_changing_an_expression_runs_again_and_prose_does_not(built: Path) -> None:
    path = built / "posts" / "inline.ipynb"
    nb = nbformat.read(path, as_version=4)
    before = printed(built)
    nb.cells[2].source = nb.cells[2].source.replace("The number is", "The value is")
    nbformat.write(nb, path)
    assert statuses(built) == {
        "posts/inline.ipynb": "cached",
        "posts/glue.ipynb": "unchanged",
        "posts/text.md": "unchanged",
    }
    assert f"The value is {before} and" in page(built, "inline")  # the cached run's value
    nb.cells[2].source = nb.cells[2].source.replace("{eval}`x + 1`", "{eval}`x + 2`")
    nbformat.write(nb, path)
    results = build(Options(root=built, jobs=2))
    inline = next(r for r in results if r.name == "posts/inline.ipynb")
    assert inline.status == "executed" and "inline expression" in inline.reason
    after = printed(built)
    assert after != before and f"The value is {after} and one more is {int(after) + 2}." in page(
        built, "inline"
    )


def test_cached_rebuild_keeps_values(built: Path) -> None:
    shutil.rmtree(built / "site_src" / "posts")
    shutil.rmtree(built / "assets" / "images")
    (built / "site_src" / "posts").mkdir()
    assert set(statuses(built).values()) == {"cached"}
    number = printed(built)
    assert f"The number is {number} and one more is {int(number) + 1}." in page(built, "inline")
    assert "Mean 0.12, shown 7" in page(built, "glue")
    assert list((built / "assets" / "images" / "glue").glob("attachment_*.png"))


@pytest.mark.slow
def test_an_expression_that_raises_fails_the_post(built: Path) -> None:
    write_notebook(built, "broken", [("code", "z = 1", []), ("md", "Ratio `{python} z / 0`.", [])])
    results = build(Options(root=built, jobs=2))
    broken = next(r for r in results if r.name == "posts/broken.ipynb")
    assert broken.status == "failed"
    message = str(broken.error)
    assert "\n" not in message
    assert "posts/broken.ipynb" in message and "cell 3" in message
    assert "`z / 0`" in message and "ZeroDivisionError" in message


# -- glue --------------------------------------------------------------------------------------


def test_glue_values(built_once: Path) -> None:
    md = page(built_once, "glue")
    assert (
        "Mean 0.12, shown 7, bold <strong>bold</strong> text, tag &#39;&lt;b&gt;x&lt;/b&gt;&#39;" in md
        or ("Mean 0.12, shown 7, bold <strong>bold</strong> text" in md)
    )
    assert "hidden cell 31337" in md
    assert "A glued figure, mean 0.123." in md
    assert "papermill" not in md and "scrapbook" not in md


def test_summary_shows_values_never_syntax(built_once: Path) -> None:
    """The summary (meta description, card, feed) is the first paragraph with its values, read as text."""
    glue = re.search(r"^description: (.*)$", page(built_once, "glue"), re.M)
    assert glue and glue.group(1).startswith(
        "Mean 0.12, shown 7, bold bold text, tag &#x27;&lt;b&gt;x&lt;/b&gt;&#x27;"
    )
    assert "{glue" not in glue.group(1) and "&amp;" not in glue.group(1)
    inline = re.search(r"^description: (.*)$", page(built_once, "inline"), re.M)
    assert inline and re.fullmatch(r"The number is \d+ and one more is \d+\.", inline.group(1))


def test_glue_display_false_is_hidden_and_display_true_shown(built_once: Path) -> None:
    md = page(built_once, "glue")
    code = md.split("<!-- more -->", 1)[1].split("Mean 0.12", 1)[0]
    outputs = re.findall(r"^```\{\.text \.nbpress-output[^}]*\}\n(.*?)^```$", code, re.M | re.S)
    assert outputs == ["7\n"], code  # glue('shown', 7) shows in its cell; display=False ones do not
    assert "![" not in code and "<img" not in code  # nor the glued figure


def test_unknown_glue_name_keeps_its_text(built_once: Path) -> None:
    body = page(built_once, "glue").split("<!-- more -->", 1)[1]
    assert "unknown `nope:.1f`." in body and "{glue" not in body


def test_unknown_glue_warning_names_file_cell_and_name(built: Path) -> None:
    path = built / "posts" / "glue.ipynb"
    nb = nbformat.read(path, as_version=4)
    nb.cells[-1].source += "\n\nAgain {glue:}`missing`."  # prose only: rendered from the cache
    nbformat.write(nb, path)
    results = build(Options(root=built, jobs=2))
    glue = next(r for r in results if r.name == "posts/glue.ipynb")
    assert glue.status == "cached"
    warned = [w for w in glue.warnings if "missing" in w]
    assert warned and "posts/glue.ipynb, cell 5:" in warned[0] and "'missing'" in warned[0]
    assert any("'nope'" in w for w in glue.warnings)


def test_glue_figure_lands_in_assets(built_once: Path) -> None:
    md = page(built_once, "glue")
    images = sorted((built_once / "assets" / "images" / "glue").glob("attachment_*.png"))
    assert images and images[0].read_bytes().startswith(b"\x89PNG")
    assert images[0].name in md and 'id="fig-glued"' in md
    assert "[Figure 1](#fig-glued)" in md


# -- the syntax, without a kernel ------------------------------------------------------------------


def test_values_found_only_in_prose() -> None:
    source = (
        "A `{python} a` b {eval}`c`\n\n```\n`{python} d`\n```\n\n"
        "````md\n```{note}\n`{python} g`\n```\n````\n\n"
        "```{note}\nIn a note `{python} h`.\n```\n\n"
        "```{code-block} md\n`{python} i`\n```\n\n`` `{python} f` ``"
    )
    shown = [u.text for u in uses(source) if u.role == "python"]
    assert shown == ["a", "c", "h"]
    # What the kernel evaluates is a superset found without the site's Markdown reading
    # (execution runs below rendering); only what the prose shows can fail the post.
    assert set(shown) <= set(expressions(source)) and "i" not in expressions(source)
    assert [u.role for u in uses("{glue:text}`m:.2f` {glue:}`n` {glue:md}`o` {other}`p`")] == [
        "glue:text",
        "glue:",
        "glue:md",
    ]


@pytest.mark.slow
def test_an_expression_shown_only_as_syntax_never_fails_the_post(built: Path) -> None:
    write_notebook(
        built,
        "example",
        [
            ("code", "z = 2", []),
            ("md", "Write `` `{python} undefined_name` `` to show `{python} z * 21`.", []),
        ],
    )
    results = build(Options(root=built, jobs=2))
    example = next(r for r in results if r.name == "posts/example.ipynb")
    assert example.status == "executed", example.error
    assert "Write `` `{python} undefined_name` `` to show 42." in page(built, "example")


def test_glue_text_format_spec_as_myst_nb() -> None:
    assert format_plain_text("0.123456", ".2f") == "0.12"
    assert format_plain_text("'abc'", "") == "abc"
    assert format_plain_text("12", "05d") == "00012"
    assert format_plain_text("np.float64(0.5)", ".1%") == "50.0%"  # NumPy 2's repr, read as its number
