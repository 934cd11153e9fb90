"""fastpages notebooks build without edits: dated names, front matter cell, comment flags."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from nbpress.pipeline import Options, build
from tests.helpers import build_cli

FRONT_CELL = """# My Fast Post
> A summary of what follows.

- toc: false
- badges: true
- comments: true
- branch: master
- categories: [fastpages, jupyter]
- image: images/chart.png
"""


def write_fastpages_notebook(path: Path) -> None:
    """Write a notebook the way fastpages' template had them: nbformat 4.2, no cell ids."""

    def code(source: str) -> dict[str, object]:
        return {"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [], "source": source}

    cells = [
        {"cell_type": "markdown", "metadata": {}, "source": FRONT_CELL},
        code("#hide\nimport matplotlib.pyplot as plt\nanswer = 42"),
        {
            "cell_type": "markdown",
            "metadata": {},
            "source": "## A section\n\nSome prose.\n\n> Tip: a fastpages callout.\n\n"
            "```\n> Note: the syntax, shown as code\n```",
        },
        code("#collapse-hide\nprint('folded', answer)"),
        code("#hide_input\nprint('just the output')"),
        code("#collapse-output\nprint('output folded')"),
        code("plt.plot([1, 2, 3])\nplt.show()"),
    ]
    nb = {
        "cells": cells,
        "metadata": {"kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"}},
        "nbformat": 4,
        "nbformat_minor": 2,
    }
    path.write_text(json.dumps(nb, indent=1), encoding="utf-8")


@pytest.mark.slow
def test_fastpages_notebook_builds_without_edits(blog: Path) -> None:
    write_fastpages_notebook(blog / "posts" / "2020-02-20-my-fast-post.ipynb")
    [result] = build(Options(root=blog, jobs=1))
    assert result.status == "executed", str(result.error)
    md = (blog / "site_src" / "posts" / "my-fast-post.md").read_text(encoding="utf-8")
    front = yaml.safe_load(md.split("---\n")[1])
    assert front["title"] == "My Fast Post" and str(front["date"]) == "2020-02-20"
    assert front["description"] == "A summary of what follows."
    assert front["categories"] == ["fastpages", "jupyter"] and front["hide"] == ["toc"]
    assert front["slug"] == "my-fast-post" and front["image"] == "images/chart.png"
    assert not {"badges", "comments", "branch", "toc"} & set(front)
    body = md.split("---\n", 2)[2]
    # The front matter cell is not content; the #hide cell is gone; flags are not shown.
    assert "# My Fast Post" not in body and "A summary" not in body and "answer = 42" not in body
    assert "## A section" in body and "#collapse" not in body and "#hide" not in body
    assert '!!! tip "Tip"\n\n    a fastpages callout.\n' in body
    # A callout shown in code is code (the Markdown reader, rendering/mdtokens.py).
    assert "```\n> Note: the syntax, shown as code\n```" in body and "!!! note" not in body
    assert "??? note \"Code\"\n\n    ```python\n    print('folded', answer)\n" in body
    assert "\nfolded 42\n```\n" in body
    assert "just the output" in body and "print('just the output')" not in body
    assert '??? note "Output"' in body and "\n    output folded\n    ```\n" in body
    # Figure names count every cell, the front matter cell included.
    assert "](../assets/images/my-fast-post/output_6_0.png)" in body


@pytest.mark.slow
def test_dated_post_is_built_by_its_slug(blog: Path) -> None:
    write_fastpages_notebook(blog / "posts" / "2021-01-02-by-slug.ipynb")
    proc = build_cli(blog, "by-slug", jobs=1)
    assert proc.returncode == 0, proc.stderr
    assert "posts/2021-01-02-by-slug.ipynb" in proc.stdout
    assert (blog / "site_src" / "posts" / "by-slug.md").is_file()


@pytest.mark.slow
def test_published_false_is_a_draft_and_bad_lines_are_named(blog: Path) -> None:
    path = blog / "posts" / "2021-03-04-unpublished.ipynb"
    write_fastpages_notebook(path)
    nb = json.loads(path.read_text())
    nb["cells"][0]["source"] = "# Not yet\n- published: false\n"
    path.write_text(json.dumps(nb))
    bad = blog / "posts" / "2021-03-05-bad.ipynb"
    nb["cells"][0]["source"] = "# Bad\n- categories: [unclosed\n"
    bad.write_text(json.dumps(nb))
    results = {r.name: r for r in build(Options(root=blog, jobs=1))}
    assert "posts/2021-03-05-bad.ipynb: the fastpages front matter line '- categories: [unclosed'" in str(
        results["posts/2021-03-05-bad.ipynb"].error
    )
    text = (blog / "site_src" / "posts" / "unpublished.md").read_text(encoding="utf-8")
    front = yaml.safe_load(text.split("---\n")[1])
    assert front["draft"] is True and "published" not in front


def _titled_only(path: Path, first_cell: str) -> Path:
    """Write a notebook as many public ones are: a `# Title` Markdown cell first, no front matter."""
    cells = [
        {"cell_type": "markdown", "metadata": {}, "source": first_cell},
        {"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [], "source": "1 + 1"},
    ]
    nb = {"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 2}
    path.write_text(json.dumps(nb), encoding="utf-8")
    return path


def test_a_title_cell_without_a_date_says_how_to_add_one_in_its_own_format(blog: Path) -> None:
    from nbpress.errors import SourceError
    from nbpress.sources.posts import read_post

    posts = blog / "posts"
    with pytest.raises(SourceError) as missing:
        read_post(_titled_only(posts / "broadcasting.ipynb", "# Broadcasting"), blog)
    assert str(missing.value) == (
        "posts/broadcasting.ipynb (fastpages front matter cell): front matter: date is missing (add a "
        "line '- date: YYYY-MM-DD' under the title in the first cell, or start the file's name with the "
        "date (YYYY-MM-DD-broadcasting.ipynb))."
    )
    # Either way the message gives works.
    dated_cell = read_post(_titled_only(posts / "cell.ipynb", "# Broadcasting\n- date: 2024-05-01\n"), blog)
    dated_name = read_post(_titled_only(posts / "2024-05-02-name.ipynb", "# Broadcasting"), blog)
    assert (str(dated_cell.front_matter.date), str(dated_name.front_matter.date)) == (
        "2024-05-01",
        "2024-05-02",
    )
