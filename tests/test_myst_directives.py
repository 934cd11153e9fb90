"""MyST directives as Jupyter Book reads them (nbpress.rendering.directives), in notebooks and text sources.

Posts are read and rendered by the real chain (read_post, the transform steps, the template); the
pages with tabs and asides are built by `build.py`, `mkdocs build --strict` and Zensical, and looked
at in Chromium at 390 and 1280 px.
"""

from __future__ import annotations

import copy
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from nbpress.errors import RenderError
from nbpress.execution.capture import limit_outputs
from nbpress.pipeline import files_of
from nbpress.record import Record
from nbpress.rendering.directives import ADMONITIONS, markdown, parse
from nbpress.rendering.render import RenderedPost, published_front_matter, render
from nbpress.sources.formats import read_text_notebook
from nbpress.sources.posts import read_post
from tests.helpers import TINY_PNG, build_cli, copy_skeleton, launch_chromium, mkdocs, zensical_build
from tests.siteserver import serve

PNG = TINY_PNG


def _rendered(tmp_path: Path, body: str, name: str = "p.md", header: str = "") -> RenderedPost:
    """Return a text post holding `body`, rendered by the real chain (no code cells run)."""
    folder = tmp_path / "posts"
    folder.mkdir(exist_ok=True)
    (folder / "img.png").write_bytes(PNG)
    path = folder / name
    path.write_text(f"---\ntitle: P\ndate: 2024-01-01\n{header}---\n\nIntro.\n\n{body}\n", encoding="utf-8")
    post = read_post(path, folder)
    executed = limit_outputs(copy.deepcopy(post.notebook))
    front = published_front_matter(post, {}, Record(post.rel_path))
    return render(post, executed, front, files_of(post, folder))


def _body(markdown_text: str) -> str:
    """Return the published Markdown after its front matter."""
    return markdown_text.split("\n---\n", 1)[1]


def _no_syntax(text: str) -> None:
    """Assert no MyST directive syntax is left outside code."""
    from nbpress.rendering import mdtokens

    reading = mdtokens.read(text)
    code = reading.lines((mdtokens.CODE,))
    for number, line in enumerate(text.split("\n")):
        if number not in code:
            assert not re.match(r"\s*(`{3,}|~{3,}|:{3,})\s*\{", line), line
            assert not re.match(r"\s*:{3,}\s*$", line), line


# -- one reader: both option syntaxes, every fence --------------------------------------------

# (directive, its argument, options as {key: value}, body, what the page must hold)
CASES = [
    ("figure", "img.png", {"name": "directive-fig", "width": "60%"}, "The caption.",
     "Figure 1: The caption."),
    ("image", "img.png", {"alt": "A dot", "width": "40"}, "",
     '![A dot](../assets/images/p/img.png){width="40"}'),
    ("math", "", {"label": "eq-sq"}, "x^2", "x^2 \\tag{1}"),
    ("admonition", "My title", {"class": "tip"}, "Body.", '!!! tip "My title"'),
    ("admonition", "Folded", {"class": "dropdown"}, "Body.", '??? note "Folded"'),
    ("dropdown", "Open one", {"open": ""}, "Body.", '???+ note "Open one"'),
    ("code-block", "python", {"caption": "A script", "emphasize-lines": "2"}, "a = 1\nb = 2",
     '```python title="A script" hl_lines="2"'),
    ("tab-item", "First", {"selected": ""}, "Tab body.", '===+ "First"'),
]  # fmt: skip


def _options(options: dict[str, str], yaml: bool) -> str:
    if yaml:
        lines = [f"{k}: {v}" if v else f"{k}: true" for k, v in options.items()]
        return "---\n" + "\n".join(lines) + "\n---\n"
    return "".join(f":{k}: {v}".rstrip() + "\n" for k, v in options.items())


