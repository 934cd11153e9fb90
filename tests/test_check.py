"""`build.py --check`: lists stale, missing and orphaned posts, executes and writes nothing."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from nbpress.pipeline import Options, build
from tests.helpers import HANG, REPO, build_cli, published

# Runs the check in a fresh interpreter and reports which heavy modules it imported.
PROBE = """
import json, sys
sys.path.insert(0, sys.argv[1])
import build
code = build.main(["--root", sys.argv[2], "--check"])
names = ("nbclient", "nbconvert", "torch", "tensorflow")
heavy = sorted(m for m in names if m in sys.modules)
print(json.dumps({"code": code, "heavy": heavy}))
"""


def check(blog: Path) -> tuple[int, list[str], str]:
    """Return (exit code, heavy modules imported, stderr) of `build.py --check` on `blog`."""
    proc = subprocess.run(
        [sys.executable, "-c", PROBE, str(REPO), str(blog)], capture_output=True, text=True, timeout=HANG
    )
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    return result["code"], result["heavy"], proc.stderr


@pytest.mark.slow
def test_check_passes_on_current_posts_without_heavy_imports(
    blog: Path, add_post: Callable[..., Path]
) -> None:
    add_post("one", "print(1)")
    add_post("two", "import matplotlib.pyplot as plt; plt.plot([1]); plt.show()")
    assert {r.status for r in build(Options(root=blog, jobs=2))} == {"executed"}
    code, heavy, stderr = check(blog)
    assert (code, heavy, stderr) == (0, [], "")


@pytest.mark.slow
def test_check_lists_what_the_build_would_change(blog: Path, add_post: Callable[..., Path]) -> None:
    import nbformat

    prose = add_post("prose", "print(1)")
    add_post("code", "print(2)")
    gone = add_post("gone", "print(3)")
    add_post("figure", "import matplotlib.pyplot as plt; plt.plot([1]); plt.show()")
    add_post("same", "print(4)")
    assert all(r.error is None for r in build(Options(root=blog, jobs=2)))

    nb = nbformat.read(prose, as_version=4)
    nb.cells.append(nbformat.v4.new_markdown_cell("A new paragraph.", id="new"))
    nbformat.write(nb, prose)
    add_post("code", "print(22)")
    gone.unlink()
    add_post("fresh", "print(5)")
    (blog / "assets" / "images" / "figure" / "output_1_0.png").unlink()
    (blog / "posts" / "broken.ipynb").write_text("{not json")
    add_post("dup", "print(6)")
    (blog / "posts" / "dup.md").write_text("---\ntitle: dup\ndate: 2024-01-01\n---\n\nText.\n")
    before = published(blog)

    code, heavy, stderr = check(blog)
    assert code == 1 and heavy == []
    lines = stderr.splitlines()
    expected = [
        "stale    posts/prose.ipynb: prose, front matter or the renderer changed",
        "stale    posts/code.ipynb: code cell 2: the post runs again",
        "orphan   site_src/posts/gone.md: its source posts/gone.ipynb is gone",
        "missing  posts/fresh.ipynb: no generated site_src/posts/fresh.md",
        "missing  posts/figure.ipynb: figure assets/images/figure/output_1_0.png is missing",
        "error    posts/broken.ipynb: not valid JSON",
        "error    posts/dup.ipynb: the slug 'dup' is used by several sources (posts/dup.ipynb, posts/dup.md)",
        "error    posts/dup.md: the slug 'dup' is used by several sources",
    ]
    for want in expected:
        assert any(line.startswith(want) for line in lines), (want, stderr)
    assert not any("posts/same.ipynb" in line for line in lines)
    assert len(lines) == len(expected)
    assert published(blog) == before  # nothing written


def test_check_refuses_slugs(blog: Path) -> None:
    proc = build_cli(blog, "--check", "one", jobs=None, timeout=HANG)
    assert proc.returncode == 2 and "--check looks at every post" in proc.stderr
