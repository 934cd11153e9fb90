"""What a post's code may not touch: the published tree, the site's own code and the cache.

Cells run with the author's rights, so nothing stops one from writing anywhere; what the
build guarantees is that it never publishes, runs or caches what a cell did behind its
back. Before the first kernel starts, the build notes every entry of the *guarded* part
of the blog (GUARDED: site_src/, assets/, hooks/, overrides/, mkdocs.yml, the cache, and
the build's own code and requirements) with one `lstat` each: type, size, times, inode,
mode. Cells may write inside posts/ (their working directory) and outside the blog.

After each execution the build compares the guarded tree with its notes (`changes`): an
entry whose inode, size, modification or change time differs was written (the change time
cannot be set back by a process), and only the build writes there while kernels run (what
it writes itself it notes again, `expect`). So every difference was made by the code of a
post that was running; the build then undoes it where it can (`Guard.undo`):

- a file or folder that appeared is moved to QUARANTINE (no source explains it);
- a file of a published post (its Markdown, a figure or download its record lists) that
  changed or went is restored by rendering that post again from its cache entry, or, when
  its published version cannot be rendered again exactly, withdrawn whole (the next build
  publishes it again);
- a cache entry that was written, added or removed is removed (a miss: the post runs again);
- an author's file (mkdocs.yml, hooks/, overrides/, the site's pages) is restored from the
  copy read when the kernels started (files up to BACKUP_FILE_BYTES, BACKUP_TOTAL_BYTES in
  all), what stood there moved to QUARANTINE; a larger one (a vendored library) cannot be,
  and is named with what to do;
- anything in a `__pycache__` folder that changed is removed: Python writes it again.

The post whose run it was fails with one line naming the files; it publishes nothing.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import stat
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

from ..atomic import atomic_write
from ..errors import IsolationError
from ..layout import CACHE, LOCK, Layout, owner
from ..record import Record, generated, read

# Relative to the blog. What a build or the site runs (hooks, overrides, the build's code) is
# guarded like what it publishes: a cell that rewrote them would run in the next build.
GUARDED = (
    "site_src",
    "assets",
    "hooks",
    "overrides",
    "mkdocs.yml",
    CACHE,
    "build.py",
    "requirements.txt",
    "requirements-site.txt",
    "nbpress",
    ".github",
)
UNWATCHED = frozenset({f"{CACHE}/{LOCK}"})  # the lock: its holder's PID, nothing published
# Where what a post's code wrote is moved to, not deleted: the author may have been editing a
# file of the site while a post ran (`--serve`), and finds the edit here. Nothing reads it.
QUARANTINE = f"{CACHE}/quarantine"
PYCACHE = "__pycache__"
BACKUP_FILE_BYTES = 1 << 20
BACKUP_TOTAL_BYTES = 16 << 20


class Entry(NamedTuple):
    """What one `lstat` says of a guarded path; two differ when the path was written.

    A tuple, not a dataclass: a scan makes one per entry of the guarded tree (thousands in a
    large blog), before and after every post's run.
    """

    kind: str  # "file", "dir", "link" or "other"
    size: int
    mtime: int
    ctime: int
    inode: int
    mode: int
    target: str = ""  # a link's target


def _entry(path: str | Path) -> Entry | None:
    try:
        st = os.lstat(path)
    except OSError:
        return None
    mode = st.st_mode
    if stat.S_ISREG(mode):
        kind = "file"
    elif stat.S_ISDIR(mode):
        kind = "dir"
    elif stat.S_ISLNK(mode):
        try:
            return Entry(
                "link", st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino, mode, os.readlink(path)
            )
        except OSError:
            kind = "link"
    else:
        kind = "other"
    return Entry(kind, st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino, mode)


def scan(root: Path, names: Iterable[str]) -> dict[str, Entry]:
    """Return {path relative to `root`: Entry} of `names` and everything under them (links not followed)."""
    found: dict[str, Entry] = {}
    base = os.fspath(root)
    stack = list(names)
    while stack:
        rel = stack.pop()
        if rel in UNWATCHED:
            continue
        path = os.path.join(base, rel)  # strings, not Paths: a scan's cost is mostly its paths
        entry = _entry(path)
        if entry is None:
            continue
        found[rel] = entry
        if entry.kind == "dir":
            with contextlib.suppress(OSError), os.scandir(path) as listing:
                stack.extend(f"{rel}/{item.name}" for item in listing)
    return found


@dataclass(frozen=True)
class Change:
    """A guarded path that appeared, changed or went since the build noted it."""

    kind: str  # "created", "changed" or "deleted"
    path: str  # relative to the blog


def refusal(post: str | None, beside: set[str], done: list[str], first: str) -> IsolationError:
    """Return the error of the post `post` (None: unknown) whose run changed the guarded tree.

    `beside` are the posts whose kernels ran at the same time, `done` a phrase per change
    undone (Guard.undo), `first` the first path changed.
    """
    shown = "; ".join(done[:4]) + (f"; and {len(done) - 4} more" if len(done) > 4 else "")
    others = sorted(beside - {post} if post else beside)
    if post is None:
        who = f"a cell of {', '.join(others)}" if others else "a process a post started"
    elif others:
        who = f"a cell of this post or of {', '.join(others)}, which ran at the same time,"
    else:
        who = "a cell"
    return IsolationError(
        f"{who} changed files outside posts/, which a post's code may not write: {shown}. "
        "Nothing of this post is published; write only inside posts/ (the cells' working "
        "directory) or outside the blog.",
        path=post or first,
    )


@dataclass
class Guard:
    """The guarded tree of one blog as the build left it, and who owns what in it."""

    layout: Layout
    notes: dict[str, Entry] = field(default_factory=dict)
    records: dict[str, Record] = field(default_factory=dict)  # {file slug: record as published}
    backup: dict[str, bytes] = field(default_factory=dict)  # author files, read at `arm`

    @property
    def root(self) -> Path:
        """Return the blog's root."""
        return self.layout.root

    def arm(self) -> None:
        """Note the guarded tree, the published posts' records and a copy of the author's files."""
        self.notes = scan(self.root, GUARDED)
        self.records = {md.stem: record for md, record in generated(self.layout.generated)}
        total = 0
        for rel, entry in sorted(self.notes.items()):
            if entry.kind != "file" or entry.size > BACKUP_FILE_BYTES or self.owner(rel) is not None:
                continue
            if rel.startswith(f"{CACHE}/") or PYCACHE in rel.split("/"):
                continue
            if total + entry.size > BACKUP_TOTAL_BYTES:
                continue
            with contextlib.suppress(OSError):
                self.backup[rel] = (self.root / rel).read_bytes()
                total += entry.size

    def changes(self) -> list[Change]:
        """Return what differs in the guarded tree from the notes, by path.

        A folder whose entries changed is not itself a change (its entries are); one that
        became something else, or went, is.
        """
        now = scan(self.root, GUARDED)
        found = [Change("deleted", p) for p in self.notes if p not in now]
        for path, entry in now.items():
            old = self.notes.get(path)
            if old is None:
                found.append(Change("created", path))
            elif old != entry and not (old.kind == entry.kind == "dir" and old.mode == entry.mode):
                found.append(Change("changed", path))
        return sorted(found, key=lambda c: c.path)

    def expect(self, paths: Iterable[str]) -> None:
        """Note `paths` (and what lies under them) again: the build itself just wrote them."""
        for rel in paths:
            self.notes = {p: e for p, e in self.notes.items() if p != rel and not p.startswith(rel + "/")}
            self.notes.update(scan(self.root, [rel]))
            parent = rel.rpartition("/")[0]
            while parent:  # the folders holding them changed times
                entry = _entry(os.path.join(self.root, parent))
                if entry is not None:
                    self.notes[parent] = entry
                parent = parent.rpartition("/")[0]

    def post_paths(self, slug: str) -> list[str]:
        """Return the guarded paths the build writes when it publishes the post `slug`."""
        files = self.layout.post(slug)
        return [files.markdown_rel, files.journal_rel, files.figures_rel, files.downloads_rel]

    def published(self, slug: str) -> None:
        """Note what the build just published for `slug` (its files, its new record)."""
        self.expect(self.post_paths(slug))
        record = read(self.layout.post(slug).markdown)
        if record is None:
            self.records.pop(slug, None)
        else:
            self.records[slug] = record

    def owner(self, rel: str) -> str | None:
        """Return the slug of the published post `rel` belongs to, or None."""
        slug = owner(rel)
        return slug if slug in self.records else None

    def listed(self, slug: str, rel: str) -> bool:
        """Return True if `rel` is a file the published record of `slug` lists (or its Markdown)."""
        record = self.records.get(slug)
        files = self.layout.post(slug)
        if rel == files.markdown_rel:
            return True
        for folder, names in ((files.figures_rel, "figures"), (files.downloads_rel, "downloads")):
            if rel.startswith(f"{folder}/"):
                return record is not None and rel[len(folder) + 1 :] in getattr(record, names)
        return False

    def undo(self, changes: list[Change], restore_post: Callable[[str], str]) -> list[str]:
        """Undo `changes` in the guarded tree; return a phrase per change that mattered.

        A published post whose files changed is handed to `restore_post(slug)`, which says
        what became of it.
        """
        said: list[str] = []
        victims: dict[str, list[str]] = {}
        removed: list[str] = []
        for change in changes:
            rel = change.path
            if any(rel == r or rel.startswith(r + "/") for r in removed):
                continue  # inside a folder already removed
            owner = None if PYCACHE in rel.split("/") else self.owner(rel)
            if owner is not None and (change.kind != "created" or self.listed(owner, rel)):
                victims.setdefault(owner, []).append(f"{change.kind} {rel}")
                continue
            phrase = self._undo_one(change, removed)
            if phrase:
                said.append(phrase)
        for slug, what in sorted(victims.items()):
            said.append(f"{', '.join(what)} ({restore_post(slug)})")
        self.expect(sorted({c.path for c in changes} | {QUARANTINE}))
        return said

    def _undo_one(self, change: Change, removed: list[str]) -> str:
        """Undo one change no published post owns; return what was done ("" for __pycache__)."""
        rel = change.path
        if PYCACHE in rel.split("/"):
            if change.kind != "deleted":
                self.remove(rel)
                removed.append(rel)
            return ""
        if rel.startswith(f"{CACHE}/"):
            self.remove(rel)
            removed.append(rel)
            return f"{change.kind} the cache file {rel} (removed: a cache miss)"
        if change.kind == "created":
            self.quarantine(rel)
            removed.append(rel)
            return f"created {rel} (moved to {QUARANTINE}/)"
        if self.restore(rel):
            return f"{change.kind} {rel} (restored)"
        return f"{change.kind} {rel} (nbpress holds no copy of it: restore it from version control)"

    def remove(self, rel: str) -> None:
        """Delete the guarded path `rel` (a folder with what it holds), never following a link."""
        self._delete(self.root / rel)

    def quarantine(self, rel: str) -> None:
        """Move the guarded path `rel` to QUARANTINE/`rel` (replacing an older one), or delete it."""
        path = self.root / rel
        if _entry(path) is None:
            return
        target = self.root / QUARANTINE / rel
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            if _entry(target) is not None:
                self._delete(target)
            os.replace(path, target)
        except OSError:
            self.remove(rel)

    @staticmethod
    def _delete(path: Path) -> None:
        entry = _entry(path)
        with contextlib.suppress(OSError):
            if entry is not None and entry.kind == "dir":
                shutil.rmtree(path)
            elif entry is not None:
                path.unlink()

    def restore(self, rel: str) -> bool:
        """Put back an author's file (or link, or folder) as noted; return False if it cannot be.

        What stood there is moved to QUARANTINE first.
        """
        old = self.notes.get(rel)
        if old is None:
            return False
        path = self.root / rel
        if old.kind == "file" and rel not in self.backup:
            return False
        try:
            if old.kind == "dir":
                if (_entry(path) or old).kind != "dir":
                    self.quarantine(rel)
                path.mkdir(parents=True, exist_ok=True)
                return True
            if old.kind == "link":
                self.quarantine(rel)
                path.parent.mkdir(parents=True, exist_ok=True)
                path.symlink_to(old.target)
                return True
            data = self.backup.get(rel)
            if old.kind != "file" or data is None:
                return False
            if _entry(path) is not None:
                self.quarantine(rel)
            path.parent.mkdir(parents=True, exist_ok=True)
            atomic_write(path, data)
            os.chmod(path, stat.S_IMODE(old.mode))
            return True
        except OSError:
            return False