@pytest.mark.parametrize(
    ("name", "argument", "options", "body", "needle"), CASES, ids=[c[0] + "-" + c[1] for c in CASES]
)
@pytest.mark.parametrize("fence", ["```", "~~~", ":::", "::::"])
@pytest.mark.parametrize("yaml", [False, True], ids=["colon-options", "yaml-options"])
def test_each_directive_reads_both_option_syntaxes_in_every_fence(
    tmp_path: Path,
    name: str,
    argument: str,
    options: dict[str, str],
    body: str,
    needle: str,
    fence: str,
    yaml: bool,
) -> None:
    text = f"{fence}{{{name}}} {argument}\n{_options(options, yaml)}{body}\n{fence}"
    if name == "figure":
        text += "\n\nSee {numref}`directive-fig`."
    if name == "math":
        text += "\n\nSee {eq}`eq-sq`."
    published = _body(_rendered(tmp_path, text).markdown)
    assert needle in published
    _no_syntax(published)
    for key in options:
        assert f":{key}:" not in published and f"{key}: " not in published
    if name == "figure":
        assert "[Figure 1](#directive-fig)" in published and 'width="60%"' in published
    if name == "math":
        assert "[(1)](#eq-sq)" in published


def test_parse_reads_the_same_directive_from_either_option_syntax() -> None:
    colon = parse("{figure} a.png", ":name: x\n:width: 60%\n\nCaption\n\nLegend")
    yaml = parse("{figure} a.png", "---\nname: x\nwidth: 60%\n---\nCaption\n\nLegend")
    assert colon == yaml
    assert colon is not None and colon.options == {"name": "x", "width": "60%"}
    assert colon.body == "Caption\n\nLegend" and colon.argument == "a.png"


@pytest.mark.parametrize("value", ['"fig-boot"', "'fig-boot'", "fig-boot"])
def test_a_quoted_option_value_is_read_as_yaml_reads_it(tmp_path: Path, value: str) -> None:
    """MyST-NB's own documentation writes `:name: "fig-boot"`: the label is fig-boot, as in YAML."""
    colon = parse("{figure} img.png", f":name: {value}\n:alt: 'it''s'\n\nCaption")
    yaml_block = parse("{figure} img.png", f"---\nname: {value}\nalt: 'it''s'\n---\nCaption")
    assert colon == yaml_block and colon is not None
    assert colon.options == {"name": "fig-boot", "alt": "it's"}
    rendered = _rendered(
        tmp_path, f"```{{figure}} img.png\n:name: {value}\n\nCaption\n```\n\nSee {{numref}}`fig-boot`."
    )
    published = _body(rendered.markdown)
    assert "[Figure 1](#fig-boot)" in published and not rendered.warnings
    assert 'id="fig-boot"' in published and "&quot;" not in published and "'fig-boot'" not in published


@pytest.mark.parametrize("name", sorted(ADMONITIONS))
def test_every_admonition_name_becomes_a_material_admonition(tmp_path: Path, name: str) -> None:
    argument = "A title" if name in ("admonition", "dropdown", "topic") else ""
    published = _body(_rendered(tmp_path, f":::{{{name}}} {argument}\nThe body.\n:::").markdown)
    marker = "???" if name == "dropdown" else "!!!"
    head = next(line for line in published.split("\n") if line.startswith(marker))
    assert head.split()[1] == ADMONITIONS[name]
    assert "    The body." in published
    _no_syntax(published)


def test_a_note_s_argument_starts_its_body_and_seealso_keeps_its_title(tmp_path: Path) -> None:
    published = _body(
        _rendered(tmp_path, "```{note} First words\nthen more.\n```\n\n:::{seealso}\nx\n:::").markdown
    )
    assert "!!! note\n\n    First words\n    then more." in published
    assert '!!! info "See also"' in published


# -- nesting ----------------------------------------------------------------------------------


def test_nested_directives_in_tabs_admonitions_lists_and_quotes(tmp_path: Path) -> None:
    text = (
        "::::{tab-set}\n:::{tab-item} One\n```{note}\nIn a tab.\n```\n:::\n"
        ":::{tab-item} Two\n````{dropdown} Deeper\n```{warning}\nTwo levels.\n```\n````\n:::\n::::\n\n"
        "- a list item\n\n  :::{tip}\n  In a list.\n  :::\n\n"
        "> ```{danger}\n> In a quote.\n> ```\n"
    )
    published = _body(_rendered(tmp_path, text).markdown)
    assert '===! "One"\n\n    !!! note\n\n        In a tab.' in published
    assert '=== "Two"\n\n    ??? note "Deeper"\n\n        !!! warning\n\n            Two levels.' in published
    assert "  !!! tip\n\n      In a list." in published
    assert "> !!! danger\n>\n>     In a quote." in published
    _no_syntax(published)


