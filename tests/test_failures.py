"""A failing post never replaces its last good version; the others still build; exit code says so."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.helpers import build_cli


@pytest.mark.slow
def test_failing_post_keeps_last_good_version(blog: Path, add_post: Callable[..., Path]) -> None:
    add_post("good", "print('fine')")
    add_post("flaky", "import matplotlib.pyplot as plt; plt.plot([1, 2]); plt.show()", "print('v1')")
    first = build_cli(blog)
    assert first.returncode == 0, first.stderr
    md = blog / "site_src" / "posts" / "flaky.md"
    figure = blog / "assets" / "images" / "flaky" / "output_1_0.png"
    good_md, good_png = md.read_bytes(), figure.read_bytes()

    add_post("flaky", "import matplotlib.pyplot as plt; plt.plot([3, 1]); plt.show()", "1/0")
    add_post("good", "print('fine again')")
    second = build_cli(blog)
    assert second.returncode == 1
    assert md.read_bytes() == good_md and figure.read_bytes() == good_png
    assert "fine again" in (blog / "site_src" / "posts" / "good.md").read_text()
    assert "error: posts/flaky.ipynb, cell 3: ZeroDivisionError: division by zero" in second.stderr
    # What to do, the way out for an old notebook that fails one error at a time included.
    assert "tag it raises-exception" in second.stderr and "allow_errors: true" in second.stderr
    assert "Traceback" in second.stderr  # the cell's traceback is shown too


@pytest.mark.slow
def test_removed_source_removes_only_its_generated_files(blog: Path, add_post: Callable[..., Path]) -> None:
    path = add_post("gone", "import matplotlib.pyplot as plt; plt.plot([1]); plt.show()")
    add_post("kept", "1")
    (blog / "site_src" / "posts").mkdir(parents=True, exist_ok=True)
    handwritten = blog / "site_src" / "posts" / "handwritten.md"
    handwritten.write_text("---\ntitle: mine\ndate: 2024-01-01\n---\n\nHello\n")
    assert build_cli(blog).returncode == 0
    assert (blog / "assets" / "images" / "gone" / "output_1_0.png").is_file()
    path.unlink()
    result = build_cli(blog)
    assert result.returncode == 0, result.stderr
    assert not (blog / "site_src" / "posts" / "gone.md").exists()
    assert not (blog / "assets" / "images" / "gone").exists()
    assert handwritten.is_file() and (blog / "site_src" / "posts" / "kept.md").is_file()


def test_bad_front_matter_lists_every_problem(blog: Path) -> None:
    (blog / "posts" / "bad.ipynb").write_text(
        '{"cells": [{"cell_type": "raw", "id": "a", "metadata": {},'
        ' "source": "---\\ndate: 2024-13-45\\ntags: {a: 1}\\n---"}],'
        ' "metadata": {}, "nbformat": 4, "nbformat_minor": 5}'
    )
    result = build_cli(blog)
    assert result.returncode == 1
    line = next(x for x in result.stderr.splitlines() if x.startswith("error: "))
    assert "posts/bad.ipynb" in line and "title is missing" in line
    assert "date '2024-13-45' is not a date" in line and "tags must be a list" in line
