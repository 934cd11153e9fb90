"""Markdown cells are read one way (nbpress.rendering.mdtokens): code and math are never syntax.

A post that shows Quarto or MyST syntax in code (a Jupyter Book post explaining labels) publishes
that code as written, wherever the code is: a ``` or ~~~ fence, a longer fence around a shorter
one, an indented block, a fence in a list item or a quote, a code span. The syntax outside code
still works.
"""

from __future__ import annotations

import shutil
import string
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_markdown_cell, new_notebook, new_raw_cell

from nbpress.rendering import mdtokens
from tests.helpers import TINY_PNG
from tests.test_markup import SAMPLES, render_sample


def render_cells(tmp_path: Path, *cells: str, bib: bool = True) -> str:
    """Return the published Markdown of a post of these Markdown cells."""
    folder = tmp_path / "posts"
    folder.mkdir(exist_ok=True)
    if bib:
        shutil.copy(SAMPLES / "references.bib", folder / "references.bib")
    (folder / "x.png").write_bytes(TINY_PNG)
    nb = new_notebook(
        cells=[new_raw_cell("---\ntitle: P\ndate: 2024-01-01\n---"), *map(new_markdown_cell, cells)]
    )
    path = folder / "p.ipynb"
    nbformat.write(nb, path)
    return render_sample(path, execute=False)


def _prefixed(prefix: str, text: str) -> str:
    return "\n".join(prefix + line if line else prefix.rstrip() for line in text.split("\n"))


# Where code can be: each writes the payload as the code of one block.
CONTAINERS = {
    "backticks": lambda s: f"```md\n{s}\n```",
    "tildes": lambda s: f"~~~\n{s}\n~~~",
    "longer fence": lambda s: f"````md\n```\n{s}\n```\n````",
    "indented": lambda s: "Shown:\n\n" + _prefixed("    ", s),
    "list item": lambda s: "- Shown:\n\n" + _prefixed("  ", f"```md\n{s}\n```"),
    "quote": lambda s: _prefixed("> ", f"```md\n{s}\n```"),
    "list in quote": lambda s: _prefixed("> ", "- Shown:\n\n" + _prefixed("  ", f"~~~\n{s}\n~~~")),
    "code span": lambda s: f"Write `` {s} `` for that.",
}
# Syntax shown in code, and what else the post says (the same syntax working outside code).
PAYLOADS = {
    "equation label": ("$$ a $$ {#eq-a}", "$$ b $$ {#eq-a}\n\nSee @eq-a.", "[Equation 1](#eq-a)"),
    "myst equation label": ("$$ a $$ (eq-m)", "$$ b $$ (eq-m)\n\nSee {eq}`eq-m`.", "[(1)](#eq-m)"),
    "table label": (": Shown {#tbl-a}", "| a |\n|---|\n| 1 |\n\n: Real {#tbl-a}", "Table 1: Real"),
    "figure label": (
        "![shown](x.png){#fig-a}",
        "![real](x.png){#fig-a}\n\nSee @fig-a.",
        "[Figure 1](#fig-a)",
    ),
    "numref": ("{numref}`fig-nowhere`", "Prose.", "Prose."),
    "cite role": ("{cite}`nobody2000`", "As {cite}`knuth1984` says.", "(Knuth, 1984)"),
    "bracket citation": ("[@nobody2000]", "As [@knuth1984].", "(Knuth, 1984)"),
    "bare reference": ("see @fig-nowhere", "Prose.", "Prose."),
    "heading": ("#### Deep", "## A", "## A"),
    "myst callout": (":::{note}\nShown\n:::", "Prose.", "Prose."),
    "backtick callout": ("```{warning}\nShown\n```", "Prose.", "Prose."),
    "quarto callout": ("::: {.callout-tip}\nShown\n:::", "Prose.", "Prose."),
    "github alert": ("> [!NOTE]\n> Shown", "Prose.", "Prose."),
}
CASES = [
    (payload, container)
    for payload, (shown, _, _) in PAYLOADS.items()
    for container in CONTAINERS
    if not (container == "code span" and "\n" in shown)
    and not ("```" in shown and container in ("backticks", "list item", "quote"))
]


@pytest.mark.parametrize(("payload", "container"), CASES)
def test_syntax_shown_in_code_is_published_as_written(tmp_path: Path, payload: str, container: str) -> None:
    shown, around, works = PAYLOADS[payload]
    code = CONTAINERS[container](shown)
    md = render_cells(tmp_path, around, code)
    assert code in md, md  # no label counted twice, no unknown reference, nothing rewritten
    assert works in md
    assert "nbpress-h4" not in md and "!!!" not in md


def test_a_code_span_in_math_wins_and_display_math_is_not_prose(tmp_path: Path) -> None:
    # Python-Markdown reads code spans before arithmatex's math: "$5 ... `$6`" is no math.
    md = render_cells(tmp_path, "Costs $5 and [@knuth1984] and `$6`.\n\n$$\nx @fig-nowhere\n$$")
    assert "Costs $5 and [(Knuth, 1984)](#ref-knuth1984) and `$6`." in md
    assert "$$\nx @fig-nowhere\n$$" in md
    assert "and \\$5 [@knuth1984]" in render_cells(tmp_path, "and \\$5 [@knuth1984] $x$").replace(
        "[(Knuth, 1984)](#ref-knuth1984)", "[@knuth1984]"
    )


