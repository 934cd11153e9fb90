"""Text sources through jupytext: Markdown notebooks (plain or MyST) and percent-format scripts.

A text source becomes the same notebook Jupyter would show for it, so it builds exactly like
an .ipynb. Its YAML header is the front matter: jupytext keeps a plain header as a first raw
cell (which posts.py already reads), and puts a MyST header's keys into the notebook metadata,
from where they are moved under `nbpress`.
"""

from __future__ import annotations

import contextlib
import contextvars
import datetime
import functools
import hashlib
import json
import re
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path

from .. import code_digest
from ..atomic import atomic_write
from ..errors import SourceError
from ..filestate import Derived, text_of
from ..notebook import Notebook, give_stable_ids

TEXT_SUFFIXES = (".md", ".py", ".qmd")
# Keys jupytext and Jupyter keep in a MyST header; everything else is the author's front matter.
_JUPYTER_KEYS = {"jupytext", "kernelspec", "jupyter", "language_info", "nbpress"}
_PERCENT_CELL = re.compile(r"^# %%", re.MULTILINE)
_MYST_CELL = re.compile(r"^(```|~~~)\{code-cell\}", re.MULTILINE)


def is_text_post(path: Path) -> bool:
    """Return True if a .md or .py file in posts/ is a post, not a page or a helper module.

    A Markdown post starts with a `---` YAML header; a Python post holds `# %%` cell markers.
    Anything else (a README.md, a module the posts import) is left alone. Decided once per
    file state (nbpress.filestate): every listing of posts/ asks.
    """
    known = TEXT_POSTS.known(path)
    if known is not None:
        return known
    try:
        return TEXT_POSTS.get(path, lambda data: _is_text_post(data, path.suffix))
    except OSError:
        return True  # let read_text_notebook report it


TEXT_POSTS: Derived[bool] = Derived()


def _is_text_post(data: bytes, suffix: str) -> bool:
    try:
        head = text_of(data)
    except UnicodeDecodeError:
        return True  # let read_text_notebook report it
    if suffix in (".md", ".qmd"):
        return head.lstrip("\ufeff").startswith("---")
    return bool(_PERCENT_CELL.search(head))


def read_text_notebook(
    path: Path,
    rel: str,
    warnings: list[str] | None = None,
    data: bytes | None = None,
    kept: Path | None = None,
) -> Notebook:
    """Return the notebook jupytext (for .qmd, sources.quarto) reads from a text source (its bytes: `data`).

    Raises SourceError if it cannot; appends problems that do not stop the post to `warnings`.
    `kept`: the cache's folder of notebooks read before (TEXT_NOTEBOOKS), used in a build's reading.
    """
    raw = path.read_bytes() if data is None else data
    try:
        text = text_of(raw)
    except UnicodeDecodeError:
        raise SourceError("the file is not UTF-8 text; save it again as UTF-8.", path=rel) from None
    if path.suffix == ".qmd":
        # jupytext's qmd format runs the quarto program: a post must build without it.
        from .quarto import read_quarto

        return _numbered(read_quarto(text, rel, warnings if warnings is not None else [], path.parent))
    if kept is None or not _BUILD_READING.get():
        return _read_text(text, path.suffix, rel)
    try:
        entry, key = kept / f"{path.name}.json", _text_key(path.suffix, raw)
    except OSError:  # nbpress's own files could not be read for the stamp: read as without a cache
        return _read_text(text, path.suffix, rel)
    notebook = _saved_text(entry, key)
    if notebook is None:
        notebook = _read_text(text, path.suffix, rel)
        _save_text(entry, key, notebook)
    return notebook


# The cache's folder of notebooks read from Markdown and percent sources (read_text_notebook).
# jupytext reads one in about 5 ms (its YAML in pure Python, nbformat's check of every cell),
# an .ipynb takes 1 ms: a blog of text posts paid that for every post in every new process.
# An entry is kept per source file, under a key of its bytes and of everything else that could
# read them differently (`_reader_stamp`), so it is the notebook those bytes give, whoever asks.
# Entries are read and written only while a build reads its sources (`build_reading`): holding
# its lock, before any kernel starts. While kernels run the cache is guarded (execution.guard),
# and what a cell wrote there is removed before the build ends, so no later build reads it.
TEXT_NOTEBOOKS = "texts"
_BUILD_READING: contextvars.ContextVar[bool] = contextvars.ContextVar("build_reading", default=False)


@contextlib.contextmanager
def build_reading() -> Iterator[None]:
    """Within it (in this thread), text sources read with a `kept` folder are looked up there and saved."""
    token = _BUILD_READING.set(True)
    try:
        yield
    finally:
        _BUILD_READING.reset(token)


def prune_texts(folder: Path, names: Iterable[str]) -> None:
    """Remove the saved notebooks of the sources whose file name is not in `names` (sources gone)."""
    wanted = {f"{name}.json" for name in names}
    with contextlib.suppress(OSError):
        for entry in folder.iterdir():
            if entry.name not in wanted and entry.is_file():
                entry.unlink(missing_ok=True)


