"""The transform chain: one ordered list of steps, from executed notebook to the one rendered.

Like nbconvert's preprocessors: each step is a function `(notebook, resources) -> warnings`
that rewrites a copy of the executed notebook in place; `STEPS` is the one list, in the
order the build runs it, a step's name is its function's name, and `run` applies each step
once per render. Outputs were capped once already, right after execution
(execution.capture.limit_outputs), before they were cached.

The steps' own rules live in their modules (outputs, cells, charts, directives, markup, links,
figures, sanitize), none of which imports this one; what is here is the order, and the small steps
that have no other home (alt text, excerpt, headings).
"""

from __future__ import annotations

import base64
import binascii
import copy
import html as html_lib
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import cell_place
from ..execution import backends
from ..layout import PostFiles
from ..notebook import FIGURE_TYPES, Cell, Key, Notebook, outputs_of, text_of
from ..sources import FASTPAGES, Post, cells
from ..sources.series import Listing
from . import mdtokens
from .charts import embed_charts
from .directives import apply as apply_directives
from .figures import (
    EXTENSIONS,
    PLACEHOLDER_SVG,
    data_media,
    file_name,
    media_too_large,
    too_large,
    unreadable,
)
from .links import resolve_links
from .markup import apply as apply_markup
from .markup import copy_mystnb_captions
from .mathtext import plain_text
from .outputs import choose_outputs, clean_texts
from .sanitize import html_text
from .shown import hide_cells, mark_title_heading
from .values import substitute


@dataclass
class Resources:
    """What the steps read (the post, where its figures live) and gather, as nbconvert's resources.

    Gathered: the files to publish (figures, attachments, local images, by file name), the
    chart libraries the page loads, and the notebook as a reader downloads it.
    """

    post: Post
    post_files: PostFiles  # where the post's files go and their URLs (layout.PostFiles)
    roots: tuple[Path, ...] = ()  # folders whose absolute paths outputs must not show
    gone: frozenset[str] = frozenset()  # file slugs of posts that have no page after this build
    series: Listing | None = None  # what the post shows of its series (nbpress.rendering.series)
    files: dict[str, bytes] = field(default_factory=dict)  # every file the post publishes, by name
    libraries: list[str] = field(default_factory=list)  # chart libraries the page loads
    download: Notebook | None = None  # set by keep_download

    @property
    def image_base(self) -> str:
        """Return the URL folder of the post's figures, relative to its Markdown, ending in "/"."""
        return self.post_files.figure_url

    def downloaded(self) -> Notebook:
        """Return the notebook as a reader downloads it (kept by the keep_download step)."""
        if self.download is None:
            raise RuntimeError("the transform chain has not run: no notebook to download")
        return self.download


Step = Callable[[Notebook, Resources], list[str]]


def values(nb: Notebook, res: Resources) -> list[str]:
    """Put computed values (glue, inline expressions) into the prose; return a warning per unknown one.

    First, before hidden cells lose their outputs (a value glued in a hidden cell still shows)
    and before markup (a {glue:figure} is numbered like any figure).
    """
    return substitute(nb, res.post.rel_path)


def hide(nb: Notebook, res: Resources) -> list[str]:
    """Mark the front matter cell and the cells and outputs the author hid; return no warnings."""
    hide_cells(nb, res.post.front_matter_cell)
    return []


def clean(nb: Notebook, res: Resources) -> list[str]:
    """Collapse \\r and \\b progress, remove ANSI codes, shorten machine paths; return no warnings."""
    clean_texts(nb, res.roots)
    return []


def choose(nb: Notebook, res: Resources) -> list[str]:
    """Keep one safe form of each output (sanitize.py); return a warning per output not shown."""
    return choose_outputs(nb, res.post.front_matter.raw_html, res.post.rel_path)


def keep_download(nb: Notebook, res: Resources) -> list[str]:
    """Keep a copy of the notebook as a reader downloads it; return no warnings.

    Its outputs as the post shows them (cleaned, one safe form each), before the display
    options: the build writes the executed-notebook download from it.
    """
    res.download = copy.deepcopy(nb)
    return []


