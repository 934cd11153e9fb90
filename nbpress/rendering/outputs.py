"""Clean executed outputs: terminal control codes, machine paths, cells the author hid.

Also what keeps a post safe and small: text outputs and figure counts are capped with a
visible note, outputs the site cannot show are replaced by a note, corrupt images are left
out, and every output passes nbpress.rendering.sanitize (HTML unless the post opts in to raw HTML).
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterable, Mapping
from pathlib import Path

from ..errors import cell_place
from ..notebook import FIGURE_TYPES, Cell, Key, Notebook, Output, is_chart, note
from ..notebook import text_of as _join
from ..terminal import clean_text
from .figures import SIGNATURES, animation_png, too_large
from .sanitize import (
    drop_remote,
    html_visible,
    latex_html,
    markdown_html,
    remote_problem,
    sanitize_html,
    sanitize_svg,
)

# What the Markdown template can show; anything else in an output is dropped.
SHOWN_TYPES = (*FIGURE_TYPES, "text/html", "text/markdown", "text/latex", "text/plain")
# Output types that are interactive or need a plugin: named in the note that replaces them.
_UNSHOWN_NAMES = {
    "application/vnd.jupyter.widget-view+json": "an interactive widget",
    "application/javascript": "JavaScript output",
    "application/pdf": "a PDF",
}


def _figure_bytes(mime: str, value: object) -> bytes:
    """Return the bytes a figure output publishes (valid: checked by _valid_image first)."""
    if mime == "image/svg+xml":
        return _join(value).encode("utf-8", "backslashreplace")
    return base64.b64decode(_join(value))


def _valid_image(mime: str, value: object) -> bool:
    if mime == "image/svg+xml":
        return isinstance(value, (str, list)) and "<svg" in _join(value)
    try:
        raw = base64.b64decode(_join(value), validate=True)
    except (binascii.Error, ValueError):
        return False
    return raw.startswith(SIGNATURES[mime])


def _choose_rich(output: Output, raw_html: bool, problems: list[str], number: int = 1) -> Output:
    """Return the output with only showable, valid data; or a note when nothing is left.

    What cannot be shown is also described in `problems` (what, and what to do).
    """
    data = output.get("data", {})
    if is_chart(data):
        # A chart (plotly, altair, bokeh, widget): render.py's charts step replaces its data
        # with a safe embed built from its JSON alone; nothing of it reaches the page as is.
        return output
    if "text/html" in data:  # matplotlib's animation player: its frames, as an animated PNG
        png, why = animation_png(_join(data["text/html"]))
        if why is not None:
            problems.append(
                f"the animation of output {number} {why}, so it was left out; show fewer or smaller frames"
            )
            return note("an animation that cannot be published was left out")
        if png is not None:
            data = output["data"] = {"image/png": base64.b64encode(png).decode("ascii")}
    interactive = [name for mime, name in _UNSHOWN_NAMES.items() if mime in data]
    if interactive:
        # Its text/plain is only a repr like "<IPython.core.display.Javascript object>".
        # No warning here: render's charts step warns for every "cannot be shown" note.
        return note(f"{interactive[0]} cannot be shown on a static page")
    unshown = [m for m in data if m not in SHOWN_TYPES]
    corrupt = [m for m in FIGURE_TYPES if m in data and not _valid_image(m, data[m])]
    for mime in [m for m in data if m not in SHOWN_TYPES or m in corrupt]:
        del data[mime]
    if corrupt:
        problems.append(f"a {corrupt[0]} figure could not be decoded; check the code that makes it")
        return note(f"a {corrupt[0]} figure could not be decoded and was left out")
    for mime in [m for m in FIGURE_TYPES if m in data]:
        why = too_large(_figure_bytes(mime, data[mime]))
        if why is not None:
            problems.append(
                f"the {mime} figure of output {number} {why}, so it was left out; "
                "make it smaller (a lower dpi or figsize)"
            )
            return note(f"a {mime} figure too large to publish was left out")
    chosen = richest_form(data, raw_html, problems)
    if chosen is None:
        if "text/html" in data:
            return note("an HTML output held nothing a static page can show (script or frames only)")
        if unshown:  # warned for by render's charts step, as above
            return note(f"an output of type {unshown[0]} cannot be shown on a static page")
        return note("an empty output was left out")
    mime, value = chosen
    # Only the form shown is kept: nbconvert would otherwise write the others (a PNG beside
    # the HTML) as figures no page links.
    output["data"] = {mime: value}
    return output


def richest_form(data: Mapping[str, object], raw_html: bool, problems: list[str]) -> tuple[str, str] | None:
    """Return (MIME type, safe value) of the richest form of `data` a static page shows faithfully.

    HTML and Markdown are sanitized (unless `raw_html`) and kept only if something visible is
    left, else another form is shown, else None (a note); LaTeX becomes math for KaTeX; an SVG
    figure is sanitized; else a PNG or JPEG; else text.
    """
    remote: list[str] = []  # what a form loaded from another host: named in a warning
    if "text/html" in data:
        html = _join(data["text/html"])
        if raw_html:
            # Trusted, so published as written: but nothing in it loads from another host.
            html, remote = drop_remote(html)
            problems.extend(remote_problem(url) for url in remote)
            return "text/html", html
        clean = sanitize_html(html, remote)
        problems.extend(remote_problem(url) for url in remote)
        if html_visible(clean):
            return "text/html", clean
        if not any(
            m in data for m in ("image/png", "image/jpeg", "image/svg+xml", "text/markdown", "text/latex")
        ):
            # Its text/plain is only a repr like "<IPython.core.display.HTML object>".
            problems.append(
                "an HTML output held nothing a static page can show once script and frames are "
                "removed (it is replaced by a note); display a figure or a table instead, "
                "or set raw_html: true if you trust it"
            )
            return None
    if "text/markdown" in data:
        text = _join(data["text/markdown"])
        if raw_html:
            from .links import remote_free_markdown

            text, remote = remote_free_markdown(text)
            problems.extend(remote_problem(url) for url in remote)
            return "text/markdown", text
        remote = []
        clean = markdown_html(text, remote)
        problems.extend(remote_problem(url) for url in remote)
        return "text/html", clean
    if "image/svg+xml" in data:
        remote = []
        svg = sanitize_svg(_join(data["image/svg+xml"]), remote)
        if svg is not None:
            problems.extend(remote_problem(url) for url in remote)
            return "image/svg+xml", svg
        if not any(m in data for m in ("image/png", "image/jpeg")):
            problems.append("an SVG figure could not be read as SVG and was left out; save the figure as PNG")
    if "text/latex" in data:
        return "text/html", latex_html(_join(data["text/latex"]))
    for mime in ("image/png", "image/jpeg", "text/plain"):
        if mime in data:
            return mime, _join(data[mime])
    return None


def _shown_code_cells(notebook: Notebook) -> Iterable[tuple[int, Cell]]:
    """Yield (index, cell) of each code cell not marked Key.REMOVE."""
    for index, cell in enumerate(notebook.cells):
        if cell.cell_type == "code" and not cell.metadata.get(Key.REMOVE):
            yield index, cell


def clean_texts(notebook: Notebook, roots: Iterable[Path] = ()) -> None:
    """Collapse progress updates, remove ANSI codes and shorten machine paths in text outputs, in place."""
    root_list = list(roots)
    for _, cell in _shown_code_cells(notebook):
        for output in cell.outputs:
            kind = output.get("output_type")
            if kind == "stream":
                output["text"] = clean_text(_join(output.get("text", "")), root_list)
            elif kind == "error":
                output["traceback"] = [clean_text(line, root_list) for line in output.get("traceback", [])]
                output["evalue"] = clean_text(str(output.get("evalue", "")), root_list)
            elif kind in ("execute_result", "display_data") and "text/plain" in output.get("data", {}):
                output["data"]["text/plain"] = clean_text(_join(output["data"]["text/plain"]), root_list)


def choose_outputs(notebook: Notebook, raw_html: bool, where: str) -> list[str]:
    """Keep one safe form of each rich output (nbpress.rendering.sanitize), or a note; return warnings.

    HTML and Markdown are sanitized unless `raw_html` (the post's opt-in), LaTeX becomes math,
    SVG figures are sanitized. Each output that cannot be shown becomes a note, and a warning
    names `where` (the source) and the cell.
    """
    warnings: list[str] = []
    for index, cell in _shown_code_cells(notebook):
        problems: list[str] = []
        rich = ("execute_result", "display_data")
        cell.outputs = [
            _choose_rich(o, raw_html, problems, n + 1) if o.get("output_type") in rich else o
            for n, o in enumerate(cell.outputs)
        ]
        # Cells count from 1 as Jupyter shows them; figure files count from 0.
        warnings.extend(f"{cell_place(where or 'a post', index + 1)}: {p}." for p in problems)
    return warnings
