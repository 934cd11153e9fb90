"""Discover and read source notebooks into validated, frozen Post objects."""

from __future__ import annotations

import json
import os
import stat
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import yaml

from ..errors import NbpressError, SourceError, one_post
from ..filestate import Derived
from ..notebook import Notebook, bad_data, give_stable_ids
from ..yamlload import error_line, error_problem, load_yaml
from .cells import tag_warnings, with_tags
from .fastpages import add_fastpages_item, is_front_matter_cell, parse_front_matter_cell, split_dated_name
from .formats import TEXT_NOTEBOOKS, TEXT_SUFFIXES, is_text_post, read_text_notebook
from .frontmatter import (
    FrontMatter,
    add_yaml,
    check_authors,
    implied_values,
    misspelled_keys,
    safe_slug,
    slug_too_long,
    unpaired_keys,
    validate_front_matter,
)

SOURCE_SUFFIXES = (".ipynb", *TEXT_SUFFIXES)
# Where a post's front matter was read from (Post.origin), as error messages name it.
CELL = "front matter cell"
METADATA = "notebook metadata 'nbpress'"
FASTPAGES = "fastpages front matter cell"


@dataclass(frozen=True)
class Post:
    """One source notebook, read and validated, nothing executed yet."""

    file_slug: str  # its source's name without suffix and date prefix: names its files (layout)
    path: Path
    rel_path: str
    front_matter: FrontMatter
    written: Notebook  # the notebook as read, an nbformat NotebookNode seen through its typed view
    front_matter_cell: int | None
    # Problems that did not stop the post (optional metadata repaired); printed by the build.
    warnings: tuple[str, ...] = ()
    origin: str = CELL  # where the front matter was read from (CELL, METADATA or FASTPAGES)

    @cached_property
    def notebook(self) -> Notebook:
        """Return the notebook nbpress executes, keys and renders: `written`, every cell option as tags.

        Made on first use (cells.with_tags) and shared: copy it before changing it.
        """
        return with_tags(self.written, self.rel_path)

    @property
    def url_slug(self) -> str:
        """Return the post's URL part (`slug:` in its front matter; by default its file slug)."""
        return str(self.front_matter.data.get("slug", self.file_slug))


@dataclass(frozen=True)
class Failure:
    """A source that could not become a Post: its name (relative to the blog) and why."""

    name: str
    error: NbpressError


def read_sources(sources: list[Path], root: Path) -> tuple[list[Post], list[Failure]]:
    """Return (the posts read from `sources`, a Failure for each that cannot be read).

    The authors file is read once for all (a broken one raises ConfigError: no post is read).
    """
    from ..layout import Layout
    from .authors import read_authors

    authors = read_authors(Layout(root))
    read: list[Post] = []
    failures: list[Failure] = []
    for path in sources:
        try:
            read.append(read_post(path, root, authors))
        except NbpressError as err:
            failures.append(Failure(path.relative_to(root).as_posix(), err))
    return read, failures


def read_unique(sources: list[Path], root: Path) -> tuple[list[Post], list[Failure]]:
    """Return (the readable posts whose file and URL slugs no other post shares, failures of the rest).

    Names compare case-insensitively: two names differing in case are one file on macOS.
    """
    read, failures = read_sources(sources, root)
    clashes: dict[tuple[str, str], list[Post]] = {}
    for post in read:
        for key in {("file", post.file_slug.lower()), ("url", post.url_slug.lower())}:
            clashes.setdefault(key, []).append(post)
    failed: dict[str, str] = {}
    for (_, name), group in sorted(clashes.items()):
        if len(group) > 1:
            members = ", ".join(p.rel_path for p in group)
            for post in group:
                failed.setdefault(
                    post.rel_path,
                    f"{post.rel_path}: the slug {name!r} is used by several sources ({members}); "
                    "rename one, or give it another slug: in its front matter.",
                )
    failures += [Failure(p.rel_path, SourceError(failed[p.rel_path])) for p in read if p.rel_path in failed]
    return [p for p in read if p.rel_path not in failed], failures


