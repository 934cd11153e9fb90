"""Import a Jupyter Book or a Quarto project into posts/: `python build.py import PATH`.

A project's pages become posts of one series, in table-of-contents order. The import is
planned whole before anything is written (`plan_import`), so a refusal (a post that exists,
a file that would be replaced by other bytes) writes nothing; `write_plan` then writes each
file atomically, the files the posts use before the posts. It writes only into posts/ (the
authors' tree): the published trees stay written by the build alone.

One rule places every file: a post is named `<series slug>-<page name>` (so two books, or a
book and the blog's own posts, never claim one name); a file the Markdown of a page names
(an image, a data file, a download) and the project's bibliography go to
`posts/<series slug>/<its path in the project>` and the reference is rewritten to it; a file
a page's code opens keeps the path the code uses (cells run in posts/), and is listed in the
post's `inputs:`. What has no counterpart in nbpress is named in a note, one line each.
"""

from __future__ import annotations

import datetime as dt
import fnmatch
import json
import posixpath
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote

import yaml

from .atomic import atomic_write
from .errors import ConfigError, SourceError
from .layout import Layout
from .sources.authors import keys_by_name, read_authors
from .sources.frontmatter import safe_slug, slug_too_long
from .sources.posts import discover, name_slug
from .sources.scaffold import slugify
from .yamlload import error_line, error_problem, safe_load

# What a table of contents may name, tried in this order for a name without suffix.
PAGE_SUFFIXES = (".ipynb", ".md", ".qmd", ".myst", ".rst", ".py")
# Page formats nbpress reads (a .myst page becomes .md); the others are named in a note.
_READ_AS = {".ipynb": ".ipynb", ".md": ".md", ".myst": ".md", ".qmd": ".qmd"}
# The longest series part of a post's name, so `<series>-<page>` stays a short file name.
_SERIES_SLUG_MAX = 40
_FRONT_ID = "nbpress-front-matter"
LOOKED_FOR = "_toc.yml (Jupyter Book 1), myst.yml (Jupyter Book 2) or _quarto.yml (Quarto)"


@dataclass(frozen=True)
class Page:
    """One page of a project's table of contents."""

    rel: str  # its path in the project (posix)
    title: str | None = None  # the title the table of contents gives it


@dataclass
class Project:
    """A project as read from its configuration: its pages in order and what carries over."""

    kind: str  # "Jupyter Book 1", "Jupyter Book 2", "Quarto book", "Quarto website"
    root: Path
    title: str
    pages: list[Page]
    bibliography: list[str] = field(default_factory=list)  # project-relative BibTeX files
    authors: list[str] = field(default_factory=list)
    timeout: int | None = None
    allow_errors: bool = False
    excluded: list[str] = field(default_factory=list)  # patterns of pages not to execute
    notes: list[str] = field(default_factory=list)  # what does not carry over, one line each


@dataclass(frozen=True)
class Write:
    """One file the import writes: where (relative to the blog), its bytes, where it came from."""

    target: str  # "posts/<name>"
    data: bytes
    origin: str  # the project file it comes from
    post: bool  # a post (else a file a post uses)
    order: int = 0  # series_order of a post


@dataclass
class Plan:
    """What an import writes and what it could not carry over."""

    project: Project
    series: str
    writes: list[Write]
    notes: list[str]


# --- Reading a project


def read_project(path: Path) -> Project:
    """Return the project at `path` (a Jupyter Book or a Quarto project); raise ConfigError otherwise."""
    if not path.is_dir():
        raise ConfigError(
            f"{path}: no such folder; give import the folder of a Jupyter Book or Quarto project."
        )
    root = path.resolve()
    project = _read(root)
    if project is not None:
        seen: set[str] = set()
        for page in list(project.pages):
            if page.rel in seen:
                project.pages.remove(page)
                project.notes.append(
                    f"{page.rel} is listed twice in the table of contents; it is imported once."
                )
            seen.add(page.rel)
        if not project.pages:
            first = f" ({project.notes[0]})" if project.notes else ""
            raise ConfigError(
                f"{path}: its table of contents names no page that exists{first}; fix it, then import again."
            )
        return project
    raise ConfigError(
        f"{path}: not a Jupyter Book or Quarto project (looked for {LOOKED_FOR}); "
        "give import the project's own folder."
    )


def _read(root: Path) -> Project | None:
    """Return the project at `root` by the configuration file it has, or None if it has none."""
    if (root / "_toc.yml").is_file():
        return _jupyter_book(root)
    if (root / "myst.yml").is_file():
        return _jupyter_book_2(root)
    for name in ("_quarto.yml", "_quarto.yaml"):
        if (root / name).is_file():
            return _quarto(root, name)
    return None


def _load(root: Path, name: str) -> dict[str, object]:
    """Return a project's YAML configuration file as a mapping ({} if it is absent)."""
    file = root / name
    if not file.is_file():
        return {}
    try:
        data = safe_load(file.read_text(encoding="utf-8"))
    except yaml.YAMLError as err:
        line = error_line(err)
        where = f", line {line + 1}" if line is not None else ""
        raise ConfigError(f"{file}{where}: {error_problem(err)}; fix the YAML, then import again.") from None
    except (OSError, UnicodeDecodeError) as err:
        raise ConfigError(f"{file}: cannot be read ({err}); fix the file, then import again.") from None
    if data is None:
        return {}
    if isinstance(data, list) and name == "_toc.yml":
        raise ConfigError(
            f"{file}: a table of contents of Jupyter Book before 0.11 (a list); convert it with "
            "jupyter-book toc migrate _toc.yml -o _toc.yml, then import again."
        )
    if not isinstance(data, dict):
        raise ConfigError(f"{file}: expected a mapping of options; fix it, then import again.")
    return data


