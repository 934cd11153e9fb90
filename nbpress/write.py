"""The only writer of the published tree: site_src/posts/<slug>.md and assets/images/<slug>/.

Every file is replaced atomically (temporary dot-file in the same folder, then os.replace).
A post's figures land before the Markdown that links them; figures the new version no
longer links are removed only after. Only files recorded in a generated post's front
matter (`nbpress:`) are ever deleted.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

import yaml

from .errors import ConfigError, WriteError
from .render import RenderedPost

TMP_PREFIX = ".nbpress-tmp-"


def atomic_write(path: Path, data: bytes) -> bool:
    """Replace `path` with `data` atomically; return False if it already held those bytes."""
    try:
        if path.read_bytes() == data:
            return False
    except FileNotFoundError:
        pass
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=TMP_PREFIX)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return True


def read_record(markdown_path: Path) -> dict[str, Any] | None:
    """Return the `nbpress` record of a generated post's front matter, or None if it has none."""
    try:
        text = markdown_path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None
    if not text.startswith("---\n"):
        return None
    end = text.find("\n---\n", 4)
    if end < 0:
        return None
    try:
        data = yaml.safe_load(text[4:end])
    except yaml.YAMLError:
        return None
    record = data.get("nbpress") if isinstance(data, dict) else None
    return record if isinstance(record, dict) else None


class Site:
    """The published tree of one blog."""

    def __init__(self, root: Path, sources: Path) -> None:
        self.root = root.resolve()
        self.posts_dir = self.root / "site_src" / "posts"
        self.images_dir = self.root / "assets" / "images"
        sources = sources.resolve()
        for out in (self.posts_dir, self.images_dir):
            if out == sources or out.is_relative_to(sources) or sources.is_relative_to(out):
                raise ConfigError(
                    f"the output folder {out.relative_to(self.root)} overlaps the sources in "
                    f"{sources.name}/; keep posts/ apart from site_src/ and assets/."
                )

    def markdown_path(self, slug: str) -> Path:
        """Return the path of a post's Markdown, refusing any that would leave site_src/posts."""
        return self._inside(self.posts_dir, f"{slug}.md")

    def figure_dir(self, slug: str) -> Path:
        """Return the folder of a post's figures, refusing any that would leave assets/images."""
        return self._inside(self.images_dir, slug)

    @staticmethod
    def _inside(base: Path, name: str) -> Path:
        path = (base / name).resolve()
        if path.parent != base.resolve() or any(ord(c) < 32 for c in name):
            raise WriteError(f"{name!r} would be written outside {base.name}/; rename the post.")
        return path

    def record(self, slug: str) -> dict[str, Any] | None:
        """Return the nbpress record of the published post `slug`, if there is one."""
        return read_record(self.markdown_path(slug))

    def publish(self, post: RenderedPost) -> bool:
        """Write one post: figures, then Markdown, then stale figures removed.

        Returns True if any file changed.
        """
        md_path = self.markdown_path(post.slug)
        fig_dir = self.figure_dir(post.slug)
        old = self.record(post.slug) or {}
        changed = False
        if post.figures:
            fig_dir.mkdir(parents=True, exist_ok=True)
        for name, data in post.figures.items():
            changed |= atomic_write(self._inside(fig_dir, name), data)
        md_path.parent.mkdir(parents=True, exist_ok=True)
        changed |= atomic_write(md_path, post.markdown.encode("utf-8"))
        for name in old.get("figures", []) or []:
            if name not in post.figures:
                self._remove(fig_dir, str(name))
                changed = True
        self._remove_if_empty(fig_dir)
        return changed

    def prune(self, sources: set[str]) -> list[str]:
        """Remove generated posts whose source is gone; return their slugs.

        Only Markdown files carrying an nbpress record, and the figures that record lists,
        are deleted: anything else in the tree belongs to the author.
        """
        removed: list[str] = []
        if not self.posts_dir.is_dir():
            return removed
        for md in sorted(self.posts_dir.glob("*.md")):
            record = read_record(md)
            if record is None or record.get("source") in sources:
                continue
            slug = md.stem
            fig_dir = self.figure_dir(slug)
            for name in record.get("figures", []) or []:
                self._remove(fig_dir, str(name))
            self._remove_if_empty(fig_dir)
            md.unlink()
            removed.append(slug)
        return removed

    def _remove(self, directory: Path, name: str) -> None:
        self._inside(directory, name).unlink(missing_ok=True)

    @staticmethod
    def _remove_if_empty(directory: Path) -> None:
        if directory.is_dir() and not any(directory.iterdir()):
            directory.rmdir()
