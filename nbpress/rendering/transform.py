"""The transform chain: one ordered list of named steps, from executed notebook to the one rendered.

Like nbconvert's preprocessors: each step is a function `(notebook, context) -> warnings`
that rewrites a copy of the executed notebook in place; `STEPS` is the one list, in the
order the build runs it, and `run` applies it. Outputs were capped once already, right
after execution (nbpress.execution.capture.limit_outputs), before they were cached.

The steps' own rules live in their modules (outputs, cells, charts, markup, links, sanitize);
what is here is the order, and the small steps that have no other home (alt text, excerpt,
attachments).
"""

from __future__ import annotations

import base64
import binascii
import copy
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from ..execution import backends
from ..notebook import FIGURE_TYPES, Key, Notebook
from ..sources import cells
from ..sources.posts import Post
from . import charts, links, markup, outputs
from .figures import PLACEHOLDER_SVG, too_large
from .mathtext import plain_text
from .sanitize import html_text


@dataclass
class Context:
    """What the steps read (the post, where its figures live) and gather (files, chart libraries)."""

    post: Post
    image_base: str  # the URL folder of the post's figures, ending in "/"
    roots: tuple[Path, ...] = ()  # folders whose absolute paths outputs must not show
    files: dict[str, bytes] = field(default_factory=dict)  # attachments and local images to publish
    libraries: list[str] = field(default_factory=list)  # chart libraries the page loads
    gone: frozenset[str] = frozenset()  # file slugs of posts that have no page after this build


Step = Callable[[Notebook, Context], list[str]]


def hide(nb: Notebook, ctx: Context) -> list[str]:
    """Mark the front matter cell and the cells and outputs the author hid; return no warnings."""
    outputs.hide_cells(nb, ctx.post.front_matter_cell)
    return []


def clean(nb: Notebook, ctx: Context) -> list[str]:
    """Collapse \\r and \\b progress, remove ANSI codes, shorten machine paths; return no warnings."""
    outputs.clean_texts(nb, ctx.roots)
    return []


def choose(nb: Notebook, ctx: Context) -> list[str]:
    """Keep one safe form of each output (sanitize.py); return a warning per output not shown."""
    return outputs.choose_outputs(nb, ctx.post.front_matter.raw_html, ctx.post.rel_path)


def backend(nb: Notebook, ctx: Context) -> list[str]:
    """Return a warning per cell that asked for an interactive matplotlib backend."""
    return backends.warnings(ctx.post, nb)


def display(nb: Notebook, ctx: Context) -> list[str]:
    """Apply the display tags and the post's `stderr` mode; return its stderr warnings."""
    return cells.apply_display(nb, ctx.post.front_matter.stderr, ctx.post.rel_path)


def captions(nb: Notebook, ctx: Context) -> list[str]:
    """Copy myst-nb's figure caption and name into `caption` and `label`; return no warnings."""
    markup.copy_mystnb_captions(nb)
    return []


def chart(nb: Notebook, ctx: Context) -> list[str]:
    """Turn chart outputs into safe embeds, noting the libraries the page needs; return warnings."""
    found = charts.transform(nb, ctx.post.rel_path)
    ctx.libraries = found.libraries
    return found.warnings


def alt_text(nb: Notebook, ctx: Context) -> list[str]:
    """Give each figure output its alt text: its cell's caption, else title and figure number."""
    title = ctx.post.front_matter.title
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


def writing(nb: Notebook, ctx: Context) -> list[str]:
    """Number figures, tables and equations, resolve references and citations, turn callouts
    into admonitions; return the captions' warnings (a broken reference raises RenderError)."""
    return markup.apply(nb, ctx.post)


def title_heading(nb: Notebook, ctx: Context) -> list[str]:
    """Leave out the `# <title>` heading a post's first Markdown cell starts with; no warnings.

    The page shows the title as its h1 already, so the heading would say it twice. The cell
    is marked (Key.TITLE: links to that heading mean the page's top); a cell that was only the
    heading is hidden like any hidden cell (never deleted, so figure numbers hold).
    """
    title = ctx.post.front_matter.title.strip()
    for cell in nb.cells:
        if cell.metadata.get(Key.REMOVE) or cell.cell_type == "raw":
            continue
        if cell.cell_type == "markdown":
            lines = cell.source.strip("\n").split("\n")
            heading = _ATX.match(lines[0].rstrip())
            if heading and len(heading[1]) == 1 and heading[3].rstrip("#").strip() == title:
                cell.metadata[Key.TITLE] = True
                cell.source = "\n".join(lines[1:]).strip("\n")
                if not cell.source.strip():
                    cell.metadata[Key.REMOVE] = True
        break
    return []


