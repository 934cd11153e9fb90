"""Text sources' notebooks are kept in the cache by their bytes: a new process reads them without jupytext."""

from __future__ import annotations

import datetime
import json
import subprocess
import sys
from pathlib import Path

import pytest

from nbpress.layout import Layout
from nbpress.pipeline import Options, build
from nbpress.sources import formats
from nbpress.sources.formats import TEXT_NOTEBOOKS, build_reading, read_text_notebook
from tests.helpers import REPO, copy_skeleton

MARKDOWN = "---\ntitle: A note\ndate: 2024-03-01\n---\n\nSome prose.\n\n```python\nprint(1 + 1)\n```\n"
PERCENT = (
    "# ---\n# title: A script\n# date: 2024-03-02\n# ---\n\n# %%\nprint(2)\n\n# %% [markdown]\n# Prose.\n"
)
# A MyST header's keys become notebook metadata as YAML gives them: a date, saved tagged.
MYST = (
    "---\njupytext:\n  text_representation:\n    format_name: myst\ntitle: Myst\ndate: 2024-03-03\n"
    "zeta: 1\nalpha: 2\nhero: {b: 1, a: 2}\n---\n\n"
    "Prose.\n\n```{code-cell} ipython3\nprint(3)\n```\n"
)

# Reads a source as a build does, in a new process: prints the notebook and whether jupytext loaded.
READ_AGAIN = """
import json, sys
from pathlib import Path
from nbpress.sources.formats import build_reading, read_text_notebook
path, kept = Path(sys.argv[1]), Path(sys.argv[2])
with build_reading():
    notebook = read_text_notebook(path, path.name, kept=kept)
found = {"jupytext": "jupytext" in sys.modules, "notebook": notebook}
print(json.dumps(found, default=lambda v: f"{type(v).__name__} {v.isoformat()}"))
"""


def _read_in_new_process(path: Path, kept: Path) -> dict[str, object]:
    done = subprocess.run(
        [sys.executable, "-c", READ_AGAIN, str(path), str(kept)],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    )
    found: dict[str, object] = json.loads(done.stdout)
    return found


def _fresh(path: Path) -> str:
    """Return the notebook jupytext reads from `path` now, no cache asked, as READ_AGAIN prints it."""
    return _as_json(read_text_notebook(path, path.name))


def _as_json(value: object) -> str:
    """Return `value` as JSON with its keys in their order (the order a post's front matter keeps)."""
    return json.dumps(value, default=lambda v: f"{type(v).__name__} {v.isoformat()}")


def _plant(entry: Path) -> None:
    """Change the kept notebook in `entry` to say "planted", its digest made to match (no read gives it)."""
    saved = json.loads(entry.read_text(encoding="utf-8"))
    saved["notebook"]["cells"][1]["source"] = "planted"
    saved["digest"] = formats._digest(saved["notebook"])
    entry.write_text(json.dumps(saved), encoding="utf-8")


def test_a_build_saves_the_notebook_and_a_new_process_reads_it_without_jupytext(tmp_path: Path) -> None:
    kept = tmp_path / "kept"
    for name, text in (("note.md", MARKDOWN), ("script.py", PERCENT), ("myst.md", MYST)):
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        with build_reading():
            read_text_notebook(path, name, kept=kept)
        assert (kept / f"{name}.json").is_file()
        again = _read_in_new_process(path, kept)
        assert again["jupytext"] is False, f"{name}: jupytext read it again"
        assert _as_json(again["notebook"]) == _fresh(path), (
            f"{name}: another notebook, or its keys in another order"
        )


def test_nothing_is_saved_or_read_outside_a_builds_reading(tmp_path: Path) -> None:
    kept = tmp_path / "kept"
    path = tmp_path / "note.md"
    path.write_text(MARKDOWN, encoding="utf-8")
    read_text_notebook(path, "note.md", kept=kept)
    assert not kept.exists(), "a read outside a build wrote the cache"
    with build_reading():
        read_text_notebook(path, "note.md", kept=kept)
    _plant(kept / "note.md.json")  # what a read outside a build would be handed if it looked
    assert "planted" not in json.dumps(read_text_notebook(path, "note.md", kept=kept))