def fastpages_callouts(nb: Notebook, res: Resources) -> list[str]:
    """Turn a fastpages post's `> Note: text` callouts into admonitions; return no warnings.

    After keep_download, so the notebook a reader downloads keeps them as the author wrote them.
    A callout shown in code (a fence, an indented block) is left as written (mdtokens).
    """
    if res.post.origin == FASTPAGES:
        for cell in nb.cells[1:]:
            if cell.cell_type == "markdown" and ">" in cell.source:
                cell.source = _fastpages_callouts(cell.source)
    return []


_FASTPAGES_CALLOUT = re.compile(r"^>\s*(Note|Tip|Warning|Important):\s*(.*)$")
_FASTPAGES_ADMONITION = {"Note": "note", "Tip": "tip", "Warning": "warning", "Important": "danger"}


def _fastpages_callouts(source: str) -> str:
    """Return a Markdown cell with its fastpages callouts (outside code) as Material admonitions."""
    code = mdtokens.read(source).lines()
    lines: list[str] = []
    for number, line in enumerate(source.split("\n")):
        match = None if number in code else _FASTPAGES_CALLOUT.match(line.strip())
        if match:
            kind, text = match.group(1), match.group(2)
            lines += [f'!!! {_FASTPAGES_ADMONITION[kind]} "{kind}"', "", f"    {text}", ""]
        else:
            lines.append(line)
    return "\n".join(lines)


def backend(nb: Notebook, res: Resources) -> list[str]:
    """Return a warning per cell that asked for an interactive matplotlib backend."""
    return backends.warnings(res.post, nb)


def display(nb: Notebook, res: Resources) -> list[str]:
    """Apply the display tags and the post's `stderr` mode; return its stderr warnings."""
    return cells.apply_display(nb, res.post.front_matter.stderr, res.post.rel_path)


def captions(nb: Notebook, res: Resources) -> list[str]:
    """Copy myst-nb's figure caption and name into `caption` and `label`; return no warnings."""
    copy_mystnb_captions(nb)
    return []


def charts(nb: Notebook, res: Resources) -> list[str]:
    """Turn chart outputs into safe embeds, noting the libraries the page needs; return warnings."""
    found = embed_charts(nb, res.post.rel_path)
    res.libraries = found.libraries
    return found.warnings


def alt_text(nb: Notebook, res: Resources) -> list[str]:
    """Give each figure output its alt text: its cell's caption, else title and figure number."""
    title = res.post.front_matter.title
    number = 0
    for cell in nb.cells:
        if cell.cell_type != "code" or cell.metadata.get(Key.REMOVE):
            continue
        caption = cell.metadata.get("caption")
        for output in cell.get("outputs", []):
            if any(t in output.get("data", {}) for t in FIGURE_TYPES):
                number += 1
                alt = caption if isinstance(caption, str) and caption else f"{title}, figure {number}"
                alt = plain_text(alt)  # alt text is plain text: its math becomes readable Unicode
                alt = alt.replace("]", ")").replace("[", "(")
                # HTML text: the listing's thumbnail copies it from the Markdown into alt="...".
                output.setdefault("metadata", {})[Key.ALT] = html_text(alt)
    return []


def directives(nb: Notebook, res: Resources) -> list[str]:
    """Turn MyST directives and Quarto callouts into the site's Markdown (admonitions, tabs, asides,
    figures); return a warning per directive not supported or left out."""
    return apply_directives(nb, res.post.rel_path)


def markup(nb: Notebook, res: Resources) -> list[str]:
    """Number figures, tables and equations, resolve references and citations; return the
    warnings (an unresolved reference keeps its text and warns)."""
    return apply_markup(nb, res.post)


def title_heading(nb: Notebook, res: Resources) -> list[str]:
    """Leave out the `# <title>` heading a post's first Markdown cell starts with (shown.py); no warnings."""
    mark_title_heading(nb, res.post.front_matter.title)
    return []


def headings(nb: Notebook, res: Resources) -> list[str]:
    """Publish headings one level at a time (even_heading_levels); return no warnings."""
    even_heading_levels(nb)
    return []


_ATX = re.compile(r"^(#{1,6})([ \t]+)(.*?)[ \t]*$")


