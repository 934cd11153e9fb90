"""One owner for every fact (issue 22): a post's paths and URLs, its record, the atomic writer.

- Every path and URL of a post comes from one `nbpress.layout.PostFiles` value (Layout.post):
  a post whose `slug:` differs from its file name, a draft, a site served under a sub-path.
  mkdocs.yml's post_url_format, hooks/ownership.py's draft pattern and the templates agree
  with it. No other module joins a post's path or URL together.
- A post's `nbpress:` record is a `nbpress.record.Record`: written by Record.data, read by
  record.parse, and what is read back is what was written (the committed posts' too, byte for byte).
- Files are replaced through one atomic writer, nbpress.atomic.
"""

from __future__ import annotations

import ast
import posixpath
import re
from dataclasses import fields
from pathlib import Path

import pytest
import yaml

from hooks.ownership import DRAFT_FILES
from nbpress.errors import WriteError
from nbpress.layout import POST_URL_FORMAT, Layout, owner
from nbpress.record import DIGEST_PLACEHOLDER, Figure, Input, Record, parse
from nbpress.rendering.render import dump_front_matter
from tests.helpers import REPO

PACKAGE = REPO / "nbpress"


# --- PostFiles ------------------------------------------------------------------------------


def test_a_pretty_slug_names_only_the_page(tmp_path: Path) -> None:
    files = Layout(tmp_path).post("notebook-name", "pretty-url")
    root = tmp_path.resolve()
    assert files.markdown == root / "site_src/posts/notebook-name.md"
    assert files.markdown_rel == "site_src/posts/notebook-name.md"
    assert files.markdown_link == "notebook-name.md"
    assert files.journal == root / "site_src/posts/.nbpress-writing-notebook-name.json"
    assert files.figures == root / "assets/images/notebook-name"
    assert files.figure("output_1_0.png") == root / "assets/images/notebook-name/output_1_0.png"
    assert files.figure_url == "../assets/images/notebook-name/"
    assert files.figure_src("output_1_0.png") == "assets/images/notebook-name/output_1_0.png"
    assert files.downloads == root / "assets/notebooks/notebook-name"
    assert files.notebook == "notebook-name.ipynb"
    assert files.download(files.notebook) == root / "assets/notebooks/notebook-name/notebook-name.ipynb"
    assert files.download_url(files.notebook) == "assets/notebooks/notebook-name/notebook-name.ipynb"
    assert files.download_url("data dir/a b.csv") == "assets/notebooks/notebook-name/data%20dir/a%20b.csv"
    assert files.page_url == "posts/pretty-url/"
    assert files.log == root / "site_src/execution/logs/notebook-name.log"
    assert files.log_link == "logs/notebook-name.log"  # from the report page, site_src/execution/
    # Without a slug: the URL slug is the file slug.
    assert Layout(tmp_path).post("plain").page_url == "posts/plain/"


def test_a_drafts_figures_and_downloads_are_dot_files_the_hook_recognises(tmp_path: Path) -> None:
    files = Layout(tmp_path).post("d", "pretty", draft=True)
    assert files.figure_prefix == ".draft-"
    assert files.figure_url == "../assets/images/d/.draft-"
    assert files.figure_src("output_1_0.png") == "assets/images/d/.draft-output_1_0.png"
    assert files.notebook == ".draft/d.ipynb"
    assert files.download_name("data.csv") == ".draft/data.csv"
    assert files.shown_name(".draft/data.csv") == "data.csv"
    assert files.download_url(files.notebook) == "assets/notebooks/d/.draft/d.ipynb"
    # Its Markdown and folders are the same as a published post's: only the names inside differ.
    published = Layout(tmp_path).post("d", "pretty")
    assert (files.markdown, files.figures, files.downloads) == (
        published.markdown,
        published.figures,
        published.downloads,
    )
    # hooks/ownership.py keeps exactly these out of `mkdocs build` (and lets them into serve).
    assert DRAFT_FILES.fullmatch(files.figure_src("output_1_0.png"))
    assert DRAFT_FILES.fullmatch(files.download_url(files.download_name("sub/data.csv")))
    assert not DRAFT_FILES.fullmatch(published.figure_src("output_1_0.png"))
    assert not DRAFT_FILES.fullmatch(published.download_url(published.notebook))


