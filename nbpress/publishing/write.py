"""The only writer of the published tree: site_src/posts/<slug>.md, assets/images/<slug>/ and
the downloads of each post, assets/notebooks/<slug>/ (its executed notebook, its inputs), and
the pages of the blog's series, site_src/series/<name>.md (`Site.publish_series`).

Every file is replaced atomically (nbpress.atomic: a temporary dot-file in the same folder, then os.replace).
A post's figures land before the Markdown that links them; figures the new version no
longer links are removed only after. Only files recorded in a generated post's front
matter (`nbpress:`), or in the journal a publish writes first, are ever deleted or
overwritten: the journal (a dot-file MkDocs skips) names every figure a publish may leave
behind, so a build killed half-way hands them to the next one instead of to nobody.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
from collections.abc import Iterator
from pathlib import Path

from ..atomic import TMP_PREFIX, atomic_write, stage
from ..errors import ConfigError, WriteError
from ..layout import JOURNAL_PREFIX, Layout, PostFiles, owner
from ..record import Record, edited, front_matter, generated, read, seal
from ..rendering import RenderedPost
from ..yamlload import safe_load

__all__ = ["JOURNAL_PREFIX", "TMP_PREFIX", "Site", "hand_edit_message"]


def _problem(err: OSError) -> str:
    """Return what an OSError of writing a file means, in words (ENAMETOOLONG is not a full disk)."""
    if err.errno == errno.ENAMETOOLONG:
        return "a file name is too long for the file system"
    return str(err.strerror or err)


def _advice(err: OSError) -> str:
    """Return what to do about an OSError of writing a file."""
    if err.errno == errno.ENAMETOOLONG:
        return "Shorten the post's file name (or its slug:), then build again."
    if err.errno in (errno.ENOSPC, errno.EDQUOT):
        return "Free some space, then build again."
    if err.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return "Fix the folder's permissions, then build again."
    return "Free some space or fix the folder's permissions, then build again."


def _links_under(top: Path) -> Iterator[Path]:
    """Yield the symbolic links under the folder `top`, a folder's in name order before its subfolders'.

    A link to a folder is listed, never entered. The kind of each entry comes with its folder's
    listing (os.scandir), so no file is asked about one by one.
    """
    try:
        with os.scandir(top) as listing:
            entries = list(listing)
    except OSError:  # as os.walk: a folder that is gone or cannot be listed is passed over
        return
    yield from (top / name for name in sorted(e.name for e in entries if e.is_symlink()))
    for name in sorted(e.name for e in entries if e.is_dir(follow_symlinks=False)):
        yield from _links_under(top / name)


def hand_edit_message(rel_md: str, source: str) -> str:
    """Return the line refusing to overwrite the hand-edited generated post `rel_md` of `source`."""
    return (
        f"{rel_md} was edited by hand since the build wrote it, and nbpress will not overwrite "
        f"the edit; move it into the source {source}, or delete the file, then build again"
    )


class Site:
    """The published tree of one blog."""

    def __init__(self, root: Path, sources: Path) -> None:
        self.root = root.resolve()
        self.layout = Layout(self.root)
        self.posts_dir = self.layout.generated
        self.images_dir = self.layout.images
        self.downloads_root = self.layout.downloads
        sources = sources.resolve()
        for out in (self.posts_dir, self.images_dir):
            home = out.relative_to(self.root).parts[0]
            real = out.resolve()
            if real == sources or real.is_relative_to(sources) or sources.is_relative_to(real):
                raise ConfigError(
                    f"the output folder {out.relative_to(self.root)} overlaps the sources in "
                    f"{sources.name}/; keep posts/ apart from site_src/ and assets/."
                )
            if not real.is_relative_to((self.root / home).resolve()):
                # A symlink would send generated files (and deletions) somewhere else.
                raise ConfigError(
                    f"the output folder {out.relative_to(self.root)} leads outside {home}/ "
                    "(a symbolic link?); make it a plain folder."
                )
        self.check_links()

    def check_links(self) -> None:
        """Raise ConfigError if site_src/ or assets/ hold a symbolic link nbpress did not make.

        MkDocs copies what a link points at into the site (a secret, a folder of the
        machine), and nbpress makes no link: the one allowed is the committed site_src/assets,
        and only while it leads to assets/.
        """
        allowed = self.layout.assets_link
        for top in self.layout.published:
            for path in _links_under(top):
                if path == allowed and path.resolve() == (self.root / "assets").resolve():
                    continue
                raise ConfigError(
                    "is a symbolic link, and the site would publish whatever it points at; nbpress "
                    "makes no link in site_src/ or assets/ (only site_src/assets, leading to "
                    "assets/): remove it, or put a copy of the file there.",
                    path=path.relative_to(self.root).as_posix(),
                )

    def recover(self) -> list[Path]:
        """Finish what a killed build left: delete its temporary files and settle its journals.

        A journal's figures and downloads that the published Markdown does not record are
        removed (that Markdown is old or new, whole either way; its own files all exist). Returns the
        files deleted. Only names carrying nbpress's prefixes are touched, and only by the
        holder of the blog's build lock (nbpress.publishing.lock): never a running build's files.
        """
        from .lock import holder

        if holder(self.layout.lock) != os.getpid():
            raise ConfigError(
                "recover() needs the build lock; call it inside nbpress.publishing.lock.build_lock.",
                path=self.layout.rel(self.layout.lock),
            )
        # Every folder of the published trees, not a list of the folders the build writes: a
        # writer added later (the report page was one a list missed) is covered too.
        found = [
            Path(top, name)
            for tree in self.layout.published
            for top, _, names in os.walk(tree)  # links to folders are not followed
            for name in names
            if name.startswith(TMP_PREFIX)
        ]
        for path in found:
            if not path.is_symlink() and path.is_file():
                path.unlink(missing_ok=True)
        for journal in sorted(self.posts_dir.glob(JOURNAL_PREFIX + "*.json")):
            slug = owner(self.layout.rel(journal)) or ""
            try:
                files = self.files(slug)
                fig_dir = files.figures
                record = self.record(slug)
            except WriteError:
                continue
            keep = set(record.figures if record else ())
            for name in sorted(self._owned_figures(slug, None) - keep):
                self._remove(files, name)
                found.append(fig_dir / name)
            self._remove_if_empty(fig_dir)
            # Downloads a killed publish put in place that the published Markdown does not list.
            extra = set(self._journal(slug, "downloads")) - set(record.downloads if record else ())
            self.remove_downloads(slug, extra)
            found += [files.downloads / name for name in sorted(extra)]
            journal.unlink()
            found.append(journal)
        return found

    def files(self, slug: str) -> PostFiles:
        """Return the files of the published post `slug` (nbpress.layout.PostFiles)."""
        return self.layout.post(slug)

    def figure_exists(self, slug: str, name: str) -> bool:
        """Return True if the figure `name` of the post `slug` exists.

        A post whose Markdown links a missing figure (torn by an older nbpress, or a figure
        deleted by hand) is then not current, and the next build publishes it again.
        """
        return self.files(slug).figure(name).is_file()

    def edited(self, slug: str, record: Record | None) -> bool:
        """Return True if the generated post `slug` was edited by hand since the build wrote it."""
        return edited(self.files(slug).markdown, record)

    def generated(self) -> list[tuple[Path, Record]]:
        """Return (Markdown path, record) of every generated post (nbpress.record.generated)."""
        return generated(self.posts_dir)

    def orphans(self, sources: set[str]) -> list[tuple[Path, Record]]:
        """Return the generated posts whose source (a path relative to the blog) is not in `sources`."""
        return [(md, record) for md, record in self.generated() if record.source not in sources]

    def record(self, slug: str) -> Record | None:
        """Return the nbpress record of the published post `slug`, if there is one."""
        return read(self.files(slug).markdown)

    def _journal(self, slug: str, field: str) -> list[str]:
        """Return the names (`field`: figures, downloads) a killed publish of `slug` left in its journal."""
        try:
            data = json.loads(self.files(slug).journal.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return []
        value = data.get(field) if isinstance(data, dict) else None
        return [str(n) for n in value] if isinstance(value, list) else []

    def _owned_figures(self, slug: str, record: Record | None) -> set[str]:
        """Return the figure names of `slug` that nbpress wrote: its record's and its journal's."""
        return {*(record.figures if record else ()), *self._journal(slug, "figures")}

    def publish(self, post: RenderedPost, downloads: dict[str, bytes] | None = None) -> bool:
        """Write one post: journal, downloads, figures, Markdown, stale files removed, journal removed.

        `downloads` ({name: bytes}) is what a reader downloads (its executed notebook, its
        declared inputs), written to assets/notebooks/<slug>/<name> (a folder that is
        nbpress's own). Every file is staged whole before any is put in place: a post that
        cannot be written (a full disk, a name too long) publishes nothing new. Returns True
        if any file changed.
        """
        files = self.files(post.file_slug)
        old = self.record(post.file_slug)
        ours = self._owned_figures(post.file_slug, old)
        self._check_owned(post, files, old, ours)
        downloads = downloads or {}
        old_downloads = set(old.downloads if old else ())
        new_downloads = [(files.download(n), d) for n, d in sorted(downloads.items())]
        # Everything this publish may leave behind if killed: the next build's recover() settles it.
        journal = {
            "figures": sorted(ours | set(post.figures)),
            "downloads": sorted(set(downloads) - old_downloads),
        }
        # Downloads and figures land before the Markdown linking them.
        targets = [
            *new_downloads,
            *((files.figure(n), d) for n, d in post.figures.items()),
            (files.markdown, seal(post.markdown).encode("utf-8")),
        ]
        staged = self._stage(post.file_slug, journal, targets, [t for t, _ in new_downloads])
        changed = self._put_in_place(files, staged, ours - set(post.figures))
        stale_downloads = old_downloads - set(downloads)
        if stale_downloads:
            self.remove_downloads(post.file_slug, stale_downloads)
            changed = True
        return changed

    def _stage(
        self,
        slug: str,
        journal: dict[str, list[str]],
        targets: list[tuple[Path, bytes]],
        downloads: list[Path],
    ) -> list[tuple[Path, Path]]:
        """Write the journal, then stage every target whole; return (temporary file, target) pairs.

        A full disk or a bad folder then leaves the old version whole (its Markdown, its figures,
        its downloads), never an old Markdown showing some new pictures under the same names:
        nothing staged is left behind, and WriteError says so.
        """
        files = self.files(slug)
        staged: list[tuple[Path, Path]] = []
        try:
            files.markdown.parent.mkdir(parents=True, exist_ok=True)
            atomic_write(files.journal, json.dumps(journal).encode("utf-8"))
            for target, _ in targets:
                target.parent.mkdir(parents=True, exist_ok=True)
            for target, data in targets:
                tmp = stage(target, data)
                if tmp is not None:
                    staged.append((tmp, target))
        except OSError as err:
            for tmp, _ in staged:
                tmp.unlink(missing_ok=True)
            with contextlib.suppress(OSError):
                files.journal.unlink(missing_ok=True)  # nothing was put in place
            for target in downloads:  # the folders made for them, if they stayed empty
                with contextlib.suppress(OSError):
                    self._prune_download_folders(slug, target)
            raise WriteError(
                f"{files.markdown_rel} could not be written ({_problem(err)}); the last version "
                f"stays published. {_advice(err)}"
            ) from None
        return staged

    def _put_in_place(self, files: PostFiles, staged: list[tuple[Path, Path]], dropped: set[str]) -> bool:
        """Rename the staged files over their targets, remove the `dropped` figures and the journal.

        Returns True if any file changed.
        """
        try:
            for tmp, target in staged:
                os.replace(tmp, target)
            changed = bool(staged)
            for name in sorted(dropped):
                self._remove(files, name)
                changed = True
            self._remove_if_empty(files.figures)
            files.journal.unlink()
        except OSError as err:
            for tmp, _ in staged:
                tmp.unlink(missing_ok=True)
            raise WriteError(
                f"{files.markdown_rel} could not be written ({_problem(err)}); {_advice(err)}"
            ) from None
        return changed

    def _check_owned(self, post: RenderedPost, files: PostFiles, old: Record | None, ours: set[str]) -> None:
        """Raise WriteError if publishing would overwrite a file nbpress did not create."""
        md_path, fig_dir, rel_md = files.markdown, files.figures, files.markdown_rel
        if md_path.exists() and old is None:
            raise WriteError(
                f"{rel_md} exists and was not generated by nbpress; move it away or rename the post."
            )
        if edited(md_path, old):
            source = old.source if old else "notebook"
            raise WriteError(hand_edit_message(rel_md, source) + ".")
        if post.figures and fig_dir.exists() and not fig_dir.is_dir():
            raise WriteError(
                f"{files.figures_rel} is a file, but the post {post.file_slug!r} "
                "needs a folder of figures there; rename the post or move the file."
            )
        for name, data in post.figures.items():
            target = files.figure(name)
            # A file with the very bytes it would get loses nothing (a deleted Markdown rebuilt).
            if name not in ours and target.exists() and target.read_bytes() != data:
                raise WriteError(
                    f"{target.relative_to(self.root).as_posix()} exists and was not generated by nbpress; "
                    "move it away, nbpress will not overwrite it."
                )

    def remove_downloads(self, slug: str, names: set[str]) -> None:
        """Delete recorded downloads of `slug` (and the folders they leave empty)."""
        for name in sorted(names):
            try:
                path = self.files(slug).download(name)
            except WriteError:
                continue
            with contextlib.suppress(NotADirectoryError, IsADirectoryError):
                path.unlink(missing_ok=True)
            self._prune_download_folders(slug, path)
        with contextlib.suppress(WriteError):
            self._remove_if_empty(self.files(slug).downloads)

    def _prune_download_folders(self, slug: str, path: Path) -> None:
        """Remove the folders between the download `path` and assets/notebooks/<slug>/ that are empty."""
        folder = self.files(slug).downloads
        parent = path.parent
        while parent != folder and parent.is_relative_to(folder):
            self._remove_if_empty(parent)
            parent = parent.parent
        self._remove_if_empty(folder)

    def prune(self, sources: set[str]) -> tuple[list[str], list[str]]:
        """Remove generated posts whose source is gone; return (their slugs, those kept).

        Only Markdown files carrying an nbpress record, and the figures that record lists,
        are deleted: anything else in the tree belongs to the author, and so does a generated
        post edited by hand since: it is kept, named (relative to the blog) in the second list.
        """
        removed: list[str] = []
        kept: list[str] = []
        for md, record in self.orphans(sources):
            if edited(md, record):
                kept.append(md.relative_to(self.root).as_posix())
            elif self._remove_post(md.stem, record):
                self.remove_downloads(md.stem, set(record.downloads))
                md.unlink()
                removed.append(md.stem)
        return removed, kept

    def unexplained(self, slug: str) -> list[str]:
        """Return the files in the folders of the published post `slug` that its record does not list.

        assets/images/<slug>/ and assets/notebooks/<slug>/ are nbpress's own: what its record
        (or a journal) does not name, nbpress did not write; the build refuses to publish
        beside it. Paths relative to the blog, by name.
        """
        record = self.record(slug)
        if record is None:
            return []
        found: list[str] = []
        try:
            post = self.files(slug)
            folders = [
                (post.figures, self._owned_figures(slug, record)),
                (post.downloads, set(record.downloads)),
            ]
        except WriteError:
            return []
        for folder, listed in folders:
            if not folder.is_dir() or folder.is_symlink():
                continue
            for top, folders_in, files in os.walk(folder):  # links to folders are not followed
                here = Path(top)
                names = files + [d for d in folders_in if (here / d).is_symlink()]
                for name in names:
                    rel = (here / name).relative_to(folder).as_posix()
                    if rel not in listed and not name.startswith(TMP_PREFIX):
                        found.append((here / name).relative_to(self.root).as_posix())
        return sorted(found)

    def withdraw(self, slug: str, record: Record | None) -> None:
        """Delete the published post `slug` as `record` lists it: Markdown, figures, downloads, journal.

        For a post whose files were changed behind the build's back (nbpress.execution.guard): the
        record is the one the build noted before, not what the Markdown says now.
        """
        with contextlib.suppress(WriteError, OSError):
            self._remove_post(slug, record)
            self.remove_downloads(slug, set(record.downloads if record else ()))
            path = self.files(slug).markdown
            if not path.is_dir():
                path.unlink(missing_ok=True)

    def _remove_post(self, slug: str, record: Record | None) -> bool:
        """Delete the figures and journal of `slug`; return False if the name is not one nbpress makes."""
        try:
            files = self.files(slug)
            fig_dir, journal = files.figures, files.journal
        except WriteError:
            return False
        for name in self._owned_figures(slug, record):
            self._remove(files, name)
        self._remove_if_empty(fig_dir)
        journal.unlink(missing_ok=True)
        return True

    def _remove(self, files: PostFiles, name: str) -> None:
        """Delete one recorded figure; a recorded name that points elsewhere is never followed."""
        try:
            path = files.figure(name)
        except WriteError:
            return
        with contextlib.suppress(NotADirectoryError):  # the "folder" is someone's file: not ours
            path.unlink(missing_ok=True)

    @staticmethod
    def _remove_if_empty(directory: Path) -> None:
        if directory.is_dir() and not any(directory.iterdir()):
            directory.rmdir()

    # -- the series pages (site_src/series/): nbpress.rendering.series writes their text

    def published_front_matter(self, slug: str) -> dict[str, object] | None:
        """Return the front matter of the generated post `slug` (None if it has no generated page).

        Shared with every other reader of the page (nbpress.record.front_matter): not to be changed.
        """
        try:
            data = front_matter(self.files(slug).markdown)
        except Exception:  # a name nbpress does not make, a hand-broken page: listed without its summary
            return None
        return data if data is not None and isinstance(data.get("nbpress"), dict) else None

    def _series_digest(self, path: Path) -> str | None:
        """Return the digest a generated series page records (None: not one nbpress wrote)."""
        from ..rendering.series import PAGE_KEY

        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            return None
        end = text.find("\n---\n", 4)
        try:
            data = safe_load(text[4:end]) if text.startswith("---\n") and end > 0 else None
        except Exception:  # not front matter nbpress writes
            return None
        value = data.get(PAGE_KEY) if isinstance(data, dict) else None
        return value if isinstance(value, str) and value.startswith("sha256:") else None

    def series_differences(self, pages: dict[str, str]) -> list[tuple[str, str]]:
        """Return (page, "missing" | "stale" | "orphan" | "edited" | "not ours") for each series page
        publish_series(`pages`) would change or refuse; [] when they are current."""
        folder = self.layout.series
        existing = sorted(folder.glob("*.md")) if folder.is_dir() and not folder.is_symlink() else []
        wanted = {self.layout.series_page(slug): text for slug, text in sorted(pages.items())}
        found: list[tuple[str, str]] = []
        for path in sorted({*existing, *wanted}):
            rel = self.layout.rel(path)
            digest = self._series_digest(path) if path.exists() else None
            if not path.exists():
                found.append((rel, "missing"))
            elif digest is None:
                if path in wanted:
                    found.append((rel, "not ours"))
            elif edited(path, Record("", digest=digest)):
                found.append((rel, "edited"))
            elif path not in wanted:
                found.append((rel, "orphan"))
            elif path.read_bytes() != seal(wanted[path]).encode("utf-8"):
                found.append((rel, "stale"))
        return found

    def publish_series(self, pages: dict[str, str]) -> tuple[list[str], list[str], list[WriteError]]:
        """Write the series pages {series slug: Markdown} and remove the generated ones not among them.

        Returns (pages written, pages removed, errors), pages relative to the blog. A page nbpress
        did not write, or one edited by hand since it wrote it, is never overwritten or removed:
        it is an error naming the file. Each page is replaced atomically.
        """
        folder = self.layout.series
        written: list[str] = []
        removed: list[str] = []
        errors: list[WriteError] = []
        existing = sorted(folder.glob("*.md")) if folder.is_dir() and not folder.is_symlink() else []
        wanted = {self.layout.series_page(slug): text for slug, text in sorted(pages.items())}
        for path in sorted({*existing, *wanted}):
            rel = self.layout.rel(path)
            digest = self._series_digest(path) if path.exists() else None
            if path.exists() and digest is None:
                if path in wanted:
                    errors.append(
                        WriteError(
                            "exists and was not generated by nbpress, which would write a series' page "
                            "there; move it away or rename the series.",
                            path=rel,
                        )
                    )
                continue  # the author's own page
            if digest is not None and edited(path, Record("", digest=digest)):
                errors.append(
                    WriteError(
                        "was edited by hand since the build wrote it, and nbpress will not overwrite "
                        "the edit; it is made from the series' posts: edit them, or delete the file, "
                        "then build again.",
                        path=rel,
                    )
                )
                continue
            try:
                if path in wanted:
                    folder.mkdir(parents=True, exist_ok=True)
                    if atomic_write(path, seal(wanted[path]).encode("utf-8")):
                        written.append(rel)
                elif digest is not None:
                    path.unlink()
                    removed.append(rel)
            except OSError as err:
                errors.append(WriteError(f"could not be written ({_problem(err)}); {_advice(err)}", path=rel))
        with contextlib.suppress(OSError):
            self._remove_if_empty(folder)
        return written, removed, errors