def even_heading_levels(nb: Notebook) -> None:
    """Make headings of the visible Markdown cells go down one level at a time.

    A heading deeper than one below the last (an h5 after an h3, as in the SLR_NN seed) is
    published at the next level, keeping its text and, through a class (`nbpress-h5`), its
    look: screen readers and the table of contents get an outline without gaps (axe-core,
    Lighthouse: heading-order). The page's title is the h1 above the first cell.
    """

    # (level written, level published) of the headings enclosing the current one.
    stack: list[tuple[int, int]] = [(1, 1)]
    for cell in nb.cells:
        if cell.cell_type != "markdown" or cell.metadata.get(Key.REMOVE):
            continue
        lines = cell.source.split("\n")
        # The ATX headings as the site reads them (mdtokens): none inside code, nested ones kept.
        for token in mdtokens.read(cell.source).tokens:
            if token.type != "heading_open" or not token.markup.startswith("#") or token.map is None:
                continue
            i = token.map[0]
            if "#" not in lines[i]:
                continue
            prefix = lines[i][: lines[i].index("#")]  # a quote's or a list item's marker
            match = _ATX.match(lines[i][len(prefix) :])
            if match is None:
                continue
            level = len(match.group(1))
            while stack and stack[-1][0] >= level:
                stack.pop()
            published = min(level, (stack[-1][1] if stack else 0) + 1)
            stack.append((level, published))
            if published != level:
                text = match.group(3).rstrip("#").rstrip()
                own = re.search(r"\s*\{:?([^}]*)\}$", text)  # one attribute list: a target's {#id} joins it
                attrs = f"{own.group(1).strip()} .nbpress-h{level}" if own else f".nbpress-h{level}"
                text = text[: own.start()] if own else text
                lines[i] = f"{prefix}{'#' * published} {text} {{: {attrs} }}"
        cell.source = "\n".join(lines)


def excerpt(nb: Notebook, res: Resources) -> list[str]:
    """Mark where the blog's excerpt ends, before the first visible code cell; return no warnings."""
    for cell in nb.cells:
        if cell.metadata.get(Key.REMOVE):
            continue
        if cell.cell_type == "code":
            cell.metadata[Key.MORE] = True
            break
    return []


def figures(nb: Notebook, res: Resources) -> list[str]:
    """Name every figure file once and gather its bytes; return a warning per attachment left out.

    The one place figures get their names (nbpress.rendering.figures.file_name): each figure
    output is output_<cell>_<n><ext>, its name kept in its `filenames` metadata (where
    nbconvert's template, the record's first figure and the tests read it); each Markdown
    attachment is attachment_<cell>_<n><ext>, and the cell's `attachment:` links point at it
    under the image base. One too large to publish (nbpress.rendering.figures) is replaced
    by a placeholder SVG.
    """
    warnings: list[str] = []
    for index, cell in enumerate(nb.cells):
        if cell.cell_type == "markdown":
            warnings += _attachments(cell, index, res)
            continue
        for number, output in enumerate(outputs_of(cell)):
            if output.get("output_type") not in ("display_data", "execute_result"):
                continue
            data = output.get("data", {})
            names = {mime: file_name("output", index, number, mime) for mime in FIGURE_TYPES if mime in data}
            for mime, name in names.items():
                text = text_of(data[mime])
                res.files[name] = text.encode("utf-8") if mime == "image/svg+xml" else base64.b64decode(text)
            # Only these names: what an output's own metadata says (`filenames`, `filename`) is not read.
            metadata = output.setdefault("metadata", {})
            metadata.pop("filename", None)
            metadata.pop("filenames", None)
            if names:
                metadata["filenames"] = names
            if "text/html" in data:
                where = cell_place(res.post.rel_path, index + 1)
                data["text/html"] = _media_files(
                    text_of(data["text/html"]), index, number, res, where, warnings
                )
    return warnings


# A sound's or video's src as the output sanitizer leaves it: double-quoted, embedded data.
_MEDIA_SRC = re.compile(r'(<(?:audio|video|source)\b[^>]*?)(\ssrc=")(data:[^"]*)(")', re.I)


