"""What of the build's environment a post's outputs can depend on: Python, pins, installed versions.

Probed once per build (environment_fingerprint); what is slow to read (requirements.txt's
markers, which distribution provides which module) is kept in the store while unchanged.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import sys
from pathlib import Path

from ..errors import WriteError
from .store import CACHE_DIR_NAME, Store, json_digest

MODULES_FILE = "modules.json"  # which distribution provides which module, while nothing is installed
PINS_FILE = "pins.json"  # requirements.txt read, while it is unchanged


def canonical_name(name: str) -> str:
    """Return a distribution's name as PEP 503 compares them: tensorflow_cpu -> tensorflow-cpu."""
    return re.sub(r"[-_.]+", "-", name).lower()


def key_version(version: str) -> str:
    """Return a distribution's version as the execution key reads it: its public version.

    The one rule for versions in the key: a local version label (PEP 440 `+cpu`, `+cu121`)
    names another build of the same release, not another release, so `2.13.0+cpu` and
    `2.13.0` are one version here (the provenance line a post shows keeps the full one).
    A version packaging cannot read is kept as it is.
    """
    from packaging.version import InvalidVersion, Version

    try:
        return Version(version).public
    except InvalidVersion:
        return version


def pinned_version(specifier: str) -> str:
    """Return the version an exact pin (`==2.13.0`) installs, as the key reads it; "" for any other."""
    from packaging.specifiers import InvalidSpecifier, SpecifierSet

    try:
        specs = list(SpecifierSet(specifier))
    except InvalidSpecifier:
        return ""
    if len(specs) != 1 or specs[0].operator not in ("==", "===") or "*" in specs[0].version:
        return ""
    return key_version(specs[0].version)


_INCLUDE = re.compile(r"^(?:-r|--requirement)(?:\s*=\s*|\s+|(?=[^\s-]))(\S+)")


def requirement_files(path: Path) -> list[Path]:
    """Return `path` and the requirement files it includes (`-r FILE`, relative to it), each once.

    requirements.txt includes requirements-site.txt: the pins of both are the build's.
    """
    found: list[Path] = []
    todo = [path]
    while todo:
        current = todo.pop(0)
        if current in found or not current.is_file():
            continue
        found.append(current)
        for raw in current.read_text(encoding="utf-8").splitlines():
            match = _INCLUDE.match(raw.strip())
            if match:
                todo.append(current.parent / match.group(1))
    return found


def read_pins(path: Path) -> dict[str, str]:
    """Return {distribution: specifier} of the requirements in `path` that apply to this platform.

    The files it includes (-r) are read too; other options (--index-url), blank lines, comments
    and lines whose environment marker does not hold here are left out; an unpinned requirement
    has the specifier "".
    """
    from packaging.requirements import InvalidRequirement, Requirement

    pins: dict[str, str] = {}
    lines = [raw for file in requirement_files(path) for raw in file.read_text(encoding="utf-8").splitlines()]
    for raw in lines:
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
        """Return the distributions (canonical names) that provide the top-level `module`.

        A module no installed distribution provides (`--check` where only requirements-site.txt
        is installed) is the pinned distribution of its name, else the pinned builds of it named
        `<module>-<variant>` (tensorflow: tensorflow-cpu), which the execute job installs; else
        its own name. A module named otherwise than its distribution (PIL, of pillow) then misses
        its pin, and the post is called stale: the full build decides it again, never wrongly fresh.
        """
        if self._providers is None:
            self._providers = self._module_map()
        found = self._providers.get(module)
        if found:
            return found
        name = canonical_name(module)
        if name in self.pins:
            return [name]
        return sorted(d for d in self.pins if d.startswith(f"{name}-")) or [name]

    def _pins(self, path: Path) -> dict[str, str]:
        """Return read_pins(path), from the store while the file and the interpreter are unchanged.

        Reading it needs `packaging` (markers), an import a no-op build need not pay.
        """
        try:
            texts = [hashlib.sha256(file.read_bytes()).hexdigest() for file in requirement_files(path)]
        except (OSError, ValueError):
            return {}
        if not texts:
            return {}
        fingerprint = json_digest([texts, sys.executable, sys.version, sys.platform])
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
        fingerprint = json_digest([sys.executable, sorted(installed)])
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
        """Return the installed version of `distribution` in full (`2.13.0+cpu`), "" if not installed."""
        if distribution not in self._versions:
            import importlib.metadata

            try:
                self._versions[distribution] = importlib.metadata.version(distribution)
            except importlib.metadata.PackageNotFoundError:
                self._versions[distribution] = ""
        return self._versions[distribution]

    def version(self, distribution: str) -> str:
        """Return the version of `distribution` a post executes with, as the key reads it (key_version).

        The installed one; for one not installed here but pinned exactly, the pin's: the execute
        job installs exactly requirements.txt, so `--check` decides staleness from the pins and
        the committed records without the compute packages (torch, tensorflow) installed.
        "" when neither says.
        """
        installed = self.installed(distribution)
        if installed:
            return key_version(installed)
        return pinned_version(self.pins.get(distribution, ""))


def environment_fingerprint(root: Path) -> Environment:
    """Return the blog's environment, read once per build and shared by every post's key."""
    return Environment(root)
