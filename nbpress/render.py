"""Turn a cleaned, executed notebook into Markdown text and figure bytes (nothing written)."""

from __future__ import annotations

import base64
import binascii
import copy
import hashlib
import html
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from . import links
from .charts import transform as transform_charts
from .errors import RenderError
from .posts import OPTION_KEYS, Post
from .provenance import markdown as provenance_markdown
from .sanitize import fence, front_matter_text, html_text

TEMPLATES = Path(__file__).parent / "templates"
TEMPLATE = "post.md.j2"
FIGURE_TYPES = ("image/png", "image/jpeg", "image/svg+xml")
_HIDDEN = "nbpress_remove"
JEKYLL_ORDER = ("layout", "title", "author", "tags", "categories", "date")


@dataclass(frozen=True)
class RenderedPost:
    """A post ready to publish: Markdown text and {figure file name: bytes}."""

    slug: str
    markdown: str
    figures: dict[str, bytes]
    warnings: tuple[str, ...] = ()


# The modules whose code shapes the Markdown; a change to one re-renders every post.
RENDER_MODULES = (
    "outputs.py",
    "sanitize.py",
    "render.py",
    "posts.py",
    "cells.py",
    "fastpages.py",
    "formats.py",
    "provenance.py",
    "markup.py",
    "charts.py",
    "links.py",
)


def renderer_fingerprint() -> str:
    """Return a digest of the code and templates that shape the Markdown."""
    h = hashlib.sha256()
    here = Path(__file__).parent
    for path in sorted([*(here / m for m in RENDER_MODULES), *TEMPLATES.glob("*.j2")]):
        h.update(path.name.encode())
        h.update(path.read_bytes())
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


def dump_front_matter(data: dict[str, Any]) -> str:
    """Return YAML text for a front matter mapping, keys in the given order."""
    return yaml.dump(
        data, Dumper=_Dumper, sort_keys=False, allow_unicode=True, default_flow_style=None, width=1_000_000
    )


def published_front_matter(post: Post, authors: dict[str, str], record: dict[str, Any]) -> dict[str, Any]:
    """Return the front matter to publish: the author's keys, normalised, plus nbpress's record.

    Jekyll keys stay as written; categories and tags become lists and `authors` is added
    (keys of site_src/.authors.yml) because Material's blog plugin needs them so. Shown
    values are HTML text (nbpress.sanitize.front_matter_text): the templates print them raw.
    """
    fm = post.front_matter
    # Jekyll's usual order first (notebook metadata comes back with sorted keys), then the rest.
    ordered = [k for k in JEKYLL_ORDER if k in fm.data] + [k for k in fm.data if k not in JEKYLL_ORDER]
    data = {k: fm.data[k] for k in ordered if k not in OPTION_KEYS and k != "nbpress"}
    data["title"] = fm.title
    data["date"] = fm.date
    if fm.tags:
        data["tags"] = list(fm.tags)
    if fm.categories:
        data["categories"] = list(fm.categories)
    names = data.get("authors") or data.get("author")
    if names and "authors" not in fm.data:
        wanted = [names] if isinstance(names, str) else list(names)
        keys = [authors.get(str(n), str(n)) for n in wanted]
        if all(k in authors.values() for k in keys):
            data["authors"] = keys
    # An explicit slug keeps the post's URL stable when its title changes.
    data.setdefault("slug", post.slug)
    data = front_matter_text(data)
    data["nbpress"] = record
    return data


def _mark_figures(nb: Any, title: str) -> None:
    """Give each figure output its alt text: the cell's caption, else title and figure number."""
    number = 0
    for cell in nb.cells:
        if cell.cell_type != "code" or cell.metadata.get(_HIDDEN):
            continue
        caption = cell.metadata.get("caption")
        for output in cell.get("outputs", []):
            if any(t in output.get("data", {}) for t in FIGURE_TYPES):
                number += 1
                alt = caption if isinstance(caption, str) and caption else f"{title}, figure {number}"
                alt = alt.replace("]", ")").replace("[", "(")
                # HTML text: the listing's thumbnail copies it from the Markdown into alt="...".
                output.setdefault("metadata", {})["nbpress_alt"] = html_text(alt)


def _mark_excerpt(nb: Any) -> None:
    """Mark where the blog's excerpt ends: before the first visible code cell."""
    for cell in nb.cells:
        if cell.metadata.get(_HIDDEN):
            continue
        if cell.cell_type == "code":
            cell.metadata["nbpress_more"] = True
            return


_ATTACHMENT_EXT = {"image/png": ".png", "image/jpeg": ".jpg", "image/gif": ".gif", "image/svg+xml": ".svg"}


