"""The build cache: executed outputs on disk, one checked JSON entry per execution key."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import cast

from .. import layout
from ..atomic import atomic_write
from ..errors import WriteError
from ..filestate import Derived
from ..notebook import CachedOutputs, Notebook, bad_data
from ..sources import Post

CACHE_DIR_NAME = layout.CACHE  # the folder's name; its place: layout.Layout.cache
# What an entry holds beside its outputs (provenance, key parts), per file state of the entry
# (nbpress.filestate): asked by the plan, the settling of outputs and the report, not parsed each time.
_FIELDS: Derived[dict[str, dict[str, object] | None]] = Derived()


def json_digest(payload: object) -> str:
    """Return the sha256 of `payload` as canonical JSON (sorted keys); what keys and fingerprints hash."""
    blob = json.dumps(payload, sort_keys=True, ensure_ascii=False, default=str).encode()
    return hashlib.sha256(blob).hexdigest()


@dataclass(frozen=True)
class Entry:
    """A post's cache entry, what an executor produces: the outputs of each code cell and its provenance."""

    outputs: CachedOutputs
    provenance: dict[str, object] | None = None  # when and with what it ran (nbpress.execution.provenance)


class Store:
    """Executed outputs on disk, one JSON file per execution key."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def _path(self, key: str) -> Path:
        return self.directory / f"{key}.json"

    def entry_path(self, key: str) -> Path:
        """Return the file of the entry `key`."""
        return self._path(key)

    def load(self, key: str) -> CachedOutputs | None:
        """Return the cached outputs of each code cell, or None on a miss (see `lookup`)."""
        return self.lookup(key)[0]

    def lookup(self, key: str, owner: str = "") -> tuple[CachedOutputs | None, str | None]:
        """Return (the cached outputs of each code cell or None on a miss, a warning or None).

        A corrupt or unreadable entry, one of the wrong shape, or one whose content no longer
        matches the digest stored with it, is a miss with a one-line warning for the caller
        to show (naming `owner`, the post it serves), never a crash; the post then runs again
        and its entry is rewritten whole.
        """
        found, problem = self._checked(key, owner)
        return (None if found is None else cast(CachedOutputs, found["outputs"])), problem

    def _checked(self, key: str, owner: str = "") -> tuple[dict[str, object] | None, str | None]:
        """Return (the entry `key` checked, or None on a miss, a warning or None), as `lookup`."""
        path = self._path(key)
        if not path.exists():
            return None, None
        try:
            return self._entry(key, owner), None  # its outputs' shape checked by _entry
        except RecursionError:
            return (
                None,
                f"cache entry {self.directory.name}/{path.name} is nested too deeply to read; "
                "the post will run again.",
            )
        except (OSError, ValueError) as err:
            return None, (
                f"cache entry {self.directory.name}/{path.name} is unreadable ({err}); "
                "the post will run again."
            )

    def _entry(self, key: str, owner: str = "", text: bytes | None = None) -> dict[str, object]:
        """Return the entry `key` (its bytes: `text`, read when not given), checked; raise ValueError
        (or OSError) saying what is wrong with it."""
        entry = json.loads((self._path(key).read_bytes() if text is None else text).decode("utf-8"))
        if not isinstance(entry, dict) or entry.get("key") != key:
            raise ValueError("the entry does not match its key")
        # Nested too deeply or holding a lone surrogate: refused as a source would be.
        problem = outputs_problem(entry.get("outputs")) or bad_data(entry.get("outputs"))
        if problem:
            raise ValueError(problem)
        if entry.get("digest") != entry_digest(entry):
            raise ValueError(
                "its content does not match the digest stored with it: it was changed after the "
                f"build wrote it{' for ' + owner if owner else ''}, and is not used"
            )
        return entry

    def entry(self, key: str, owner: str = "") -> tuple[Entry | None, str | None]:
        """Return (the entry `key` or None on a miss, a warning or None), as `lookup`: read once."""
        found, problem = self._checked(key, owner)
        if found is None:
            return None, problem
        provenance = found.get("provenance")
        outputs = cast(CachedOutputs, found["outputs"])
        return Entry(outputs, provenance if isinstance(provenance, dict) else None), problem

    def _field(self, key: str, name: str) -> dict[str, object] | None:
        """Return the mapping `name` an entry holds beside its outputs, read once per file state of it."""
        try:
            fields = _FIELDS.get(self._path(key), lambda text: self._fields(key, text), key)
        except (OSError, ValueError, RecursionError):
            return None
        return fields.get(name)

    def _fields(self, key: str, text: bytes) -> dict[str, dict[str, object] | None]:
        entry = self._entry(key, text=text)
        found = {name: entry.get(name) for name in ("provenance", "parts")}
        return {name: value if isinstance(value, dict) else None for name, value in found.items()}

    def provenance(self, key: str) -> dict[str, object] | None:
        """Return the provenance stored with the entry `key` (nbpress.execution.provenance), or None."""
        return self._field(key, "provenance")

    def parts(self, key: str) -> dict[str, object] | None:  # a KeyParts as written, unchecked
        """Return the key parts (key_parts) stored with the entry `key`, or None."""
        return self._field(key, "parts")

    def save(
        self,
        key: str,
        executed: Notebook,
        provenance: Mapping[str, object] | None = None,
        parts: Mapping[str, object] | None = None,  # a keys.KeyParts,
    ) -> None:
        """Store the outputs of each code cell of an executed notebook, its provenance and key parts."""
        self.put(
            key, Entry(outputs_by_cell(executed), None if provenance is None else dict(provenance)), parts
        )

    def put(self, key: str, entry: Entry, parts: Mapping[str, object] | None = None) -> None:
        """Store `entry` under `key`, with the key parts it was executed for."""
        stored: dict[str, object] = {"key": key, "outputs": entry.outputs}
        if entry.provenance is not None:
            stored["provenance"] = entry.provenance
        if parts is not None:
            stored["parts"] = parts
        stored["digest"] = entry_digest(stored)
        self._write(f"{key}.json", json.dumps(stored, ensure_ascii=False, sort_keys=True))

    def read_json(self, name: str) -> object:
        """Return the JSON document `name` of the store, or None if it is missing or unreadable."""
        try:
            return json.loads((self.directory / name).read_text(encoding="utf-8"))
        except (OSError, ValueError, RecursionError):
            return None

    def write_json(self, name: str, data: object) -> None:
        """Replace the JSON document `name` of the store atomically."""
        self._write(name, json.dumps(data, sort_keys=True))

    def durations(self) -> dict[str, float]:
        """Return {slug: seconds} of each post's last execution (empty if unknown or unreadable)."""
        try:
            data = json.loads((self.directory / "durations.json").read_text(encoding="utf-8"))
        except (OSError, ValueError, RecursionError):
            return {}
        if not isinstance(data, dict):
            return {}
        return {str(k): float(v) for k, v in data.items() if isinstance(v, (int, float))}

    def save_durations(self, durations: dict[str, float]) -> None:
        """Store each post's last execution time, used to start the slowest posts first."""
        self._write("durations.json", json.dumps(durations, sort_keys=True))

    def _write(self, name: str, text: str) -> None:
        """Replace the entry `name` atomically; raise WriteError (one line) if it cannot be written."""
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            atomic_write(self.directory / name, text.encode("utf-8"))
        except OSError as err:
            raise WriteError(
                f"{self.directory.name}/{name}: the build cache could not be written "
                f"({err.strerror or err}); free some space or fix the folder's permissions, "
                "then build again."
            ) from None

    def keys(self) -> set[str]:
        """Return the keys of all entries in the store."""
        if not self.directory.is_dir():
            return set()
        return {p.stem for p in self.directory.glob("*.json") if len(p.stem) == 64}

    def size(self) -> tuple[int, int]:
        """Return (number of entries, bytes of the whole store)."""
        if not self.directory.is_dir():
            return 0, 0
        files = [p for p in self.directory.iterdir() if p.is_file()]
        return sum(len(p.stem) == 64 and p.suffix == ".json" for p in files), sum(
            p.stat().st_size for p in files
        )

    def prune(self, used: set[str]) -> list[str]:
        """Remove the entries whose key is not in `used`; return the removed keys."""
        removed = sorted(self.keys() - used)
        for key in removed:
            self._path(key).unlink(missing_ok=True)
        return removed


