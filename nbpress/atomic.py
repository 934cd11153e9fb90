"""The one atomic writer: a file is replaced whole or not at all, never seen half-written.

Every file the build writes (the published tree, the cache, the report) goes through it: the
new bytes are written to a temporary dot-file in the same folder (MkDocs and Zensical skip
dot-files, Site.recover deletes a killed build's), then renamed over the file.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

TMP_PREFIX = ".nbpress-tmp-"


def stage(path: Path, data: bytes) -> Path | None:
    """Write `data` to a temporary dot-file beside `path`; return it (None if `path` already holds it).

    Nothing visible changes until the caller renames it over `path`.
    """
    try:
        if path.read_bytes() == data:
            return None
    except FileNotFoundError:
        pass
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=TMP_PREFIX)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o644)  # mkstemp makes 0600; the site's server, CI artifacts and other users read it
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return Path(tmp)


def atomic_write(path: Path, data: bytes) -> bool:
    """Replace `path` with `data` atomically; return False if it already held those bytes."""
    tmp = stage(path, data)
    if tmp is None:
        return False
    try:
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return True
