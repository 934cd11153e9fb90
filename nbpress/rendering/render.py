"""Turn an executed notebook into Markdown text and figure bytes (nothing written)."""

from __future__ import annotations

import functools
import hashlib
import html
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, cast

import yaml

from .. import code_digest
from ..errors import RenderError
from ..layout import Layout, PostFiles
from ..notebook import FIGURE_TYPES, Key, Notebook, outputs_of, template_keys
from ..record import Figure, Record
from ..sources import Post, frontmatter
from . import series, transform
from .figures import png_size
from .mathtext import markdown_text, plain_text
from .sanitize import code_fence, fence, front_matter_text, html_text, sanitizer_off

if TYPE_CHECKING:
    from nbconvert.exporters import MarkdownExporter
    from nbformat import NotebookNode

TEMPLATES = Path(__file__).parent / "templates"
TEMPLATE = "post.md.j2"


@dataclass(frozen=True)
class RenderedPost:
    """A post ready to publish: Markdown text and {figure file name: bytes}."""

    file_slug: str  # the post's files are named by it (nbpress.layout)
    markdown: str
    figures: dict[str, bytes]
    warnings: tuple[str, ...] = ()


def renderer_fingerprint() -> str:
    """Return a digest of the package's code and templates (nbpress.code_digest) and the sanitizer switch."""
    h = hashlib.sha256(code_digest())
    if sanitizer_off():
        # The test-only switch shapes the Markdown too: a post rendered with it is never
        # "unchanged" to a build without it (and back).
        h.update(b"\0sanitizer off")
    return h.hexdigest()


class _Dumper(yaml.SafeDumper):
    """SafeDumper that double-quotes text holding Unicode line breaks.

    With allow_unicode, PyYAML writes U+0085, U+2028 and U+2029 raw in plain scalars, and
    every YAML reader (PyYAML included) reads them back as line breaks: the text would change.
    """


def _represent_str(dumper: yaml.SafeDumper, text: str) -> yaml.ScalarNode:
    style = '"' if any(c in text for c in "\x85\u2028\u2029") else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", text, style=style)


_Dumper.add_representer(str, _represent_str)
# A post's record is written as its one writer makes it (nbpress.record.Record.data).
_Dumper.add_representer(Record, lambda dumper, record: dumper.represent_dict(record.data()))
# Never an anchor or alias in what the build writes: the loaders refuse them (nbpress.yamlload).
_Dumper.ignore_aliases = lambda self, data: True  # type: ignore[method-assign]


def dump_front_matter(data: Mapping[str, object]) -> str:
    """Return YAML text for a front matter mapping, keys in the given order."""
    return yaml.dump(
        data, Dumper=_Dumper, sort_keys=False, allow_unicode=True, default_flow_style=None, width=1_000_000
    )


def published_front_matter(post: Post, authors: dict[str, str], record: Record) -> dict[str, object]:
    """Return the front matter to publish: the author's keys, normalised, plus nbpress's record.

    Jekyll keys stay as written; categories and tags become lists and `authors` is added
    (keys of site_src/.authors.yml) because Material's blog plugin needs them so. Shown
    values are HTML text (nbpress.rendering.sanitize.front_matter_text): the templates print them raw.
    """
    fm = post.front_matter
    data = frontmatter.published(fm)  # which keys, in which order: the table's (sources.frontmatter)
    # A title and a summary are plain text wherever they are shown (<title>, meta tags, cards,
    # the feed): their math becomes readable text (nbpress.rendering.mathtext.plain_text).
    data["title"] = plain_text(fm.title)
    if isinstance(data.get("description"), str):
        data["description"] = plain_text(str(data["description"]))
    data["date"] = fm.date
    if fm.tags:
        data["tags"] = list(fm.tags)
    if fm.categories:
        data["categories"] = list(fm.categories)
    names = data.get("authors") or data.get("author")
    if names and "authors" not in fm.data:
        wanted = list(names) if isinstance(names, list) else [names]
        keys = [authors.get(str(n), str(n)) for n in wanted]
        if all(k in authors.values() for k in keys):
            data["authors"] = keys
    # An explicit slug keeps the post's URL stable when its title changes.
    data.setdefault("slug", post.url_slug)
    data = front_matter_text(data)
    data["nbpress"] = record
    return data