def _mapping(value: object) -> dict[str, object]:
    return value if isinstance(value, dict) else {}


def _strings(value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [str(v.get("name")) if isinstance(v, dict) else str(v) for v in value if v]
    return []


def _resolve_page(root: Path, name: str, where: str, notes: list[str]) -> Page | None:
    """Return the page a table of contents entry names (a suffix may be left out), or None (noted)."""
    base = posixpath.normpath(name.strip().lstrip("/"))
    if base.startswith("../"):
        notes.append(f"{where}: the page {name!r} is outside the project; it is not imported.")
        return None
    candidates = [base] if Path(base).suffix in PAGE_SUFFIXES else []
    candidates += [base + suffix for suffix in PAGE_SUFFIXES]
    for rel in candidates:
        if (root / rel).is_file():
            return Page(rel)
    notes.append(f"{where}: the page {name!r} is missing; it is not imported.")
    return None


# Jupyter Book 1's _config.yml keys that carry over (or need no counterpart).
_JB_CARRIED = {"title", "author", "execute", "bibtex_bibfiles", "exclude_patterns", "only_build_toc_files"}
_JB_WHY = {
    "sphinx": "Sphinx extensions and options have no counterpart: nbpress renders with MkDocs",
    "launch_buttons": "launch buttons for Binder or Colab are not shown",
    "repository": "the repository buttons are not shown; a post links its notebook download instead",
    "html": "HTML options belong to the blog's theme (mkdocs.yml)",
    "latex": "there is no PDF or LaTeX build",
    "logo": "the blog has its own logo, in mkdocs.yml",
    "copyright": "the blog's footer is set in mkdocs.yml",
    "parse": "MyST parser extensions are not chosen per project; nbpress reads the MyST it supports",
}


def _jupyter_book(root: Path) -> Project:
    config = _load(root, "_config.yml")
    toc = _load(root, "_toc.yml")
    notes: list[str] = []
    fmt = toc.get("format")
    if fmt not in ("jb-book", "jb-article", None):
        notes.append(f"_toc.yml: the format {fmt!r} is read like jb-book (root, then the entries in order).")
    if not isinstance(toc.get("root"), str):
        raise ConfigError(
            f"{root / '_toc.yml'}: it names no root page (root: intro); fix it, then import again."
        )
    pages: list[Page] = []
    _walk_toc({"file": toc["root"], **{k: v for k, v in toc.items() if k != "root"}}, root, pages, notes)
    execute = _mapping(config.get("execute"))
    project = Project(
        "Jupyter Book 1",
        root,
        str(config.get("title") or root.name),
        pages,
        bibliography=_strings(config.get("bibtex_bibfiles")),
        authors=_split_authors(config.get("author")),
        notes=notes,
    )
    _jb_execute(project, execute)
    for key in config:
        if key not in _JB_CARRIED:
            why = _JB_WHY.get(str(key), "it has no counterpart in nbpress")
            notes.append(f"_config.yml: {key}: not carried over ({why}).")
    return project


def _split_authors(value: object) -> list[str]:
    """Return the names of a Jupyter Book `author:` ("A, B and C" is three people)."""
    if isinstance(value, str):
        return [n.strip() for n in re.split(r",|\band\b|&", value) if n.strip()]
    return _strings(value)


def _jb_execute(project: Project, execute: dict[str, object]) -> None:
    """Carry Jupyter Book's `execute:` options over: timeout, allow_errors, exclude_patterns."""
    for key, value in execute.items():
        if key == "timeout":
            if isinstance(value, int) and not isinstance(value, bool) and value > 0:
                project.timeout = value
            else:
                project.notes.append(
                    f"_config.yml: execute.timeout {value!r}: nbpress needs a number of seconds above 0; "
                    "its default (600) applies."
                )
        elif key == "allow_errors":
            project.allow_errors = value is True
        elif key == "exclude_patterns":
            project.excluded = _strings(value)
        elif key == "execute_notebooks":
            if value in ("off", False):
                project.notes.append(
                    "_config.yml: execute.execute_notebooks is off, but nbpress executes every post "
                    "(its outputs are cached); the imported posts will run."
                )
        elif key not in ("cache",):
            project.notes.append(
                f"_config.yml: execute.{key}: not carried over (it has no counterpart in nbpress)."
            )


def _walk_toc(node: dict[str, object], root: Path, pages: list[Page], notes: list[str]) -> None:
    """Append the pages of a _toc.yml entry (any format: chapters, sections, parts, subtrees...)."""
    if "file" in node:
        page = _resolve_page(root, str(node["file"]), "_toc.yml", notes)
        if page is not None:
            pages.append(Page(page.rel, str(node["title"]) if node.get("title") else None))
    elif "glob" in node:
        found = sorted(p for p in root.glob(str(node["glob"])) if p.suffix in PAGE_SUFFIXES and p.is_file())
        pages.extend(Page(p.relative_to(root).as_posix()) for p in found)
    elif "url" in node:
        notes.append(f"_toc.yml: the external link {node['url']} is not a page; it is not imported.")
    if node.get("caption"):
        notes.append(
            f"_toc.yml: the part caption {node['caption']!r} is not carried over "
            "(a series is one list; its pages keep their order)."
        )
    for key in ("parts", "subtrees", "chapters", "sections", "entries"):
        children = node.get(key)
        if isinstance(children, list):
            for child in children:
                if isinstance(child, dict):
                    _walk_toc(child, root, pages, notes)


def _jupyter_book_2(root: Path) -> Project:
    config = _load(root, "myst.yml")
    project_config = _mapping(config.get("project"))
    notes: list[str] = []
    pages: list[Page] = []
    toc = project_config.get("toc")
    if not isinstance(toc, list):
        raise ConfigError(
            f"{root / 'myst.yml'}: it has no project.toc (the pages in order); add one "
            "(jupyter-book init --write-toc), then import again."
        )

    def walk(entries: list[object]) -> None:
        for entry in entries:
            if not isinstance(entry, dict):
                continue
            if "file" in entry:
                page = _resolve_page(root, str(entry["file"]), "myst.yml", notes)
                if page is not None:
                    pages.append(Page(page.rel, str(entry["title"]) if entry.get("title") else None))
            elif "pattern" in entry:
                found = sorted(p for p in root.glob(str(entry["pattern"])) if p.suffix in PAGE_SUFFIXES)
                pages.extend(Page(p.relative_to(root).as_posix()) for p in found)
            elif "url" in entry:
                notes.append(f"myst.yml: the external link {entry['url']} is not a page; it is not imported.")
            elif entry.get("title"):
                notes.append(f"myst.yml: the part title {entry['title']!r} is not carried over.")
            if isinstance(entry.get("children"), list):
                walk(entry["children"])

    walk(toc)
    for key in config:
        if key not in ("project", "version"):
            notes.append(f"myst.yml: {key}: not carried over (it has no counterpart in nbpress).")
    for key in project_config:
        if key not in ("title", "authors", "toc", "bibliography", "id"):
            notes.append(f"myst.yml: project.{key}: not carried over (it has no counterpart in nbpress).")
    return Project(
        "Jupyter Book 2",
        root,
        str(project_config.get("title") or root.name),
        pages,
        bibliography=_strings(project_config.get("bibliography")),
        authors=_strings(project_config.get("authors")),
        notes=notes,
    )


_QUARTO_BOOK_CARRIED = {"title", "author", "chapters", "appendices"}


def _quarto(root: Path, name: str) -> Project:
    config = _load(root, name)
    project_config = _mapping(config.get("project"))
    notes: list[str] = []
    pages: list[Page] = []
    kind = project_config.get("type")
    book = _mapping(config.get("book"))
    if kind == "book" or book:
        info, label = book, "Quarto book"
        for key in ("chapters", "appendices"):
            _quarto_chapters(book.get(key), root, name, pages, notes)
        for key in book:
            if key not in _QUARTO_BOOK_CARRIED:
                notes.append(f"{name}: book.{key}: not carried over (it has no counterpart in nbpress).")
    else:
        info, label = _mapping(config.get("website")), "Quarto website"
        _quarto_website(project_config, root, name, pages, notes)
        for key in info:
            if key != "title":
                notes.append(f"{name}: website.{key}: not carried over (the blog has its own navigation).")
    if not pages:
        raise ConfigError(
            f"{root / name}: it lists no pages (book.chapters, project.render or a listing); "
            "list them, then import again."
        )
    project = Project(
        label,
        root,
        str(info.get("title") or config.get("title") or root.name),
        pages,
        bibliography=_strings(config.get("bibliography")),
        authors=_strings(info.get("author") or config.get("author")),
        notes=notes,
    )
    execute = _mapping(config.get("execute"))
    for key, value in execute.items():
        if key == "error":
            project.allow_errors = value is True
        elif key == "eval" and value is False:
            notes.append(
                f"{name}: execute.eval is false, but nbpress executes every post; "
                "the imported posts will run."
            )
        elif key not in ("echo", "freeze", "cache", "warning", "output", "include"):
            notes.append(f"{name}: execute.{key}: not carried over (it has no counterpart in nbpress).")
    for key in config:
        if key not in ("project", "book", "website", "bibliography", "execute", "title", "author"):
            why = (
                "the blog has its own theme and formats"
                if key == "format"
                else "it has no counterpart in nbpress"
            )
            notes.append(f"{name}: {key}: not carried over ({why}).")
    return project


def _quarto_chapters(entries: object, root: Path, name: str, pages: list[Page], notes: list[str]) -> None:
    """Append the pages of `book.chapters` (files, `part:` groups, `href:` entries)."""
    if not isinstance(entries, list):
        return
    for entry in entries:
        if isinstance(entry, str):
            page = _resolve_page(root, entry, name, notes)
            if page is not None:
                pages.append(page)
        elif isinstance(entry, dict):
            part = entry.get("part")
            if isinstance(part, str) and Path(part).suffix in PAGE_SUFFIXES:
                page = _resolve_page(root, part, name, notes)
                if page is not None:
                    pages.append(page)
            elif part:
                notes.append(
                    f"{name}: the part {part!r} is not carried over "
                    "(a series is one list; its pages keep their order)."
                )
            if isinstance(entry.get("href"), str):
                page = _resolve_page(root, entry["href"], name, notes)
                if page is not None:
                    pages.append(Page(page.rel, str(entry["text"]) if entry.get("text") else None))
            _quarto_chapters(entry.get("chapters"), root, name, pages, notes)


def _quarto_website(
    project_config: dict[str, object], root: Path, name: str, pages: list[Page], notes: list[str]
) -> None:
    """Append a website's pages: its `project.render` list, else the contents of its listings."""
    patterns = _strings(project_config.get("render"))
    if not patterns:
        for index in sorted(root.glob("*.qmd")) + sorted(root.glob("*.md")):
            header = _header(index.read_text(encoding="utf-8", errors="replace"))[0]
            listing = header.get("listing")
            listings = listing if isinstance(listing, list) else [listing]
            for one in listings:
                contents = one.get("contents") if isinstance(one, dict) else None
                for pattern in _strings(contents) or ([] if one is None else ["*"]):
                    base = posixpath.dirname(index.relative_to(root).as_posix())
                    glob = posixpath.join(base, pattern)
                    patterns.append(glob if Path(glob).suffix else posixpath.join(glob, "**/*"))
    chosen: list[str] = []
    for pattern in patterns:
        negate = pattern.startswith("!")
        found = sorted(
            p.relative_to(root).as_posix()
            for p in root.glob(pattern.lstrip("!"))
            if p.is_file() and p.suffix in PAGE_SUFFIXES and not p.name.startswith("_")
        )
        chosen = (
            [p for p in chosen if p not in found]
            if negate
            else chosen + [p for p in found if p not in chosen]
        )
    dated = []
    for rel in chosen:
        header = (
            _header((root / rel).read_text(encoding="utf-8", errors="replace"))[0]
            if rel[-6:] != ".ipynb"
            else {}
        )
        dated.append((str(header.get("date", "")), rel))
    # A listing is a blog: its posts in date order (oldest first), the undated after them as listed.
    pages.extend(Page(rel) for _, rel in sorted(dated, key=lambda d: (d[0] == "", d[0])))


# --- Planning the import


@dataclass
class _Context:
    """What rewriting one page needs: the project, the page and the names the import gives."""

    project: Project
    page: Page
    names: dict[str, str]  # page rel -> its post's file name
    folder: str  # posts/<series slug>: where Markdown-named files go
    files: dict[str, str]  # target (posts-relative) -> project file copied there
    placed: dict[str, str]  # project file -> where a page's code opens it (posts-relative)
    inputs: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    undated: bool = False  # the page gives no date of its own: it gets the import's

    @property
    def page_dir(self) -> str:
        return posixpath.dirname(self.page.rel)

    def note(self, text: str) -> None:
        self.notes.append(f"{self.page.rel}: {text}")


def plan_import(
    project: Project, blog: Path, series: str | None = None, today: dt.date | None = None
) -> Plan:
    """Return what importing `project` into the blog at `blog` writes; raise SourceError to refuse.

    Nothing is written. Every post gets the same `date` (`today`, the import's date; a page's own
    date is kept), and `series_order` its place in the table of contents.
    """
    series_name = series or project.title
    series_slug = (slugify(series_name)[:_SERIES_SLUG_MAX].strip("-")) or "imported"
    names = _post_names(project, series_slug)
    authors = read_authors(Layout(blog))
    known = keys_by_name(authors)
    notes = list(project.notes)
    for author in project.authors:
        if author not in known:
            notes.append(
                f"the author {author!r} is not in site_src/.authors.yml, so the posts show no author "
                "card; add them there to show one."
            )
    folder = series_slug
    files: dict[str, str] = {}
    writes: list[Write] = []
    bibliography = []
    for rel in project.bibliography:
        source = project.root / rel
        if not source.is_file():
            notes.append(f"the bibliography {rel} is missing; the posts have none.")
            continue
        target = posixpath.join(folder, posixpath.normpath(rel))
        files[target] = rel
        bibliography.append(target)
    posts: list[Write] = []
    placed: dict[str, str] = {}
    readable = [page for page in project.pages if Path(page.rel).suffix in _READ_AS]
    for page in readable:  # first where the code puts its files: a link to one leads there too
        _page(_Context(project, page, names, folder, {}, placed), {})
    for page in project.pages:
        suffix = Path(page.rel).suffix
        if suffix not in _READ_AS:
            what = "reStructuredText" if suffix == ".rst" else f"a {suffix} page"
            notes.append(
                f"{page.rel}: {what} is not imported (the import reads .ipynb, .md and .qmd pages); "
                "convert it to one of those to bring it over."
            )
    undated = []
    for order, page in enumerate(readable, 1):
        context = _Context(project, page, names, folder, files, placed)
        data = _page(context, _front(project, page, series_name, order, today, bibliography))
        notes.extend(context.notes)
        posts.append(Write(f"posts/{names[page.rel]}", data, page.rel, post=True, order=order))
        undated += [page.rel] * context.undated
    if undated:
        notes.append(_undated_note(undated, len(readable), today or dt.date.today()))
    for target, rel in sorted(files.items()):
        writes.append(Write(f"posts/{target}", (project.root / rel).read_bytes(), rel, post=False))
    plan = Plan(project, series_name, writes + posts, notes)
    _refuse_overwrites(plan, blog)
    return plan


def _undated_note(undated: list[str], pages: int, today: dt.date) -> str:
    """Return the note saying which pages were dated with the import's day, and how to date them."""
    if len(undated) == pages:
        which = "every page gives no date of its own, so each is"
    elif len(undated) == 1:
        which = f"{undated[0]} gives no date of its own, so it is"
    else:
        which = f"{', '.join(undated)} give no date of their own, so each is"
    return (
        f"{which} dated {today.isoformat()}, the day of the import (the blog lists posts by date); "
        "set date: in a post's front matter to date it otherwise."
    )


def _post_names(project: Project, series_slug: str) -> dict[str, str]:
    """Return {page rel: post file name}: `<series>-<stem>`, with its folders when two stems are one."""
    readable = [page for page in project.pages if Path(page.rel).suffix in _READ_AS]
    stems: dict[str, int] = {}
    for page in readable:
        stem = _slug_part(Path(page.rel).stem)
        stems[stem] = stems.get(stem, 0) + 1
    names: dict[str, str] = {}
    for page in readable:
        path = Path(page.rel)
        stem = _slug_part(path.stem)
        part = stem if stems[stem] == 1 else _slug_part(path.with_suffix("").as_posix())
        slug = f"{series_slug}-{part}"
        if not safe_slug(slug) or slug_too_long(slug):
            raise SourceError(f"{page.rel}: cannot make a safe post name of it ({slug!r}); rename the page.")
        names[page.rel] = slug + _READ_AS.get(path.suffix, path.suffix)
    taken: dict[str, str] = {}
    for rel, name in names.items():
        key = name_slug(Path(name)).lower()
        if key in taken:
            raise SourceError(
                f"{rel}: its post name {name!r} is also the name of {taken[key]}; rename one of the pages."
            )
        taken[key] = rel
    return names


def _slug_part(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip("-._") or "page"


def _refuse_overwrites(plan: Plan, blog: Path) -> None:
    """Raise SourceError naming the first file the import would replace or shadow; nothing is written."""
    posts_dir = Layout(blog).sources
    existing = {name_slug(p).lower(): p for p in discover(posts_dir)}
    for write in plan.writes:
        path = blog / write.target
        if write.post:
            other = existing.get(name_slug(path).lower())
            if other is not None or path.exists():
                shown = f"posts/{other.name}" if other is not None else write.target
                raise SourceError(
                    f"{shown} already exists and would be replaced by {write.origin}; nothing was "
                    "imported (move it away, or import with another --series)."
                )
        elif path.exists() and (not path.is_file() or path.read_bytes() != write.data):
            raise SourceError(
                f"{write.target} already exists with other content than {write.origin}; nothing was "
                "imported (move it away, or import with another --series)."
            )


def _front(
    project: Project, page: Page, series: str, order: int, today: dt.date | None, bibliography: list[str]
) -> dict[str, object]:
    """Return the front matter the import gives a page (the page's own keys are merged over it)."""
    front: dict[str, object] = {}
    if page.title:
        front["title"] = page.title
    front["date"] = today or dt.date.today()
    if project.authors:
        front["author"] = project.authors[0] if len(project.authors) == 1 else list(project.authors)
    front["series"] = series
    front["series_order"] = order
    if bibliography:
        front["bibliography"] = bibliography[0] if len(bibliography) == 1 else bibliography
    if project.timeout is not None:
        front["timeout"] = project.timeout
    if project.allow_errors:
        front["allow_errors"] = True
    return front


_SERIES_KEYS = ("series", "series_order")
# Front matter keys a page may give that name files relative to it.
_FILE_KEYS = ("bibliography", "image")


def _page(context: _Context, front: dict[str, object]) -> bytes:
    """Return the bytes of a page's post: its front matter added, links and files rewritten."""
    path = context.project.root / context.page.rel
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise SourceError(
            f"{context.page.rel}: cannot be read ({err}); fix the file, then import again."
        ) from None
    if context.page.rel.endswith(".ipynb"):
        return _notebook(context, text, front)
    return _text_page(context, text, front)


def _header(text: str, strict: bool = False) -> tuple[dict[str, object], str]:
    """Return a text page's YAML header ({} if none) and the text after it.

    With `strict`, a header that is broken YAML or no mapping raises ValueError (what is wrong).
    """
    body = text.lstrip("\ufeff")
    lines = body.splitlines(keepends=True)
    if not lines or lines[0].strip() != "---":
        return {}, body
    end = next((i for i, line in enumerate(lines[1:], 1) if line.strip() in ("---", "...")), None)
    if end is None:
        return {}, body
    try:
        data = safe_load("".join(lines[1:end]))
    except yaml.YAMLError as err:
        if strict:
            line = error_line(err)
            at = (
                f" at line {line + 2}" if line is not None else ""
            )  # the header's first line is the file's 2nd
            raise ValueError(f"is broken YAML{at} ({error_problem(err)})") from None
        return {}, body
    if data is not None and not isinstance(data, dict):
        if strict:
            raise ValueError("is not a mapping of keys")
        return {}, body
    return data or {}, "".join(lines[end + 1 :])


def _dump(front: dict[str, object]) -> str:
    return yaml.safe_dump(front, sort_keys=False, allow_unicode=True, default_flow_style=False, width=1000)


def _text_page(context: _Context, text: str, front: dict[str, object]) -> bytes:
    try:
        header, body = _header(text, strict=True)
    except ValueError as err:
        raise SourceError(f"{context.page.rel}: its YAML header {err}; fix it, then import again.") from None
    body = _rewrite_markdown(context, body, code=_code_fence_languages(context, body))
    merged = _finish_front(context, front, header, body)
    return f"---\n{_dump(merged)}---\n\n{body.lstrip(chr(10))}".encode()


def _finish_front(
    context: _Context, front: dict[str, object], header: dict[str, object], markdown: str
) -> dict[str, object]:
    """Return the page's front matter: the import's, the page's own keys over it, a title, inputs."""
    merged = dict(front)
    context.undated = "date" not in header
    for key, value in header.items():
        if key in _SERIES_KEYS:
            continue
        if key in _FILE_KEYS and value:  # files relative to the page: copied like any other
            files = [
                _target(context, str(v), "file") for v in (value if isinstance(value, list) else [value])
            ]
            value = files if isinstance(value, list) else files[0]
        if key == "title" and context.page.title:
            continue  # the table of contents names the page
        merged[key] = value
    if "title" not in merged:
        merged = {"title": _first_heading(markdown) or Path(context.page.rel).stem, **merged}
    elif next(iter(merged)) != "title":
        merged = {"title": merged.pop("title"), **merged}
    if context.inputs:
        own = _strings(merged.get("inputs"))
        merged["inputs"] = own + [i for i in dict.fromkeys(context.inputs) if i not in own]
    kernel = _mapping(header.get("kernelspec"))
    language = str(kernel.get("language") or "python").lower()
    jupyter = header.get("jupyter")  # Quarto's kernel
    if language not in ("python", "python3", "ipython"):
        context.note(
            f"written for the {kernel.get('name') or language} kernel: it runs there, "
            "so that kernel must be installed."
        )
    elif isinstance(jupyter, str) and jupyter not in ("python3", "python"):
        context.note(f"written for the {jupyter} kernel: it runs there, so that kernel must be installed.")
    if header.get("engine") not in (None, "jupyter"):
        context.note(f"the {header['engine']} engine has no counterpart: its cells run in a Jupyter kernel.")
    if any(fnmatch.fnmatch(context.page.rel, pattern) for pattern in context.project.excluded):
        context.note(
            "excluded from execution in _config.yml, but nbpress has no front matter key for a post that is "
            "not run: it is executed like every post."
        )
    return merged


def _code_fence_languages(context: _Context, body: str) -> bool:
    """Note the code cells of a .qmd page in another language than Python; return True (scan code)."""
    if context.page.rel.endswith(".qmd"):
        others = sorted(set(re.findall(r"^```+\s*\{(r|julia|ojs|bash|sql)\b", body, re.MULTILINE)))
        for language in others:
            context.note(
                f"its {{{language}}} cells need another engine than a Python kernel; they are not run."
            )
    return True


def _notebook(context: _Context, text: str, front: dict[str, object]) -> bytes:
    try:
        nb = json.loads(text)
    except json.JSONDecodeError as err:
        raise SourceError(
            f"{context.page.rel}: is not a notebook ({err.msg}); fix it, then import again."
        ) from None
    cells = nb.get("cells") if isinstance(nb, dict) else None
    if not isinstance(cells, list):
        raise SourceError(f"{context.page.rel}: is not a notebook (no cells); fix it, then import again.")
    header: dict[str, object] = {}
    first = cells[0] if cells else None
    if isinstance(first, dict) and first.get("cell_type") == "raw":
        own, rest = _header(_source(first))
        if own and not rest.strip():
            header = own
            cells.pop(0)
    markdown = []
    for cell in cells:
        if not isinstance(cell, dict):
            continue
        source = _source(cell)
        if cell.get("cell_type") == "markdown":
            cell["source"] = _rewrite_markdown(context, source, code=False)
            markdown.append(cell["source"])
        elif cell.get("cell_type") == "code":
            cell["source"] = _scan_code(context, source)
    meta = _mapping(nb.get("metadata"))
    spec = _mapping(meta.get("kernelspec"))
    merged = _finish_front(
        context, front, {"kernelspec": spec, **header} if spec else header, "\n".join(markdown)
    )
    merged.pop("kernelspec", None)
    raw: dict[str, object] = {"cell_type": "raw", "metadata": {}, "source": f"---\n{_dump(merged)}---"}
    if (nb.get("nbformat"), nb.get("nbformat_minor", 0)) >= (4, 5):
        raw["id"] = _FRONT_ID
    cells.insert(0, raw)
    return (json.dumps(nb, indent=1, ensure_ascii=False) + "\n").encode()


def _source(cell: dict[str, object]) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else str(source)


# --- Rewriting a page's Markdown

_FENCE = re.compile(r"^(?P<indent>\s{0,3})(?P<fence>`{3,}|~{3,})\s*(?P<info>[^`]*)$")
# Directives whose body is code or text to keep, never Markdown to rewrite.
_CODE_DIRECTIVES = {"code-cell", "code-block", "code", "sourcecode", "math", "raw", "eval-rst", "glue:math"}
# Quarto's executable blocks (```{python}); only Python ones run in a post's kernel.
_QUARTO_CELLS = {"python", "python3", "r", "julia", "ojs", "bash", "sql", "mermaid", "dot"}
_RUN = {"code-cell", "python", "python3"}
# Directives whose argument is a file of the project.
_FILE_DIRECTIVES = {"figure", "image", "literalinclude", "include"}
# A role ({name}`body`) or a code span, whichever starts first.
_INLINE = re.compile(r"\{(?P<role>[\w:-]+)\}`(?P<body>[^`]+)`|(?P<tick>`+)[\s\S]*?(?<!`)(?P=tick)(?!`)")
_LINK = re.compile(r"\]\((?P<dest><[^>]*>|[^()\s]+)(?P<title>\s+(?:\"[^\"]*\"|'[^']*'))?\)")
_DEFINITION = re.compile(r"^(?P<head>\s{0,3}\[[^\]]+\]:\s*)(?P<dest><[^>]*>|\S+)")
_IMG = re.compile(r"(<img\b[^>]*?\bsrc\s*=\s*)([\"'])(.*?)\2", re.IGNORECASE)
_STRING = re.compile(r"(?P<q>[\"'])(?P<s>[^\"'\n\\]{1,300})(?P=q)")
_IMAGE_SUFFIXES = ("svg", "png", "jpg", "jpeg", "gif", "webp")
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")


def _rewrite_markdown(context: _Context, text: str, code: bool) -> str:
    """Return `text` with its links, roles and file arguments rewritten; code is left as written,
    but for the paths to project files its cells open (_scan_code).

    A fenced block is code unless its info string names a MyST directive whose body is Markdown
    ({figure}, {note}, {tab-item}...): a ````md example of the syntax is never rewritten. With
    `code`, the bodies of {code-cell} and Quarto's {python} blocks are scanned for files they open.
    """
    out: list[str] = []
    stack: list[tuple[str, str]] = []  # open fences: (fence, "md" | "cell" | "code")
    cell: list[str] = []
    for line in text.splitlines(keepends=True):
        match = _FENCE.match(line.rstrip("\r\n"))
        kind = stack[-1][1] if stack else "md"
        if match and stack and _closes(match, stack[-1][0]):
            if kind == "cell":
                out.append(_scan_code(context, "".join(cell)) if code else "".join(cell))
            stack.pop()
            cell = []
            out.append(line)
            continue
        if kind != "md":
            if kind == "cell":
                cell.append(line)  # written when it closes, with the paths its code opens
            else:
                out.append(line)
            continue
        if match:
            fence, info = match.group("fence"), match.group("info").strip()
            directive = re.match(r"\{([\w:-]+)\}\s*(.*)$", info)
            if directive and directive.group(1) not in _CODE_DIRECTIVES | _QUARTO_CELLS:
                stack.append((fence, "md"))
                out.append(_directive_line(context, line, directive.group(1), directive.group(2)))
                continue
            executable = directive is not None and directive.group(1) in _RUN
            stack.append((fence, "cell" if executable else "code"))
            cell = []
            out.append(line)
            continue
        colon = re.match(r"^\s*:{3,}\s*\{([\w:-]+)\}\s*(.*)$", line.rstrip("\r\n"))
        if colon:
            out.append(_directive_line(context, line, colon.group(1), colon.group(2)))
            continue
        out.append(_rewrite_prose(context, line))
    if stack and stack[-1][1] == "cell":  # a cell never closed: kept to the end, as CommonMark does
        out.append(_scan_code(context, "".join(cell)) if code else "".join(cell))
    return "".join(out)


def _closes(match: re.Match[str], opener: str) -> bool:
    """Return True if a fence line ends the block `opener` began (same character, as long, no info)."""
    fence = match.group("fence")
    return fence[0] == opener[0] and len(fence) >= len(opener) and not match.group("info").strip()


def _directive_line(context: _Context, line: str, name: str, argument: str) -> str:
    """Return a directive's first line with its file argument ({figure} path) rewritten."""
    argument = argument.strip()
    if name not in _FILE_DIRECTIVES or not argument:
        return line
    new = _target(context, argument, "file")
    return line.replace(argument, new, 1) if new != argument else line


def _rewrite_prose(context: _Context, line: str) -> str:
    """Return a Markdown line with its {doc}/{download} roles, links and <img> sources rewritten.

    Roles and code spans are found in one left-to-right pass, so a role shown in a code span
    (`` {doc}`x` ``) stays as written.
    """
    definition = _DEFINITION.match(line)
    if definition:  # [id]: target
        dest = definition.group("dest")
        bare = dest[1:-1] if dest.startswith("<") else dest
        new = _target(context, bare, "link")
        return line if new == bare else definition.group("head") + new + line[definition.end() :]
    parts: list[str] = []
    last = 0
    for token in _INLINE.finditer(line):
        parts.append(_rewrite_links(context, line[last : token.start()]))
        parts.append(_role(context, token) if token.group("role") in ("doc", "download") else token.group(0))
        last = token.end()
    parts.append(_rewrite_links(context, line[last:]))
    return "".join(parts)


def _rewrite_links(context: _Context, text: str) -> str:
    def link(match: re.Match[str]) -> str:
        dest = match.group("dest")
        bare = dest[1:-1] if dest.startswith("<") else dest
        new = _target(context, bare, "link")
        if new == bare:
            return match.group(0)
        return f"]({new}{match.group('title') or ''})"

    def img(match: re.Match[str]) -> str:
        return f"{match.group(1)}{match.group(2)}{_target(context, match.group(3), 'file')}{match.group(2)}"

    return _IMG.sub(img, _LINK.sub(link, text))


def _role(context: _Context, match: re.Match[str]) -> str:
    body = match.group("body")
    explicit = re.match(r"^(?P<text>.*?)\s*<(?P<target>[^<>]+)>$", body, re.DOTALL)
    target = explicit.group("target") if explicit else body
    kind = "doc" if match.group("role") == "doc" else "file"
    new = _target(context, target.strip(), kind)
    if new == target.strip():
        return match.group(0)
    text = f"{explicit.group('text')} <{new}>" if explicit else new
    return f"{{{match.group('role')}}}`{text}`"


def _target(context: _Context, dest: str, kind: str) -> str:
    """Return what a link, `{doc}` target or file argument becomes; note what cannot be carried over.

    A page of the import becomes its post's file name (a `{doc}` target its slug), a file of the
    project is copied to posts/<series>/<its path>, anything else is kept as written.
    """
    if not dest or _SCHEME.match(dest) or dest.startswith(("#", "//", "{")):
        return dest
    path, sep, fragment = dest.partition("#")
    path = unquote(path.partition("?")[0])
    if not path:
        return dest
    root_relative = path.startswith("/")
    rel = posixpath.normpath(path.lstrip("/") if root_relative else posixpath.join(context.page_dir, path))
    if rel == ".." or rel.startswith("../"):
        context.note(f"{dest} is outside the project; it is kept as written.")
        return dest
    page = _page_named(context, rel, kind)
    if page is not None:
        name = context.names[page]
        new = name_slug(Path(name)) if kind == "doc" else name
        return new + (sep + fragment if kind != "doc" else "")
    if rel.endswith(".*"):  # Sphinx's "best format" image: the first one the project has
        found = [rel[:-1] + s for s in _IMAGE_SUFFIXES if (context.project.root / (rel[:-1] + s)).is_file()]
        rel = found[0] if found else rel
    file = context.project.root / rel
    if kind == "doc" or Path(rel).suffix in PAGE_SUFFIXES:
        if file.is_file() or kind == "doc":
            context.note(
                f"{dest} is not imported (not in the table of contents, or a format nbpress does not "
                "read); the link is kept."
            )
        else:
            context.note(f"{dest} is missing; the link is kept as written.")
        return dest
    if not file.is_file():
        if Path(rel).suffix:  # a name without suffix may be a label ([text](label)): the build's to resolve
            context.note(f"{dest} is missing; the link is kept as written.")
        return dest
    target = context.placed.get(rel) or posixpath.join(context.folder, rel)
    _claim(context, target, rel)
    return target + sep + fragment


def _page_named(context: _Context, rel: str, kind: str) -> str | None:
    """Return the page `rel` names (with or without suffix, or as a built .html page), or None."""
    if rel in context.names:
        return rel
    stem, suffix = posixpath.splitext(rel)
    base = stem if suffix in (".html", "") or kind == "doc" else None
    if base is None:
        return None
    return next((base + s for s in PAGE_SUFFIXES if base + s in context.names), None)


def _claim(context: _Context, target: str, rel: str) -> None:
    """Record that the project file `rel` is copied to posts/`target`; refuse two files for one place."""
    other = context.files.get(target)
    if other is not None and other != rel:
        same = (context.project.root / other).read_bytes() == (context.project.root / rel).read_bytes()
        if not same:
            raise SourceError(
                f"{context.page.rel}: {rel} and {other} would both be copied to posts/{target}; "
                "rename one of them, then import again."
            )
        return
    context.files[target] = rel


def _scan_code(context: _Context, source: str) -> str:
    """Copy the project files a code cell opens by a relative path, list them as its inputs; return the code.

    Cells run in posts/, so a file keeps the path the code gives (relative to its page's folder).
    A path that would leave posts/ (`../images/x.png` from a chapter's folder) is copied to its
    place in the project, and the string in the code names that place, with a note: the code
    opens the same file, where it now is.
    """

    def place(match: re.Match[str]) -> str:
        written = match.group("s").strip()
        if not written or _SCHEME.match(written) or written.startswith(("/", "~")):
            return match.group(0)
        rel = posixpath.normpath(posixpath.join(context.page_dir, written))
        if rel == ".." or rel.startswith("../") or Path(rel).suffix in PAGE_SUFFIXES:
            return match.group(0)
        if not (context.project.root / rel).is_file():
            return match.group(0)
        target = posixpath.normpath(written)
        shown = match.group(0)
        if target.startswith("../"):
            target = rel
            shown = match.group("q") + rel + match.group("q")
            context.note(
                f"its code opens {written!r}, outside posts/ once imported: it opens {rel!r} instead "
                "(cells run in posts/, where the file is copied)."
            )
        _claim(context, target, rel)
        context.placed.setdefault(rel, target)
        context.inputs.append(target)
        return shown

    return _STRING.sub(place, source)


def _first_heading(markdown: str) -> str | None:
    """Return the text of the first `# Heading` outside code, or None."""
    fence: str | None = None
    for line in markdown.splitlines():
        match = _FENCE.match(line)
        if match:
            if fence is None:
                fence = match.group("fence")
            elif match.group("fence")[0] == fence[0] and len(match.group("fence")) >= len(fence):
                fence = None
            continue
        heading = re.match(r"^#\s+(.+?)\s*#*\s*$", line)
        if fence is None and heading:
            return heading.group(1)
    return None


# --- Writing


def write_plan(plan: Plan, blog: Path) -> list[str]:
    """Write the plan's files atomically (the files before the posts that use them); return their paths.

    `plan_import` refused whatever would be replaced; a file that already holds its bytes is left alone.
    """
    written = []
    for write in sorted(plan.writes, key=lambda w: w.post):
        path = blog / write.target
        path.parent.mkdir(parents=True, exist_ok=True)
        if atomic_write(path, write.data):
            written.append(write.target)
    return written


def describe(plan: Plan) -> Iterator[str]:
    """Yield the plan's lines: each post (with its place in the series) and each copied file."""
    for write in plan.writes:
        if write.post:
            yield f"{write.target}  <- {write.origin}  (series_order {write.order})"
        else:
            yield f"{write.target}  <- {write.origin}"