def headings(nb: Notebook, ctx: Context) -> list[str]:
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


def excerpt(nb: Notebook, ctx: Context) -> list[str]:
    """Mark where the blog's excerpt ends, before the first visible code cell; return no warnings."""
    for cell in nb.cells:
        if cell.metadata.get(Key.REMOVE):
            continue
        if cell.cell_type == "code":
            cell.metadata[Key.MORE] = True
            break
    return []


_ATTACHMENT_EXT = {"image/png": ".png", "image/jpeg": ".jpg", "image/gif": ".gif", "image/svg+xml": ".svg"}


def attachments(nb: Notebook, ctx: Context) -> list[str]:
    """Move Markdown cell attachments out as files to publish; return a warning per one left out.

    Each is named attachment_<cell>_<n><ext> (never output_..., so it cannot collide with
    an output figure) and the cell's `attachment:` links point at it under the image base.
    One too large to publish (nbpress.rendering.figures) is replaced by a placeholder SVG.
    """
    warnings: list[str] = []
    for index, cell in enumerate(nb.cells):
        found = cell.get("attachments") or {}
        if cell.cell_type != "markdown" or not found:
            continue
        source = cell.source
        for number, (name, bundle) in enumerate(sorted(found.items())):
            mime = next((m for m in _ATTACHMENT_EXT if m in bundle), None)
            if mime is None:
                continue
            data = bundle[mime]
            try:
                raw = data.encode("utf-8") if mime == "image/svg+xml" else base64.b64decode(data)
            except (binascii.Error, ValueError):
                continue  # a corrupt attachment stays a broken link, as in Jupyter
            filename = f"attachment_{index}_{number}{_ATTACHMENT_EXT[mime]}"
            why = too_large(raw)
            if why is not None:
                warnings.append(
                    f"{ctx.post.rel_path}: cell {index + 1}: the attachment {name!r} {why}, so a "
                    "placeholder is shown instead; attach a smaller image"
                )
                filename, raw = f"attachment_{index}_{number}.svg", PLACEHOLDER_SVG
            ctx.files[filename] = raw
            source = source.replace(f"attachment:{name}", f"{ctx.image_base}{filename}")
        cell.source = source
        del cell["attachments"]
    return warnings


def link(nb: Notebook, ctx: Context) -> list[str]:
    """Rewrite links to posts and anchors, publish local images, show raw cells; return warnings."""
    post = ctx.post
    files, warnings = links.transform(nb, post, ctx.image_base, post.front_matter.raw_html, ctx.gone)
    ctx.files.update(files)
    return warnings


# The chain, in order. Warnings come out in this order too (they are kept in the post's record).
STEPS: tuple[tuple[str, Step], ...] = (
    ("hide", hide),
    ("clean", clean),
    ("choose", choose),
    ("backend", backend),
    ("display", display),
    ("captions", captions),
    ("charts", chart),
    ("alt_text", alt_text),
    ("markup", writing),
    ("title_heading", title_heading),
    ("headings", headings),
    ("excerpt", excerpt),
    ("attachments", attachments),
    ("links", link),
)


def run(executed: Notebook, ctx: Context, until: str | None = None) -> tuple[Notebook, list[str]]:
    """Return (a transformed copy of the executed notebook, the steps' warnings in order).

    With `until`, the chain stops after the step of that name. The executed notebook itself
    is not changed.
    """
    if until is not None and until not in dict(STEPS):
        raise ValueError(f"no transform step named {until!r}")
    nb = copy.deepcopy(executed)
    warnings: list[str] = []
    for name, step in STEPS:
        warnings += step(nb, ctx)
        if name == until:
            break
    return nb, warnings