@functools.cache
def _reader_stamp() -> bytes:
    """Return what decides a text source's notebook besides its bytes: nbpress's code (nbpress.code_digest),
    its readers' versions, Python's."""
    from importlib.metadata import PackageNotFoundError, version

    def installed(name: str) -> str:
        try:
            return version(name)
        except PackageNotFoundError:
            return "absent"

    h = hashlib.sha256(code_digest())
    for name in ("jupytext", "markdown-it-py", "mdit-py-plugins", "nbformat", "PyYAML"):
        h.update(f"\0{name} {installed(name)}".encode())
    h.update(f"\0Python {sys.version}".encode())
    return h.digest()


def _text_key(suffix: str, raw: bytes) -> str:
    return hashlib.sha256(_reader_stamp() + suffix.encode() + b"\0" + raw).hexdigest()


def _saved_text(entry: Path, key: str) -> Notebook | None:
    """Return the notebook saved in `entry` under `key` (None if there is none, or it was changed)."""
    import nbformat

    try:
        found = json.loads(entry.read_bytes(), object_hook=_decoded)
        if not isinstance(found, dict) or found.get("key") != key:
            return None
        saved = found.get("notebook")
        # With a digest of the notebook as saved: an entry damaged or edited since is a miss.
        if not isinstance(saved, dict) or not isinstance(saved.get("cells"), list):
            return None
        if found.get("digest") != _digest(saved):
            return None
        notebook: Notebook = nbformat.from_dict(saved)
    except (OSError, ValueError, TypeError, RecursionError):
        return None
    return notebook


def _save_text(entry: Path, key: str, notebook: Notebook) -> None:
    """Save `notebook` in `entry` under `key` (a cache that cannot be written only costs time).

    Only a notebook read back equal, its keys in the same order, is saved (a post's own front
    matter keys are published in its order). A MyST header's keys are YAML's: its dates are
    saved tagged (`_encoded`), and what else JSON would change (a number as a key) is not saved.
    """
    try:
        body = _dumps(notebook)
        again = json.loads(body, object_hook=_decoded)
        if again != notebook or _dumps(again) != body:
            return
    except (TypeError, ValueError, RecursionError):
        return
    data = f'{{"key": {json.dumps(key)}, "digest": "{_digest_of(body)}", "notebook": {body}}}'
    with contextlib.suppress(OSError):
        entry.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(entry, data.encode("ascii"))


def _digest(notebook: object) -> str:
    return _digest_of(_dumps(notebook))


def _digest_of(body: str) -> str:
    return hashlib.sha256(body.encode("ascii")).hexdigest()


def _dumps(value: object) -> str:
    """Return `value` as JSON, its keys in their order (never sorted: a post's order is its author's)."""
    return json.dumps(value, default=_encoded)


# A YAML date or timestamp in a saved notebook, as {_YAML_TIME: "date" or "datetime", "iso": ...}.
_YAML_TIME = "\u0000nbpress yaml time"


def _encoded(value: object) -> dict[str, str]:
    """Return a YAML date or timestamp as JSON can hold it; raise TypeError for anything else."""
    if isinstance(value, datetime.datetime):
        return {_YAML_TIME: "datetime", "iso": value.isoformat()}
    if isinstance(value, datetime.date):
        return {_YAML_TIME: "date", "iso": value.isoformat()}
    raise TypeError(f"{type(value).__name__} is not kept")


def _decoded(found: dict[str, object]) -> object:
    """Return what `_encoded` made back into a date or timestamp; any other object as it is."""
    kind, iso = found.get(_YAML_TIME), found.get("iso")
    if kind is None or len(found) != 2 or not isinstance(iso, str):
        return found
    if kind == "datetime":
        return datetime.datetime.fromisoformat(iso)
    return datetime.date.fromisoformat(iso) if kind == "date" else found


def _read_text(text: str, suffix: str, rel: str) -> Notebook:
    """Return the notebook jupytext reads from Markdown or a percent script; raise SourceError if not."""
    import jupytext

    fmt = "py:percent" if suffix == ".py" else None
    _check_header(text, suffix, rel)  # a .qmd's header is read by sources.quarto, by the same rule
    fmt = fmt or _markdown_format(text)
    if fmt == "md:myst":
        text = _keep_directive_breaks(text)
    try:
        notebook: Notebook = jupytext.reads(text, fmt=fmt)
    except Exception as err:  # jupytext raises many types for a broken file
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise SourceError(f"jupytext cannot read this file ({first}); fix its syntax.", path=rel) from None
    if fmt == "md:myst":
        for cell in notebook.cells:
            cell.source = cell.source.replace(_KEPT_BREAK, "")
    _move_header_keys(notebook)
    return _numbered(notebook)


# A `+++` line inside a MyST colon fence (`:::{card}` ... `+++` footer ... `:::`) is the directive's
# own (sphinx-design's footer mark), not a cell break: jupytext's MyST reader does not know colon
# fences and would split the directive into two cells, each half left as written on the page.
_KEPT_BREAK = "\ue000"
_COLON_OPEN = re.compile(r"^[ \t>]*(:{3,})[ \t]*\{")
_COLON_CLOSE = re.compile(r"^[ \t>]*:{3,}[ \t]*$")
_CODE_FENCE = re.compile(r"^[ \t>]*(`{3,}|~{3,})")
_CELL_BREAK = re.compile(r"^[ \t]*\+\+\+")


