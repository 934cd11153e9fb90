"""MkDocs hook: serve the top-level assets/ folder at <site>/assets/ and the source notebooks
posts/<slug>.ipynb at <site>/notebooks/<slug>.ipynb, and let links into them be checked.

Files are added to MkDocs' file collection, so `validation: absolute_links: relative_to_docs`
resolves `/assets/images/...` links, rewrites them relative and fails `--strict` on a missing one.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from mkdocs.structure.files import File, Files

# (folder of the repository, file pattern, folder of the site). Notebooks are not served under
# posts/: the blog plugin moves every non-Markdown file there to the site's root.
MOUNTS = (("assets", "**/*", "assets"),)


def _mounted(root: Path) -> Iterator[tuple[Path, str]]:
    """Yield (file, its path in the site) for every mount, sorted, dot-files and dot-folders skipped."""
    for folder, pattern, target in MOUNTS:
        base = root / folder
        if not base.is_dir():
            continue
        for path in sorted(base.glob(pattern)):
            rel = path.relative_to(root)
            if path.is_file() and not any(part.startswith(".") for part in rel.parts):
                yield path, f"{target}/{path.relative_to(base).as_posix()}"


def on_files(files: Files, config: Any) -> Files:
    """Return the site's files with the mounted assets and source notebooks added."""
    root = Path(config["config_file_path"]).resolve().parent
    for path, uri in _mounted(root):
        files.append(File.generated(config, uri, abs_src_path=str(path)))
    return files