@pytest.mark.parametrize("draft", [False, True])
def test_every_url_is_relative_so_a_sub_path_site_works(tmp_path: Path, draft: bool) -> None:
    files = Layout(tmp_path).post("a-post", "pretty", draft=draft)
    urls = [files.figure_url, files.figure_src("f.png"), files.download_url(files.notebook), files.page_url]
    # Root-absolute URLs would break a project site under /<name>/: the templates add the base.
    assert not any(u.startswith("/") for u in urls)
    # The Markdown's link to a figure, resolved from the Markdown (docs_dir/posts/), is its site path,
    # and the file the site serves there is the one the build writes (site_src/assets -> assets/).
    docs_rel = files.markdown_rel.removeprefix("site_src/")
    assert posixpath.normpath(posixpath.join(posixpath.dirname(docs_rel), files.figure_url + "f.png")) == (
        files.figure_src("f.png")
    )
    assert files.figure(files.figure_prefix + "f.png") == tmp_path.resolve() / files.figure_src("f.png")
    assert files.download(files.notebook) == tmp_path.resolve() / files.download_url(files.notebook)


def test_the_page_url_is_mkdocs_post_url_format() -> None:
    config = yaml.load((REPO / "mkdocs.yml").read_text(encoding="utf-8"), Loader=yaml.BaseLoader)
    [blog] = [p["blog"] for p in config["plugins"] if isinstance(p, dict) and "blog" in p]
    assert blog["post_url_format"] == POST_URL_FORMAT
    assert config.get("use_directory_urls", "true") == "true"  # page_url is a folder


@pytest.mark.parametrize("slug", ["..", ".", "a/b", "a\nb", ""])
def test_a_post_name_that_would_leave_its_folder_is_refused(tmp_path: Path, slug: str) -> None:
    files = Layout(tmp_path).post(slug)
    with pytest.raises(WriteError):
        _ = files.figures, files.markdown, files.downloads


@pytest.mark.parametrize("name", ["../x", "/etc/passwd", "", "a\x00b", "sub/../../x"])
def test_a_download_that_would_leave_its_folder_is_refused(tmp_path: Path, name: str) -> None:
    with pytest.raises(WriteError):
        Layout(tmp_path).post("p").download(name)


def test_a_path_in_a_folder_is_what_resolving_it_gives_or_refused(tmp_path: Path) -> None:
    """layout._inside against its reference: resolve base/name, refuse it unless its folder is base's."""
    import os

    from nbpress.layout import _inside

    real = tmp_path / "real"
    (real / "sub").mkdir(parents=True)
    (real / "file.md").write_text("x", encoding="utf-8")
    (tmp_path / "outside.md").write_text("x", encoding="utf-8")
    base = tmp_path / "base"
    base.symlink_to(real)  # a folder reached through a link resolves to where it leads
    links = {
        "out.md": tmp_path / "outside.md",
        "in.md": real / "file.md",
        "dir": real / "sub",
        "loop": real / "loop",
    }
    for name, target in links.items():
        os.symlink(target, real / name)
    names = [
        "file.md",
        "new.md",
        "sub",
        "out.md",
        "in.md",
        "dir",
        "loop",
        ".",
        "..",
        "a/b",
        "sub/x",
        "x/..",
        ".hidden",
    ]
    for name in names:
        try:
            expected = (base / name).resolve()
        except RuntimeError:  # a loop of links: resolving it fails, whoever asks
            with pytest.raises(RuntimeError):
                _inside(base, name)
            continue
        if expected.parent != base.resolve():
            with pytest.raises(WriteError):
                _inside(base, name)
        else:
            assert _inside(base, name) == expected, name