def _media_files(html: str, index: int, number: int, res: Resources, where: str, warnings: list[str]) -> str:
    """Return an HTML output whose embedded sound and video (figures.data_media) are files of the
    post, output_<cell>_<n>[_<k>]<ext>, its src the file's URL; nothing else changes.

    The site's policy loads media from the site only, as a reader offline would have it: each
    embedded clip becomes a file, as a figure does. The download keeps the data. A clip too
    large to publish (figures.media_too_large) loses its src, with a warning naming `where`.
    """
    found = 0

    def to_file(match: re.Match[str]) -> str:
        nonlocal found
        media = data_media(html_lib.unescape(match.group(3)))
        if media is None:  # the sanitizer keeps no other data: URL here
            return match.group(0)
        extension, text = media
        name = f"output_{index}_{number}{f'_{found}' if found else ''}{extension}"
        found += 1
        try:
            data = base64.b64decode(text)
        except binascii.Error:
            return match.group(1)  # the element without its src
        why = media_too_large(len(data))
        if why is not None:
            warnings.append(
                f"{where}: the embedded clip {why}, so it is left out; show a shorter or smaller one."
            )
            return match.group(1)
        res.files[name] = data
        return f"{match.group(1)}{match.group(2)}./{html_lib.escape(res.image_base + name)}{match.group(4)}"

    return _MEDIA_SRC.sub(to_file, html)


def _attachments(cell: Cell, index: int, res: Resources) -> list[str]:
    """Move a Markdown cell's attachments out as files to publish; return a warning per one left out."""
    found = cell.get("attachments") or {}
    if not found:
        return []
    warnings: list[str] = []
    source = cell.source
    for number, (name, bundle) in enumerate(sorted(found.items())):
        mime = next((m for m in EXTENSIONS if m in bundle), None)
        if mime is None:
            continue
        data = bundle[mime]
        try:
            raw = data.encode("utf-8") if mime == "image/svg+xml" else base64.b64decode(data)
        except (binascii.Error, ValueError):
            continue  # a corrupt attachment stays a broken link, as in Jupyter
        filename = file_name("attachment", index, number, mime)
        why = too_large(raw)
        broken = unreadable(raw, filename) if why is None else None
        if why is not None or broken is not None:
            advice = "attach a smaller image" if why is not None else "attach the image again"
            warnings.append(
                f"{cell_place(res.post.rel_path, index + 1)}: the attachment {name!r} {why or broken}, so a "
                f"placeholder is shown instead; {advice}"
            )
            filename, raw = file_name("attachment", index, number, "image/svg+xml"), PLACEHOLDER_SVG
        res.files[filename] = raw
        source = source.replace(f"attachment:{name}", f"{res.image_base}{filename}")
    cell.source = source
    del cell["attachments"]
    return warnings


def links(nb: Notebook, res: Resources) -> list[str]:
    """Rewrite links to posts and anchors, publish local images, show raw cells; return warnings."""
    post = res.post
    files, warnings = resolve_links(nb, post, res.image_base, post.front_matter.raw_html, res.gone)
    res.files.update(files)
    return warnings


# The chain, in order; a step's name is its function's. Warnings come out in this order too
# (they are kept in the post's record).
def escapes(nb: Notebook, res: Resources) -> list[str]:
    """Write CommonMark's backslash escapes that the site's Markdown would print as character
    references (mdtokens.commonmark_escapes); last, so every step before reads the cell as written.
    No warnings."""
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            cell.source = mdtokens.commonmark_escapes(cell.source)
    return []


STEPS: tuple[Step, ...] = (
    values,
    hide,
    clean,
    choose,
    keep_download,
    fastpages_callouts,
    backend,
    display,
    captions,
    charts,
    alt_text,
    directives,
    markup,
    title_heading,
    headings,
    excerpt,
    figures,
    links,
    escapes,
)


def run(executed: Notebook, res: Resources) -> tuple[Notebook, list[str]]:
    """Return (a transformed copy of the executed notebook, the steps' warnings in order).

    Every step of STEPS runs once, in order; what they gather is in `res`. The executed
    notebook itself is not changed.
    """
    nb = copy.deepcopy(executed)
    warnings: list[str] = []
    for step in STEPS:
        warnings += step(nb, res)
    return nb, warnings
