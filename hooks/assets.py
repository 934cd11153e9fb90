"""MkDocs hook: serve the top-level assets/ folder at <site>/assets/ and the source notebooks
posts/<slug>.ipynb of built posts at <site>/notebooks/<slug>.ipynb, and let links into them be checked.

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
MOUNTS = (("assets", "**/*", "assets"), ("posts", "*.ipynb", "notebooks"))


def _built_notebooks(root: Path) -> set[str]:
    """Return the names of the notebooks in posts/ that a published, non-draft post was built from.

    A notebook that failed to build, or any other file in posts/, is never served.
    """
    import yaml

    names = set()
    for md in (root / "site_src" / "posts").glob("*.md"):
        text = md.read_text(encoding="utf-8")
        if not text.startswith("---\n") or "\n---\n" not in text[4:]:
            continue
        try:
            front = yaml.safe_load(text[4:].split("\n---\n", 1)[0])
        except yaml.YAMLError:
            continue
        record = front.get("nbpress") if isinstance(front, dict) else None
        source = record.get("source") if isinstance(record, dict) else None
        if isinstance(source, str) and source.startswith("posts/") and not front.get("draft"):
            names.add(source[len("posts/") :])
    return names


def _mounted(root: Path) -> Iterator[tuple[Path, str]]:
    """Yield (file, its path in the site) for every mount, sorted, dot-files and dot-folders skipped.

    Only regular files are served, never a symbolic link (it could lead anywhere), and of posts/
    only the notebooks of built posts.
    """
    built = _built_notebooks(root)
    for folder, pattern, target in MOUNTS:
        base = root / folder
        if not base.is_dir() or base.is_symlink():
            continue
        for path in sorted(base.glob(pattern)):
            rel = path.relative_to(root)
            if folder == "posts" and path.name not in built:
                continue
            links = any((root / Path(*rel.parts[: i + 1])).is_symlink() for i in range(len(rel.parts)))
            if path.is_file() and not links and not any(part.startswith(".") for part in rel.parts):
                yield path, f"{target}/{path.relative_to(base).as_posix()}"


def on_files(files: Files, config: Any) -> Files:
    """Return the site's files with the mounted assets and source notebooks added."""
    root = Path(config["config_file_path"]).resolve().parent
    for path, uri in _mounted(root):
        files.append(File.generated(config, uri, abs_src_path=str(path)))
    return files