def test_owner_is_the_inverse_of_post_files(tmp_path: Path) -> None:
    files = Layout(tmp_path).post("p-1", "pretty", draft=True)
    for rel in (
        files.markdown_rel,
        files.journal_rel,
        files.figures_rel,
        f"{files.figures_rel}/{files.figure_prefix}f.png",
        f"{files.downloads_rel}/{files.notebook}",
    ):
        assert owner(rel) == "p-1", rel
    assert owner("site_src/index.md") is None and owner("assets/avatar.svg") is None


def _strings(tree: ast.AST) -> list[ast.JoinedStr | ast.BinOp]:
    """Return the f-strings and `+` expressions of a module."""
    return [n for n in ast.walk(tree) if isinstance(n, ast.JoinedStr | ast.BinOp)]


def test_no_module_but_layout_joins_a_post_path_or_url() -> None:
    """A post's file or URL is built from its slug in nbpress/layout.py alone."""
    # A folder of a post's files just before a value, a suffix of them just after one.
    before = re.compile(r"(images/|notebooks/|site_src/posts/|\.draft-?/?|\.nbpress-writing-)$")
    after = re.compile(r"^(\.md|\.ipynb)\b")
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if path == PACKAGE / "layout.py":
            continue
        source = path.read_text(encoding="utf-8")
        tree = ast.parse(source)
        # The folders and prefixes a post's paths are made of are layout's own.
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.endswith("layout"):
                names = {a.name for a in node.names}
                found += [f"{path.name} imports {n}" for n in names & {"IMAGES", "DOWNLOADS", "GENERATED"}]
                found += [f"{path.name} imports {n}" for n in names & {"DRAFT_FIGURE", "DRAFT_DOWNLOADS"}]
        for node in _strings(tree):
            if isinstance(node, ast.JoinedStr):
                parts = node.values
                for i, part in enumerate(parts):
                    if not isinstance(part, ast.Constant) or not isinstance(part.value, str):
                        continue
                    value_before = i > 0 and isinstance(parts[i - 1], ast.FormattedValue)
                    value_after = i + 1 < len(parts) and isinstance(parts[i + 1], ast.FormattedValue)
                    joined = (value_after and before.search(part.value)) or (
                        value_before and after.search(part.value)
                    )
                    if joined:
                        found.append(f"{path.name}:{node.lineno}: {ast.get_source_segment(source, node)}")
    assert not found, found


# --- The record -------------------------------------------------------------------------------

FULL = Record(
    source="posts/2024-01-02-a.ipynb",
    exec_key="e" * 64,
    render_key="r" * 64,
    executed_with={"kernel": "python3", "python": "3.11", "code": ["abc"], "inputs": {}, "pins": {}},
    bibliography={"posts/references.bib": "b" * 64},
    digest=DIGEST_PLACEHOLDER,
    downloads=(".draft/a.ipynb", ".draft/data/x.csv"),
    notebook="assets/notebooks/a/.draft/a.ipynb",
    inputs=(Input("data/x.csv", "assets/notebooks/a/.draft/data/x.csv"),),
    figures=(".draft-output_1_0.png",),
    charts=("plotly",),
    warnings=("posts/2024-01-02-a.ipynb, cell 2: a warning: with 'quotes' and \u2028 a line separator",),
    figure=Figure("assets/images/a/.draft-output_1_0.png", "A &amp; B", 640, 480),
)


def _front(record: Record) -> str:
    return f"---\n{dump_front_matter({'title': 'T', 'nbpress': record, 'image': 'x.png'})}---\n\nText\n"


