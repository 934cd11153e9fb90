"""Quarto, MyST and fastpages writing: captions, cross-references, citations, callouts.

The sample posts in tests/fixtures/markup/ render to golden Markdown. The notebook keeps its
stored outputs; the text sources (.md, .py) are executed here with a real kernel.
"""

from __future__ import annotations

import copy
import re
import shutil
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from nbpress.errors import RenderError
from nbpress.execution.capture import limit_outputs
from nbpress.pipeline import files_of
from nbpress.record import Record
from nbpress.rendering.key import render_key
from nbpress.rendering.render import published_front_matter, render
from nbpress.sources.posts import read_post
from tests.helpers import FIXTURES, GOLDEN, TINY_PNG

SAMPLES = FIXTURES / "markup"
CASES = ["2020-02-20-fastpages-sample.ipynb", "myst_sample.md", "quarto_sample.py"]


def render_sample(path: Path, execute: bool) -> str:
    post = read_post(path, path.parent)
    notebook = post.notebook
    if execute:
        notebook = nbformat.from_dict(notebook)
        NotebookClient(
            notebook, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}
        ).execute()
    # As the build: outputs capped once executed, then render (the whole transform chain).
    executed = limit_outputs(copy.deepcopy(notebook))
    front = published_front_matter(post, {}, Record(post.rel_path))
    return render(post, executed, front, files_of(post, path.parent)).markdown


@pytest.fixture(scope="module")
def rendered() -> dict[str, str]:
    return {name: render_sample(SAMPLES / name, not name.endswith(".ipynb")) for name in CASES}


@pytest.mark.parametrize("name", CASES)
def test_sample_matches_golden(name: str, rendered: dict[str, str], update_golden: bool) -> None:
    golden = GOLDEN / "markup" / f"{Path(name).stem}.md"
    if update_golden:
        golden.parent.mkdir(exist_ok=True)
        golden.write_text(rendered[name], encoding="utf-8")
    assert rendered[name] == golden.read_text(encoding="utf-8")


def test_quarto_figure_reference_citation_and_callouts(rendered: dict[str, str]) -> None:
    md = rendered["quarto_sample.py"]
    assert '<figure class="nbpress-figure" markdown="span" id="fig-quarto-line">' in md
    assert "<figcaption>Figure 1: A line, drawn by matplotlib.</figcaption>" in md
    assert "The fit in [Figure 1](#fig-quarto-line) follows [Knuth (1984)](#ref-knuth1984)" in md
    # Tables are numbered in document order: the Markdown table comes first.
    assert "[Table 2](#tbl-quarto-numbers)" in md and 'id="tbl-quarto-numbers">Table 2: Two numbers.<' in md
    assert "[Equation 1](#eq-quarto-loss)" in md and "\\tag{1}" in md
    assert '!!! tip "A titled tip"\n\n    Quarto callouts become admonitions.' in md
    assert '??? warning "Folded"' in md
    assert "???+ info\n\n    Open, and foldable." in md
    assert 'id="tbl-quarto-markdown">Table 1: Numbers in Markdown</p>' in md.replace(' markdown="span"', "")
    assert "The Markdown table is [Table 1](#tbl-quarto-markdown)." in md
    assert "someone@example.com" in md and "; @knuth1984 stays literal" in md
    # The References section stands where {#refs} was, before the text that follows it.
    assert md.index("## References") < md.index("The end.")
    assert '<p class="nbpress-reference" id="ref-lecun2015">LeCun, Y., Bengio, Y. and Hinton, G.' in md
    assert "width=" in md and "height=" in md


def test_myst_roles_directives_and_code(rendered: dict[str, str]) -> None:
    md = rendered["myst_sample.md"]
    assert "[Figure 1](#fig-myst-line)" in md and "[the line](#fig-myst-line)" in md
    assert "<figcaption>Figure 1: A straight line.</figcaption>" in md
    assert "!!! note\n\n    MyST notes become Material admonitions." in md
    assert "!!! warning\n\n    Colon fences too; the loss is equation [(1)](#eq-myst-loss)." in md
    assert '??? tip "Details"' in md
    assert '???+ note "Open dropdown"\n\n    Shown open, foldable.' in md
    assert "by {ref}: [A straight line.](#fig-myst-line)" in md
    assert "E = m c^2 \\tag{2}" in md and "Energy is [(2)](#eq-myst-energy)." in md
    assert (
        "[(Knuth, 1984)](#ref-knuth1984)" in md and "[LeCun, Bengio and Hinton (2015)](#ref-lecun2015)" in md
    )
    assert "`@property`" in md and "```python\n@fig-not-a-reference\n```" in md
    # No {bibliography} directive: the References section closes the post.
    assert md.index("## References") > md.index("Cited twice")
    assert md.rstrip().endswith("pp. 436\u2013444.</p>")


