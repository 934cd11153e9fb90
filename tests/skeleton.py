"""The files a blog needs besides its posts, copied into every temporary blog (tests, bench).

Plain Python, no pytest, so bench/bench.py can use it too.
"""

from __future__ import annotations

import shutil
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


def copy_skeleton(dest: Path) -> Path:
    """Copy the blog skeleton (config, site pages, hooks) into `dest`; return `dest`."""
    for name in SKELETON:
        src = REPO / name
        target = dest / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if src.is_symlink():  # site_src/assets -> ../assets: the blog's own assets/, not a copy
            target.symlink_to(src.readlink())
        elif src.is_dir():
            shutil.copytree(src, target, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(src, target)
    (dest / "posts").mkdir(exist_ok=True)
    return dest