@pytest.mark.parametrize(
    "record",
    [FULL, Record("posts/a.ipynb"), Record("posts/a.ipynb", figure=Figure("x.svg", "")), Record("")],
    ids=["full", "minimal", "figure-without-size", "empty"],
)
def test_a_record_reads_back_as_written(record: Record) -> None:
    assert parse(_front(record)) == record


def test_the_records_fields_are_written_in_order_and_empty_ones_left_out() -> None:
    data = FULL.data()
    assert list(data) == [f.name for f in fields(Record)]
    assert Record("posts/a.ipynb").data() == {"source": "posts/a.ipynb", "figures": []}


def test_a_broken_or_old_record_reads_as_empty_fields() -> None:
    text = (
        "---\ntitle: T\nnbpress:\n  source: posts/a.ipynb\n  exec_key: 5\n  figures: 3\n"
        "  inputs: [x, {name: a, url: b}]\n  figure: {src: s, alt: a, width: wide}\n---\n"
    )
    record = parse(text)
    assert record == Record("posts/a.ipynb", inputs=(Input("a", "b"),), figure=Figure("s", "a", None, None))
    assert parse("---\ntitle: T\n---\n") is None
    assert parse("---\nnbpress: [1]\n---\n") is None
    assert parse("---\nnbpress: &a {source: x}\n---\n") is None  # the one loader refuses aliases


@pytest.mark.parametrize("markdown", sorted((REPO / "site_src" / "posts").glob("*.md")), ids=lambda p: p.stem)
def test_the_committed_posts_records_are_written_back_byte_for_byte(markdown: Path) -> None:
    text = markdown.read_text(encoding="utf-8")
    record = parse(text)
    assert record is not None and record.source and record.exec_key and record.figures
    block = re.search(r"^nbpress:\n(?:  .*\n)*", text, re.M)
    assert block is not None
    assert dump_front_matter({"nbpress": record}) == block.group()
    assert parse(_front(record)) == record


def test_templates_read_only_the_records_fields() -> None:
    """What overrides/ reads of a post's record (`record.x`, `meta.nbpress.x`) is a field of Record."""
    allowed = {
        "record": {f.name for f in fields(Record)},
        "figure": {f.name for f in fields(Figure)},
        "input": {f.name for f in fields(Input)},
    }
    read = re.compile(r"\b(?:(record)|meta\.nbpress)\.(\w+)(?:\.(\w+))?|\b(input)\.(\w+)")
    found: list[str] = []
    seen = 0
    for template in sorted((REPO / "overrides").rglob("*.html")):
        for m in read.finditer(template.read_text(encoding="utf-8")):
            seen += 1
            if m.group(4):
                if m.group(5) not in allowed["input"]:
                    found.append(f"{template.name}: {m.group()}")
                continue
            field, sub = m.group(2), m.group(3)
            if field not in allowed["record"] or (field == "figure" and sub and sub not in allowed["figure"]):
                found.append(f"{template.name}: {m.group()}")
    assert seen > 10
    assert not found, found


# --- One atomic writer ------------------------------------------------------------------------


WRITERS = {"mkstemp", "NamedTemporaryFile", "write_text", "write_bytes", "replace", "rename"}


def test_every_file_is_written_through_the_one_atomic_writer() -> None:
    """Only nbpress/atomic.py writes a file's bytes; os.replace elsewhere only moves what it staged."""
    writes: dict[str, set[str]] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
                name = node.func.attr
                if name in WRITERS:
                    if name == "replace" and not (
                        isinstance(node.func.value, ast.Name) and node.func.value.id == "os"
                    ):
                        continue  # str.replace
                    writes.setdefault(name, set()).add(path.relative_to(PACKAGE).as_posix())
    assert writes.get("mkstemp") == {"atomic.py"}
    assert "write_text" not in writes and "write_bytes" not in writes and "rename" not in writes
    # publishing/write renames what atomic.stage wrote; the guard moves a cell's file to quarantine.
    assert writes.get("replace") == {"atomic.py", "publishing/write.py", "execution/guard.py"}
