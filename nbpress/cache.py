"""Cache keys, and the store of executed outputs kept between builds.

Like jupyter-cache, the execution key hashes only what decides a notebook's outputs:
code cells (source and tags), the kernel, the pinned environment and declared input files.
Prose edits therefore re-render from the store without starting a kernel.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

from . import links
from .errors import SourceError, WriteError
from .posts import Post

EXEC_VERSION = "1"  # bump when execution itself changes in a way that alters outputs
CACHE_DIR_NAME = ".nbpress-cache"


def _digest(payload: Any) -> str:
    blob = json.dumps(payload, sort_keys=True, ensure_ascii=False, default=str).encode()
    return hashlib.sha256(blob).hexdigest()


def environment_fingerprint(root: Path) -> str:
    """Return a digest of the pinned environment: requirements.txt and the Python version.

    Major.minor only: a patch release changes no outputs, and CI images move between them.
    """
    req = root / "requirements.txt"
    req_digest = hashlib.sha256(req.read_bytes()).hexdigest() if req.is_file() else ""
    return _digest([req_digest, list(sys.version_info[:2])])


def _code_cells(post: Post) -> list[Any]:
    return [
        [cell.source, sorted(cell.get("metadata", {}).get("tags", []))]
        for cell in post.notebook.cells
        if cell.cell_type == "code"
    ]


def input_digests(post: Post, posts_dir: Path) -> list[list[str]]:
    """Return [path, sha256] for each declared input; raise SourceError if one is missing."""
    digests = []
    for name in post.front_matter.inputs:
        path = (posts_dir / name).resolve()
        if not path.is_file():
            raise SourceError(
                f"{post.rel_path}: declared input {name!r} does not exist "
                "(inputs are paths relative to posts/)."
            )
        digests.append([name, hashlib.sha256(path.read_bytes()).hexdigest()])
    return digests


def execution_key(post: Post, posts_dir: Path, env_fingerprint: str) -> str:
    """Return the key that changes exactly when the post's outputs may change."""
    payload: dict[str, Any] = {
        "v": EXEC_VERSION,
        "code": _code_cells(post),
        "kernel": post.front_matter.kernel,
        "env": env_fingerprint,
        "inputs": input_digests(post, posts_dir),
    }
    if post.front_matter.allow_errors:
        # Only when set, so the keys of posts without it stay as they were.
        payload["allow_errors"] = True
    return _digest(payload)


def is_current(record: dict[str, Any] | None, post: Post, exec_key: str, render_key: str) -> bool:
    """Return True if a published post's nbpress record matches keys computed from its source."""
    return (
        record is not None
        and record.get("exec_key") == exec_key
        and record.get("render_key") == render_key
        and record.get("source") == post.rel_path
    )


def render_key(post: Post, exec_key: str, renderer_fingerprint: str) -> str:
    """Return the key that changes when the generated Markdown may change."""
    from .markup import MARKUP_METADATA, bibliography_digest

    cells: list[list[Any]] = []
    for c in post.notebook.cells:
        meta = c.get("metadata", {})
        cells.append([c.cell_type, c.source, sorted(meta.get("tags", []))])
        # Captions and labels live in cell metadata; added only when set, so other keys hold.
        markup = {k: meta[k] for k in MARKUP_METADATA if k in meta}
        if markup:
            cells[-1].append(markup)
    payload = {
        "exec": exec_key,
        "cells": cells,
        "front_matter": post.front_matter.data,
        "slug": post.slug,
        "renderer": renderer_fingerprint,
    }
    bibliography = bibliography_digest(post)
    if bibliography:
        # Only when the post has one, so the keys of other posts stay as they were.
        payload["bibliography"] = bibliography
    # Local images and linked posts (nbpress.links): only when there are some.
    linked = links.render_term(post)
    if linked:
        payload["links"] = linked
    return _digest(payload)


