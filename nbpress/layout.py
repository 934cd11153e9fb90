"""Where every file of a blog lives and the URL the site gives it: decided here, once.

Like mkdocs' `File`, which derives a page's `dest_path` and `url` from its source, one
`PostFiles` value (`Layout.post`) derives every path and URL of a post from the blog's root,
its *file slug* (its source's name without suffix and date prefix), its *URL slug* (`slug:`
in its front matter, `Post.url_slug`) and whether it is a draft. The URL slug names only its
page; its generated Markdown, figures and downloads keep the file slug. Nothing else joins a
post's path or URL together: every module, and through the record every template, asks it.
"""

from __future__ import annotations

import os
import posixpath
import stat
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from .errors import NotOwnedError, WriteError

SOURCES = "posts"
SITE = "site_src"  # MkDocs' docs_dir
ASSETS = "assets"  # figures and downloads; site_src/assets is a committed symbolic link to it
GENERATED = "site_src/posts"
IMAGES = "assets/images"
DOWNLOADS = "assets/notebooks"
CACHE = ".nbpress-cache"
LOCK = "build.lock"
AUTHORS = "site_src/.authors.yml"
REPORT = "site_src/execution"
SERIES = "site_src/series"  # a page per series of posts, and series/index.md listing them all
REPORT_STATE = "report.json"
# The most bytes one file name may have: ext4, XFS, btrfs and APFS allow 255 (NTFS 255 UTF-16
# units). nbpress names files after a post's slug; the longest is its journal while it is
# written, site_src/posts/.nbpress-writing-<slug>.json (JOURNAL_PREFIX).
NAME_MAX = 255
JOURNAL_PREFIX = ".nbpress-writing-"  # site_src/posts/<prefix><slug>.json: what a publish may leave
SLUG_MAX = NAME_MAX - len(JOURNAL_PREFIX + ".json")
# The blog plugin's post_url_format in mkdocs.yml (tests/test_layout.py holds them equal): a
# post's page is at posts/<URL slug>/.
POST_URL_FORMAT = "posts/{slug}"


@dataclass(frozen=True)
class Layout:
    """The folders and files of the blog at `root`."""

    root: Path

    @property
    def sources(self) -> Path:
        """Return posts/, the folder of the source notebooks (and the cells' working directory)."""
        return self.root / SOURCES

    @property
    def published(self) -> tuple[Path, Path]:
        """Return site_src/ and assets/: the trees the site publishes, whose files MkDocs copies."""
        return self.root / SITE, self.root / ASSETS

    @property
    def assets_link(self) -> Path:
        """Return site_src/assets, the one symbolic link of the published trees (to assets/)."""
        return self.root / SITE / ASSETS

    @property
    def generated(self) -> Path:
        """Return site_src/posts/, the folder of the generated Markdown."""
        return self.root / GENERATED

    @property
    def images(self) -> Path:
        """Return assets/images/, which holds a folder of figures per post."""
        return self.root / IMAGES

    @property
    def downloads(self) -> Path:
        """Return assets/notebooks/, which holds a folder of executed-notebook downloads per post."""
        return self.root / DOWNLOADS

    @property
    def cache(self) -> Path:
        """Return the build cache folder (git-ignored): outputs, the lock, the report's state."""
        return self.root / CACHE

    @property
    def lock(self) -> Path:
        """Return the build lock file."""
        return self.cache / LOCK

    @property
    def authors(self) -> Path:
        """Return Material's blog authors file."""
        return self.root / AUTHORS

    @property
    def report_page(self) -> Path:
        """Return the execution report page of the site."""
        return self.root / REPORT / "index.md"

    @property
    def report_state(self) -> Path:
        """Return the report's record of each post's last build."""
        return self.cache / REPORT_STATE

    @property
    def series(self) -> Path:
        """Return site_src/series/, the folder of the generated series pages (nbpress.publishing.write)."""
        return self.root / SERIES

    def series_page(self, series_slug: str) -> Path:
        """Return site_src/series/<series slug>.md, the page listing one series' parts (index.md: all)."""
        return _inside(self.series, f"{series_slug}.md")

    def post(self, file_slug: str, url_slug: str | None = None, draft: bool = False) -> PostFiles:
        """Return the files and URLs of the post `file_slug` (its URL slug by default the same)."""
        return PostFiles(self.root, file_slug, url_slug or file_slug, draft)

    def rel(self, path: Path) -> str:
        """Return `path` relative to the blog, as messages name files (its name if outside)."""
        return path.relative_to(self.root).as_posix() if path.is_relative_to(self.root) else path.name