def _extract_attachments(nb: Any, image_base: str) -> dict[str, bytes]:
    """Move Markdown cell attachments out as figures; return {file name: bytes}.

    Each is named attachment_<cell>_<n><ext> (never output_..., so it cannot collide with
    an output figure) and the cell's `attachment:` links point at it under `image_base`.
    """
    files: dict[str, bytes] = {}
    for index, cell in enumerate(nb.cells):
        attachments = cell.get("attachments") or {}
        if cell.cell_type != "markdown" or not attachments:
            continue
        source = cell.source
        for number, (name, bundle) in enumerate(sorted(attachments.items())):
            mime = next((m for m in _ATTACHMENT_EXT if m in bundle), None)
            if mime is None:
                continue
            data = bundle[mime]
            try:
                raw = data.encode("utf-8") if mime == "image/svg+xml" else base64.b64decode(data)
            except (binascii.Error, ValueError):
                continue  # a corrupt attachment stays a broken link, as in Jupyter
            filename = f"attachment_{index}_{number}{_ATTACHMENT_EXT[mime]}"
            files[filename] = raw
            source = source.replace(f"attachment:{name}", f"{image_base}{filename}")
        cell.source = source
        del cell["attachments"]
    return files


def render(
    post: Post,
    notebook: Any,
    front_matter: dict[str, Any],
    image_base: str,
    provenance: dict[str, Any] | None = None,
    warnings: tuple[str, ...] = (),
) -> RenderedPost:
    """Return the RenderedPost of a cleaned executed notebook.

    `front_matter` is written as YAML at the top (its `nbpress` record gains the figure
    list); figures are named output_<cell>_<n>.<ext>, <cell> counting every cell of the
    source, and linked under `image_base`. The post's `warnings` (and those of its links) are
    kept in the record, so a later build that leaves the post unchanged reports them again.
    A `provenance` record (nbpress.provenance) closes
    the post with the line saying when and with what it was executed.
    """
    from nbconvert.exporters import MarkdownExporter
    from traitlets.config import Config

    from . import markup

    nb = copy.deepcopy(notebook)
    markup.normalise(nb)
    charts = transform_charts(nb, post.rel_path)
    _mark_figures(nb, post.front_matter.title)
    markup.apply(nb, post)
    _mark_title_heading(nb, post.front_matter.title)
    even_heading_levels(nb)
    _mark_excerpt(nb)
    attachments = _extract_attachments(nb, image_base)
    local_files, link_warnings = links.transform(nb, post, image_base, post.front_matter.raw_html)
    warnings = (*warnings, *charts.warnings, *link_warnings)
    config = Config()
    config.ExtractOutputPreprocessor.output_filename_template = "output_{cell_index}_{index}{extension}"
    exporter = MarkdownExporter(config=config, extra_template_paths=[str(TEMPLATES)], template_file=TEMPLATE)
    exporter.register_filter("nbpress_fence", fence)
    config.ExtractOutputPreprocessor.extract_output_types = set(FIGURE_TYPES)
    resources = {"nbpress": {"image_base": image_base}, "unique_key": "output"}
    try:
        body, out_resources = exporter.from_notebook_node(nb, resources=resources)
    except Exception as err:  # nbconvert and jinja raise many types
        raise RenderError(
            f"{post.rel_path}: could not be rendered to Markdown ({type(err).__name__}: {err})."
        ) from None
    extracted = {**out_resources.get("outputs", {}), **attachments, **local_files}
    figures = {name: bytes(data) for name, data in sorted(extracted.items())}
    front_matter = {**front_matter}
    if isinstance(front_matter.get("nbpress"), dict):
        # The record lists the figures so a later build knows which files are its own.
        front_matter["nbpress"] = {**front_matter["nbpress"], "figures": sorted(figures)}
        if charts.libraries:
            # The page loads these chart libraries, and only these (overrides/partials/nbpress-charts.html).
            front_matter["nbpress"]["charts"] = charts.libraries
        if warnings:
            front_matter["nbpress"]["warnings"] = list(warnings)
    front_matter = reader_front_matter(nb, front_matter, figures, image_base)
    text = f"---\n{dump_front_matter(front_matter)}---\n\n{_tidy(body)}"
    if provenance:
        text += f"\n{provenance_markdown(provenance)}"
    return RenderedPost(post.slug, text, figures, tuple(warnings))


def _tidy(text: str) -> str:
    """Return Markdown with at most two blank lines in a row and one final newline."""
    text = re.sub(r"\n{4,}", "\n\n\n", text)
    return text.strip("\n") + "\n"


# --- What the site's templates read (summary, first figure): plain values, no string work there.