def test_a_figure_inside_a_note_is_numbered_and_referenced(tmp_path: Path) -> None:
    text = "```{note}\n:::{figure} img.png\n:name: inner\n\nInside.\n:::\n```\n\nSee {numref}`inner`."
    published = _body(_rendered(tmp_path, text).markdown)
    assert 'id="inner"' in published and "Figure 1: Inside." in published
    assert "[Figure 1](#inner)" in published


# -- a directive shown in code is code ----------------------------------------------------------

SHOWN = [
    "````md\n```{figure} img.png\n:name: twice\n\nShown.\n```\n````",
    "`````markdown\n:::{figure} img.png\n---\nname: twice\n---\nShown.\n:::\n`````",
    "~~~\n:::{note}\nshown\n:::\n~~~",
    "    :::{figure} img.png\n    :name: twice\n    Indented code.\n    :::",
]


@pytest.mark.parametrize("shown", SHOWN)
def test_a_directive_shown_in_code_is_never_converted_nor_its_name_a_label(
    tmp_path: Path, shown: str
) -> None:
    real = ":::{figure} img.png\n:name: twice\n\nThe real one.\n:::"
    text = f"{shown}\n\n{real}\n\n{shown}\n\nSee {{numref}}`twice`."
    published = _body(_rendered(tmp_path, text).markdown)  # no "label 'twice' is used twice"
    assert published.count(shown) == 2
    assert "Figure 1: The real one." in published and "[Figure 1](#twice)" in published


FIGURE = (
    "```{figure} img.png\n---\nheight: 150px\nname: directive-fig\n---\nHere is my figure caption!\n```\n"
)


def test_a_real_jupyter_book_page_showing_the_syntax_builds(tmp_path: Path) -> None:
    """Jupyter Book's figures page (v1 docs) in miniature: each example shown, then made."""
    text = (
        f"````md\n{FIGURE}````\n\nThis results in the following output:\n\n{FIGURE}\n"
        "You can then refer to {numref}`directive-fig`.\n\n"
        '````md\n:::{figure-md} markdown-fig\n<img src="img.png" alt="fishy" width="200px">\n\n'
        "This is a caption in **Markdown**!\n:::\n````\n"
    )
    published = _body(_rendered(tmp_path, text).markdown)
    assert "Figure 1: Here is my figure caption!" in published and "[Figure 1](#directive-fig)" in published
    assert published.count(":::{figure-md} markdown-fig") == 1  # shown, in its fence


# -- unknown and left-out directives -----------------------------------------------------------


def test_an_unknown_directive_keeps_its_content_and_names_itself_in_a_warning(tmp_path: Path) -> None:
    text = ":::{prf:theorem} Pythagoras\n:label: pyth\nIn a right triangle, **a² + b² = c²**.\n:::"
    rendered = _rendered(tmp_path, text)
    published = _body(rendered.markdown)
    assert "**Pythagoras**" in published and "In a right triangle, **a² + b² = c²**." in published
    assert "{prf:theorem}" not in published and ":::" not in published and ":label:" not in published
    warning = re.compile(
        r"p\.md, cell \d+: the MyST directive \{prf:theorem\} is not supported here, so its content is "
        r"shown as plain text$"
    )
    assert [w for w in rendered.warnings if warning.search(w)], rendered.warnings


def test_a_toctree_is_left_out_with_a_warning_and_the_bibliography_left_for_references(
    tmp_path: Path,
) -> None:
    rendered = _rendered(tmp_path, "```{toctree}\n:maxdepth: 2\n\nintro\nchapter\n```\n\nAfter.")
    published = _body(rendered.markdown)
    assert "toctree" not in published and "chapter" not in published and "After." in published
    assert any("{toctree} has no place in a blog post" in w for w in rendered.warnings)


