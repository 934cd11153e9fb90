"""Golden-file tests of the renderer on small notebooks with stored outputs (no kernel)."""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from nbpress.execution.capture import limit_outputs
from nbpress.layout import Layout
from nbpress.pipeline import files_of
from nbpress.record import Record
from nbpress.rendering.render import published_front_matter, render
from nbpress.sources.posts import read_post
from tests.helpers import FIXTURES, GOLDEN

CASES = sorted(p.stem for p in (FIXTURES / "render").glob("*.ipynb"))
AUTHORS = {"Steve Han": "steve-han", "steve-han": "steve-han"}


def render_fixture(name: str) -> tuple[str, dict[str, bytes]]:
    root = FIXTURES / "render"
    post = read_post(root / f"{name}.ipynb", root)
    # As the build: outputs capped once executed, then render runs the whole transform chain
    # (display options, MIME choice, links, markup) on a copy.
    executed = limit_outputs(copy.deepcopy(post.notebook))
    front = published_front_matter(post, AUTHORS, Record(post.rel_path))
    rendered = render(post, executed, front, files_of(post, root), warnings=post.warnings, roots=(root,))
    return rendered.markdown, rendered.figures


def test_every_fixture_has_a_golden_file() -> None:
    assert CASES, "no render fixtures found"
    for name in CASES:
        assert (GOLDEN / "render" / f"{name}.md").is_file(), f"run pytest --update-golden for {name}"


@pytest.mark.parametrize("name", CASES)
def test_render_matches_golden(name: str, update_golden: bool) -> None:
    markdown, _ = render_fixture(name)
    golden = GOLDEN / "render" / f"{name}.md"
    if update_golden:
        golden.write_text(markdown, encoding="utf-8")
    assert markdown == golden.read_text(encoding="utf-8")


def test_figures_are_named_by_cell_and_output_index() -> None:
    markdown, figures = render_fixture("figures")
    # Cell 0 is the front matter cell; it still counts, as in the seeds.
    assert sorted(figures) == ["output_1_1.png", "output_3_0.png"]
    assert all(data.startswith(b"\x89PNG") for data in figures.values())
    assert (
        "![Fixture post, figure 1](../assets/images/figures/output_1_1.png)"
        '{:class="img-responsive" width="2" height="2"}' in markdown
    )
    assert "figures: [output_1_1.png, output_3_0.png]" in markdown


def test_progress_ansi_and_paths_are_cleaned() -> None:
    markdown, _ = render_fixture("stream_progress")
    assert "\x1b" not in markdown and "\r" not in markdown
    assert "\n100% done\n" in markdown
    assert "\nac\n" in markdown
    assert "/home/alice" not in markdown
    assert ".../site-packages/pkg/mod.py:3: UserWarning: careful" in markdown


def test_front_matter_round_trips_through_yaml() -> None:
    import html

    import yaml

    markdown, _ = render_fixture("title_colon_quotes")
    front = yaml.safe_load(markdown.split("---\n")[1])
    # Published as HTML text (the templates print it raw): as typed once decoded.
    assert html.unescape(front["title"]) == 'Regression: "why" it\'s easy' and '"' not in front["title"]
    assert front["categories"] == ["ML", "Stats"]
    assert str(front["date"]) == "2024-05-06"


def test_metadata_front_matter_gets_authors_and_list_tags() -> None:
    import yaml

    markdown, _ = render_fixture("metadata_front_matter")
    front = yaml.safe_load(markdown.split("---\n")[1])
    assert front["authors"] == ["steve-han"] and front["tags"] == ["one-tag"]
    assert markdown.index("# Front matter in metadata") > markdown.index("---\n\n")


def test_fixture_sources_have_no_machine_paths(tmp_path: Path) -> None:
    for name in CASES:
        markdown, _ = render_fixture(name)
        assert "/home/" not in markdown and "/Users/" not in markdown


def test_render_fingerprint_covers_every_source_file(monkeypatch: pytest.MonkeyPatch) -> None:
    from nbpress.rendering.render import renderer_fingerprint

    before = renderer_fingerprint()
    read = Path.read_bytes
    for name in ("notebook.py", "transform.py", "post.md.j2"):
        monkeypatch.setattr(Path, "read_bytes", lambda p, n=name: read(p) + (b"#" if p.name == n else b""))
        assert renderer_fingerprint() != before, name


