"""A post's downloads: what a reader downloads beside its page, and its executed notebook read back."""

from __future__ import annotations

from pathlib import Path

from ..errors import NbpressError, WriteError
from ..execution import outputs_by_cell, outputs_problem
from ..layout import Layout, PostFiles, read_owned
from ..notebook import CachedOutputs, Notebook
from ..sources import Post
from .write import Site


def downloads(post: Post, files: PostFiles, cleaned: Notebook, root: Path) -> dict[str, bytes]:
    """Return {name: bytes} a reader downloads: the executed notebook and the declared inputs.

    The notebook is the source with the cleaned outputs (sanitized, machine paths shortened),
    named <slug>.ipynb, without execution counts: the same bytes whether the post was just
    executed or re-rendered from the cache. An input keeps its path relative to posts/, so the
    notebook finds it where it looked; one that is not the blog's own file fails the post.
    """
    import copy
    import json

    import nbformat

    # A text source's metadata may hold YAML values JSON has no type for (dates): as text.
    notebook = nbformat.from_dict(json.loads(json.dumps(post.notebook, default=str)))
    for cell, done in zip(notebook.cells, cleaned.cells, strict=False):
        if cell.cell_type == "code":
            cell.execution_count = None
            cell.outputs = copy.deepcopy(done.get("outputs", []))
            for output in cell.outputs:
                if "execution_count" in output:
                    output["execution_count"] = None
    found = {files.notebook: nbformat.writes(notebook).encode("utf-8")}
    posts_dir = Layout(root).sources.resolve()
    for name in post.front_matter.inputs:
        try:
            # The one check of what may be published (nbpress.layout.owned_file).
            path, data = read_owned(posts_dir, name, "declared input")
            found[files.download_name(path.relative_to(posts_dir).as_posix())] = data
        except NbpressError as err:
            raise err.at(post.rel_path) from None
    return found


def published_outputs(site: Site, file_slug: str) -> CachedOutputs | None:
    """Return the outputs of each code cell of the post's published executed-notebook download.

    They are as the post shows them (cleaned, one form each); None when the download is
    missing, unreadable or not of the shape the cache keeps.
    """
    import nbformat

    for draft in (False, True):  # the post may have been published as a draft
        try:
            files = site.layout.post(file_slug, draft=draft)
            path = files.download(files.notebook)
            # nbformat joins the lines a file keeps as lists back into strings, as a kernel gives them.
            outputs = outputs_by_cell(nbformat.reads(path.read_text(encoding="utf-8"), as_version=4))
        except (OSError, ValueError, KeyError, TypeError, AttributeError, WriteError):  # not a notebook
            continue
        return None if outputs_problem(outputs) else outputs
    return None