def discover(posts_dir: Path) -> list[Path]:
    """Return the source files in `posts_dir`, sorted by name.

    Entries with a source suffix that are not regular files (a symbolic link, a folder, a
    FIFO) are returned too, unread, so that read_post refuses them with a line naming them.
    """
    if not posts_dir.is_dir():
        return []
    with os.scandir(posts_dir) as entries:  # the kind of each entry comes with the listing
        found = [
            entry.name
            for entry in entries
            if _is_source(entry.name, entry.path, not entry.is_file(follow_symlinks=False))
        ]
    return [posts_dir / name for name in sorted(found)]  # names sort as their paths in one folder do


def is_source(path: Path) -> bool:
    """Return True if `path`, a file in posts/, is one `discover` lists."""
    return _is_source(path.name, os.fspath(path), _not_regular(path) is not None)


def _is_source(name: str, path: str, irregular: bool) -> bool:
    suffix = os.path.splitext(name)[1]
    return (
        suffix in SOURCE_SUFFIXES
        and not name.startswith(".")
        and (irregular or suffix == ".ipynb" or is_text_post(Path(path)))
    )


def _not_regular(path: Path) -> str | None:
    """Return what `path` is if it is not a regular file ("a symbolic link", ...), else None."""
    try:
        mode = path.lstat().st_mode
    except OSError:
        return "gone"
    if stat.S_ISREG(mode):
        return None
    if stat.S_ISLNK(mode):
        return "a symbolic link"
    return "a folder" if stat.S_ISDIR(mode) else "not a regular file"


def name_slug(path: Path) -> str:
    """Return the slug a source's file name gives, unchecked: the stem without a date prefix."""
    return split_dated_name(path.stem)[1]


def slug_for(path: Path) -> str:
    """Return the slug of a source file, or raise SourceError if it is not a safe name."""
    slug = name_slug(path)
    if not safe_slug(slug):
        raise SourceError(
            f"{path.name!r}: the file name is not a safe post name "
            "(use letters, digits, '.', '_' and '-' only, starting with a letter or digit)."
        )
    problem = slug_too_long(slug)
    if problem:
        where = path.parent.name + "/" + path.name
        raise SourceError(f"the file name is too long: {problem}; rename the file.", path=where)
    return slug


def read_post(path: Path, root: Path, authors: dict[str, object] | None = None) -> Post:
    """Return the Post read from `path`; raise an NbpressError naming every problem found.

    Whatever goes wrong while reading (a value nested too deeply for a parser, a library's
    own exception) fails this post alone, with one line (errors.one_post). `authors` is the
    mapping of the authors file (read here when not given): a post's `authors:` must name them.
    """
    if authors is not None:  # read before, as it is now: handed out again, nothing asked but its state
        known = SOURCES.known(path, (str(root), repr(authors)))
        if known is not None:
            return known
    rel = path.relative_to(root).as_posix() if path.is_relative_to(root) else path.name
    with one_post(rel, "reading it"):
        if authors is None:
            from ..layout import Layout
            from .authors import read_authors

            authors = read_authors(Layout(root))
        kind = _not_regular(path)
        if kind is not None:
            # A link could publish a file from anywhere (a secret, the environment of a process) as the post.
            raise SourceError(
                f"{kind}, not a regular file; a post must be a file inside posts/ (copy it there).", path=rel
            )
        # One parse per file state (nbpress.filestate): a build reads its sources more than once
        # (the plan, the series index, the watcher's table), and a watch after every save.
        try:
            context = (str(root), repr(authors))
            return SOURCES.get(path, lambda data: _read_post(path, root, rel, authors, data), context)
        except OSError:  # unreadable: _read_post says why, in its words
            return _read_post(path, root, rel, authors)


# Posts read by this process, per file state (of the entry in posts/, so a link put in a source's
# place is seen), root and authors: a Post is never changed once read (its notebook is copied
# before it is run or rendered), so one can be handed out twice.
SOURCES: Derived[Post] = Derived(follow_symlinks=False)