def test_the_summary_never_shows_directive_syntax(tmp_path: Path) -> None:
    folder = tmp_path / "posts"
    folder.mkdir()
    path = folder / "s.md"
    path.write_text(
        "---\ntitle: S\ndate: 2024-01-01\n---\n\n:::{note}\nA note first.\n:::\n\n"
        ":::{unknownthing}\nThen the prose of the post.\n:::\n",
        encoding="utf-8",
    )
    post = read_post(path, folder)
    rendered = render(
        post, copy.deepcopy(post.notebook), published_front_matter(post, {}, Record(post.rel_path)),
        files_of(post, folder),
    )  # fmt: skip
    front = yaml.safe_load(rendered.markdown.split("\n---\n", 1)[0].removeprefix("---\n"))
    assert front["description"] == "Then the prose of the post."


# -- code-block, quotes, list tables, asides --------------------------------------------------------


def test_code_quote_list_table_and_aside(tmp_path: Path) -> None:
    text = (
        "```{code-block} python\n:linenos:\n:emphasize-lines: 1, 3-4\nx = 1\n```\n\n"
        "```{epigraph}\nTo be is to do.\n\n-- Socrates\n```\n\n"
        "```{list-table} Sizes\n:header-rows: 1\n:name: sizes\n\n"
        "* - Name\n  - Size\n* - a | b\n  - 2\n```\n\n"
        ":::{margin} Side note\nA *margin* note.\n:::\n\n"
        "```{sidebar}\nNo title here.\n```"
    )
    published = _body(_rendered(tmp_path, text).markdown)
    assert '```python linenums="1" hl_lines="1 3-4"\nx = 1\n```' in published
    assert "> To be is to do.\n>\n> -- Socrates" in published
    assert "**Sizes**\n\n| Name | Size |\n| --- | --- |\n| a \\| b | 2 |" in published
    assert '<aside class="nbpress-aside nbpress-margin" markdown="1">' in published
    assert '<p class="nbpress-aside-title" markdown="span">Side note</p>' in published
    assert "A *margin* note." in published and "No title here." in published
    _no_syntax(published)


def test_markdown_sees_inside_directives_for_readers_of_the_source() -> None:
    assert "![x](a.png)" in markdown(":::{note}\n![x](a.png)\n:::")
    assert "![](b.png)" in markdown("```{image} b.png\n```")


# -- text sources ---------------------------------------------------------------------------------


def test_a_jupyter_book_page_is_read_as_myst_without_pandoc(tmp_path: Path) -> None:
    path = tmp_path / "page.md"
    path.write_text(
        "---\ntitle: A page\ndate: 2024-01-01\n---\n\n# Title\n\n:::{warning}\nInstall it with:\n\n"
        "```bash\npip install something\n```\n\nthen go on.\n:::\n",
        encoding="utf-8",
    )
    nb = read_text_notebook(path, "page.md")
    assert [c.cell_type for c in nb.cells] == ["markdown"]  # the bash fence is shown, not a cell
    assert ":::{warning}" in nb.cells[0].source and nb.metadata["nbpress"]["title"] == "A page"


def test_a_markdown_post_with_python_cells_and_a_colon_note_keeps_its_cells(tmp_path: Path) -> None:
    path = tmp_path / "post.md"
    path.write_text(
        "---\ntitle: P\ndate: 2024-01-01\n---\n\n:::{note}\nA note.\n:::\n\n```python\nprint(1)\n```\n",
        encoding="utf-8",
    )
    nb = read_text_notebook(path, "post.md")
    assert [c.cell_type for c in nb.cells] == ["raw", "markdown", "code"]


