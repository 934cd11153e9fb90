"""MkDocs hook: serve the top-level assets/ folder at <site>/assets/ and let links into it be checked.

Files are added to MkDocs' file collection, so `validation: absolute_links: relative_to_docs`
resolves `/assets/images/...` links, rewrites them relative and fails `--strict` on a missing one.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mkdocs.structure.files import File, Files


def on_files(files: Files, config: Any) -> Files:
    """Return the site's files with every file under assets/ added (dot-files skipped)."""
    root = Path(config["config_file_path"]).resolve().parent
    assets = root / "assets"
    if not assets.is_dir():
        return files
    for path in sorted(assets.rglob("*")):
        rel = path.relative_to(root)
        if path.is_file() and not any(part.startswith(".") for part in rel.parts):
            files.append(
                File(
                    rel.as_posix(),
                    src_dir=str(root),
                    dest_dir=config["site_dir"],
                    use_directory_urls=config["use_directory_urls"],
                )
            )
    return files