def _read_post(
    path: Path, root: Path, rel: str, authors: dict[str, object], content: bytes | None = None
) -> Post:
    """Return the Post of the source `path` whose bytes are `content` (read here when not given)."""
    slug = slug_for(path)
    warnings: list[str] = []
    if path.suffix == ".ipynb":
        notebook = _read_notebook(path, rel, warnings, content)
    else:
        from ..layout import Layout

        notebook = read_text_notebook(path, rel, warnings, content, Layout(root).cache / TEXT_NOTEBOOKS)
    _refuse_bad_data(notebook, rel)
    data, fm_cell, origin = _front_matter_data(notebook, rel)
    problem = bad_data(data)
    if problem is not None:
        raise SourceError(f"{rel} ({origin}): front matter: {problem}; remove it.")
    tagged = with_tags(notebook, rel)  # raises naming a cell whose `#|` options are broken
    implied = implied_values(data, split_dated_name(path.stem)[0], notebook)
    add = add_fastpages_item(path.name) if origin == FASTPAGES else add_yaml
    front_matter = validate_front_matter(data, f"{rel} ({origin})", implied, add)
    check_authors(front_matter, authors, f"{rel} ({origin})")
    warnings += misspelled_keys(data, rel)
    warnings += tag_warnings(tagged, rel)
    warnings += unpaired_keys(front_matter, rel)
    return Post(
        file_slug=slug,
        path=path,
        rel_path=rel,
        front_matter=front_matter,
        written=notebook,
        front_matter_cell=fm_cell,
        warnings=tuple(warnings),
        origin=origin,
    )


def _refuse_bad_data(notebook: Any, rel: str) -> None:
    """Raise SourceError naming the cell if any value is nested too deeply or holds a lone surrogate.

    Checked once, on the notebook as read, so no later stage (validation, copying, caching,
    writing UTF-8) meets such a value.
    """
    cells = notebook.get("cells") or []
    for index, cell in enumerate(cells):
        problem = bad_data(cell)
        if problem is not None:
            raise SourceError(f"{problem}; remove it, then build again.", path=rel, cell=index + 1)
    problem = bad_data({k: v for k, v in notebook.items() if k != "cells"})
    if problem is not None:
        raise SourceError(f"the notebook's {problem}; remove it, then build again.", path=rel)


# Optional notebook metadata nbpress reads nothing from but the kernel's name: when it breaks
# nbformat's schema, it is dropped with a warning rather than refusing the notebook.
_OPTIONAL_METADATA = ("kernelspec", "language_info", "widgets", "toc", "varInspector")


def _read_notebook(
    path: Path, rel: str, warnings: list[str] | None = None, data: bytes | None = None
) -> Notebook:
    import nbformat

    try:
        raw = json.loads(path.read_bytes() if data is None else data)
    except RecursionError:
        raise SourceError(
            "the notebook's JSON is nested too deeply to read (thousands of levels); "
            "a notebook never needs that: remove the value, or save the notebook again from Jupyter.",
            path=rel,
        ) from None
    except UnicodeDecodeError:
        raise SourceError("the file is not UTF-8 text; save it again as a notebook.", path=rel) from None
    except json.JSONDecodeError as err:
        raise SourceError(
            f"not valid JSON (line {err.lineno}, column {err.colno}: {err.msg}); "
            "open it in Jupyter and save it again.",
            path=rel,
        ) from None
    if not isinstance(raw, dict) or ("cells" not in raw and "worksheets" not in raw):
        raise SourceError("this JSON is not a Jupyter notebook (it has no cells).", path=rel)
    # Before nbformat walks it (recursively): too deep a value or a lone surrogate, named by cell.
    _refuse_bad_data(raw, rel)
    major = raw.get("nbformat")
    if major not in (3, 4):
        raise SourceError(
            f"nbformat {major!r} is not supported; save it with Jupyter as nbformat 4.", path=rel
        )
    cells, minor = raw.get("cells"), raw.get("nbformat_minor")
    if raw.get("nbformat") == 4 and isinstance(cells, list) and isinstance(minor, int) and minor >= 5:
        give_stable_ids(cells, keep=True)  # nbformat would invent random ids, with a warning
    try:
        # nbformat joins multi-line sources and upgrades nbformat 3 while it reads.
        # It validates what it read: the schema is walked again only for a notebook that failed.
        invalid: dict[str, Exception] = {}
        node: Notebook = nbformat.reads(json.dumps(raw), as_version=4, capture_validation_error=invalid)
        if invalid:
            _repair_metadata(node, rel, warnings if warnings is not None else [])
            nbformat.validate(node)
    except Exception as err:  # nbformat raises several unrelated types for a bad notebook
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise SourceError(
            f"not a valid notebook ({first}); open it in Jupyter and save it again.", path=rel
        ) from None
    return node


