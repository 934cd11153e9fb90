"""Text sources (jupytext): Markdown and percent-format posts build exactly like notebooks."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from nbpress.pipeline import Options, build
from tests.helpers import copy_skeleton, without_execution_time

FRONT = "title: Same post\ndate: 2024-03-01\ntags: [Python]\n"
CELLS: list[tuple[str, str, list[str]]] = [
    ("markdown", "Some prose with a list:\n\n- one\n- two", []),
    ("code", "import helper\nprint(helper.VALUE)", []),
    ("code", "import matplotlib.pyplot as plt\nplt.plot([1, 3, 2])\nplt.show()", []),
    ("code", "print('hidden code')", ["remove-input"]),
]


def as_ipynb(path: Path) -> None:
    import nbformat
    from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_raw_cell

    nb = new_notebook(
        metadata={"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}}
    )
    nb.cells.append(new_raw_cell(f"---\n{FRONT}---"))
    for kind, source, tags in CELLS:
        cell = new_code_cell(source) if kind == "code" else new_markdown_cell(source)
        if tags:
            cell.metadata["tags"] = tags
        nb.cells.append(cell)
    for i, cell in enumerate(nb.cells):
        cell["id"] = f"cell-{i}"
    nbformat.write(nb, path.with_suffix(".ipynb"))


def as_markdown(path: Path) -> None:
    parts = [f"---\n{FRONT}---"]
    for kind, source, tags in CELLS:
        meta = f" tags={tags!r}".replace("'", '"') if tags else ""
        parts.append(f"```python{meta}\n{source}\n```" if kind == "code" else source)
    path.with_suffix(".md").write_text("\n\n".join(parts) + "\n", encoding="utf-8")


def as_percent(path: Path) -> None:
    header = "".join(f"# {line}\n" for line in f"---\n{FRONT}---".splitlines())
    parts = [header]
    for kind, source, tags in CELLS:
        meta = f" tags={tags!r}".replace("'", '"') if tags else ""
        if kind == "code":
            parts.append(f"# %%{meta}\n{source}\n")
        else:
            parts.append(
                "# %% [markdown]\n"
                + "".join(f"# {line}\n".replace("# \n", "#\n") for line in source.splitlines())
            )
    path.with_suffix(".py").write_text("\n".join(parts), encoding="utf-8")


def built_markdown(root: Path, write: Callable[[Path], None]) -> str:
    blog = copy_skeleton(root)
    (blog / "posts" / "helper.py").write_text("VALUE = 'from the helper module'\n")
    (blog / "posts" / "README.md").write_text("# Notes about these posts, not a post\n")
    write(blog / "posts" / "same")
    results = build(Options(root=blog, jobs=1))
    assert [(r.name, r.status) for r in results] == [(f"posts/{_source(blog)}", "executed")], [
        str(r.error) for r in results
    ]
    return (blog / "site_src" / "posts" / "same.md").read_text(encoding="utf-8")


def _source(blog: Path) -> str:
    return next(p.name for p in (blog / "posts").iterdir() if p.stem == "same")


def without_source(markdown: str) -> tuple[dict[str, object], str]:
    # Three separate executions: they differ in when they ran, masked too.
    _, front, body = without_execution_time(markdown).split("---\n", 2)
    data = yaml.safe_load(front)
    data["nbpress"].pop("source")
    return data, body


@pytest.mark.slow
def test_same_post_from_three_formats_gives_the_same_markdown(tmp_path: Path) -> None:
    ipynb = built_markdown(tmp_path / "a", as_ipynb)
    md = built_markdown(tmp_path / "b", as_markdown)
    py = built_markdown(tmp_path / "c", as_percent)
    assert (
        "from the helper module" in ipynb and "hidden code" in ipynb and "print('hidden code')" not in ipynb
    )
    assert "](../assets/images/same/output_3_0.png)" in ipynb
    assert without_source(md) == without_source(ipynb)
    assert without_source(py) == without_source(ipynb)
    assert "source: posts/same.md" in md and "source: posts/same.py" in py


def test_myst_markdown_post(blog: Path) -> None:
    (blog / "posts" / "myst.md").write_text(
        "---\njupytext:\n  text_representation:\n    format_name: myst\n"
        "kernelspec:\n  name: python3\n  display_name: Python 3\n"
        "title: A MyST post\ndate: 2024-05-01\ncategories: [Notes]\n---\n\n"
        "Intro.\n\n```{code-cell} ipython3\n:tags: [hide-input]\nprint(6 * 7)\n```\n",
        encoding="utf-8",
    )
    [result] = build(Options(root=blog, jobs=1))
    assert result.error is None, str(result.error)
    md = (blog / "site_src" / "posts" / "myst.md").read_text(encoding="utf-8")
    data = yaml.safe_load(md.split("---\n")[1])
    assert data["title"] == "A MyST post" and data["categories"] == ["Notes"]
    assert "jupytext" not in data and "kernelspec" not in data
    assert '??? note "Code"' in md and "\n42\n```\n" in md


def test_two_sources_with_one_slug_is_an_error(blog: Path, add_post: Callable[..., Path]) -> None:
    add_post("twice", "print(1)")
    (blog / "posts" / "twice.md").write_text("---\ntitle: t\ndate: 2024-01-01\n---\n\nText.\n")
    results = build(Options(root=blog, jobs=1))
    errors = sorted(str(r.error) for r in results)
    assert len(errors) == 2 and all("the slug 'twice' is used by several sources" in e for e in errors)
    assert not (blog / "site_src" / "posts" / "twice.md").exists()


def test_broken_text_source_is_one_clear_error(blog: Path) -> None:
    (blog / "posts" / "broken.md").write_text("---\ntitle: [unclosed\n---\n\nText.\n")
    [result] = build(Options(root=blog, jobs=1))
    assert result.status == "failed"
    message = str(result.error)
    assert message.startswith("posts/broken.md") and "\n" not in message


def test_text_source_reads_with_the_same_cell_ids_every_time(blog: Path) -> None:
    # jupytext invents random cell ids; the downloaded notebook must not change between builds.
    from nbpress.sources.formats import read_text_notebook

    path = blog / "posts" / "same.md"
    as_markdown(path)
    first = [c["id"] for c in read_text_notebook(path, "posts/same.md").cells]
    second = [c["id"] for c in read_text_notebook(path, "posts/same.md").cells]
    assert first == second == [f"cell-{i}" for i in range(len(first))]