def test_fastpages_caption_metadata_and_lazy_second_figure(rendered: dict[str, str]) -> None:
    md = rendered["2020-02-20-fastpages-sample.ipynb"]
    assert "<figcaption>Figure 1: Two bars.</figcaption>" in md
    assert "[Figure 1](#fig-fp-bars)" in md
    assert '!!! note "Note"' in md
    images = [line for line in md.splitlines() if line.startswith("![")]
    assert len(images) == 2
    assert "loading=" not in images[0] and 'width="135" height="98"' in images[0]
    assert images[1].endswith('width="117" height="98" loading="lazy"}')


def _post_with(tmp_path: Path, markdown: str, bib: bool = True) -> Path:
    folder = tmp_path / "posts"
    folder.mkdir(exist_ok=True)
    if bib:
        shutil.copy(SAMPLES / "references.bib", folder / "references.bib")
    path = folder / "p.md"
    path.write_text(f"---\ntitle: P\ndate: 2024-01-01\n---\n\nIntro.\n\n{markdown}\n", encoding="utf-8")
    return path


def render_with_warnings(path: Path) -> tuple[str, tuple[str, ...]]:
    post = read_post(path, path.parent.parent)
    executed = limit_outputs(copy.deepcopy(post.notebook))
    front = published_front_matter(post, {}, Record(post.rel_path))
    rendered = render(post, executed, front, files_of(post, path.parent.parent))
    return rendered.markdown, rendered.warnings


@pytest.mark.parametrize(
    ("markdown", "needle", "kept"),
    [
        ("See @fig-nowhere.", "'@fig-nowhere' names no label", "See fig-nowhere."),
        ("See {numref}`fig-gone`.", "'{numref}`fig-gone`' names no label", "See fig-gone."),
        ("See {ref}`the plot <fig-gone>`.", "'{ref}`the plot <fig-gone>`' names no label", "See the plot."),
        (
            "As shown [@nobody2000].",
            "the citation key 'nobody2000' is not defined",
            "As shown [@nobody2000].",
        ),
        (
            "As {cite}`knuth1984,ghost` say.",
            "the citation key 'ghost' is not defined",
            "As knuth1984, ghost say.",
        ),
    ],
)
def test_unknown_label_or_key_warns_naming_file_cell_and_label(
    tmp_path: Path, markdown: str, needle: str, kept: str
) -> None:
    # One policy for everything unresolved: a warning naming file, cell and target, the text kept.
    path = _post_with(tmp_path, markdown)
    md, warnings = render_with_warnings(path)
    [warning] = [w for w in warnings if needle in w]
    assert warning.startswith("posts/p.md, cell 2: ") and "\n" not in warning
    assert "so its text is published without a link" in warning
    assert kept in md and "](#" not in md.split(kept)[0].split("Intro.")[-1]


def test_citation_without_bibliography_warns(tmp_path: Path) -> None:
    path = _post_with(tmp_path, "As shown [@knuth1984].", bib=False)
    md, warnings = render_with_warnings(path)
    assert "As shown [@knuth1984]." in md
    assert any("'knuth1984' is not defined" in w and "put a references.bib" in w for w in warnings)


def test_bare_at_names_without_bibliography_stay_text(tmp_path: Path) -> None:
    path = _post_with(tmp_path, "Ask @someone on the forum.", bib=False)
    assert "Ask @someone on the forum." in render_sample(path, execute=False)


def test_bibliography_named_in_front_matter(tmp_path: Path) -> None:
    folder = tmp_path / "posts"
    folder.mkdir()
    (folder / "mine.bib").write_text(
        "@misc{only, author = {Ada Lovelace}, title = {Notes on the engine}, year = {1843}}\n",
        encoding="utf-8",
    )
    path = folder / "p.md"
    path.write_text(
        "---\ntitle: P\ndate: 2024-01-01\nbibliography: mine.bib\n---\n\nAs [@only] wrote.\n",
        encoding="utf-8",
    )
    md = render_sample(path, execute=False)
    assert "[(Lovelace, 1843)](#ref-only)" in md and "Notes on the engine" in md


