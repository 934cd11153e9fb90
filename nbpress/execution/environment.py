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
        fingerprint = json_digest(
            [hashlib.sha256(text).hexdigest(), sys.executable, sys.version, sys.platform]
        )
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
