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

from ..layout import ASSETS, DOWNLOADS, DRAFT_DOWNLOADS, DRAFT_FIGURE, IMAGES, SITE, SOURCES, Layout

PREVIEW = ".nbpress-preview"  # the copy's folder, beside mkdocs.yml
CONFIG = "mkdocs.yml"
# The copy's config: the blog's, with a site folder of its own and no watched folder (MkDocs
# replaces the inherited list; Zensical appends it, and its entries name no folder of the copy).
# A draft's figures and downloads are dot-files, which a site leaves out: the preview shows them
# beside the draft's page (hooks/ownership.py does so for MkDocs; Zensical runs no hook).
CONFIG_TEXT = (
    "# Written by build.py --serve (nbpress/publishing/preview.py): the preview renders this copy.\n"
    f"INHERIT: ../{CONFIG}\nsite_dir: site\nwatch: []\n"
    f"exclude_docs: |\n  !/{IMAGES}/*/{DRAFT_FIGURE}*\n  !/{DOWNLOADS}/*/{DRAFT_DOWNLOADS}/\n"
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
        (self.folder / ".gitignore").write_text("*\n", encoding="utf-8")
        self.config.write_text(CONFIG_TEXT, encoding="utf-8")
        # What mkdocs.yml names relative to itself (hooks/, overrides/, ...) is found from the copy.
        for entry in sorted(self.root.iterdir()):
            if entry.name not in _NOT_LINKED and not entry.name.startswith("."):
                (self.folder / entry.name).symlink_to(Path("..") / entry.name)
        self.sync()

    def sync(self) -> int:
        """Bring the copy's site_src/ up to date with the blog's; return how many files changed.

        A file is linked (copied where hard links cannot be made) under a temporary name and
        renamed into place, so the server never reads half a file.
        """
        source, copy = Layout(self.root).published[0], self.folder / SITE
        wanted = _files(source, self.root.resolve())
        changed = 0
        for rel, path in wanted.items():
            target = copy / rel
            if _same(path, target):
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            temporary = target.with_name(f"{_TEMPORARY}{target.name}")
            with contextlib.suppress(FileNotFoundError):
                temporary.unlink()
            try:
                os.link(path, temporary)
            except OSError:  # another file system, or one without hard links
                shutil.copy2(path, temporary)
            temporary.replace(target)
            changed += 1
        for rel in sorted(set(_files(copy, None)) - set(wanted), reverse=True):
            (copy / rel).unlink()
            changed += 1
            with contextlib.suppress(OSError):  # not empty: other files are left in it
                (copy / rel).parent.rmdir()
        return changed


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