def test_editing_the_bibliography_changes_the_render_key(tmp_path: Path) -> None:
    path = _post_with(tmp_path, "As [@knuth1984].")
    post = read_post(path, tmp_path)
    before = render_key(post, "exec", "renderer")
    bib = path.parent / "references.bib"
    bib.write_text(bib.read_text(encoding="utf-8").replace("Addison-Wesley", "AW"), encoding="utf-8")
    assert render_key(read_post(path, tmp_path), "exec", "renderer") != before
    edited = render_key(read_post(path, tmp_path), "exec", "renderer")
    bib.unlink()
    assert render_key(read_post(path, tmp_path), "exec", "renderer") not in (before, edited)


@pytest.mark.parametrize(
    ("markdown", "shaped"),
    [
        ("As [@knuth1984].", True),
        ("As {cite}`knuth1984` says.", True),
        ("Mail @someone about it.", True),  # a bare @name is a citation once a bibliography exists
        ("See @fig-plot and [@eq-one].", False),  # cross-references need no bibliography
        ("No citation here.", False),
        ("```\nAs [@knuth1984].\n```", False),  # shown as code
        ("Inline `[@knuth1984]` code.", False),
    ],
)
def test_references_bib_shapes_only_the_posts_that_cite(tmp_path: Path, markdown: str, shaped: bool) -> None:
    path = _post_with(tmp_path, markdown, bib=False)
    before = render_key(read_post(path, tmp_path), "exec", "renderer")
    shutil.copy(SAMPLES / "references.bib", path.parent / "references.bib")
    # Adding references.bib beside the posts re-renders a post only if it may cite.
    assert (render_key(read_post(path, tmp_path), "exec", "renderer") != before) is shaped


def test_svg_and_jpeg_sizes_are_read_from_their_bytes() -> None:
    from nbpress.rendering.markup import _image_size

    svg = (
        '<svg xmlns="http://www.w3.org/2000/svg" width="460.8pt" height="345.6pt" viewBox="0 0 460.8 345.6">'
    )
    assert _image_size("image/svg+xml", svg) == (461, 346)
    assert _image_size("image/svg+xml", '<svg width="30pt" height="15pt">') == (40, 20)
    import base64
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (7, 5)).save(buffer, format="JPEG")
    assert _image_size("image/jpeg", base64.b64encode(buffer.getvalue()).decode()) == (7, 5)


def test_watch_rebuilds_the_posts_citing_an_edited_bibliography(tmp_path: Path) -> None:
    from nbpress.watch import affected, inputs_by_path

    path = _post_with(tmp_path, "As [@knuth1984].")
    posts_dir = path.parent.resolve()
    slugs, full = affected([("modified", posts_dir / "references.bib")], posts_dir, inputs_by_path(tmp_path))
    assert slugs == {"p"} and not full


def test_quarto_labels_of_other_cells_are_not_figures(tmp_path: Path) -> None:
    path = _post_with(tmp_path, "```python\n#| label: setup\nx = 1\n```\n", bib=False)
    assert "x = 1" in render_sample(path, execute=False)


def test_figure_label_on_a_cell_without_figure_is_an_error(tmp_path: Path) -> None:
    path = _post_with(tmp_path, "```python\n#| label: fig-none\nx = 1\n```\n", bib=False)
    with pytest.raises(
        RenderError, match=r"cell 3: the label 'fig-none' names a figure, but the cell shows none"
    ):
        render_sample(path, execute=False)


def test_an_equation_label_binds_to_the_block_just_before_it(tmp_path: Path) -> None:
    path = _post_with(tmp_path, "$$ a = 1 $$ and $$ b = 2 $$ {#eq-b}\n\nSee @eq-b.", bib=False)
    md = render_sample(path, execute=False)
    assert "$$ a = 1 $$ and " in md and "b = 2 \\tag{1}" in md and "[Equation 1](#eq-b)" in md


def test_escaped_at_is_literal_in_prose_and_untouched_in_code(tmp_path: Path) -> None:
    path = _post_with(tmp_path, "Write \\@knuth1984 in prose, `\\@keep` in code.")
    md = render_sample(path, execute=False)
    assert "Write @knuth1984 in prose, `\\@keep` in code." in md and "## References" not in md