def entry_digest(entry: Mapping[str, object]) -> str:
    """Return the digest a cache entry stores of the rest of its content ("sha256:<hex>").

    A plain digest, not a signature: it tells an entry that was changed or damaged after the
    build wrote it (by hand, by a tool, by a truncated copy) from a good one. A process with
    the author's rights can write a matching digest too; during a build, nbpress.execution.guard sees
    any write to the cache by a post's code, and removes what was written.
    """
    body = {k: v for k, v in entry.items() if k != "digest"}
    return (
        "sha256:"
        + hashlib.sha256(json.dumps(body, ensure_ascii=False, sort_keys=True).encode("utf-8")).hexdigest()
    )


_OUTPUT_FIELDS: dict[str, dict[str, type | tuple[type, ...]]] = {
    # output_type: {field: the type its value must have}
    "stream": {"name": str, "text": (str, list)},
    "display_data": {"data": dict, "metadata": dict},
    "execute_result": {"data": dict, "metadata": dict},
    "error": {"ename": str, "evalue": str, "traceback": list},
}


def outputs_by_cell(notebook: Notebook) -> CachedOutputs:
    """Return the outputs of each code cell of `notebook`, in order (what the cache keeps)."""
    return [list(cell.get("outputs", [])) for cell in notebook.cells if cell.cell_type == "code"]


def outputs_problem(outputs: object) -> str | None:
    """Return what is wrong with outputs read back (a list per code cell, as the cache keeps), or None."""
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


def _is_text(value: object) -> bool:
    """Return True for a notebook text value: a string, or a list of strings."""
    return isinstance(value, str) or (isinstance(value, list) and all(isinstance(v, str) for v in value))


def with_outputs(post: Post, outputs: CachedOutputs) -> Notebook:
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
