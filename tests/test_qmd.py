"""Quarto documents (.qmd) are posts: read without the quarto program, built like a notebook."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from nbpress.errors import SourceError
from nbpress.pipeline import Options, build
from nbpress.sources import read_post
from nbpress.sources.formats import read_text_notebook
from tests.helpers import HANG, build_cli, copy_skeleton, mkdocs, without_execution_time

FRONT = "title: Same post\ndate: 2024-03-01\ncategories: [Python]\n"
# (kind, source): the cells of one post, as a notebook and as a Quarto document hold them.
CELLS: list[tuple[str, str]] = [
    ("markdown", "## Setup\n\nThe line in @fig-line rises.\n\n::: {.callout-note}\nA note.\n:::"),
    (
        "code",
        "#| label: fig-line\n#| fig-cap: A rising line\nimport matplotlib.pyplot as plt\n"
        "plt.plot([1, 2, 3])\nplt.show()",
    ),
    ("code", "#| echo: false\nprint('from hidden code')"),
    ("markdown", "Shown, not run:\n\n```python\nprint('never run')\n```"),
    ("code", "#| code-fold: true\nprint(6 * 7)"),
]


def as_ipynb(path: Path) -> None:
    import nbformat
    from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_raw_cell

    nb = new_notebook(
        metadata={"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}}
    )
    nb.cells.append(new_raw_cell(f"---\n{FRONT}---"))
    for kind, source in CELLS:
        nb.cells.append(new_code_cell(source) if kind == "code" else new_markdown_cell(source))
    for i, cell in enumerate(nb.cells):
        cell["id"] = f"cell-{i}"
    nbformat.write(nb, path.with_suffix(".ipynb"))


def as_qmd(path: Path) -> None:
    parts = [f"---\n{FRONT}jupyter: python3\nformat:\n  html:\n    toc: true\neditor: visual\n---"]
    parts += [f"```{{python}}\n{src}\n```" if kind == "code" else src for kind, src in CELLS]
    path.with_suffix(".qmd").write_text("\n\n".join(parts) + "\n", encoding="utf-8")


def built(root: Path, write: object) -> str:
    blog = copy_skeleton(root)
    assert callable(write)
    write(blog / "posts" / "same")
    results = build(Options(root=blog, jobs=1))
    assert [(r.status, r.error) for r in results] == [("executed", None)], [str(r.error) for r in results]
    return (blog / "site_src" / "posts" / "same.md").read_text(encoding="utf-8")


def without_source(markdown: str) -> tuple[dict[str, object], str]:
    _, front, body = without_execution_time(markdown).split("---\n", 2)
    data = yaml.safe_load(front)
    data["nbpress"].pop("source")
    return data, body


@pytest.mark.slow
def test_qmd_post_publishes_the_same_markdown_as_the_notebook(tmp_path: Path) -> None:
    ipynb = built(tmp_path / "a", as_ipynb)
    qmd = built(tmp_path / "b", as_qmd)
    assert "source: posts/same.qmd" in qmd
    assert without_source(qmd) == without_source(ipynb)
    # What the cells say, on the page: a numbered figure the reference links to, hidden code,
    # the callout as an admonition, shown code not run, folded code.
    assert '<figure class="nbpress-figure" markdown="span" id="fig-line">' in qmd
    assert "<figcaption>Figure 1: A rising line</figcaption>" in qmd
    assert "[Figure 1](#fig-line)" in qmd
    assert "from hidden code" in qmd and "print('from hidden code')" not in qmd
    assert "#|" not in qmd
    assert "!!! note\n\n    A note." in qmd and ".callout" not in qmd
    assert "print('never run')" in qmd and "\nnever run\n" not in qmd
    assert '??? note "Code"' in qmd and "\n42\n" in qmd


def write_qmd(blog: Path, name: str, text: str) -> Path:
    path = blog / "posts" / name
    path.write_text(text, encoding="utf-8")
    return path


IGNORED = "is not supported here, so it is ignored."
HEAD = "---\ntitle: T\ndate: 2024-01-01\n---\n\n"


def test_a_block_of_another_language_is_shown_as_code_with_a_warning(blog: Path) -> None:
    """As Quarto's Jupyter engine: a {r}, {markdown} or {mermaid} block (quarto.org's own pages
    show syntax in ````{markdown}) is not a cell of the kernel; it is shown, and named in a warning."""
    text = (
        HEAD
        + "Text.\n\n```{r}\nsummary(cars)\n```\n\n````{markdown}\n```{{r}}\n#| echo: false\n```\n````\n\n"
        "- a list\n\n  ```{mermaid}\n  graph TD\n  ```\n\n```{python}\nprint(1)\n```\n"
    )
    post = read_post(write_qmd(blog, "r.qmd", text), blog)
    cells = post.notebook.cells
    assert [c.cell_type for c in cells] == ["raw", "markdown", "code"] and cells[2].source == "print(1)"
    shown = cells[1].source
    assert "```r\nsummary(cars)\n```" in shown and "````markdown\n```{{r}}" in shown
    assert "  ```mermaid\n  graph TD\n  ```" in shown
    lines = [w for w in post.warnings if "another language" in w]
    rest = " block is in another language than the post's kernel (python3), so it is shown as code"
    assert [w.split(":", 1)[0] for w in lines] == [f"posts/r.qmd, line {n}" for n in (8, 12, 20)]
    for lang, line in zip(("r", "markdown", "mermaid"), lines, strict=True):
        assert f"a {{{lang}}}{rest}" in line
    assert all("\n" not in w for w in lines)


@pytest.mark.parametrize(
    "written",
    [
        "March 22nd, 2021",
        "Mar 22, 2021",
        "22 March 2021",
        "03/22/2021",
        "03-22-2021",
        "03/22/21",
        "2021-03-22",
        "22 03 2021",
    ],
)
def test_a_date_in_a_form_quarto_reads_is_that_day(blog: Path, written: str) -> None:
    """Quarto reads a date in several forms (quarto.org's own examples write 'March 22nd, 2021')."""
    path = write_qmd(blog, "d.qmd", f'---\ntitle: T\ndate: "{written}"\n---\n\nText.\n')
    assert str(read_post(path, blog).front_matter.date)[:10] == "2021-03-22"


def test_a_date_quarto_cannot_read_is_refused_in_one_line(blog: Path) -> None:
    path = write_qmd(blog, "d.qmd", "---\ntitle: T\ndate: the Ides of March\n---\n\nText.\n")
    with pytest.raises(SourceError, match=r"date 'the Ides of March' is not a date"):
        read_post(path, blog)


def test_shortcodes_show_what_they_name_and_never_their_syntax(blog: Path) -> None:
    """quarto.org's pages are built of {{< include _part.md >}}, {{< kbd >}} and {{< meta >}}: the
    included file is read in place (its cells run), others are shown or left out with a warning."""
    (blog / "posts" / "_part.md").write_text(
        'Included *text*.\n\n```{python}\nprint("from include")\n```\n', encoding="utf-8"
    )
    (blog / "outside.md").write_text("secret\n", encoding="utf-8")
    text = (
        "---\ntitle: T\ndate: 2024-01-01\nsubtitle: The sub\n---\n\n"
        "Press {{< kbd Ctrl-C >}} in {{< meta subtitle >}}; `{{</* include x.md */>}}` shows one.\n\n"
        "{{< include _part.md >}}\n\n{{< video https://example.invalid/v.mp4 >}}\n\n"
        "```markdown\n{{< include _part.md >}}\n```\n\n{{< include ../outside.md >}}\n{{< pagebreak >}}\n\n"
        "```{=html}\n{{< include _table.html >}}\n```\n"
    )
    (blog / "posts" / "_table.html").write_text("<table><tr><td>1</td></tr></table>\n", encoding="utf-8")
    post = read_post(write_qmd(blog, "sc.qmd", text), blog)
    cells = post.notebook.cells
    assert [c.cell_type for c in cells] == ["raw", "markdown", "code", "markdown"]
    assert cells[1].source == (
        "Press <kbd>Ctrl-C</kbd> in The sub; `{{< include x.md >}}` shows one.\n\nIncluded *text*."
    )
    assert cells[2].source == 'print("from include")'
    # Code is shown as written; a raw HTML block is passed on, its shortcodes read.
    assert cells[3].source.startswith("```markdown\n{{< include _part.md >}}\n```\n")
    assert cells[3].source.endswith("\n<table><tr><td>1</td></tr></table>")
    assert "secret" not in str(cells) and "pagebreak" not in str(cells)
    warned = [w for w in post.warnings if "{{<" in w]
    assert warned == [
        "posts/sc.qmd, line 11: the Quarto shortcode {{< video >}} is not supported here, so it is left out.",
        "posts/sc.qmd, line 17: {{< include ../outside.md >}} names no file in the document's folder, "
        "so it is left out; copy the file next to the document.",
    ]


def test_header_maps_to_front_matter(blog: Path) -> None:
    path = write_qmd(
        blog,
        "head.qmd",
        "---\ntitle: Quarto head\nsubtitle: Sub\ndate: 2024-02-03\n"
        "author:\n  - name: Ada Lovelace\n    affiliation: Analytical\n"
        "  - name: {given: Alan, family: Turing}\n"
        "categories: [one, two]\ndescription: The summary.\nbibliography: refs.bib\ndraft: true\n"
        "jupyter: python3\nformat:\n  html:\n    code-fold: true\n    toc: true\neditor: visual\n"
        "number-sections: true\nmy-own: kept\n---\n\n```{python}\nprint(1)\n```\n",
    )
    post = read_post(path, blog)
    data = post.front_matter.data
    assert data == {
        "title": "Quarto head",
        "subtitle": "Sub",
        "date": "2024-02-03",
        "author": ["Ada Lovelace", "Alan Turing"],
        "categories": ["one", "two"],
        "description": "The summary.",
        "bibliography": "refs.bib",
        "draft": True,
        "my-own": "kept",
    }
    assert post.front_matter.kernel == "python3" and post.front_matter.draft
    assert post.warnings == (
        "posts/head.qmd: the Quarto header key 'number-sections' has no equivalent in this blog, "
        "so it is dropped.",
    )
    # format: html: code-fold is every cell's default.
    assert post.notebook.cells[1].metadata["tags"] == ["hide-input"]


def test_execute_options_are_every_cells_default(blog: Path) -> None:
    path = write_qmd(
        blog,
        "ex.qmd",
        "---\ntitle: T\ndate: 2024-01-01\nexecute:\n  echo: false\n  warning: false\n  freeze: auto\n---\n\n"
        "```{python}\nprint(1)\n```\n\n```{python}\n#| echo: true\nprint(2)\n```\n",
    )
    cells = read_post(path, blog).notebook.cells
    assert cells[1].metadata["tags"] == ["remove-input", "remove-stderr"]
    assert cells[2].metadata["tags"] == ["remove-stderr"]  # its own echo: true wins


@pytest.mark.parametrize(
    ("header", "wanted"),
    [
        ("title: T\ndate: today\n", "posts/x.qmd: date: today changes with every build"),
        ("title: T\ndate: last-modified\n", "date: last-modified changes with every build"),
        ("- a list\n- not a mapping\n", "posts/x.qmd: line 2: the YAML header must be a mapping"),
        (
            "title: T\ndate: 2024-01-01\nauthor: [unclosed\n",
            "posts/x.qmd: the YAML header is broken at line 4",
        ),
        ("title: T\ndate: 2024-01-01\njupyter: [1]\n", "jupyter: must name a kernel"),
        ("title: T\n", "date is missing"),
    ],
)
def test_bad_header_is_one_line(blog: Path, header: str, wanted: str) -> None:
    path = write_qmd(blog, "x.qmd", f"---\n{header}---\n\nText.\n")
    with pytest.raises(SourceError) as caught:
        read_post(path, blog)
    assert wanted in str(caught.value) and "\n" not in str(caught.value)


def test_fences_are_found_as_commonmark_finds_them(blog: Path) -> None:
    example = "````markdown\n```{python}\nprint('an example')\n```\n````"
    path = write_qmd(
        blog,
        "f.qmd",
        HEAD + f"{example}\n\n```python\nprint('shown')\n```\n\n```{{.python}}\nx = 1\n```\n\n"
        "```{python} \n1 + 1\n```\n",
    )
    cells = read_post(path, blog).written.cells
    assert [c.cell_type for c in cells] == ["raw", "markdown", "code"]
    assert example in cells[1].source and "print('shown')" in cells[1].source
    assert cells[2].source == "1 + 1"


def test_cell_ids_nbformat_utf8_and_bom(blog: Path) -> None:
    path = write_qmd(blog, "ids.qmd", "\ufeff" + HEAD + "Prose.\n\n```{python}\nprint('é')\n```\n\nMore.\n")
    notebook = read_text_notebook(path, "posts/ids.qmd")
    assert [c["id"] for c in notebook.cells] == ["cell-0", "cell-1", "cell-2", "cell-3"]
    assert (notebook.nbformat, notebook.nbformat_minor) == (4, 5)
    assert notebook.cells[2].source == "print('é')"
    path.write_bytes(HEAD.encode() + b"\xff\xfe bad bytes\n")
    with pytest.raises(SourceError, match=r"^posts/ids.qmd: the file is not UTF-8 text"):
        read_post(path, blog)


def test_unsupported_cell_options_are_warned(blog: Path) -> None:
    path = write_qmd(
        blog,
        "opt.qmd",
        HEAD + "```{python}\n#| layout-ncol: 2\n#| echo: fenced\n#| fig-pos: H\nprint(1)\n```\n"
        "\n```{python echo=FALSE}\nprint(2)\n```\n",
    )
    assert read_post(path, blog).warnings == (
        f"posts/opt.qmd, cell 2 (line 6): the Quarto cell option 'layout-ncol: 2' {IGNORED}",
        f"posts/opt.qmd, cell 2 (line 6): the Quarto cell option 'echo: fenced' {IGNORED}",
        # fig-pos is for LaTeX: no difference on a web page, no warning.
        "posts/opt.qmd, line 13: the options in ```{python echo=FALSE} are not read here; "
        "write them as '#| key: value' lines at the top of the cell.",
    )


def test_div_around_a_cell_is_dropped_with_a_warning(blog: Path) -> None:
    path = write_qmd(
        blog,
        "div.qmd",
        HEAD + "::: {.panel-tabset}\n\n## One\n\n```{python}\nprint(1)\n```\n\n## Two\n\nText.\n\n:::\n\n"
        "::: {.callout-tip}\nA tip without code.\n:::\n",
    )
    post = read_post(path, blog)
    text = "\n".join(c.source for c in post.written.cells[1:])
    assert ".panel-tabset" not in text and "::: {.callout-tip}\nA tip without code.\n:::" in text
    assert post.warnings == (
        "posts/div.qmd, line 6: the block ::: {.panel-tabset} holds a code cell, and a cell cannot "
        "be inside a block here, so its content is shown without the block.",
    )


def test_qmd_without_header_is_not_a_post(blog: Path) -> None:
    from nbpress.sources import discover

    write_qmd(blog, "notes.qmd", "Some notes, no header.\n")
    write_qmd(blog, "post.qmd", HEAD + "Text.\n")
    assert [p.name for p in discover(blog / "posts")] == ["post.qmd"]


@pytest.mark.slow
def test_check_knows_the_qmd_post(blog: Path) -> None:
    path = write_qmd(blog, "q.qmd", HEAD + "Text.\n\n```{python}\nprint(1)\n```\n")
    assert build_cli(blog, jobs=1).returncode == 0
    site = mkdocs(blog, "build", "--strict")
    assert site.returncode == 0, site.stderr
    assert "<p>Text.</p>" in (blog / "site" / "posts" / "q" / "index.html").read_text(encoding="utf-8")
    current = build_cli(blog, "--check", jobs=None, timeout=HANG)
    assert current.returncode == 0, current.stderr
    path.write_text(HEAD + "Text.\n\n```{python}\nprint(2)\n```\n", encoding="utf-8")
    stale = build_cli(blog, "--check", jobs=None, timeout=HANG)
    assert stale.returncode == 1 and "stale    posts/q.qmd: code cell 3" in stale.stderr, stale.stderr


def test_figure_div_around_a_cell_labels_it(blog: Path) -> None:
    path = write_qmd(
        blog,
        "figdiv.qmd",
        HEAD + "See @fig-div.\n\n::: {#fig-div}\n\n```{python}\nprint(1)\n```\n\nThe caption, as Quarto "
        "reads it.\n:::\n\n::: {#fig-own}\n```{python}\n#| label: fig-mine\nprint(2)\n```\n"
        "Its caption.\n:::\n",
    )
    post = read_post(path, blog)
    cells = post.notebook.cells
    assert [c.cell_type for c in cells] == ["raw", "markdown", "code", "code"]
    assert cells[1].source == "See @fig-div."
    assert (cells[2].metadata["label"], cells[2].metadata["caption"]) == (
        "fig-div",
        "The caption, as Quarto reads it.",
    )
    assert cells[3].metadata["caption"] == "Its caption." and post.warnings == ()


def test_option_lines_take_the_blank_lines_after_them(blog: Path) -> None:
    from nbpress.sources.cells import apply_display

    path = write_qmd(blog, "blank.qmd", HEAD + "```{python}\n#| label: setup\n\nx = 1\n```\n")
    notebook = read_post(path, blog).notebook
    apply_display(notebook, "show", "posts/blank.qmd")
    assert notebook.cells[1].source == "x = 1"


def test_kernel_of_another_language_runs_its_own_cells(blog: Path) -> None:
    head = "---\ntitle: T\ndate: 2024-01-01\njupyter: julia-1.10\n---\n\n"
    path = write_qmd(blog, "jl.qmd", head + "```{julia}\nprintln(1)\n```\n")
    post = read_post(path, blog)
    assert post.front_matter.kernel == "julia-1.10" and post.written.cells[1].source == "println(1)"
    write_qmd(blog, "jl.qmd", head + "```{python}\nprint(1)\n```\n")
    post = read_post(path, blog)
    assert [c.cell_type for c in post.notebook.cells] == ["raw", "markdown"]
    assert any("line 7: a {python} block is in another language" in w for w in post.warnings)


@pytest.mark.slow
def test_link_to_another_qmd_post_lands_on_its_page(blog: Path) -> None:
    write_qmd(blog, "first.qmd", HEAD + "Read [the second post](second.qmd#part) next.\n")
    write_qmd(blog, "second.qmd", HEAD + "## Part\n\nText.\n")
    results = build(Options(root=blog, jobs=1))
    assert all(r.error is None for r in results), [str(r.error) for r in results]
    first = (blog / "site_src" / "posts" / "first.md").read_text(encoding="utf-8")
    assert "[the second post](second.md#part)" in first, first


def test_raw_blocks_keep_their_html_only(blog: Path) -> None:
    path = write_qmd(
        blog,
        "raw.qmd",
        HEAD + "```{=html}\n<p class='raw'>HTML</p>\n```\n\n```{=latex}\n\\newpage\n```\n\nAfter.\n",
    )
    cells = read_post(path, blog).written.cells
    assert [c.cell_type for c in cells] == ["raw", "markdown"]
    assert cells[1].source.startswith("<p class='raw'>HTML</p>\n\n") and cells[1].source.endswith("\nAfter.")
    assert "newpage" not in cells[1].source and "```" not in cells[1].source