def test_figures_in_markdown_cells_quarto_and_myst(tmp_path: Path) -> None:
    text = (
        "![A diagram](diagram.png){#fig-diagram width=300}\n\n"
        "```{figure} other.png\n:name: other\n:alt: A line\n\nThe *other* one.\n```\n\n"
        "See @fig-diagram and {numref}`other`; ![plain](x.png){#not-a-figure} stays."
    )
    path = _post_with(tmp_path, text, bib=False)
    for name in ("diagram.png", "other.png", "x.png"):  # local images must exist (nbpress.rendering.links)
        (path.parent / name).write_bytes(TINY_PNG)
    published = render_sample(path, execute=False)
    assert "![A diagram](../assets/images/p/diagram.png){width=300}" in published
    md = published.replace("../assets/images/p/", "")
    assert (
        '<figure class="nbpress-figure" markdown="span" id="fig-diagram">\n'
        "![A diagram](diagram.png){width=300}\n"
        '<figcaption markdown="span">Figure 1: A diagram</figcaption>\n</figure>'
    ) in md
    assert 'id="other">\n![The *other* one.](other.png){alt="A line"}\n' in md
    assert "Figure 2: The *other* one.</figcaption>" in md
    assert "See [Figure 1](#fig-diagram) and [Figure 2](#other)" in md
    assert "![plain](x.png){#not-a-figure} stays." in md


def test_a_label_used_twice_is_an_error(tmp_path: Path) -> None:
    path = _post_with(tmp_path, "$$ a $$ {#eq-a}\n\n$$ b $$ {#eq-a}", bib=False)
    with pytest.raises(RenderError, match=r"cell \d+: the label 'eq-a' is used twice"):
        render_sample(path, execute=False)


def test_bibtex_values_are_text(tmp_path: Path) -> None:
    from tests.attack_families.markup import DOI, FILES

    path = _post_with(tmp_path, "As @evil shows, and [@real].", bib=False)
    (path.parent / "references.bib").write_text(FILES["markup-attack.bib"], encoding="utf-8")
    md = render_sample(path, execute=False)
    body = md.split("---", 2)[2]
    # Only the citation formatter's own tags, and the links nbpress makes: no tag from a value.
    tags = {t.lower() for t in re.findall(r"<([A-Za-z]+)", body)}
    assert tags <= {"p", "i"}, tags
    assert "](javascript" not in body and not re.search(r"<[^>]*\son\w+=", body)  # "onerror=" is text
    assert DOI.replace("<", "&lt;").replace(">", "&gt;") in body  # a real DOI, shown as typed
    assert '<p class="nbpress-reference" id="ref-real">Knuth, D. (1984) <i>The TeXbook</i>.' in body


@pytest.mark.slow
def test_warnings_name_file_cell_and_url_of_what_loads_from_another_host(tmp_path: Path) -> None:
    from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_raw_cell

    folder = tmp_path / "posts"
    folder.mkdir()
    remote = "http://example.invalid"
    nb = new_notebook(
        cells=[
            new_raw_cell("---\ntitle: R\ndate: 2024-01-01\n---"),
            new_markdown_cell(f"![logo]({remote}/markdown-cell.png)"),
            new_code_cell(f"from IPython.display import HTML\nHTML('<img src=\"{remote}/output.png\">')"),
            new_raw_cell(f"![raw]({remote}/raw.png)", metadata={"raw_mimetype": "text/markdown"}),
            new_code_cell(
                f"#| fig-cap: 'A line ![x]({remote}/caption.png)'\n"
                "import matplotlib.pyplot as plt\nplt.plot([1, 2])\nplt.show()"
            ),
        ],
        metadata={"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}},
    )
    path = folder / "r.ipynb"
    nbformat.write(nb, path)
    post = read_post(path, folder)
    executed = nbformat.from_dict(post.notebook)
    NotebookClient(executed, kernel_name="python3", resources={"metadata": {"path": str(folder)}}).execute()
    front = published_front_matter(post, {}, Record(post.rel_path))
    rendered = render(post, limit_outputs(executed), front, files_of(post, folder))
    for cell, name in [(2, "markdown-cell"), (3, "output"), (4, "raw"), (5, "caption")]:
        url = f"'{remote}/{name}.png'"
        found = [w for w in rendered.warnings if url in w]
        assert len(found) == 1, (name, rendered.warnings)
        assert re.match(rf"r\.ipynb[,:] cell {cell}: ", found[0]) or re.match(
            rf"posts/r\.ipynb[,:] cell {cell}: ", found[0]
        ), found[0]
        assert "download the file next to the notebook" in found[0]
        assert (
            f"({remote}/{name}.png)" in rendered.markdown
            or f'href="{remote}/{name}.png"' in rendered.markdown
        )
    prose = re.sub(r"(?ms)^```.*?^```", "", rendered.markdown)  # the code shown may say anything
    assert f'src="{remote}' not in prose and f"![logo]({remote}" not in prose