def test_a_heading_in_a_quote_is_evened_and_keeps_its_marker(tmp_path: Path) -> None:
    md = render_cells(tmp_path, "## A\n\n> #### Quoted\n\n```md\n#### Code\n```", bib=False)
    assert "> ### Quoted {: .nbpress-h4 }" in md and "#### Code\n" in md


def test_links_in_a_callout_are_resolved(tmp_path: Path) -> None:
    md = render_cells(
        tmp_path, "```{note}\nSee ![the plot](x.png) and [a heading](#a).\n```\n\n## A", bib=False
    )
    assert "!!! note\n\n    See ![the plot](../assets/images/p/x.png) and [a heading](#a)." in md


def test_the_reading_places_spans_in_the_source() -> None:
    source = (
        "| a | `b` | `b` |\n|---|---|---|\n\n> - item `q` and $m$\n>\n>       indented\n\n"
        "!!! note\n\n    `x` in a note\n\n<div markdown>text `y`</div>\n\n<pre>\n@z\n</pre>\n"
    )
    reading = mdtokens.read(source)
    shown = [(s.kind, source[s.start : s.end]) for s in reading.spans]
    assert shown == [
        ("code", "`b`"),
        ("code", "`b`"),
        ("code", "`q`"),
        ("math", "$m$"),
        ("code", ">       indented\n"),
        ("code", "`x`"),
        ("html", "<div markdown>"),
        ("code", "`y`"),
        ("html", "</div>"),
        ("html", "<pre>\n@z\n</pre>\n"),
    ]
    # Two cells of a row that read the same: each span is its own cell's.
    assert [s.start for s in reading.spans[:2]] == [source.index("`b`"), source.index("`b` |\n")]


def test_a_callout_whose_lines_hold_code_spans_is_a_callout(tmp_path: Path) -> None:
    md = render_cells(tmp_path, ":::{admonition} The `x` option\n:class: tip\nSet `x` here.\n:::", bib=False)
    assert '!!! tip "The `x` option"\n\n    Set `x` here.' in md


def test_a_role_in_a_callout_title_is_resolved(tmp_path: Path) -> None:
    md = render_cells(
        tmp_path,
        "![f](x.png){#fig-a}",
        ":::{admonition} See {numref}`fig-a`\n:class: tip\nBody.\n:::",
        bib=False,
    )
    assert '!!! tip "See [Figure 1](#fig-a)"\n\n    Body.' in md


def test_links_after_a_line_separator_are_resolved(tmp_path: Path) -> None:
    # U+2028 is no line break to markdown-it: the lines links rewrites are the ones it numbers.
    md = render_cells(tmp_path, "A line\u2028with a separator.\n\nSee [the plot](x.png).", bib=False)
    assert "See [the plot](../assets/images/p/x.png)." in md


def test_a_tag_in_math_still_loads_nothing_from_elsewhere(tmp_path: Path) -> None:
    # Were mdtokens and arithmatex to disagree on what is math, such a tag would be HTML on the page.
    remote = 'src="http://example.invalid/'
    md = render_cells(tmp_path, f'Inline $<img {remote}a.png">$.\n\n$$\n<img {remote}b.png">\n$$', bib=False)
    assert remote not in md and "a.png" in md and "b.png" in md


def test_the_summary_is_a_paragraph_of_prose_never_code(tmp_path: Path) -> None:
    md = render_cells(
        tmp_path, "```text\nx = 1\n\ny = 2\n```\n\n    indented\n\n    code\n\nThe prose.", bib=False
    )
    assert "description: The prose." in md


def _site_text(markdown_text: str) -> str:
    """Return the text a reader sees of Markdown, rendered with the site's extensions and options."""
    import markdown
    import yaml

    config = yaml.load(
        (Path(__file__).resolve().parents[1] / "mkdocs.yml").read_text(encoding="utf-8"),
        Loader=yaml.BaseLoader,
    )
    entries = [e if isinstance(e, dict) else {e: {}} for e in config["markdown_extensions"]]
    # MkDocs always adds its built-in extensions (mkdocs.config.defaults: toc, tables, fenced_code).
    names = ["toc", "tables", "fenced_code", *(n for e in entries for n in e if n != "toc")]
    options = {
        name: {key: {"true": True, "false": False}.get(value, value) for key, value in (opts or {}).items()}
        for entry in entries
        for name, opts in entry.items()
    }
    return html_text(markdown.Markdown(extensions=names, extension_configs=options).convert(markdown_text))


@pytest.mark.parametrize("char", list(string.punctuation))
def test_a_backslash_escape_shows_as_jupyter_shows_it(char: str) -> None:
    # The reference is CommonMark (markdown-it-py), the Markdown Jupyter renders a notebook with.
    from markdown_it import MarkdownIt

    source = f"We\\{char}re, and `code \\{char}` stays as typed."
    expected = html_text(MarkdownIt("commonmark").render(source))
    assert _site_text(mdtokens.commonmark_escapes(source)) == expected


def html_text(rendered: str) -> str:
    import html
    import re

    return html.unescape(re.sub(r"<[^>]+>", "", rendered)).strip()


def test_escapes_reach_the_published_post_outside_code_and_math(tmp_path: Path) -> None:
    published = render_cells(tmp_path, "We\\'re at 50\\% and `\\'` and $\\%$ and a \\\\'.", bib=False)
    assert "We&#39;re at 50&#37; and `\\'` and $\\%$ and a \\\\'." in published