def _keep_directive_breaks(text: str) -> str:
    """Return MyST text whose `+++` lines inside a colon fence (outside code) jupytext will not split at.

    Each is marked with _KEPT_BREAK, which read_text_notebook removes from the cells again.
    """
    lines = text.split("\n")
    depth, code = 0, ""
    for number, line in enumerate(lines):
        if code:
            stripped = line.strip(" \t>")
            if stripped.startswith(code) and not stripped.strip(code[0]).strip():
                code = ""
        elif fence := _CODE_FENCE.match(line):
            code = fence.group(1)
        elif _COLON_OPEN.match(line):
            depth += 1
        elif depth and _COLON_CLOSE.match(line):
            depth -= 1
        elif depth and _CELL_BREAK.match(line):
            lines[number] = _KEPT_BREAK + line
    return "\n".join(lines)


def _numbered(notebook: Notebook) -> Notebook:
    """Return `notebook` with stable cell ids and nbformat 4.5 (ids need it), in place."""
    give_stable_ids(notebook.cells, keep=False)  # text formats carry none; jupytext's are random
    notebook.nbformat, notebook.nbformat_minor = 4, max(5, notebook.get("nbformat_minor", 5))
    return notebook


def _check_header(text: str, suffix: str, rel: str) -> None:
    """Raise SourceError, naming the file's line, if the YAML header is not valid YAML.

    Read here, before jupytext, which would expand anchors and aliases and report a broken
    header by its own line numbers or not at all (keeping it as a raw cell): the line named is
    the file's, where the author mistyped the key (yamlload.error_line).
    """
    import yaml

    from ..yamlload import error_line, error_problem, load_yaml

    lines = text.lstrip("\ufeff").splitlines()
    if suffix == ".py":
        # A percent script's header is its first comment lines, '# ---' to '# ---'.
        lines = [line[2:] if line.startswith("# ") else line.lstrip("#") for line in lines]
    if not lines or lines[0].strip() != "---":
        return
    end = next((i for i, line in enumerate(lines[1:], 1) if line.strip() in ("---", "...")), None)
    if end is None:
        return  # no header: the front matter reader says what is missing
    try:
        load_yaml("\n".join(lines[1:end]))
    except yaml.YAMLError as err:
        line = error_line(err)
        at = f" at line {line + 2}" if line is not None else ""  # the YAML's first line is the file's 2nd
        raise SourceError(f"front matter YAML is broken{at} ({error_problem(err)}).", path=rel) from None


def _markdown_format(text: str) -> str:
    """Return jupytext's format for a Markdown source: MyST (only `{code-cell}` blocks run) or Markdown.

    MyST when its jupytext header or a `{code-cell}` says so, or, without a jupytext header,
    when it writes MyST directives (```` ```{note} ````, `:::{note}`) and no ```` ```python ````
    code: a Jupyter Book page, whose other fences (```` ```bash ````) are shown, not run.
    Otherwise jupytext's Markdown, where ```` ```python ```` fences are the cells. Named outright
    either way: jupytext would take a `:::` line for Pandoc Markdown, which needs the pandoc
    binary; a source is never read as Pandoc's.
    """
    from jupytext.formats import guess_format

    name, _ = guess_format(text, ".md")
    # jupytext only recognises MyST by a complete jupytext header; code-cell directives say it too.
    if name == "myst" or _MYST_CELL.search(text):
        return "md:myst"
    if name == "markdown" and _JUPYTEXT_HEADER.match(text.lstrip("\ufeff")):
        return "md:markdown"
    return "md:myst" if _writes_myst(text) else "md:markdown"


_JUPYTEXT_HEADER = re.compile(r"---[ \t]*\n(?:(?!---[ \t]*\n)[^\n]*\n)*?jupytext:", re.S)
_COLON_DIRECTIVE = re.compile(r"^[ \t]*:{3,}\{[A-Za-z]", re.M)
_PYTHON_INFO = re.compile(r"(?:python3?|py|ipython3?)(?:\s|$)")


def _writes_myst(text: str) -> bool:
    """Return True if Markdown writes a MyST directive outside code and no ```python code fence."""
    from markdown_it import MarkdownIt

    tokens = MarkdownIt("commonmark").parse(text)
    fences = [t.info.strip() for t in tokens if t.type == "fence"]
    if any(_PYTHON_INFO.match(info) for info in fences):
        return False
    return any(info.startswith("{") for info in fences) or any(
        t.type == "inline" and _COLON_DIRECTIVE.search(t.content) for t in tokens
    )


def _move_header_keys(notebook: Notebook) -> None:
    """Move a MyST header's front matter keys from the notebook metadata to `nbpress`."""
    meta = notebook.metadata
    own = {k: meta[k] for k in list(meta) if k not in _JUPYTER_KEYS}
    if not own:
        return
    for key in own:
        del meta[key]
    meta["nbpress"] = {**own, **(meta.get("nbpress") or {})}
