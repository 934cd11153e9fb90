"""Golden-file tests of the renderer on small notebooks with stored outputs (no kernel)."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest

from nbpress.layout import Layout
from nbpress.pipeline import files_of
from nbpress.record import Record
from nbpress.rendering.outputs import limit_outputs
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


def test_chain_steps_have_unique_names_and_stop_where_asked() -> None:
    from nbpress.notebook import Notebook, code_outputs
    from nbpress.rendering.transform import STEPS, Context, run

    names = [name for name, _ in STEPS]
    assert len(names) == len(set(names))
    root = FIXTURES / "render"
    post = read_post(root / "stream_progress.ipynb", root)
    cleaned, _ = run(post.notebook, Context(post, "/assets/images/x/"), until="clean")

    def texts(nb: Notebook) -> str:
        return "".join(str(o.get("text", "")) for o in code_outputs(nb))

    assert "\x1b" not in texts(cleaned) and "\x1b" in texts(post.notebook)
    with pytest.raises(ValueError):
        run(post.notebook, Context(post, ""), until="nope")


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
