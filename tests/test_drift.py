"""The weekly drift check: what changes on every run is masked, a changed output is named."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from nbpress.drift import diff, find_drift
from nbpress.pipeline import Options, build
from tests.helpers import HANG, build_cli

GIT_ENV = {
    "GIT_AUTHOR_NAME": "t",
    "GIT_AUTHOR_EMAIL": "t@example.org",
    "GIT_COMMITTER_NAME": "t",
    "GIT_COMMITTER_EMAIL": "t@example.org",
}
COMMITTED = """---
nbpress:
  exec_key: 1111
  render_key: 2222
---

    I0000 00:00:1795315746.111133    2731 port.cc:153] oneDNN custom operations are on.
    To enable the following instructions: AVX2 AVX512F FMA, in other operations, rebuild.
    4/4 ━━━━━━━━━━━━━━━━━━━━ 0s 6ms/step - loss: 801.9482   
    Weights: [[0.6098]]

*Executed 2026-01-01 10:00:00 UTC with Python 3.11.7, numpy 2.4.6.*
{: .nbpress-provenance }
"""  # noqa: W291 - Keras pads its progress lines


def test_what_changes_on_every_run_is_not_drift() -> None:
    rerun = (
        COMMITTED.replace("1111", "3333")
        .replace("2222", "4444")
        .replace("1795315746.111133    2731", "1795999999.5 77")
        .replace("AVX2 AVX512F FMA", "AVX2 FMA")
        .replace("0s 6ms/step - loss: 801.9482   ", "1s 12ms/step - loss: 801.9482")
        .replace("2026-01-01 10:00:00 UTC with Python 3.11.7", "2026-03-09 05:17:44 UTC with Python 3.11.9")
    )
    assert rerun != COMMITTED
    assert diff(COMMITTED, rerun, "post.md") == []


def test_a_moved_number_is_drift() -> None:
    for old, new in [("801.9482", "801.9483"), ("[[0.6098]]", "[[0.6099]]")]:
        lines = diff(COMMITTED, COMMITTED.replace(old, new), "post.md")
        assert "+    " in "\n".join(lines) and new in "\n".join(lines)


def git(blog: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=blog, env={**os.environ, **GIT_ENV}, check=True, capture_output=True)


@pytest.mark.slow
def test_drift_names_the_post_whose_outputs_changed(blog: Path, add_post: Callable[..., Path]) -> None:
    (blog / "posts" / "data.txt").write_text("upstream says 1\n", encoding="utf-8")
    add_post("stable", "print(6 * 7)")
    add_post("moving", "print(open('data.txt').read())")
    assert {r.status for r in build(Options(root=blog, jobs=2))} == {"executed"}
    git(blog, "init", "--quiet")
    git(blog, "add", "-A")
    git(blog, "commit", "--quiet", "-m", "blog")

    assert {r.status for r in build(Options(root=blog, force=True, jobs=2))} == {"executed"}
    assert find_drift(blog) == {}, "a plain re-execution is not drift"

    # The data the post reads changed upstream (it is not a declared input): same code, new output.
    (blog / "posts" / "data.txt").write_text("upstream says 2\n", encoding="utf-8")
    assert {r.status for r in build(Options(root=blog, force=True, jobs=2))} == {"executed"}
    drifted = find_drift(blog)
    assert list(drifted) == ["posts/moving.ipynb"]
    assert "+upstream says 2" in drifted["posts/moving.ipynb"]

    proc = build_cli(blog, "--drift", jobs=None, timeout=HANG)
    assert proc.returncode == 1
    assert "stable" not in proc.stderr
    assert "drifted: posts/moving.ipynb, cell 2, line " in proc.stderr
    assert "'upstream says 1' is now 'upstream says 2'" in proc.stderr


def test_the_changed_line_is_named_by_the_code_cell_above_it(tmp_path: Path) -> None:
    """The last fence above the line that is a code cell's code, as the site reads the post."""
    import nbformat
    from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_raw_cell

    from nbpress.drift import cell_of_line

    (tmp_path / "posts").mkdir()
    cells = [
        new_raw_cell("---\ntitle: P\ndate: 2024-01-01\n---"),
        new_code_cell("x = 1"),
        new_code_cell('print("```")'),  # published in a ```` fence
        new_markdown_cell("Shown, not run:\n\n```python\nsnippet()\n```"),
        new_code_cell("y = 2"),  # folded: published indented in a ??? block
    ]
    nbformat.write(new_notebook(cells=cells), tmp_path / "posts" / "p.ipynb")
    markdown = (
        '---\ntitle: P\n---\n\n```python\nx = 1\n```\n\n````python\nprint("```")\n````\n\n'
        "```{.text .nbpress-output}\nfirst\n```\n\nShown, not run:\n\n```python\nsnippet()\n```\n\n"
        '???+ note "Code"\n\n    ```python\n    y = 2\n    ```\n\n<!-- /details -->\n\n'
        "```{.text .nbpress-output}\nsecond\n```\n"
    )
    lines = markdown.splitlines()
    for text, cell in [("first", 3), ("second", 5)]:
        assert cell_of_line(tmp_path, "posts/p.ipynb", markdown, lines.index(text) + 1) == cell
