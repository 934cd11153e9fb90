"""nbpress: a static blog generator whose posts are Jupyter notebooks."""

from __future__ import annotations

import hashlib
from pathlib import Path

__version__ = "0.1.0"


def code_digest() -> bytes:
    """Return a digest of nbpress's own code and templates, read from the package's files.

    Taken from the package itself (every source file and template), never from a list of
    names, so a module split or added can never leave something derived by old code current:
    a post's render key (rendering.renderer_fingerprint), a kept text notebook (sources.formats).
    """
    h = hashlib.sha256()
    package = Path(__file__).parent
    files = [*package.rglob("*.py"), *package.rglob("*.j2")]
    for path in sorted(files, key=lambda p: p.relative_to(package).as_posix()):
        h.update(path.relative_to(package).as_posix().encode() + b"\0" + path.read_bytes())
    return h.digest()