def _repair_metadata(node: Any, rel: str, warnings: list[str]) -> None:
    """Drop optional notebook metadata that breaks the schema, noting each in `warnings`."""
    import nbformat

    try:
        nbformat.validate(node)
        return
    except Exception:  # any schema problem; validated again by the caller
        pass
    meta = node.get("metadata", {})
    for key in _OPTIONAL_METADATA:
        if key not in meta:
            continue
        trial = nbformat.from_dict({**node, "metadata": {k: v for k, v in meta.items() if k != key}})
        value = meta[key]
        try:
            nbformat.validate(trial)
        except Exception:  # this key was not (the only) problem
            continue
        del meta[key]
        problem = f"{json.dumps(value, sort_keys=True)[:80]}"
        warnings.append(
            f"{rel}: the notebook metadata {key!r} is invalid ({problem}) and was ignored; "
            "open the notebook in Jupyter, choose its kernel and save it."
        )
        return


def _front_matter_data(notebook: Notebook, rel: str) -> tuple[dict[str, object], int | None, str]:
    """Return (front matter mapping, index of the raw front matter cell or None, origin)."""
    cells = notebook.get("cells", [])
    if cells and cells[0].get("cell_type") == "raw":
        text = cells[0].get("source", "")
        if text.lstrip().startswith("---"):
            return _parse_yaml_block(text, rel), 0, CELL
    meta = notebook.get("metadata", {}).get("nbpress")
    if isinstance(meta, dict):
        return dict(meta), None, METADATA
    if cells and is_front_matter_cell(cells[0]):
        return parse_front_matter_cell(cells[0].source, rel), 0, FASTPAGES
    if not rel.endswith(".ipynb"):
        header = "'# ---' lines" if rel.endswith(".py") else "'---' lines"
        raise SourceError(
            f"no front matter; start the file with a YAML header between {header} "
            "holding at least title and date.",
            path=rel,
        )
    raise SourceError(
        "no front matter; start the notebook with a raw cell holding '---', "
        "YAML with at least title and date, and '---'.",
        path=rel,
    )


def _parse_yaml_block(text: str, rel: str) -> dict[str, object]:
    """Return the mapping of a raw front matter cell: YAML between '---' lines (blank lines around)."""
    lines = text.splitlines()
    filled = [i for i, line in enumerate(lines) if line.strip()]
    start, end = filled[0], filled[-1]  # the opening '---' (the caller saw it) and the last line
    if end == start or lines[end].strip() != "---":
        raise SourceError("the front matter cell does not end with a '---' line.", path=rel)
    try:
        data = load_yaml("\n".join(lines[start + 1 : end]))
    except yaml.YAMLError as err:
        line = error_line(err)
        # Counted as the cell shows its lines, from 1: the YAML's first line is the one after '---'.
        at = f" at line {start + 2 + line}" if line is not None else ""
        raise SourceError(
            f"front matter YAML is broken{at} of the first cell ({error_problem(err)}).", path=rel
        ) from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise SourceError("front matter must be a YAML mapping of keys to values.", path=rel)
    return data