class Store:
    """Executed outputs on disk, one JSON file per execution key."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def _path(self, key: str) -> Path:
        return self.directory / f"{key}.json"

    def load(self, key: str) -> list[Any] | None:
        """Return the cached outputs of each code cell, or None on a miss (see `lookup`)."""
        return self.lookup(key)[0]

    def lookup(self, key: str) -> tuple[list[Any] | None, str | None]:
        """Return (the cached outputs of each code cell or None on a miss, a warning or None).

        A corrupt or unreadable entry, or one of the wrong shape, is a miss with a one-line
        warning for the caller to show, never a crash; the post then runs again and its entry
        is rewritten whole.
        """
        path = self._path(key)
        if not path.exists():
            return None, None
        try:
            entry = json.loads(path.read_text(encoding="utf-8"))
            if not isinstance(entry, dict) or entry.get("key") != key:
                raise ValueError("the entry does not match its key")
            outputs = entry.get("outputs")
            problem = _outputs_problem(outputs)
            if problem:
                raise ValueError(problem)
            return outputs, None
        except (OSError, ValueError) as err:
            return None, (
                f"cache entry {self.directory.name}/{path.name} is unreadable ({err}); "
                "the post will run again."
            )

    def provenance(self, key: str) -> dict[str, Any] | None:
        """Return the provenance stored with the entry `key` (nbpress.provenance), or None."""
        try:
            entry = json.loads(self._path(key).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        found = entry.get("provenance") if isinstance(entry, dict) else None
        return found if isinstance(found, dict) else None

    def save(self, key: str, executed: Any, provenance: dict[str, Any] | None = None) -> None:
        """Store the outputs of each code cell of an executed notebook, and its provenance, under `key`."""
        outputs = [cell.get("outputs", []) for cell in executed.cells if cell.cell_type == "code"]
        entry: dict[str, Any] = {"key": key, "outputs": outputs}
        if provenance is not None:
            entry["provenance"] = provenance
        self._write(f"{key}.json", json.dumps(entry, ensure_ascii=False, sort_keys=True))

    def durations(self) -> dict[str, float]:
        """Return {slug: seconds} of each post's last execution (empty if unknown or unreadable)."""
        try:
            data = json.loads((self.directory / "durations.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        if not isinstance(data, dict):
            return {}
        return {str(k): float(v) for k, v in data.items() if isinstance(v, (int, float))}

    def save_durations(self, durations: dict[str, float]) -> None:
        """Store each post's last execution time, used to start the slowest posts first."""
        self._write("durations.json", json.dumps(durations, sort_keys=True))

    def _write(self, name: str, text: str) -> None:
        """Replace the entry `name` atomically; raise WriteError (one line) if it cannot be written."""
        tmp: Path | None = None
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            fd, path = tempfile.mkstemp(dir=self.directory, prefix=".tmp-", suffix=".json")
            tmp = Path(path)
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(text)
            os.chmod(tmp, 0o644)  # mkstemp makes 0600; CI artifacts and other users read the cache
            os.replace(tmp, self.directory / name)
        except BaseException as err:
            if tmp is not None:
                tmp.unlink(missing_ok=True)
            if isinstance(err, OSError):
                raise WriteError(
                    f"{self.directory.name}/{name}: the build cache could not be written "
                    f"({err.strerror or err}); free some space or fix the folder's permissions, "
                    "then build again."
                ) from None
            raise

    def keys(self) -> set[str]:
        """Return the keys of all entries in the store."""
        if not self.directory.is_dir():
            return set()
        return {p.stem for p in self.directory.glob("*.json") if len(p.stem) == 64}


_OUTPUT_FIELDS: dict[str, dict[str, Any]] = {
    # output_type: {field: the type its value must have}
    "stream": {"name": str, "text": (str, list)},
    "display_data": {"data": dict, "metadata": dict},
    "execute_result": {"data": dict, "metadata": dict},
    "error": {"ename": str, "evalue": str, "traceback": list},
}


def _outputs_problem(outputs: Any) -> str | None:
    """Return what is wrong with a cache entry's outputs (a list per code cell), or None."""
    if not isinstance(outputs, list):
        return "its outputs are not a list"
    for n, cell in enumerate(outputs, 1):
        if not isinstance(cell, list):
            return f"the outputs of code cell {n} are not a list"
        for output in cell:
            fields = _OUTPUT_FIELDS.get(str(output.get("output_type"))) if isinstance(output, dict) else None
            if fields is None:
                return f"code cell {n} has an output that is not a notebook output"
            for name, kind in fields.items():
                if not isinstance(output.get(name), kind):
                    return f"an output of code cell {n} has no valid {name!r}"
            kind = output["output_type"]
            if kind == "stream":
                ok = _is_text(output["text"])
            elif kind == "error":
                ok = _is_text(output["traceback"])
            else:
                data = output["data"].items()
                ok = all(isinstance(m, str) and (m.endswith("json") or _is_text(v)) for m, v in data)
            if not ok:
                return f"an output of code cell {n} holds text that is not text"
    return None


def _is_text(value: Any) -> bool:
    """Return True for a notebook text value: a string, or a list of strings."""
    return isinstance(value, str) or (isinstance(value, list) and all(isinstance(v, str) for v in value))


def with_outputs(post: Post, outputs: list[Any]) -> Any:
    """Return a copy of the post's notebook with cached outputs put back into its code cells."""
    import copy

    import nbformat

    nb = copy.deepcopy(post.notebook)
    code = [c for c in nb.cells if c.cell_type == "code"]
    if len(code) != len(outputs):
        raise ValueError("cached outputs do not match the notebook's code cells")
    for cell, cell_outputs in zip(code, outputs, strict=False):
        cell.outputs = [nbformat.from_dict(o) for o in cell_outputs]
    return nb
