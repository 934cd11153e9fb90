"""The execution key: what decides a post's outputs, part by part, and why it changed.

Like jupyter-cache, the execution key hashes only what decides a notebook's outputs:
code cells (source and tags), the kernel, the pinned environment and declared input files,
and of the prose only its inline expressions (inline.py). Prose edits therefore re-render
from the store without starting a kernel.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import sys
from pathlib import Path
from typing import NotRequired, TypedDict

from .. import layout
from ..errors import NbpressError
from ..record import Record
from ..sources import Post
from . import inline
from .environment import Environment, canonical_name, key_version
from .store import json_digest

EXEC_VERSION = "2"  # bump when execution itself changes in a way that alters outputs

_SHORT = 12  # hex digits of a part's digest: enough to tell versions of one cell or file apart


def _short(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()[:_SHORT]


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
    # {distribution: the version it executes with (Environment.version): installed, else its exact
    # pin; "" if neither; a local label (+cpu) left out, as key_version reads versions}
    installed: dict[str, str]
    cell_errors: NotRequired[str]  # "allowed", only when the front matter says allow_errors
    values: NotRequired[list[list[object]]]  # [code cells above, expression] of each inline expression


def key_parts(post: Post, posts_dir: Path, env: Environment) -> KeyParts:
    """Return what decides a post's outputs, part by part; recorded so a change can be named.

    Code cells (source and tags), kernel, Python (major.minor), declared inputs and local
    modules it imports (by content), and for each module it imports (static imports, plus the
    `depends:` front matter list) the pin in requirements.txt and the version (Environment.version)
    of the distribution that provides it. Nothing else: an unrelated requirement changes no key.
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
            installed[dist] = env.version(dist)
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
    values = inline.key_part(post.notebook)
    if values:
        # Inline expressions decide outputs (their values), where they run too; only they of the
        # prose: a post without any keeps its key, and prose edits around them re-run nothing.
        parts["values"] = values
    return parts


def digest_parts(parts: KeyParts | dict[str, object]) -> str:
    """Return the execution key of a post from its key parts."""
    return json_digest({"v": EXEC_VERSION, **parts})


def _mapping(value: object) -> dict[str, object]:
    """Return `value` if it is a dict (a part of a record read back), else {}."""
    return value if isinstance(value, dict) else {}


def as_key_reads(parts: dict[str, object]) -> dict[str, object]:
    """Return recorded key parts with their versions as the key reads them now (key_version).

    A record written before local labels were left out says `torch: 2.13.0+cpu`.
    """
    recorded = _mapping(parts.get("installed"))
    installed = {str(d): key_version(str(v)) if v else "" for d, v in recorded.items()}
    return {**parts, "installed": installed} if "installed" in parts else dict(parts)


def recorded_key(record: Record) -> str:
    """Return the execution key a published post's record stands for, read as the key is computed now.

    A record whose exec_key is the digest of its executed_with (every record this EXEC_VERSION
    wrote) is compared by those parts, versions read by today's rule: a post executed with
    torch 2.13.0+cpu is not stale where torch 2.13.0 is installed, nor where torch is not
    installed but pinned ==2.13.0. Any other record (an older EXEC_VERSION) by its exec_key.
    """
    parts = record.executed_with
    if isinstance(parts, dict) and digest_parts(parts) == record.exec_key:
        return digest_parts(as_key_reads(parts))
    return record.exec_key


def explain(old: object, new: KeyParts, post: Post) -> str:
    """Return which parts of the execution key changed, as a phrase: "tensorflow-cpu 2.21.0 -> 2.21.1"."""
    if not isinstance(old, dict):
        return "its record does not say what it ran with (built by an older nbpress)"
    old = as_key_reads(old)
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
    if old.get("values") != new.get("values"):
        changes.append("an inline expression")
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