# Nothing of a draft may reach a built site: its figures and downloads carry a dot (files
# .draft-<name> in its figures folder, a .draft/ folder among its downloads), and MkDocs and
# Zensical leave dot-files out of a build; hooks/ownership.py lets `mkdocs serve` show them
# beside the draft's page. A post that stops being a draft publishes them without the dot.
DRAFT_FIGURE = ".draft-"
DRAFT_DOWNLOADS = ".draft"
# The same files as `exclude_docs` patterns that let them through (relative to site_src/): what
# the preview (publishing/preview.py) shows beside a draft's page.
DRAFT_FILES_SHOWN = (f"!/{IMAGES}/*/{DRAFT_FIGURE}*", f"!/{DOWNLOADS}/*/{DRAFT_DOWNLOADS}/")


def _inside(base: Path, name: str) -> Path:
    """Return base/name, refusing (WriteError) a name that would leave `base` or holds control characters."""
    if not name or any(ord(c) < 32 or c == "\x7f" for c in name):
        raise WriteError(f"{name!r} has control characters and cannot be a file name; rename the post.")
    real_base = base.resolve()
    if "/" not in name and name not in (".", ".."):
        # One file name in `base`: it resolves to real_base/name unless it is a link, which
        # one lstat tells (a build asks for several paths per post, each resolved once).
        path = real_base / name
        try:
            if not stat.S_ISLNK(os.lstat(path).st_mode):
                return path
        except OSError:  # not there (yet), as resolve() finds it: nothing to follow
            return path
    path = (base / name).resolve()
    if path.parent != real_base:
        raise WriteError(f"{name!r} would be written outside {base.name}/; rename the post.")
    return path