def test_a_card_footer_in_a_colon_fence_is_the_card_s_not_a_cell_break(tmp_path: Path) -> None:
    """Jupyter Book's own front page: cards whose footer follows `+++`, in a colon fence. jupytext's
    MyST reader splits cells at `+++`; inside a colon fence (not in code) it is the card's."""
    card = ":::{card} Book\n:link: https://example.invalid/\n\nThe text.\n+++\nExplore this book\n:::\n"
    shown = "````md\n:::{card}\nx\n+++\ny\n:::\n````\n"
    for header in ("", "jupytext:\n  text_representation:\n    format_name: myst\n"):
        path = tmp_path / "page.md"
        path.write_text(
            f"---\ntitle: P\ndate: 2024-01-01\n{header}---\n\n::::{{grid}} 2\n{card}::::\n\n{shown}\n"
            "+++\n\nA second cell.\n",
            encoding="utf-8",
        )
        nb = read_text_notebook(path, "page.md")
        sources = [c.source for c in nb.cells if c.cell_type == "markdown"]
        assert len(sources) == 2 and sources[1] == "A second cell.", sources  # a real break still splits
        assert "+++\nExplore this book\n:::" in sources[0] and "+++\ny" in sources[0]
        assert "\ue000" not in sources[0]
    rendered = _rendered(tmp_path, f"::::{{grid}} 2\n{card}::::")
    published = _body(rendered.markdown)
    card_html = published[published.index('<div class="nbpress-card"') : published.index("</div>")]
    assert "The text." in card_html and "Explore this book" in card_html and "+++" not in published
    _no_syntax(published)


def test_a_colon_fence_naming_a_language_is_code(tmp_path: Path) -> None:
    """Jupyter Book's sphinx-proof page shows its syntax in `::::md` ... `::::`: in MyST a colon fence
    naming a language (no braces) is a code block, so what it shows is never converted nor a label."""
    shown = "```{figure} img.png\n:name: fig-same\n\nA caption with {ref}`fig-same`.\n```"
    body = f"::::md\n{shown}\n::::\n\nwill be rendered as\n\n{shown}\n\n:::python\nprint(1)\n:::\n"
    rendered = _rendered(tmp_path, body)
    published = _body(rendered.markdown)
    assert f"````md\n{shown}\n````" in published and "```python\nprint(1)\n```" in published
    assert published.count('id="fig-same"') == 1 and not rendered.warnings
    assert "::::" not in published and ":::python" not in published
    _no_syntax(published)


def test_a_quarto_callout_in_pandoc_s_short_form_is_an_admonition(tmp_path: Path) -> None:
    """quarto.org writes `::: callout-important` (Pandoc's one-class div) as often as `{.callout-x}`."""
    body = (
        "::: callout-important\n## Kernels from Conda\n\nOuter text.\n\n::: callout-tip\nInner tip.\n:::\n\n"
        "After the inner one.\n:::\n\nOutside.\n"
    )
    rendered = _rendered(tmp_path, body, name="p.qmd")
    published = _body(rendered.markdown)
    assert (
        '!!! info "Kernels from Conda"\n\n    Outer text.\n\n    !!! tip\n\n        Inner tip.' in published
    )
    assert "\n    After the inner one.\n" in published and published.rstrip().endswith("\n\nOutside.")
    assert ":::" not in published and "callout" not in published


def test_every_other_pandoc_div_is_its_content_never_its_fences(tmp_path: Path) -> None:
    """quarto.org's pages: `::: {layout-ncol=2}` around tables, `:::: {}`, `::: panel-tabset`, a
    `{#fig-x}` figure div. Each is its content (tabs, a numbered figure), a layout named in a warning."""
    body = (
        'See @fig-one.\n\n::: {layout-ncol="2"}\n:::: {}\n| a | b |\n|---|---|\n| 1 | 2 |\n::::\n\n'
        ":::: {}\nRight.\n::::\n:::\n\n::: panel-tabset\n## First\n\nOne.\n\n## Second\n\n"
        "```python\n# not a tab\n```\n:::\n\n::: {#fig-one}\n![One](img.png)\n\nThe first figure\n:::\n\n"
        "::: {#sec-x .unknown}\nNamed block.\n:::\n\n````md\n::: {layout-ncol=2}\nshown\n:::\n````\n\n"
        # Pandoc closes the innermost block with any line of three colons or more.
        ":::: {}\n::: {.list-table}\n- - Deep\n:::\n::::\n\nAfter.\n"
    )
    # Pandoc's place for the bibliography is left for the references step, which fills it.
    assert "::: {#refs}\n:::" in markdown("Text.\n\n::: {#refs}\n:::\n")
    rendered = _rendered(tmp_path, body, name="p.qmd")
    published = _body(rendered.markdown)
    assert "| a | b |" in published and "Right." in published and "Named block." in published
    assert (
        '===! "First"\n\n    One.' in published
        and '=== "Second"\n\n    ```python\n    # not a tab' in published
    )
    assert "[Figure 1](#fig-one)" in published and "Figure 1: The first figure" in published
    assert 'id="sec-x"' in published
    assert "````md\n::: {layout-ncol=2}\nshown\n:::\n````" in published  # shown syntax stays code
    outside_code = re.sub(r"````md.*?````", "", published, flags=re.S)
    assert ":::" not in outside_code and "panel-tabset" not in outside_code
    assert "- - Deep" in published and published.rstrip().endswith("After.")
    warned = [w for w in rendered.warnings if "Pandoc block" in w]
    assert warned == [
        'p.qmd, cell 2: the Pandoc block ::: {layout-ncol="2"} is not supported here, '
        "so its content is shown as plain text",
        "p.qmd, cell 2: the Pandoc block ::: {#sec-x .unknown} is not supported here, "
        "so its content is shown as plain text",
        "p.qmd, cell 2: the Pandoc block ::: {.list-table} is not supported here, "
        "so its content is shown as plain text",
    ]


