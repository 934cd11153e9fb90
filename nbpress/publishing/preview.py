"""The preview's copy of the published tree: what `build.py --serve`'s server renders, changed once per build.

The preview server (`mkdocs serve` or `zensical serve`) does not read the blog's site_src/: it
serves `.nbpress-preview/`, a copy of site_src/ (assets/ inside it, where site_src/assets links)
made of hard links, under a config that inherits mkdocs.yml and watches nothing else. The
watcher brings the copy up to date once each build has finished (`Preview.sync`), every
changed file in one burst, so one save makes the server render once:

- never while the post runs: a save in posts/ is the watcher's, not the server's;
- never twice for one build: a file the build writes late (the execution report) lands with
  the post's page; a build that changed nothing changes nothing in the copy;
- a figure rewritten under the same name is seen (a server does not watch through the
  site_src/assets link).

The copy is the preview's alone (the published site is built from site_src/ by `mkdocs
build`); it is made again from scratch by every `--serve`, and `site/` is left alone.
"""

from __future__ import annotations

import contextlib
import os
import shutil
from pathlib import Path

from ..atomic import atomic_write
from ..layout import ASSETS, DRAFT_FILES_SHOWN, REPORT, SERIES, SITE, SOURCES, Layout
from .changes import Changes

PREVIEW = ".nbpress-preview"  # the copy's folder, beside mkdocs.yml
CONFIG = "mkdocs.yml"
# The copy's config: the blog's, with a site folder of its own and no watched folder (MkDocs
# replaces the inherited list; Zensical appends it, and its entries name no folder of the copy).
# A draft's figures and downloads are dot-files, which a site leaves out: the preview shows them
# beside the draft's page (hooks/ownership.py does so for MkDocs; Zensical runs no hook).
CONFIG_TEXT = (
    "# Written by build.py --serve (nbpress/publishing/preview.py): the preview renders this copy.\n"
    f"INHERIT: ../{CONFIG}\nsite_dir: site\nwatch: []\n"
    "exclude_docs: |\n" + "".join(f"  {pattern}\n" for pattern in DRAFT_FILES_SHOWN)
)
# Top-level names of the blog the copy does not link: its own trees, the sources, the build's
# folders, and assets/ (a watched folder of mkdocs.yml that would be watched again).
_NOT_LINKED = {SITE, ASSETS, SOURCES, "site", PREVIEW, CONFIG}
_TEMPORARY = ".nbpress-"  # names of files being written (a build's journal, this module's links)


class Preview:
    """The preview's copy of the published tree of the blog at `root`."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.folder = root / PREVIEW

    @property
    def config(self) -> Path:
        """Return the copy's config file, which the preview server is started with."""
        return self.folder / CONFIG

    def create(self) -> None:
        """Make the copy from scratch: its config, links to the blog's other files, the published tree."""
        shutil.rmtree(self.folder, ignore_errors=True)
        self.folder.mkdir()
        atomic_write(self.folder / ".gitignore", b"*\n")
        atomic_write(self.config, CONFIG_TEXT.encode())
        # What mkdocs.yml names relative to itself (hooks/, overrides/, ...) is found from the copy.
        for entry in sorted(self.root.iterdir()):
            if entry.name not in _NOT_LINKED and not entry.name.startswith("."):
                (self.folder / entry.name).symlink_to(Path("..") / entry.name)
        self.sync()

    def sync(self, changes: Changes | None = None) -> int:
        """Bring the copy up to date with the blog's site_src/; return how many files changed.

        With `changes` (what a build reported), only the changed posts' pages, figures and
        downloads are compared, and the pages every build may rewrite (the execution report,
        the series pages): the cost grows with what changed, not with the blog. Without, the
        whole tree. A file is linked (copied where hard links cannot be made) under a
        temporary name and renamed into place, so the server never reads half a file.
        """
        if changes is None:
            return self._sync_folder("")
        changed = sum(self._sync_folder(rel) for rel in (_site_rel(REPORT), _site_rel(SERIES)))
        layout = Layout(self.root)
        for page in sorted(changes.pages):
            files = layout.post(Path(page).stem)
            changed += self._sync_file(_site_rel(page))
            for folder in (files.figures_rel, files.downloads_rel):
                changed += self._sync_folder(folder)
        return changed

    def _sync_folder(self, rel: str) -> int:
        """Sync the files under `rel` (relative to site_src/; "" for all of it); return how many changed."""
        source, copy = Layout(self.root).published[0] / rel, self.folder / SITE / rel
        wanted = _files(source, self.root.resolve())
        changed = 0
        for name, path in wanted.items():
            changed += _place(path, copy / name)
        for name in sorted(set(_files(copy, None)) - set(wanted), reverse=True):
            (copy / name).unlink()
            changed += 1
            with contextlib.suppress(OSError):  # not empty: other files are left in it
                (copy / name).parent.rmdir()
        return changed

    def _sync_file(self, rel: str) -> int:
        """Sync the one file `rel` (relative to site_src/); return 1 if it changed."""
        source, copy = Layout(self.root).published[0] / rel, self.folder / SITE / rel
        if source.is_file():
            return _place(source, copy)
        if copy.exists():
            copy.unlink()
            return 1
        return 0


def _site_rel(rel: str) -> str:
    """Return a path relative to the blog (site_src/..., assets/...) as site_src/ sees it."""
    return rel.removeprefix(f"{SITE}/")


def _place(path: Path, target: Path) -> int:
    """Put `path` at `target` (a hard link, or a copy) unless it is there already; return 1 if placed."""
    if _same(path, target):
        return 0
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = target.with_name(f"{_TEMPORARY}{target.name}")
    with contextlib.suppress(FileNotFoundError):
        temporary.unlink()
    try:
        os.link(path, temporary)
    except OSError:  # another file system, or one without hard links
        shutil.copy2(path, temporary)
    temporary.replace(target)
    return 1


def _files(top: Path, root: Path | None) -> dict[str, Path]:
    """Return {path relative to `top`: file} of the files under `top`, but files being written.

    With `root`, symbolic links to folders inside `root` are followed (site_src/assets).
    """
    found: dict[str, Path] = {}
    if not top.is_dir():
        return found
    for folder, dirs, files in os.walk(top, followlinks=root is not None):
        here = Path(folder)
        if root is not None:
            dirs[:] = [d for d in dirs if not (here / d).is_symlink() or _inside(here / d, root)]
        for name in files:
            if not name.startswith(_TEMPORARY):
                found[(here / name).relative_to(top).as_posix()] = here / name
    return found


def _inside(path: Path, root: Path) -> bool:
    return path.resolve().is_relative_to(root)


def _same(path: Path, target: Path) -> bool:
    """Return True if `target` is `path` (a hard link) or a copy of it as it is now."""
    try:
        a, b = path.stat(), target.stat()
    except FileNotFoundError:
        return False
    if (a.st_ino, a.st_dev) == (b.st_ino, b.st_dev):
        return True
    return (a.st_size, a.st_mtime_ns) == (b.st_size, b.st_mtime_ns)