@dataclass(frozen=True)
class PostFiles:
    """Every path and URL of one post (`Layout.post`), as mkdocs' `File` is of one page.

    Paths are absolute and checked: one that would leave its folder (a file slug read from
    disk, a recorded name) raises WriteError. `*_rel` are relative to the blog, as messages
    and the guard name files; URLs are what the Markdown, the record and the site link.
    """

    root: Path
    file_slug: str
    url_slug: str
    draft: bool = False

    # -- the generated Markdown and its journal (site_src/posts/)
    @property
    def markdown(self) -> Path:
        """Return site_src/posts/<file slug>.md, the generated post."""
        return _inside(self.root / GENERATED, f"{self.file_slug}.md")

    @property
    def markdown_rel(self) -> str:
        """Return the generated post's path relative to the blog."""
        return f"{GENERATED}/{self.file_slug}.md"

    @property
    def markdown_link(self) -> str:
        """Return the link to the generated post from another one's Markdown: they share a folder."""
        return f"{self.file_slug}.md"

    @property
    def journal(self) -> Path:
        """Return the journal a publish of the post writes first (nbpress.publishing.write)."""
        return _inside(self.root / GENERATED, self.journal_rel.rpartition("/")[2])

    @property
    def journal_rel(self) -> str:
        """Return the journal's path relative to the blog."""
        return f"{GENERATED}/{JOURNAL_PREFIX}{self.file_slug}.json"

    # -- figures (assets/images/<file slug>/)
    @property
    def figures(self) -> Path:
        """Return the folder of the post's figures."""
        return _inside(self.root / IMAGES, self.file_slug)

    @property
    def figures_rel(self) -> str:
        """Return the figures folder relative to the blog."""
        return f"{IMAGES}/{self.file_slug}"

    @property
    def figure_prefix(self) -> str:
        """Return what every figure name of the post starts with: a draft's are dot-files."""
        return DRAFT_FIGURE if self.draft else ""

    @property
    def figure_url(self) -> str:
        """Return what the Markdown puts before a figure's name to link it: its folder, relative.

        Relative to the generated Markdown (site_src/posts/<slug>.md), never root-absolute: MkDocs
        and Zensical both resolve such a link from the Markdown file and write it relative to the
        page, so a figure loads at any base path (a domain's root or a project's /<name>/), in a
        post and in its excerpt on a listing. For a draft, the figure names' prefix follows the
        folder (`.../<slug>/.draft-`).
        """
        return f"../{self.figures_rel}/{self.figure_prefix}"

    def figure(self, name: str) -> Path:
        """Return the figure file `name` (as recorded: prefix included)."""
        return _inside(self.figures, name)

    def figure_rel(self, name: str) -> str:
        """Return the figure `name` (as recorded) relative to the blog."""
        return f"{self.figures_rel}/{name}"

    def figure_src(self, name: str) -> str:
        """Return the site path of the figure the Markdown links as figure_url + `name`.

        What the templates and the feed read (a post's first figure) is site-relative: a template
        resolves it with MkDocs' `url` filter, the feed against site_url.
        """
        return _site_path(self.figure_url + name)

    # -- downloads (assets/notebooks/<file slug>/)
    @property
    def downloads(self) -> Path:
        """Return the folder of the post's downloads (its executed notebook, its declared inputs)."""
        return _inside(self.root / DOWNLOADS, self.file_slug)

    @property
    def downloads_rel(self) -> str:
        """Return the downloads folder relative to the blog."""
        return f"{DOWNLOADS}/{self.file_slug}"

    def download_name(self, name: str) -> str:
        """Return the name of the download `name` (a path) in the downloads folder: a draft's are hidden."""
        return f"{DRAFT_DOWNLOADS}/{name}" if self.draft else name

    @property
    def notebook(self) -> str:
        """Return the download name of the post's executed notebook."""
        return self.download_name(f"{self.file_slug}.ipynb")

    def shown_name(self, download: str) -> str:
        """Return the name a reader sees of the download `download` (a download_name's)."""
        return download.removeprefix(f"{DRAFT_DOWNLOADS}/") if self.draft else download

    def download(self, name: str) -> Path:
        """Return where the download `name` goes, refusing (WriteError) any that would leave its folder."""
        folder = self.downloads
        if not name or any(ord(c) < 32 for c in name) or name.startswith("/") or ".." in name.split("/"):
            raise WriteError(f"{name!r} cannot be a download of {self.file_slug!r}; rename the file.")
        path = (folder / name).resolve()
        if not path.is_relative_to(folder) or path == folder:
            raise WriteError(f"{name!r} would be written outside {self.downloads_rel}/; rename the file.")
        return path

    def download_url(self, name: str) -> str:
        """Return the site path of the download `name` (a download_name's): what its link reads.

        The build writes it in the post's record (`nbpress: notebook:` and `inputs:`), and the
        templates only read it, whatever the post's URL slug.
        """
        return f"{DOWNLOADS}/{quote(self.file_slug)}/{quote(name)}"

    @property
    def link_from_series(self) -> str:
        """Return the link to the generated post from a series page (site_src/series/<name>.md)."""
        return f"../{GENERATED.removeprefix(SITE + '/')}/{self.markdown_link}"

    # -- the page
    @property
    def page_url(self) -> str:
        """Return the post's page in the site, relative to its root (mkdocs.yml's post_url_format)."""
        return POST_URL_FORMAT.format(slug=self.url_slug) + "/"

    # -- the execution report's log of its failure
    @property
    def log_link(self) -> str:
        """Return the log of the post's traceback when it fails, relative to the report page."""
        return f"logs/{self.file_slug}.log"

    @property
    def log(self) -> Path:
        """Return the log of the post's traceback when it fails (linked from the report page)."""
        return self.root / REPORT / self.log_link


def series_link(series_slug: str, from_post: bool = True) -> str:
    """Return the link to the series page `series_slug` from a post's Markdown (else from a series page)."""
    name = f"{series_slug}.md"
    return f"../{SERIES.removeprefix(SITE + '/')}/{name}" if from_post else name