def test_template_reads_metadata_keys_by_name() -> None:
    import re

    from nbpress.notebook import template_keys
    from nbpress.rendering.render import TEMPLATES

    template = (TEMPLATES / "post.md.j2").read_text(encoding="utf-8")
    assert not [k for k in template_keys().values() if k in template]
    used = set(re.findall(r"resources\.nbpress\.key\.(\w+)", template))
    assert used and used <= set(template_keys())


def test_chain_is_one_list_of_functions_and_the_download_keeps_the_cleaned_outputs() -> None:
    from nbpress.notebook import Notebook, code_outputs
    from nbpress.rendering.transform import STEPS, Resources, run

    # A step's name is its function's: one list, no second table of names.
    names = [step.__name__ for step in STEPS]
    assert len(names) == len(set(names))
    root = FIXTURES / "render"
    post = read_post(root / "stream_progress.ipynb", root)
    resources = Resources(post, files_of(post, root))
    run(post.notebook, resources)

    def texts(nb: Notebook) -> str:
        return "".join(str(o.get("text", "")) for o in code_outputs(nb))

    # The download is kept by the one run: cleaned as the post shows it, the source untouched.
    assert "\x1b" not in texts(resources.downloaded()) and "\x1b" in texts(post.notebook)


def _counted(calls: dict[str, int], step: Callable[[Any, Any], list[str]]) -> Callable[[Any, Any], list[str]]:
    def counting(nb: Any, res: Any) -> list[str]:
        calls[step.__name__] = calls.get(step.__name__, 0) + 1
        return step(nb, res)

    return counting


PNG_1X1 = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1PeAAAADElEQVR4nGM4IScHAAK2AQU0pnWqAAAAAElFTkSuQmCC"
# A figure output that names its own file, as nbconvert would let it (metadata.filename).
_NAMED_FIGURE = (
    "from IPython.display import display\n"
    f"display({{'image/png': {PNG_1X1!r}}}, raw=True, metadata={{'filename': 'chosen-by-output'}})"
)


