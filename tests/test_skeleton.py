"""The test blogs' skeleton: its vendored libraries are hard links to a copy, never the repository's."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.skeleton import REPO, VENDOR, copy_skeleton

WRITE_THROUGH = """
import sys
from pathlib import Path
from tests.skeleton import copy_skeleton, vendor_copy_changes
blog = copy_skeleton(Path(sys.argv[1]))
print(vendor_copy_changes())
with open(blog / "site_src/vendor/katex/katex.min.js", "a") as f:
    f.write("// written through a link")
print(vendor_copy_changes())
"""


def test_a_blog_links_its_vendored_files_to_a_copy_and_a_write_through_one_is_seen(tmp_path: Path) -> None:
    blog = copy_skeleton(tmp_path / "blog")
    for path in (blog / VENDOR).rglob("*"):
        if path.is_file():
            original = REPO / VENDOR / path.relative_to(blog / VENDOR)
            assert path.read_bytes() == original.read_bytes(), path
            assert not path.samefile(original), f"{path} is the repository's own file"
    assert os.stat(blog / VENDOR / "katex" / "katex.min.js").st_nlink >= 2
    # In a process of its own: the write changes that process's copy, not this one's.
    before = (REPO / VENDOR / "katex" / "katex.min.js").read_bytes()
    proc = subprocess.run(
        [sys.executable, "-c", WRITE_THROUGH, str(tmp_path / "other")],
        capture_output=True,
        text=True,
        cwd=REPO,
        check=True,
    )
    assert proc.stdout.splitlines() == ["[]", "['site_src/vendor/katex/katex.min.js']"], proc.stderr
    assert (REPO / VENDOR / "katex" / "katex.min.js").read_bytes() == before