def owner(rel: str) -> str | None:
    """Return the file slug of the post whose files hold `rel` (relative to the blog), or None.

    The inverse of PostFiles: its Markdown, its journal, or what lies in its figure or download folder.
    """
    parts = rel.split("/")
    if rel.startswith(f"{GENERATED}/") and len(parts) == 3:
        name = parts[2]
        if name.startswith(JOURNAL_PREFIX) and name.endswith(".json"):
            return name[len(JOURNAL_PREFIX) : -len(".json")] or None
        return (name[: -len(".md")] or None) if name.endswith(".md") else None
    for folder in (IMAGES, DOWNLOADS):
        if rel.startswith(f"{folder}/") and len(parts) > 2:
            return parts[2]
    return None


def _site_path(markdown_url: str) -> str:
    """Return the path in the built site of a link the generated Markdown holds."""
    path = posixpath.normpath(posixpath.join(GENERATED.removeprefix(f"{SITE}/"), markdown_url)).lstrip("/")
    return path + "/" if markdown_url.endswith("/") else path  # a folder stays a folder


# What a post names that the build reads and publishes (a declared input, a file or image a
# Markdown cell links, a bibliography) must be one of the blog's own files: a regular file
# inside posts/, not in a hidden (dot) folder, however it is reached. Every such path goes
# through owned_file; nothing else turns a name a post wrote into a path to read.
_OWNED_ADVICE = (
    "only regular files inside posts/ (outside hidden folders) are published: copy the file "
    "into posts/ and name it relative to the notebook."
)


def owned_file(sources: Path, name: str, what: str) -> Path:
    """Return the real path of the file `name` (relative to posts/) that a post asks to publish.

    `what` names it in messages ("declared input", "the image"). Raises NotOwnedError, one
    line naming the path and what to do, unless the path, with every link resolved, is a
    regular file inside `sources` and no part of it below `sources` starts with a dot
    (.git/config, .nbpress-cache/...): an absolute path, `..` or a symbolic link that leads
    out, a folder, a device or a FIFO are all refused.
    """

    def refuse(problem: str, advice: str = _OWNED_ADVICE) -> NotOwnedError:
        return NotOwnedError(f"{what} {name!r} {problem}; {advice}")

    if not name or "\x00" in name:
        raise refuse("is not a file name")
    if Path(name).is_absolute() or name.startswith("~"):
        raise refuse("is an absolute path")
    base = sources.resolve()
    # resolve() follows every link; strict=False so that a missing file is named as missing.
    real = (base / name).resolve()
    if not real.is_relative_to(base):
        root = base.parent
        where = f"to {real.relative_to(root).as_posix()}, " if real.is_relative_to(root) else ""
        raise refuse(f"leads {where}outside posts/ (through '..' or a symbolic link)")
    hidden = [part for part in (*Path(name).parts, *real.relative_to(base).parts) if part.startswith(".")]
    hidden = [part for part in hidden if part not in (".", "..")]
    if hidden:
        raise refuse(f"is in a hidden file or folder ({hidden[0]})")
    try:
        mode = real.stat().st_mode
    except FileNotFoundError:
        raise refuse(
            "does not exist (paths are relative to the notebook, in posts/)", "add the file or fix the name."
        ) from None
    except OSError as err:
        raise refuse(f"cannot be read ({err.strerror or err})", "fix its permissions.") from None
    if not stat.S_ISREG(mode):
        kind = "a folder" if stat.S_ISDIR(mode) else "not a regular file (a device, FIFO or socket)"
        raise refuse(f"is {kind}")
    return real


def read_owned(sources: Path, name: str, what: str) -> tuple[Path, bytes]:
    """Return (real path, bytes) of the file `name` that a post asks to publish (see owned_file).

    The file is opened without following a link and checked again once open, so a link or
    a FIFO swapped in after the check is refused, not read.
    """
    real = owned_file(sources, name, what)
    try:
        fd = os.open(real, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError as err:
        raise NotOwnedError(
            f"{what} {name!r} cannot be read ({err.strerror or err}); {_OWNED_ADVICE}"
        ) from None
    with os.fdopen(fd, "rb") as handle:
        if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
            raise NotOwnedError(f"{what} {name!r} is not a regular file; {_OWNED_ADVICE}")
        return real, handle.read()