def render(
    post: Post,
    executed: Notebook,
    front_matter: dict[str, object],
    files: PostFiles,
    provenance: Mapping[str, object] | None = None,
    warnings: tuple[str, ...] = (),
    roots: tuple[Path, ...] = (),
    gone: frozenset[str] = frozenset(),
) -> RenderedPost:
    """Return the RenderedPost of an executed notebook: the transform chain, then `export`.

    The chain (nbpress.rendering.transform.STEPS) runs once, on a copy; `roots` are folders
    whose paths the outputs must not show, and links to the posts `gone` (no page after this
    build) are unlinked. Figures are linked under `files.figure_url`.
    """
    resources = transform.Resources(post, files, roots, gone)
    nb, chain_warnings = transform.run(executed, resources)
    return export(nb, resources, front_matter, provenance, (*warnings, *chain_warnings))


def preload() -> None:
    """Import what `export` needs and a build loads only when it renders: nbconvert, its filters.

    The build calls it on a thread while kernels run, so their run hides the import.
    """
    from nbconvert.exporters import MarkdownExporter  # noqa: F401
    from traitlets.config import Config  # noqa: F401

    from . import mdtokens  # noqa: F401


@functools.cache
def _exporter() -> MarkdownExporter:
    """Return the process's Markdown exporter: its templates are compiled once, not per post.

    Everything that differs between posts reaches it through the resources of each call.
    """
    from nbconvert.exporters import MarkdownExporter
    from traitlets.config import Config

    config = Config()
    # The chain's figures step named and gathered every figure: nbconvert extracts none.
    config.ExtractOutputPreprocessor.extract_output_types = set()
    # nbconvert validates the notebook after each of its 11 preprocessors (most of them off):
    # once, after the last, says the same (a real post's export: 7 ms -> 3 ms).
    config.Exporter.optimistic_validation = True
    exporter = MarkdownExporter(config=config, extra_template_paths=[str(TEMPLATES)], template_file=TEMPLATE)
    exporter.register_filter("nbpress_fence", fence)
    exporter.register_filter("nbpress_code", code_fence)
    return exporter


def export(
    nb: Notebook,
    resources: transform.Resources,
    front_matter: dict[str, object],
    provenance: Mapping[str, object] | None = None,
    warnings: tuple[str, ...] = (),
) -> RenderedPost:
    """Return the RenderedPost of a transformed notebook (transform.run): nbconvert's Markdown.

    `front_matter` is written as YAML at the top (its `nbpress` Record gains the figure list);
    the figures are the files the chain named and gathered (`resources.files`). `warnings`
    (the post's, then the chain's) are kept in the record, so a later build that leaves the
    post unchanged reports them again. A `provenance` record (nbpress.execution.provenance)
    closes the post with the line saying when and with what it was executed.
    """
    post, files = resources.post, resources.post_files
    image_base = files.figure_url
    exporter = _exporter()
    resources_in = {"nbpress": {"image_base": image_base, "key": template_keys()}}
    try:
        body, _ = exporter.from_notebook_node(cast("NotebookNode", nb), resources=resources_in)
    except Exception as err:  # nbconvert and jinja raise many types
        raise RenderError(
            f"could not be rendered to Markdown ({type(err).__name__}: {err}).", path=post.rel_path
        ) from None
    figures = {name: bytes(data) for name, data in sorted(resources.files.items())}
    # Every figure is linked as figure_url + its name: a draft's file names carry its prefix.
    prefix = files.figure_prefix
    front_matter = {**front_matter}
    if isinstance(record := front_matter.get("nbpress"), Record):
        # The record lists the figures so a later build knows which files are its own; the page
        # loads the chart libraries it names, and only these (overrides/partials/nbpress-charts.html).
        front_matter["nbpress"] = replace(
            record,
            figures=tuple(sorted(prefix + n for n in figures)),
            charts=tuple(resources.libraries),
            warnings=tuple(warnings),
        )
    front_matter = reader_front_matter(nb, front_matter, figures, files)
    # A part of a series opens with its box and closes with previous/next links (rendering.series).
    layout = Layout(files.root)
    listing = resources.series
    top = series.box(listing, layout, resources.gone) if listing else ""
    text = f"---\n{dump_front_matter(front_matter)}---\n\n{top}{_tidy(body)}"
    if provenance:
        text += f"\n{provenance_markdown(provenance)}"
    if listing:
        text += series.neighbours(listing, layout, resources.gone)
    named = {prefix + name: data for name, data in figures.items()}
    return RenderedPost(post.file_slug, text, named, tuple(warnings))


def _tidy(text: str) -> str:
    """Return Markdown with at most two blank lines in a row and one final newline."""
    text = re.sub(r"\n{4,}", "\n\n\n", text)
    return text.strip("\n") + "\n"


# --- What the site's templates read (summary, first figure): plain values, no string work there.

