"""Build the blog's site as a reader gets it, for audits (Lighthouse, axe-core) and tests.

`build_site(dest, extra_posts=...)` copies the blog's skeleton, its generated posts and its
assets/ into `dest`, gives it a GitHub remote `origin` (so repo_url and site_url are set as
on a real deployment) and runs `mkdocs build --strict`; returns the built site folder.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from nbpress.layout import Layout
from tests.skeleton import REPO, copy_skeleton

REMOTE = "https://github.com/nbpress/nbpress-blog.git"  # as tests/helpers.py GITHUB_REMOTE


def build_site(
    dest: Path, source: Path = REPO, extra_posts: Iterable[Path] = (), remote: str = REMOTE
) -> Path:
    """Return dest/site: `source`'s generated posts and assets built with the current templates."""
    copy_skeleton(dest)
    src, out = Layout(source), Layout(dest)
    shutil.copytree(src.generated, out.generated, dirs_exist_ok=True)
    for folder, target in ((src.images, out.images), (src.downloads, out.downloads)):
        if folder.is_dir():
            shutil.copytree(folder, target, dirs_exist_ok=True)
    for post in extra_posts:
        shutil.copy2(post, out.generated / post.name)
    subprocess.run(["git", "init", "-q", str(dest)], check=True)
    subprocess.run(["git", "-C", str(dest), "remote", "add", "origin", remote], check=True)
    proc = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict"],
        cwd=dest,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
        capture_output=True,
        text=True,
        timeout=600,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"mkdocs build failed:\n{proc.stderr}")
    return dest / "site"
