"""Cache keys, and the store of executed outputs kept between builds.

Like jupyter-cache, the execution key hashes only what decides a notebook's outputs:
code cells (source and tags), the kernel, the pinned environment and declared input files.
Prose edits therefore re-render from the store without starting a kernel.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import NotRequired, TypedDict, cast

from .. import layout
from ..atomic import atomic_write
from ..errors import NbpressError, WriteError
from ..notebook import CachedOutputs, Notebook, bad_data
from ..record import Record
from ..rendering import links
from ..sources.posts import Post

EXEC_VERSION = "2"  # bump when execution itself changes in a way that alters outputs
CACHE_DIR_NAME = layout.CACHE  # the folder's name; its place: layout.Layout.cache
MODULES_FILE = "modules.json"  # which distribution provides which module, while nothing is installed
PINS_FILE = "pins.json"  # requirements.txt read, while it is unchanged


def _digest(payload: object) -> str:
    blob = json.dumps(payload, sort_keys=True, ensure_ascii=False, default=str).encode()
    return hashlib.sha256(blob).hexdigest()


_SHORT = 12  # hex digits of a part's digest: enough to tell versions of one cell or file apart


def _short(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()[:_SHORT]


def canonical_name(name: str) -> str:
    """Return a distribution's name as PEP 503 compares them: tensorflow_cpu -> tensorflow-cpu."""
    return re.sub(r"[-_.]+", "-", name).lower()


def read_pins(path: Path) -> dict[str, str]:
    """Return {distribution: specifier} of the requirements in `path` that apply to this platform.

    Options (-r, --index-url), blank lines, comments and lines whose environment marker does
    not hold here are left out; an unpinned requirement has the specifier "".
    """
    from packaging.requirements import InvalidRequirement, Requirement

    pins: dict[str, str] = {}
    if not path.is_file():
        return pins
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.split(" #", 1)[0].strip()
        if not line or line.startswith(("#", "-")):
            continue
        try:
            req = Requirement(line)
        except InvalidRequirement:
            continue
        if req.marker is None or req.marker.evaluate():
            pins[canonical_name(req.name)] = str(req.specifier)
    return pins


class Environment:
    """What of the build's environment a post's outputs can depend on: Python, pins, installed versions.

    The kernels run in this interpreter's environment (the default python3 kernel), so its
    installed distributions are the ones the posts import.
    """

    def __init__(self, root: Path) -> None:
        # Major.minor only: a patch release changes no outputs, and CI images move between them.
        self.python = "{}.{}".format(*sys.version_info[:2])
        self._store = Store(root / CACHE_DIR_NAME)
        self.pins = self._pins(root / "requirements.txt")
        self._providers: dict[str, list[str]] | None = None
        self._versions: dict[str, str] = {}

    def providers(self, module: str) -> list[str]:
        """Return the distributions (canonical names) that provide the top-level `module`."""
        if self._providers is None:
            self._providers = self._module_map()
        return self._providers.get(module, [])

    def _pins(self, path: Path) -> dict[str, str]:
        """Return read_pins(path), from the store while the file and the interpreter are unchanged.

        Reading it needs `packaging` (markers), an import a no-op build need not pay.
        """
        try:
            text = path.read_bytes()
        except OSError:
            return {}
        fingerprint = _digest([hashlib.sha256(text).hexdigest(), sys.executable, sys.version, sys.platform])
        saved = self._store.read_json(PINS_FILE)
        if isinstance(saved, dict) and saved.get("fingerprint") == fingerprint:
            pins = saved.get("pins")
            if isinstance(pins, dict):
                return {str(k): str(v) for k, v in pins.items()}
        pins = read_pins(path)
        with contextlib.suppress(WriteError):  # a read-only checkout reads the file again next time
            self._store.write_json(PINS_FILE, {"fingerprint": fingerprint, "pins": pins})
        return pins

    def _module_map(self) -> dict[str, list[str]]:
        """Return {top-level module: distributions}, from the store while the installed set is unchanged.

        packages_distributions() reads the file list of every distribution without a
        top_level.txt (tenths of a second with torch and tensorflow installed); listing the
        metadata folders on sys.path, whose names carry the versions, tells when to read again.
        """
        import importlib.metadata

        installed = []
        for entry in sys.path:
            try:
                with os.scandir(entry or ".") as found:
                    installed += [e.name for e in found if e.name.endswith((".dist-info", ".egg-info"))]
            except OSError:
                continue
        fingerprint = _digest([sys.executable, sorted(installed)])
        saved = self._store.read_json(MODULES_FILE)
        if isinstance(saved, dict) and saved.get("fingerprint") == fingerprint:
            modules = saved.get("modules")
            if isinstance(modules, dict):
                return {str(k): [str(d) for d in v] for k, v in modules.items() if isinstance(v, list)}
        found_map = {
            name: sorted({canonical_name(d) for d in dists})
            for name, dists in importlib.metadata.packages_distributions().items()
        }
        with contextlib.suppress(WriteError):  # a read-only checkout reads the map again next time
            self._store.write_json(MODULES_FILE, {"fingerprint": fingerprint, "modules": found_map})
        return found_map

    def installed(self, distribution: str) -> str:
        """Return the installed version of `distribution`, or "" if it is not installed."""
        if distribution not in self._versions:
            import importlib.metadata

            try:
                self._versions[distribution] = importlib.metadata.version(distribution)
            except importlib.metadata.PackageNotFoundError:
                self._versions[distribution] = ""
        return self._versions[distribution]