_NOT_PROSE = re.compile(r"^\s*(#|```|~~~|\||<|!\[|\$\$|>|[-*+] |\d+[.)] |\?\?\?|!!!|---)")
SUMMARY_CHARS = 300


def first_paragraph(nb: Notebook) -> str:
    """Return the first paragraph of prose in the visible Markdown cells, as plain text ("" if none).

    Plain as nbpress.rendering.mathtext.markdown_text makes it (math as readable Unicode), then cut at a word.
    """
    from . import mdtokens

    for cell in nb.cells:
        if cell.cell_type != "markdown" or cell.metadata.get(Key.REMOVE):
            continue
        for block in mdtokens.read(cell.source).paragraphs():  # none in code
            if block.strip() and not _NOT_PROSE.match(block):
                text = markdown_text(_literal_html(block))
                if len(text) > SUMMARY_CHARS:
                    text = text[: SUMMARY_CHARS - 1].rsplit(" ", 1)[0] + "\u2026"
                return text
    return ""


_REFERENCE = re.compile(r"&(?:#\d+|#[xX][0-9a-fA-F]+|[A-Za-z]\w*);")


def _literal_html(block: str) -> str:
    """Return a paragraph without its inline HTML tags, its character references as the characters.

    A character that is Markdown punctuation comes back backslash-escaped, so markdown_text
    reads it as that character, never as syntax (a computed value is written with references,
    nbpress.rendering.values). Code is left as written.
    """
    from . import mdtokens

    out: list[str] = []
    last = 0
    for span in mdtokens.read(block).spans:
        out.append(_REFERENCE.sub(_reference_char, block[last : span.start]))
        if not (span.kind == mdtokens.HTML and not span.block):
            out.append(block[span.start : span.end])
        last = span.end
    out.append(_REFERENCE.sub(_reference_char, block[last:]))
    return "".join(out)


def _reference_char(match: re.Match[str]) -> str:
    char = html.unescape(match.group(0))
    return f"\\{char}" if len(char) == 1 and char.isascii() and not char.isalnum() and char != " " else char


def _first_figure(nb: Notebook) -> tuple[str, str] | None:
    """Return (file name, alt text) of the first visible output figure, in cell order.

    Its name as the chain's figures step gave it (the output's `filenames` metadata).
    """
    for cell in nb.cells:
        if cell.cell_type != "code" or cell.metadata.get(Key.REMOVE):
            continue
        for output in outputs_of(cell):
            names = output.get("metadata", {}).get("filenames", {})
            for mime in FIGURE_TYPES:
                if mime in names:
                    return str(names[mime]), str(output.get("metadata", {}).get(Key.ALT, ""))
    return None


def reader_front_matter(
    nb: Notebook, front_matter: Mapping[str, object], figures: dict[str, bytes], files: PostFiles
) -> dict[str, object]:
    """Return `front_matter` with what the site's templates and feed read, computed here.

    `description` (the author's, else the first paragraph of prose) is the page's summary:
    its meta description, its card text and its feed item. A post's first figure goes in
    `image` (site-relative, for the feed) and in the record as `figure` (path, alt, size)
    for the card and og:image. Templates only read these values, so they need no string
    methods (Zensical's template engine has none).
    """
    data = {**front_matter}
    if not data.get("description"):
        summary = first_paragraph(nb)
        if summary:
            # HTML text, like every shown front matter value: the templates print it as it is.
            data["description"] = html.escape(summary, quote=True)
    first = _first_figure(nb)
    record = data.get("nbpress")
    if first is None or not isinstance(record, Record):
        return data
    name, alt = first
    path = files.figure_src(name)
    data.setdefault("image", path)
    # The alt text may already be HTML text (escaped once for the Markdown): escape it exactly once.
    width, height = png_size(figures[name]) or (None, None)
    figure = Figure(path, html.escape(html.unescape(alt), quote=True), width, height)
    data["nbpress"] = replace(record, figure=figure)
    return data


def provenance_markdown(provenance: Mapping[str, object]) -> str:
    """Return the post's closing provenance line as a Markdown paragraph (class nbpress-provenance)."""
    when = str(provenance.get("executed", "")).replace("T", " ").replace("Z", " UTC")
    python = provenance.get("python")
    parts = [f"Python {python}" if python else f"the kernel {provenance.get('kernel', '?')}"]
    packages = provenance.get("packages")
    parts += [
        f"{name} {version}" for name, version in (packages.items() if isinstance(packages, dict) else [])
    ]
    # Names and versions are what installed packages say of themselves: text, never markup.
    shown = html_text(f"{when} with {', '.join(parts)}")
    return f"*Executed {shown}.*\n{{: .nbpress-provenance }}\n"
