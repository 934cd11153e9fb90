"""Cell tags (Jupyter Book names), fastpages flags, Quarto `#|` options and the stderr options."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from nbpress.pipeline import Options, build
from tests.helpers import build_cli


def build_ok(blog: Path) -> dict[str, str]:
    results = build(Options(root=blog, jobs=2))
    assert all(r.error is None for r in results), [str(r.error) for r in results]
    return {r.name: r.status for r in results}


def markdown(blog: Path, slug: str) -> str:
    return (blog / "site_src" / "posts" / f"{slug}.md").read_text(encoding="utf-8")


@pytest.mark.slow
def test_tags_flags_and_options(blog: Path, add_post: Callable[..., Path]) -> None:
    add_post(
        "tags",
        "#hide\nsecret = 41",
        "print('folded code', secret + 1)",
        "#collapse-show\nprint('shown open')",
        "print('folded output')",
        "#hide_input\nprint('only the output')",
        "#| eval: false\n1/0",
        "import sys; print('to', 'stdout'); print('to', 'stderr', file=sys.stderr)",
        "#| error: true\n1/0",
        "1/0",
        "#| include: false\nprint('quarto hidden')",
        "#| echo: false\nprint('quarto output only')",
        '#| fig-cap: "A rising line"\nimport matplotlib.pyplot as plt; plt.plot([1, 2]); plt.show()',
        "#| tags: [remove-output]\nprint('tagged', 'away')",
        "print('both', 'folded')",
        tags={
            1: ["hide-input"],
            3: ["hide-output"],
            6: ["remove-stderr"],
            8: ["skip-execution"],
            13: ["hide-cell"],
        },
    )
    build_ok(blog)
    md = markdown(blog, "tags")
    # #hide (fastpages) and include: false (Quarto) remove the whole cell.
    assert "secret = 41" not in md and "quarto hidden" not in md
    # hide-input: the code in a closed collapsible block, the output after it.
    assert "??? note \"Code\"\n\n    ```python\n    print('folded code', secret + 1)\n    ```\n" in md
    assert "<!-- /details -->\n\n```{.text .nbpress-output .nbpress-stdout}\nfolded code 42\n```\n" in md
    # #collapse-show: open block, and the flag line is not shown.
    assert "???+ note \"Code\"\n\n    ```python\n    print('shown open')\n" in md
    assert "#collapse-show" not in md
    # hide-output: the output in a collapsible block, its fenced block indented inside it.
    fence = "```{.text .nbpress-output .nbpress-stdout}"
    assert '??? note "Output"\n' in md and f"\n    {fence}\n    folded output\n" in md
    # #hide_input and echo: false keep only the output.
    assert "only the output" in md and "print('only the output')" not in md
    assert "quarto output only" in md and "print('quarto output only')" not in md
    # eval: false and skip-execution: shown, not run, so no ZeroDivisionError from them.
    assert md.count("ZeroDivisionError: division by zero") == 1  # only the error: true cell
    assert "```python\n1/0\n```" in md and "#| eval" not in md
    # remove-stderr drops only stderr.
    assert "to stdout" in md and "to stderr" not in md
    # Hidden cells are never deleted: the figure keeps its source cell number (12).
    # fig-cap is the figure's alt text.
    assert "![A rising line](../assets/images/tags/output_12_0.png)" in md
    # hide-cell folds both.
    both = "??? note \"Code\"\n\n    ```python\n    print('both', 'folded')\n    ```\n\n<!-- /details -->\n\n"
    assert both + f'??? note "Output"\n    \n    {fence}\n    both folded\n' in md
    # #| tags adds tags.
    assert "print('tagged', 'away')" in md and "tagged away" not in md


@pytest.mark.slow
def test_stderr_options_and_allow_errors(blog: Path, add_post: Callable[..., Path]) -> None:
    noisy = "import sys; print('out', 'here'); print('noise', 'here', file=sys.stderr)"
    add_post("shown", noisy)
    add_post("removed", noisy, front="stderr: remove\n")
    add_post("warned", noisy, front="stderr: warn\n")
    add_post("errors", "1/0", "print('kept going')", front="allow_errors: true\n")
    proc = build_cli(blog)
    assert proc.returncode == 0, proc.stderr
    assert "noise here" in markdown(blog, "shown")
    assert "noise here" not in markdown(blog, "removed") and "out here" in markdown(blog, "removed")
    assert "noise here" in markdown(blog, "warned")
    assert "warning: posts/warned.ipynb, cell 2 wrote to stderr: noise here" in proc.stderr
    assert "posts/shown.ipynb" not in proc.stderr
    errors = markdown(blog, "errors")
    assert "ZeroDivisionError" in errors and "kept going" in errors
    # nbpress options are not published.
    assert "allow_errors" not in errors and "stderr:" not in markdown(blog, "removed")


@pytest.mark.slow
def test_allow_errors_is_part_of_the_execution_key(blog: Path, add_post: Callable[..., Path]) -> None:
    add_post("p", "print('x')")
    assert build_ok(blog) == {"posts/p.ipynb": "executed"}
    add_post("p", "print('x')", front="stderr: remove\n")
    assert build_ok(blog) == {"posts/p.ipynb": "cached"}  # render-only option: from the cache
    add_post("p", "print('x')", front="stderr: remove\nallow_errors: true\n")
    assert build_ok(blog) == {"posts/p.ipynb": "executed"}


def test_bad_options_name_the_file_and_cell(blog: Path, add_post: Callable[..., Path]) -> None:
    add_post("badopt", "print(1)", "#| echo: [unclosed\nprint(2)")
    add_post("badfm", "print(1)", front="stderr: loud\nallow_errors: maybe\n")
    results = {r.name: r for r in build(Options(root=blog, jobs=2))}
    bad_opt = str(results["posts/badopt.ipynb"].error)
    assert bad_opt.startswith("posts/badopt.ipynb, cell 3: the '#|' cell options are not valid YAML")
    bad_fm = str(results["posts/badfm.ipynb"].error)
    assert "stderr 'loud' must be one of show, remove, warn" in bad_fm
    assert "allow_errors must be true or false" in bad_fm
    assert not (blog / "site_src" / "posts" / "badopt.md").exists()


def _tagged_notebook(blog: Path, slug: str, tagged: str, tag: str) -> Path:
    """Write a post: a front matter cell, code that fails, then a Markdown cell; `tagged` is tagged `tag`."""
    import nbformat
    from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_raw_cell

    nb = new_notebook(metadata={"kernelspec": {"name": "python3", "display_name": "Python 3"}})
    nb.cells = [
        new_raw_cell(f"---\ntitle: {slug}\ndate: 2024-01-01\n---"),
        new_code_cell("1 / 0"),
        new_markdown_cell("The division above fails on purpose."),
    ]
    if tagged == "raw":
        nb.cells[2] = new_raw_cell("Raw text for another format.")
    cell = nb.cells[1 if tagged == "code" else 2]
    cell.metadata["tags"] = [tag]
    for i, c in enumerate(nb.cells):
        c["id"] = f"c{i}"
    path = blog / "posts" / f"{slug}.ipynb"
    nbformat.write(nb, path)
    return path


@pytest.mark.parametrize(
    ("tagged", "tag", "warned"),
    [
        ("markdown", "raises-exception", True),
        ("markdown", "remove-output", True),
        ("markdown", "skip-execution", True),
        ("raw", "remove-stdout", True),
        ("code", "raises-exception", False),
        ("markdown", "remove-cell", False),  # acts on any cell
    ],
)
def test_a_code_cells_tag_on_a_markdown_cell_is_a_warning(
    blog: Path, tagged: str, tag: str, warned: bool
) -> None:
    from nbpress.sources.posts import read_post

    post = read_post(_tagged_notebook(blog, "p", tagged, tag), blog)
    expected = (
        f"posts/p.ipynb, cell 3: the tag '{tag}' is on a {tagged} cell, where it does nothing; "
        "move it to the code cell it is meant for (the code cell before it is cell 2)."
    )
    assert list(post.warnings) == ([expected] if warned else [])


MISSPELLED = "the tag '{tag}' is not one nbpress knows, so it does nothing; did you mean '{known}'?"


@pytest.mark.parametrize(
    ("tag", "known"),
    [
        ("remove_input", "remove-input"),  # Jupyter Book 0.6's spelling
        ("hide_output", "hide-output"),
        ("remove-inputs", "remove-input"),
        ("Remove-Cell", "remove-cell"),
        ("raises_exception", "raises-exception"),
        ("skip-executon", "skip-execution"),
        ("parameters", None),  # papermill's, and any tag of the author's own, is left alone
        ("solution", None),
        ("remove-input", None),
    ],
)
def test_a_misspelled_tag_is_a_warning_naming_the_tag_meant(blog: Path, tag: str, known: str | None) -> None:
    from nbpress.sources.posts import read_post

    post = read_post(_tagged_notebook(blog, "p", "code", tag), blog)
    expected = f"posts/p.ipynb, cell 2: {MISSPELLED.format(tag=tag, known=known)}"
    assert list(post.warnings) == ([expected] if known else [])


def test_a_misspelled_tag_is_found_in_every_spelling_of_tags(blog: Path) -> None:
    """MyST's `:tags:` and Quarto's `#| tags:` give tags as a notebook's metadata does: checked alike."""
    from nbpress.sources.posts import read_post

    head = "---\ntitle: T\ndate: 2024-01-01\n---\n\n"
    myst = blog / "posts" / "myst.md"
    myst.write_text(
        "---\njupytext:\n  text_representation:\n    format_name: myst\n"
        "kernelspec:\n  name: python3\n  display_name: Python 3\n"
        "title: T\ndate: 2024-01-01\n---\n\nProse.\n\n```{code-cell} ipython3\n:tags: [hide_input]\n1\n```\n",
        encoding="utf-8",
    )
    quarto = blog / "posts" / "quarto.qmd"
    quarto.write_text(head + "Prose.\n\n```{python}\n#| tags: [remove_output]\n1\n```\n", encoding="utf-8")
    for path, tag, known in ((myst, "hide_input", "hide-input"), (quarto, "remove_output", "remove-output")):
        warnings = [w for w in read_post(path, blog).warnings if "not one nbpress knows" in w]
        assert len(warnings) == 1 and warnings[0].endswith(MISSPELLED.format(tag=tag, known=known)), warnings
        assert warnings[0].startswith(f"posts/{path.name}, cell "), warnings


@pytest.mark.slow
def test_a_failed_post_says_its_warnings_with_its_error(blog: Path) -> None:
    # The tag meant for the failing cell went one cell down: the warning explains the failure.
    _tagged_notebook(blog, "p", "markdown", "raises-exception")
    proc = build_cli(blog)
    assert proc.returncode == 1
    lines = proc.stderr.splitlines()
    error = next(
        i
        for i, line in enumerate(lines)
        if line.startswith("error: posts/p.ipynb, cell 2: ZeroDivisionError")
    )
    assert lines[error + 1].startswith(
        "warning: posts/p.ipynb, cell 3: the tag 'raises-exception' is on a markdown"
    )