def environment_fingerprint(root: Path) -> Environment:
    """Return the blog's environment, read once per build and shared by every post's key."""
    return Environment(root)


def _code_cells(post: Post) -> list[list[object]]:
    return [
        [cell.source, sorted(cell.get("metadata", {}).get("tags", []))]
        for cell in post.notebook.cells
        if cell.cell_type == "code"
    ]


def code_digests(post: Post) -> list[str]:
    """Return a short digest of each code cell (source and tags), in order."""
    return [_short(json.dumps(cell, ensure_ascii=False).encode()) for cell in _code_cells(post)]


def input_digests(post: Post, posts_dir: Path) -> list[list[str]]:
    """Return [path, sha256] for each declared input; raise NotOwnedError if one is not the blog's."""
    digests = []
    for name in post.front_matter.inputs:
        try:
            _, data = layout.read_owned(posts_dir, name, "declared input")
        except NbpressError as err:
            raise err.at(post.rel_path) from None
        digests.append([name, hashlib.sha256(data).hexdigest()])
    return digests


def _local_module(posts_dir: Path, module: str) -> Path | None:
    """Return the file of a module the posts import from posts/ itself (cells run there), or None."""
    for candidate in (posts_dir / f"{module}.py", posts_dir / module / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


class KeyParts(TypedDict):
    """What decides a post's outputs (key_parts): recorded as `executed_with` beside the post."""

    kernel: str
    python: str
    code: list[str]  # a short digest of each code cell
    inputs: dict[str, str]  # {path relative to posts/: short digest}
    pins: dict[str, str]  # {distribution: its pin in requirements.txt}
    installed: dict[str, str]  # {distribution: installed version, "" if none}
    cell_errors: NotRequired[str]  # "allowed", only when the front matter says allow_errors


def key_parts(post: Post, posts_dir: Path, env: Environment) -> KeyParts:
    """Return what decides a post's outputs, part by part; recorded so a change can be named.

    Code cells (source and tags), kernel, Python (major.minor), declared inputs and local
    modules it imports (by content), and for each module it imports (static imports, plus the
    `depends:` front matter list) the pin in requirements.txt and the installed version of the
    distribution that provides it. Nothing else: an unrelated requirement changes no key.
    """
    from .provenance import imported_modules

    inputs = {name: digest[:_SHORT] for name, digest in input_digests(post, posts_dir)}
    pins: dict[str, str] = {}
    installed: dict[str, str] = {}
    # Only a cell that says "import" can import (parsing every cell is most of a no-op's key time).
    sources = [c.source for c in post.notebook.cells if c.cell_type == "code" and "import" in c.source]
    modules = imported_modules(sources) | set(post.front_matter.depends)
    for module in sorted(modules):
        if module in sys.stdlib_module_names:
            continue
        local = _local_module(posts_dir, module)
        if local is not None:
            name = local.relative_to(posts_dir).as_posix()
            # Read through the one check (the digest is published in the post's record); a
            # module that is not the blog's own file is imported by the kernel, never read here.
            with contextlib.suppress(NbpressError):
                inputs[name] = _short(layout.read_owned(posts_dir, name, "imported module")[1])
            continue
        for dist in env.providers(module) or [canonical_name(module)]:
            installed[dist] = env.installed(dist)
            if dist in env.pins:
                pins[dist] = env.pins[dist]
    parts: KeyParts = {
        "kernel": post.front_matter.kernel,
        "python": env.python,
        "code": code_digests(post),
        "inputs": dict(sorted(inputs.items())),
        "pins": pins,
        "installed": installed,
    }
    if post.front_matter.allow_errors:
        # Recorded only when set; a post without it records nothing.
        parts["cell_errors"] = "allowed"
    return parts


def digest_parts(parts: KeyParts) -> str:
    """Return the execution key of a post from its key parts."""
    return _digest({"v": EXEC_VERSION, **parts})


def _mapping(value: object) -> dict[str, object]:
    """Return `value` if it is a dict (a part of a record read back), else {}."""
    return value if isinstance(value, dict) else {}


def explain(old: object, new: KeyParts, post: Post) -> str:
    """Return which parts of the execution key changed, as a phrase: "tensorflow-cpu 2.21.0 -> 2.21.1"."""
    if not isinstance(old, dict):
        return "its record does not say what it ran with (built by an older nbpress)"
    changes: list[str] = []
    for name, label in (("kernel", "kernel"), ("python", "Python")):
        if old.get(name) != new.get(name):
            changes.append(f"{label} {old.get(name)} -> {new.get(name)}")
    old_installed, old_pins = _mapping(old.get("installed")), _mapping(old.get("pins"))
    for dist in sorted(set(old_installed) | set(new["installed"])):
        before, after = old_installed.get(dist), new["installed"].get(dist)
        if dist not in old_installed:
            changes.append(f"{dist} now imported")
        elif dist not in new["installed"]:
            changes.append(f"{dist} no longer imported")
        elif before != after:
            changes.append(f"{dist} {before or 'not installed'} -> {after or 'not installed'}")
        elif old_pins.get(dist) != new["pins"].get(dist):
            changes.append(f"{dist} pin {old_pins.get(dist) or 'none'} -> {new['pins'].get(dist) or 'none'}")
    old_inputs = _mapping(old.get("inputs"))
    for name in sorted(set(old_inputs) | set(new["inputs"])):
        if old_inputs.get(name) != new["inputs"].get(name):
            changes.append(f"input {name}")
    old_code = old.get("code")
    changes += _code_changes(
        [str(c) for c in old_code] if isinstance(old_code, list) else [], new["code"], post
    )
    if old.get("cell_errors") != new.get("cell_errors"):
        changes.append("allow_errors in the front matter")
    if not changes:
        return "the execution key changed (a new nbpress)"
    return ", ".join(changes[:4]) + (f" and {len(changes) - 4} more" if len(changes) > 4 else "")


def _code_changes(old: list[str], new: list[str], post: Post) -> list[str]:
    """Return "code cell N" (N counting every cell from 1) for each changed or added code cell."""
    import difflib

    numbers = [n for n, cell in enumerate(post.notebook.cells, 1) if cell.cell_type == "code"]
    found = []
    matcher = difflib.SequenceMatcher(a=old, b=new, autojunk=False)
    for tag, a0, a1, b0, b1 in matcher.get_opcodes():
        if tag == "equal":
            continue
        found += [f"code cell {numbers[i]}" for i in range(b0, b1)]
        if tag == "delete" or a1 - a0 > b1 - b0:
            found.append("a code cell removed")
    return found


def is_current(record: Record | None, post: Post, exec_key: str, render_key: str) -> bool:
    """Return True if a published post's nbpress record matches keys computed from its source."""
    return (
        record is not None
        and record.exec_key == exec_key
        and record.render_key == render_key
        and record.source == post.rel_path
    )


def render_key(
    post: Post, exec_key: str, renderer_fingerprint: str, gone: frozenset[str] = frozenset()
) -> str:
    """Return the key that changes when the generated Markdown may change (`gone`: as links.render_term)."""
    from ..rendering.markup import MARKUP_METADATA, bibliography_digest

    cells: list[list[object]] = []
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
        "slug": post.file_slug,
        "renderer": renderer_fingerprint,
    }
    bibliography = bibliography_digest(post)
    if bibliography:
        # Only when the post has one, so the keys of other posts stay as they were.
        payload["bibliography"] = bibliography
    # Local images and linked posts (nbpress.rendering.links): only when there are some.
    linked = links.render_term(post, gone)
    if linked:
        payload["links"] = linked
    return _digest(payload)


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
        path = self._path(key)
        if not path.exists():
            return None, None
        try:
            entry = self._entry(key, owner)
            return cast(CachedOutputs, entry["outputs"]), None  # its shape checked by _entry
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

    def _entry(self, key: str, owner: str = "") -> dict[str, object]:
        """Return the entry `key`, checked; raise ValueError (or OSError) saying what is wrong with it."""
        entry = json.loads(self._path(key).read_text(encoding="utf-8"))
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

    def _field(self, key: str, name: str) -> dict[str, object] | None:
        try:
            entry = self._entry(key)
        except (OSError, ValueError, RecursionError):
            return None
        found = entry.get(name)
        return found if isinstance(found, dict) else None

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
        parts: KeyParts | None = None,
    ) -> None:
        """Store the outputs of each code cell of an executed notebook, its provenance and key parts."""
        entry: dict[str, object] = {"key": key, "outputs": outputs_by_cell(executed)}
        if provenance is not None:
            entry["provenance"] = provenance
        if parts is not None:
            entry["parts"] = parts
        entry["digest"] = entry_digest(entry)
        self._write(f"{key}.json", json.dumps(entry, ensure_ascii=False, sort_keys=True))

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