def test_only_html_and_buttons_as_jupyter_book_s_front_page_writes_them(tmp_path: Path) -> None:
    """`{only} html` is shown (a web page is html), `{only} latex` is not; sphinx-design's buttons are
    links: `{button-ref}` to a label the references step resolves, `{button-link}` to an address."""
    body = (
        "(start)=\n## Start here\n\n```{only} html\nShown on the web.\n```\n\n"
        "```{only} latex\nOnly in print.\n```\n\n"
        "```{button-ref} start\n:ref-type: myst\n:color: primary\n\nGet started\n```\n\n"
        ":::{button-link} https://example.invalid/gallery\nThe gallery\n:::\n"
    )
    rendered = _rendered(tmp_path, body)
    published = _body(rendered.markdown)
    assert "Shown on the web." in published and "Only in print." not in published
    assert "[Get started](#start)" in published
    assert "[The gallery](https://example.invalid/gallery)" in published
    assert not rendered.warnings and "**html**" not in published and "**start**" not in published
    _no_syntax(published)


def test_a_jupyter_book_page_renders_with_its_header(tmp_path: Path) -> None:
    published = _body(
        _rendered(tmp_path, ":::{note}\nA note.\n:::\n\n```bash\nls\n```", header="myst:\n  x: 1\n").markdown
    )
    assert "!!! note\n\n    A note." in published and "```bash\nls\n```" in published


# -- the page, in a browser -----------------------------------------------------------------------

PAGE = (
    """---
title: Tabs and asides
date: 2024-01-01
---

Some text before the tabs, long enough to wrap around an aside when the screen is wide.

::::{tab-set}
:::{tab-item} Python
Python tab body.
:::
:::{tab-item} Julia
Julia tab body.
:::
::::

:::{margin} A margin note
Beside the **text**.
:::

"""
    + " ".join(["The paragraph next to the aside goes on for a while, so that it flows past it."] * 8)
    + """

```{dropdown} Click to open
Hidden body.
```
"""
)


@pytest.fixture(scope="module")
def blog(tmp_path_factory: pytest.TempPathFactory) -> Path:
    blog = copy_skeleton(tmp_path_factory.mktemp("directives") / "blog")
    (blog / "posts" / "tabs.md").write_text(PAGE, encoding="utf-8")
    proc = build_cli(blog, "--strict")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return blog


@pytest.fixture(scope="module", params=["mkdocs", "zensical"])
def site(blog: Path, request: pytest.FixtureRequest) -> Iterator[str]:
    """The blog built by MkDocs (--strict) or by Zensical, served under a sub-path."""
    if request.param == "mkdocs":
        built = mkdocs(blog, "build", "--strict")
        assert built.returncode == 0, built.stderr
    else:
        zensical_build(blog)
    copy = blog.parent / f"site-{request.param}"
    shutil.rmtree(copy, ignore_errors=True)
    shutil.copytree(blog / "site", copy)
    with serve(copy, "/blog/") as url:
        yield url


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with launch_chromium() as chromium:
        yield chromium