def test_changed_bytes_or_a_damaged_entry_are_read_again_by_jupytext(tmp_path: Path) -> None:
    kept = tmp_path / "kept"
    path = tmp_path / "note.md"
    path.write_text(MARKDOWN, encoding="utf-8")
    entry = kept / "note.md.json"
    with build_reading():
        read_text_notebook(path, "note.md", kept=kept)
        path.write_text(MARKDOWN.replace("Some prose.", "Other prose."), encoding="utf-8")
        changed = read_text_notebook(path, "note.md", kept=kept)
        assert "Other prose." in json.dumps(changed)
        assert "Other prose." in entry.read_text(encoding="utf-8"), "the entry kept the old bytes' notebook"
        # Edited without its digest: a miss, read again and saved again.
        saved = json.loads(entry.read_text(encoding="utf-8"))
        saved["notebook"]["cells"][1]["source"] = "edited in the cache"
        entry.write_text(json.dumps(saved), encoding="utf-8")
        assert "edited in the cache" not in json.dumps(read_text_notebook(path, "note.md", kept=kept))
        entry.write_text('{"key": ', encoding="utf-8")  # truncated
        assert _as_json(read_text_notebook(path, "note.md", kept=kept)) == _fresh(path)
    assert _as_json(json.loads(entry.read_text(encoding="utf-8"))["notebook"]) == _fresh(path)


def test_a_notebook_json_would_change_is_never_saved(tmp_path: Path) -> None:
    kept = tmp_path / "kept"
    path = tmp_path / "myst.md"
    # A number as a key: JSON would give it back as text.
    path.write_text(MYST.replace("zeta: 1\n", "zeta: 1\nnumbers:\n  1: one\n"), encoding="utf-8")
    with build_reading():
        notebook = read_text_notebook(path, "myst.md", kept=kept)
        assert notebook.metadata["nbpress"]["numbers"] == {1: "one"}
        assert not (kept / "myst.md.json").exists()
        # Its date alone is kept, as a date.
        path.write_text(MYST, encoding="utf-8")
        read_text_notebook(path, "myst.md", kept=kept)
        assert (kept / "myst.md.json").exists()
        again = read_text_notebook(path, "myst.md", kept=kept)
    assert again.metadata["nbpress"]["date"] == datetime.date(2024, 3, 3)


@pytest.mark.slow
def test_a_full_build_saves_every_text_source_and_drops_the_entries_of_sources_gone(tmp_path: Path) -> None:
    root = copy_skeleton(tmp_path / "blog")
    sources = Layout(root).sources
    for n in range(2):
        (sources / f"note-{n}.md").write_text(MARKDOWN.replace("print(1 + 1)", "x = 1"), encoding="utf-8")
    kept = Layout(root).cache / TEXT_NOTEBOOKS
    build(Options(root=root, slugs=(), force=False, jobs=1))
    assert sorted(p.name for p in kept.iterdir()) == ["note-0.md.json", "note-1.md.json"]
    (sources / "note-1.md").unlink()
    build(Options(root=root, slugs=("note-0",), force=False, jobs=1))
    assert (kept / "note-1.md.json").exists(), "a build of some posts cannot know the others are gone"
    build(Options(root=root, slugs=(), force=False, jobs=1))
    assert sorted(p.name for p in kept.iterdir()) == ["note-0.md.json"]


def test_a_saved_notebook_keeps_the_order_of_its_keys(tmp_path: Path) -> None:
    kept = tmp_path / "kept"
    path = tmp_path / "myst.md"
    path.write_text(MYST, encoding="utf-8")
    with build_reading():
        read_text_notebook(path, "myst.md", kept=kept)
        again = read_text_notebook(path, "myst.md", kept=kept)
    assert (kept / "myst.md.json").exists()
    front = again.metadata["nbpress"]
    assert list(front) == ["title", "date", "zeta", "alpha", "hero"]
    assert list(front["hero"]) == ["b", "a"]


def test_an_entry_saved_by_other_code_or_readers_is_a_miss(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    kept = tmp_path / "kept"
    path = tmp_path / "note.md"
    path.write_text(MARKDOWN, encoding="utf-8")
    with build_reading():
        read_text_notebook(path, "note.md", kept=kept)
    _plant(kept / "note.md.json")
    with build_reading():
        assert "planted" in json.dumps(read_text_notebook(path, "note.md", kept=kept)), (
            "the key is not the entry's"
        )
        # Another nbpress, jupytext or Python: another stamp, so the entry is not this code's.
        monkeypatch.setattr(formats, "_reader_stamp", lambda: b"another reader")
        assert "planted" not in json.dumps(read_text_notebook(path, "note.md", kept=kept))


def test_a_broken_header_fails_on_every_read_and_a_quarto_source_is_never_saved(tmp_path: Path) -> None:
    from nbpress.errors import SourceError

    kept = tmp_path / "kept"
    broken = tmp_path / "broken.md"
    broken.write_text("---\ntitle: [unclosed\n---\n\nProse.\n", encoding="utf-8")
    quarto = tmp_path / "post.qmd"
    quarto.write_text("---\ntitle: Q\n---\n\nProse.\n\n```{python}\nprint(1)\n```\n", encoding="utf-8")
    with build_reading():
        for _ in range(2):
            with pytest.raises(SourceError, match="front matter YAML is broken"):
                read_text_notebook(broken, "broken.md", kept=kept)
        read_text_notebook(quarto, "post.qmd", kept=kept)
    assert not kept.exists() or not list(kept.iterdir())