@pytest.mark.slow
def test_each_step_runs_once_per_publish_and_figures_are_named_by_the_chain(
    blog: Path, add_post: Callable[..., Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    from nbpress.pipeline import Options, Status, build
    from nbpress.rendering import transform

    calls: dict[str, int] = {}
    names = [step.__name__ for step in transform.STEPS]
    monkeypatch.setattr(transform, "STEPS", tuple(_counted(calls, step) for step in transform.STEPS))
    add_post("once", "print('hello')", _NAMED_FIGURE)
    results = build(Options(root=blog, jobs=1))
    assert [r.status for r in results] == [Status.EXECUTED], results
    # Publishing a post (its download and its page) runs every step exactly once.
    assert calls == dict.fromkeys(names, 1)
    markdown = (blog / "site_src" / "posts" / "once.md").read_text(encoding="utf-8")
    # Cell 0 is the front matter, cell 2 the figure's: its name is the chain's, not the output's.
    assert "chosen-by-output.png" not in markdown
    assert "(../assets/images/once/output_2_0.png)" in markdown
    assert "figures: [output_2_0.png]" in markdown
    assert "{src: assets/images/once/output_2_0.png" in markdown  # the record's first figure
    assert [p.name for p in (blog / "assets" / "images" / "once").iterdir()] == ["output_2_0.png"]


def test_a_figure_name_is_read_from_the_output_metadata_the_chain_set() -> None:
    from nbpress.notebook import code_outputs
    from nbpress.rendering import transform
    from nbpress.rendering.render import export

    root = FIXTURES / "render"
    post = read_post(root / "figures.ipynb", root)
    resources = transform.Resources(post, files_of(post, root))
    nb, warnings = transform.run(limit_outputs(copy.deepcopy(post.notebook)), resources)
    named = [o["metadata"]["filenames"]["image/png"] for o in code_outputs(nb) if "image/png" in o["data"]]
    assert named == ["output_1_1.png", "output_3_0.png"] and sorted(resources.files) == named
    # Whatever name the one place holds is the name every reader uses: the page's link, the
    # file, the record's figure list and its first figure.
    first = next(o for o in code_outputs(nb) if "image/png" in o["data"])
    first["metadata"]["filenames"]["image/png"] = "renamed.png"
    resources.files["renamed.png"] = resources.files.pop("output_1_1.png")
    front = published_front_matter(post, AUTHORS, Record(post.rel_path))
    rendered = export(nb, resources, front, warnings=tuple(warnings))
    assert sorted(rendered.figures) == ["output_3_0.png", "renamed.png"]
    assert "(../assets/images/figures/renamed.png)" in rendered.markdown
    assert "output_1_1" not in rendered.markdown
    assert "{src: assets/images/figures/renamed.png" in rendered.markdown


def test_an_outputs_own_filenames_metadata_names_nothing(tmp_path: Path) -> None:
    import nbformat
    from nbformat.v4 import new_code_cell, new_notebook, new_output, new_raw_cell

    nb = new_notebook()
    nb.cells.append(new_raw_cell("---\ntitle: t\ndate: 2024-01-01\n---"))
    cell = new_code_cell("x")
    claims = {"filenames": {"image/png": "claimed.png"}, "filename": "claimed"}
    cell.outputs = [
        new_output("display_data", data={"text/html": "<b>no figure</b>"}, metadata=claims),
        new_output("display_data", data={"image/png": PNG_1X1}, metadata=claims),
    ]
    nb.cells.append(cell)
    (tmp_path / "posts").mkdir()
    nbformat.write(nb, tmp_path / "posts" / "t.ipynb")
    post = read_post(tmp_path / "posts" / "t.ipynb", tmp_path)
    front = published_front_matter(post, AUTHORS, Record(post.rel_path))
    rendered = render(post, post.notebook, front, files_of(post, tmp_path))
    assert sorted(rendered.figures) == ["output_1_1.png"]
    assert "claimed" not in rendered.markdown
    assert "{src: assets/images/t/output_1_1.png" in rendered.markdown


def _imports(path: Path) -> set[str]:
    """Return the nbpress.rendering modules `path` imports, at its top or inside a function."""
    import ast

    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if not isinstance(node, ast.ImportFrom):
            continue
        if node.level == 1:
            found |= {node.module} if node.module else {a.name for a in node.names}
        elif node.module and node.module.startswith("nbpress.rendering."):
            found.add(node.module.removeprefix("nbpress.rendering."))
    return found


def test_the_step_list_imports_the_steps_and_no_rendering_module_imports_in_a_circle() -> None:
    import graphlib

    import nbpress.rendering

    package = Path(nbpress.rendering.__file__).parent
    graph = {p.stem: _imports(p) for p in package.glob("*.py") if p.stem != "__init__"}
    # Only the renderer reads the list; the steps' modules never do.
    assert [name for name, imported in graph.items() if "transform" in imported] == ["render"]
    graphlib.TopologicalSorter(graph).prepare()  # raises CycleError on an import circle


def test_summary_is_the_first_paragraph_as_escaped_text_and_headings_have_no_gap() -> None:
    from nbformat.v4 import new_markdown_cell, new_notebook

    from nbpress.rendering.render import reader_front_matter
    from nbpress.rendering.transform import even_heading_levels

    nb = new_notebook(
        cells=[
            new_markdown_cell("# Title\n\n```python\n# not a heading\n```"),
            new_markdown_cell("Uses `x < y` and [a link](https://x.org) & *more*.\n\nSecond."),
            new_markdown_cell("### deep\n##### deeper\n##### sibling\n## back"),
        ]
    )
    files = Layout(Path("blog")).post("t")
    data = reader_front_matter(nb, {"title": "T", "nbpress": Record("t.ipynb")}, {}, files)
    assert data["description"] == "Uses x &lt; y and a link &amp; more."
    kept = reader_front_matter(nb, {"description": "Mine", "nbpress": Record("t.ipynb")}, {}, files)
    assert kept["description"] == "Mine"
    even_heading_levels(nb)
    assert nb.cells[0].source.endswith("# not a heading\n```")
    assert nb.cells[2].source.split("\n") == [
        "## deep {: .nbpress-h3 }",
        "### deeper {: .nbpress-h5 }",
        "### sibling {: .nbpress-h5 }",
        "## back",
    ]