def _open(browser: Any, url: str, width: int, scheme: str = "light") -> Any:
    page = browser.new_page(viewport={"width": width, "height": 900}, color_scheme=scheme)
    page.route("**/*", lambda r: r.abort() if "127.0.0.1" not in r.request.url else r.continue_())
    page.goto(url + "posts/tabs/")
    page.wait_for_load_state("networkidle")
    return page


@pytest.mark.browser
@pytest.mark.parametrize("width", [390, 1280])
def test_tabs_switch_in_the_browser(browser: Any, site: str, width: int) -> None:
    page = _open(browser, site, width)
    labels = page.locator(".tabbed-labels label")
    assert labels.all_inner_texts() == ["Python", "Julia"]
    assert page.locator("text=Python tab body.").is_visible()
    assert not page.locator("text=Julia tab body.").is_visible()
    labels.nth(1).click()
    assert page.locator("text=Julia tab body.").is_visible()
    assert not page.locator("text=Python tab body.").is_visible()
    assert page.locator("details summary", has_text="Click to open").count() == 1
    page.close()


def _box(page: Any, selector: str) -> dict[str, float]:
    return dict(page.eval_on_selector(selector, "e => e.getBoundingClientRect().toJSON()"))


@pytest.mark.browser
def test_the_aside_is_beside_the_text_when_wide_and_a_box_in_the_flow_on_a_phone(
    browser: Any, site: str
) -> None:
    wide = _open(browser, site, 1280)
    aside, text = _box(wide, "aside.nbpress-aside"), _box(wide, "article p:has-text('flows past it')")
    assert aside["left"] > text["left"] + text["width"] / 2  # on the right of the column
    assert aside["top"] < text["bottom"] and aside["bottom"] > text["top"]  # beside the paragraph
    assert wide.locator("aside .nbpress-aside-title").inner_text() == "A margin note"
    assert wide.locator("aside strong").inner_text() == "text"  # its Markdown was rendered
    wide.close()
    phone = _open(browser, site, 390)
    aside, text = _box(phone, "aside.nbpress-aside"), _box(phone, "article p:has-text('flows past it')")
    assert aside["bottom"] <= text["top"] + 1  # in the flow, above the paragraph
    assert aside["width"] > 0.9 * text["width"]
    phone.close()


def _luminance(color: str) -> float:
    channels = [int(v) / 255 for v in re.findall(r"[\d.]+", color)[:3]]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


@pytest.mark.browser
@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_the_aside_reads_in_both_schemes(browser: Any, site: str, scheme: str) -> None:
    page = _open(browser, site, 1280, scheme)
    fg, bg, body = page.eval_on_selector(
        "aside.nbpress-aside",
        "e => [getComputedStyle(e).color, getComputedStyle(e).backgroundColor,"
        " getComputedStyle(document.body).backgroundColor]",
    )
    lighter, darker = sorted([_luminance(fg), _luminance(bg)], reverse=True)
    assert (lighter + 0.05) / (darker + 0.05) >= 4.5, (fg, bg)
    assert (_luminance(body) < 0.2) == (scheme == "dark")  # the scheme really changed
    page.close()


def test_a_real_label_used_twice_still_fails(tmp_path: Path) -> None:
    with pytest.raises(RenderError, match="used twice"):
        _rendered(
            tmp_path,
            ":::{figure} img.png\n:name: same\n\nA\n:::\n\n```{figure} img.png\n:name: same\n\nB\n```",
        )


def test_the_images_a_directive_shows_are_the_post_s_local_files(tmp_path: Path) -> None:
    """The render key reads them (links.local_files): an image edited re-renders the post."""
    from nbpress.rendering.links import local_files

    folder = tmp_path / "posts"
    folder.mkdir()
    for name in ("a.png", "b.png", "c.png", "d.png"):
        (folder / name).write_bytes(PNG)
    path = folder / "p.md"
    path.write_text(
        "---\ntitle: P\ndate: 2024-01-01\n---\n\n```{image} a.png\n```\n\n:::{figure} b.png\nCaption\n:::\n\n"
        "```{note}\n![c](c.png)\n```\n\n:::{margin}\n![d](d.png)\n:::\n",
        encoding="utf-8",
    )
    found = sorted(p.name for p in local_files(read_post(path, folder)))
    assert found == ["a.png", "b.png", "c.png", "d.png"]


