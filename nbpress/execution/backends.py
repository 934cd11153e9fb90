"""What a notebook asks of its kernel that a static page cannot give, settled before it runs.

- Interactive matplotlib backends (`%matplotlib notebook`, `%matplotlib widget`, ipympl,
  `matplotlib.use('nbagg')`) draw into JavaScript widgets that a static page cannot show:
  the cells run with the inline backend instead, so their figures come out as pictures, and
  the build says so. The source shown in the post is the author's, unchanged.
- A notebook for another language's kernel (Julia, R) must not run in Python: the kernel it
  names is checked before anything runs.
"""

from __future__ import annotations

import re

from ..errors import ExecutionError, cell_place
from ..notebook import FIGURE_TYPES, Cell, Notebook, outputs_of
from ..sources import Post

INLINE = "module://matplotlib_inline.backend_inline"
_INTERACTIVE = r"notebook|nbagg|widget|ipympl|module://ipympl\.backend_nbagg|webagg|WebAgg"
_MAGIC_RE = re.compile(rf"^([ \t]*)%matplotlib[ \t]+({_INTERACTIVE})\b[^\n]*$", re.M)
_USE_RE = re.compile(rf"""\b(use|switch_backend)\(\s*(['"])({_INTERACTIVE})\2""")
# Kernel variables: any backend chosen by the environment is the inline one too.
KERNEL_ENV = {"MPLBACKEND": INLINE}


def _static(source: str) -> str:
    source = _MAGIC_RE.sub(lambda m: f"{m.group(1)}%matplotlib inline", source)
    return _USE_RE.sub(lambda m: f"{m.group(1)}({m.group(2)}{INLINE}{m.group(2)}", source)


def make_static(notebook: Notebook) -> dict[int, str]:
    """Point interactive backends at the inline one, in place; return {cell index: original source}."""
    originals: dict[int, str] = {}
    for index, cell in enumerate(notebook.cells):
        if cell.cell_type != "code":
            continue
        static = _static(cell.source)
        if static != cell.source:
            originals[index] = cell.source
            cell.source = static
    return originals


def restore(notebook: Notebook, originals: dict[int, str]) -> None:
    """Put back the sources make_static changed, so the post shows what the author wrote."""
    for index, source in originals.items():
        notebook.cells[index].source = source


def _figures(cell: Cell, index: int) -> str:
    """Return ", figures output_<cell>_<n>" naming a cell's figure files as the post names them."""
    names = [
        f"output_{index}_{n}"
        for n, output in enumerate(outputs_of(cell))
        if any(t in output.get("data", {}) for t in FIGURE_TYPES)
    ]
    return f" (figure{'s' if len(names) > 1 else ''} {', '.join(names)})" if names else ""


def warnings(post: Post, executed: Notebook) -> list[str]:
    """Return the warnings about what the executed notebook asked for but a static page cannot show.

    One per cell that asks for an interactive matplotlib backend, naming the figures it drew
    (outputs replaced by a note are warned about where they are cleaned). Cells count from 1
    as Jupyter shows them, figure files from 0 as their names do.
    """
    found = []
    for index, cell in enumerate(executed.cells):
        if cell.cell_type != "code" or index >= len(post.notebook.cells):
            continue
        source = post.notebook.cells[index].source
        match = _MAGIC_RE.search(source) or _USE_RE.search(source)
        where = cell_place(post.rel_path, index + 1)
        if match is not None:
            magic = match.re is _MAGIC_RE
            asked = match.group(0).strip() if magic else f"{match.group(1)}('{match.group(3)}')"
            found.append(
                f"{where}{_figures(cell, index)}: {asked} asks for an interactive matplotlib backend, "
                "which a static page cannot show; its figures were drawn by the inline backend "
                "(write %matplotlib inline to silence this)."
            )
    return found


def check_kernel(post: Post) -> None:
    """Raise ExecutionError, before anything runs, if the kernel the post needs is not installed."""
    name = post.front_matter.kernel
    if name == "python3":
        return  # ipykernel's own, installed with the requirements; a missing one fails as before
    from jupyter_client.kernelspec import KernelSpecManager

    installed = KernelSpecManager().find_kernel_specs()
    if name in installed:
        return
    spec = post.notebook.metadata.get("kernelspec") or {}
    language = spec.get("language") or (post.notebook.metadata.get("language_info") or {}).get("name")
    what = f"the Jupyter kernel {name!r}" + (f" ({str(language).capitalize()})" if language else "")
    have = ", ".join(sorted(installed)) or "none"
    raise ExecutionError(
        post.rel_path,
        None,
        f"the notebook needs {what}, which is not installed here; installed: {have}",
        "install that kernel, or set kernel: in the front matter to one that is installed",
    )