_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_NOT_PROSE = re.compile(r"^\s*(#|```|~~~|\||<|!\[|\$\$|>|[-*+] |\d+[.)] |\?\?\?|!!!|---)")
SUMMARY_CHARS = 300


def _mark_title_heading(nb: Any, title: str) -> None:
    """Hide a first Markdown cell that is only `# <title>`: the page shows the title itself.

    The cell is marked like any hidden cell (never deleted, so figure numbers hold); the
    post's text is unchanged, its title is its h1 either way.
    """
    for cell in nb.cells:
        if cell.metadata.get(_HIDDEN) or cell.cell_type == "raw":
            continue
        if cell.cell_type == "markdown" and cell.source.strip() == f"# {title}".strip():
            cell.metadata[_HIDDEN] = True
        return


def _plain(markdown: str) -> str:
    """Return the text of one Markdown paragraph: links, emphasis and code marks removed."""
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", markdown)
    text = re.sub(r"(\*\*|__|\*|`)", "", text)
    return " ".join(text.split())


def first_paragraph(nb: Any) -> str:
    """Return the first paragraph of prose in the visible Markdown cells, as plain text ("" if none)."""
    for cell in nb.cells:
        if cell.cell_type != "markdown" or cell.metadata.get(_HIDDEN):
            continue
        for block in re.split(r"\n\s*\n", cell.source):
            if block.strip() and not _NOT_PROSE.match(block):
                text = _plain(block)
                if len(text) > SUMMARY_CHARS:
                    text = text[: SUMMARY_CHARS - 1].rsplit(" ", 1)[0] + "\u2026"
                return text
    return ""


def png_size(data: bytes) -> tuple[int, int] | None:
    """Return (width, height) of PNG bytes, None for anything else."""
    if data[:8] != _PNG_SIGNATURE or data[12:16] != b"IHDR":
        return None
    return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")


def _first_figure(nb: Any, figures: dict[str, bytes]) -> tuple[str, str] | None:
    """Return (file name, alt text) of the first visible output figure, in cell order."""
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code" or cell.metadata.get(_HIDDEN):
            continue
        for number, output in enumerate(cell.get("outputs", [])):
            for mime in FIGURE_TYPES:
                if mime in output.get("data", {}):
                    ext = {"image/png": ".png", "image/jpeg": ".jpg", "image/svg+xml": ".svg"}[mime]
                    name = f"output_{index}_{number}{ext}"
                    if name in figures:
                        return name, str(output.get("metadata", {}).get("nbpress_alt", ""))
    return None


def reader_front_matter(
    nb: Any, front_matter: dict[str, Any], figures: dict[str, bytes], image_base: str
) -> dict[str, Any]:
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
    first = _first_figure(nb, figures)
    record = data.get("nbpress")
    if first is None or not isinstance(record, dict):
        return data
    name, alt = first
    path = f"{image_base}{name}".lstrip("/")
    data.setdefault("image", path)
    # The alt text may already be HTML text (escaped once for the Markdown): escape it exactly once.
    figure: dict[str, Any] = {"src": path, "alt": html.escape(html.unescape(alt), quote=True)}
    size = png_size(figures[name])
    if size:
        figure["width"], figure["height"] = size
    data["nbpress"] = {**record, "figure": figure}
    return data


_ATX = re.compile(r"^(#{1,6})([ \t]+)(.*?)[ \t]*$")


def even_heading_levels(nb: Any) -> None:
    """Make headings of the visible Markdown cells go down one level at a time.

    A heading deeper than one below the last (an h5 after an h3, as in the SLR_NN seed) is
    published at the next level, keeping its text and, through a class (`nbpress-h5`), its
    look: screen readers and the table of contents get an outline without gaps (axe-core,
    Lighthouse: heading-order). The page's title is the h1 above the first cell.
    """
    # (level written, level published) of the headings enclosing the current one.
    stack: list[tuple[int, int]] = [(1, 1)]
    for cell in nb.cells:
        if cell.cell_type != "markdown" or cell.metadata.get(_HIDDEN):
            continue
        lines = cell.source.split("\n")
        fence = ""
        for i, line in enumerate(lines):
            stripped = line.lstrip()
            if stripped.startswith(("```", "~~~")):
                marker = stripped[:3]
                fence = "" if fence == marker else (fence or marker)
                continue
            match = None if fence else _ATX.match(line)
            if match is None:
                continue
            level = len(match.group(1))
            while stack and stack[-1][0] >= level:
                stack.pop()
            published = min(level, (stack[-1][1] if stack else 0) + 1)
            stack.append((level, published))
            if published != level:
                text = match.group(3).rstrip("#").rstrip()
                lines[i] = f"{'#' * published} {text} {{: .nbpress-h{level} }}"
        cell.source = "\n".join(lines)
