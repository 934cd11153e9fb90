"""The files a blog needs besides its posts, copied into every temporary blog (tests, bench).

Plain Python, no pytest, so bench/bench.py can use it too.
"""

from __future__ import annotations

import atexit
import filecmp
import functools
import os
import shutil
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
# What a blog needs besides its posts; copied into every temporary blog.
SKELETON = [
    "requirements.txt",
    "requirements-site.txt",
    "mkdocs.yml",
    "hooks",
    "site_src/index.md",
    "site_src/about.md",
    "site_src/.authors.yml",
    "site_src/tags.md",
    "site_src/javascripts",
    "site_src/stylesheets",
    "site_src/vendor",
    "site_src/assets",
    "overrides",
    "assets/images/avatar.svg",
]
# The vendored chart and math libraries: 10 MB of the skeleton's 11. A blog's copy hard-links
# to one private copy of them made per process (`_vendor_copy`), never to the repository's
# files: a cell that wrote through a link would change that copy, not the repository, and
# `vendor_copy_changes` (checked when the test session ends) would say so.
VENDOR = "site_src/vendor"


def copy_skeleton(dest: Path) -> Path:
    """Copy the blog skeleton (config, site pages, hooks) into `dest`; return `dest`."""
    for name in SKELETON:
        src = REPO / name
        target = dest / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if src.is_symlink():  # site_src/assets -> ../assets: the blog's own assets/, not a copy
            target.symlink_to(src.readlink())
        elif name == VENDOR:
            shutil.copytree(_vendor_copy(), target, copy_function=_link_or_copy)
        elif src.is_dir():
            shutil.copytree(src, target, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(src, target)
    (dest / "posts").mkdir(exist_ok=True)
    return dest


@functools.cache
def _vendor_copy() -> Path:
    """Return this process's private copy of the repository's site_src/vendor (removed at exit)."""
    folder = Path(tempfile.mkdtemp(prefix="nbpress-vendor-"))
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    return Path(shutil.copytree(REPO / VENDOR, folder / "vendor"))


def _link_or_copy(src: str, dst: str) -> None:
    """Hard-link `dst` to `src`, or copy it where a link cannot be made (another file system)."""
    try:
        os.link(src, dst)
    except OSError:
        shutil.copy2(src, dst)


def vendor_copy_changes() -> list[str]:
    """Return the files of this process's vendor copy that differ from the repository's (or are
    missing or extra): what a test wrote through a blog's hard link. Empty if no copy was made."""
    if _vendor_copy.cache_info().currsize == 0:
        return []
    return [f"{VENDOR}/{rel}" for rel in tree_differences(REPO / VENDOR, _vendor_copy())]


def tree_differences(left: str | Path, right: str | Path) -> list[str]:
    """Return the paths (relative, `/`-separated) that differ between two folders: a file or folder
    in one only, of another kind, or with other bytes. Empty if the trees are the same."""
    found: list[str] = []

    def compare(diff: filecmp.dircmp[str], prefix: str) -> None:
        _, mismatch, errors = filecmp.cmpfiles(diff.left, diff.right, diff.common_files, shallow=False)
        names = [*diff.left_only, *diff.right_only, *diff.funny_files, *mismatch, *errors]
        found.extend(prefix + name for name in names)
        for name, sub in diff.subdirs.items():
            compare(sub, f"{prefix}{name}/")

    compare(filecmp.dircmp(left, right), "")
    return sorted(found)