def test_a_citation_inside_a_directive_makes_the_post_one_that_cites(tmp_path: Path) -> None:
    """references.bib shapes the posts that may cite (markup.cites): one citing inside a note does."""
    from nbpress.rendering.markup import bibliography_terms

    folder = tmp_path / "posts"
    folder.mkdir()
    (folder / "references.bib").write_text("@book{knuth1984, title={T}, author={Knuth, D.}, year={1984}}\n")
    path = folder / "p.md"
    path.write_text("---\ntitle: P\ndate: 2024-01-01\n---\n\n```{note}\nAs {cite}`knuth1984` says.\n```\n")
    assert bibliography_terms(read_post(path, folder)) != {}


def test_myst_comments_are_left_out_but_not_in_code_or_math(tmp_path: Path) -> None:
    text = (
        "% REMOVE when version is >= 0.15\nA paragraph.\n\n```text\n% kept in code\n```\n\n"
        "$$\nx^2\n% kept in math\n$$\n\n:::{note}\n% a comment in a note\nNote body.\n:::"
    )
    published = _body(_rendered(tmp_path, text).markdown)
    assert "REMOVE" not in published and "a comment in a note" not in published
    assert "A paragraph." in published and "Note body." in published
    assert "% kept in code" in published and "x^2\n% kept in math" in published


@pytest.mark.parametrize(
    "image", ['<img src="img.png" alt="fishy" width="200px">', "![fishy](img.png)"], ids=["html", "markdown"]
)
def test_a_markdown_figure_is_a_numbered_figure(tmp_path: Path, image: str) -> None:
    text = f":::{{figure-md}} markdown-fig\n{image}\n\nThis is a caption in **Markdown**!\n:::\n\n"
    text += "See {numref}`markdown-fig`."
    published = _body(_rendered(tmp_path, text).markdown)
    assert 'id="markdown-fig"' in published and "Figure 1: This is a caption in **Markdown**!" in published
    assert "[Figure 1](#markdown-fig)" in published and 'alt="fishy"' in published
    _no_syntax(published)


def test_tabbed_code_and_a_linked_image(tmp_path: Path) -> None:
    text = (
        "```{tabbed} First\nOne.\n```\n\n```{tabbed} Second\n:new-group:\nTwo.\n```\n\n"
        "```{code} python\nprint('shown, not run')\n```\n\n"
        "```{image} img.png\n:alt: Go\n:target: https://example.invalid/\n:name: the-image\n```"
    )
    published = _body(_rendered(tmp_path, text).markdown)
    assert '=== "First"\n\n    One.' in published and '===! "Second"\n\n    Two.' in published
    assert "```python\nprint('shown, not run')\n```" in published
    assert "[![Go](../assets/images/p/img.png)](https://example.invalid/)" in published
    _no_syntax(published)


def test_cards_in_a_grid_keep_their_title_link_and_body(tmp_path: Path) -> None:
    text = (
        "::::{grid} 2\n:::{grid-item-card} Learn\n:link: https://example.invalid/learn\n"
        "Header\n^^^\nThe body.\n:::\n:::{card}\nUntitled.\n:::\n::::"
    )
    # (A footer's `+++` is a cell break to jupytext's MyST reader, so it is read in a cell here.)
    assert "+++" not in markdown(":::{card} T\nBody.\n+++\nFooter\n:::") and "Footer" in markdown(
        ":::{card} T\nBody.\n+++\nFooter\n:::"
    )
    rendered = _rendered(tmp_path, text)
    published = _body(rendered.markdown)
    assert (
        '<p class="nbpress-card-title" markdown="span">[Learn](https://example.invalid/learn)</p>'
        in published
    )
    assert "Header" in published and "The body." in published and "Untitled." in published
    assert "^^^" not in published and not rendered.warnings
    _no_syntax(published)
