"""Keys that travel: a post executed on one machine is current on another that installs the same pins.

A local version label (`torch 2.13.0+cpu`, another build of the release `pip install torch==2.13.0`
gives) is not a new version for the execution key; the provenance line keeps it. A Python change is
named, by `--check` and by the build.
"""

from __future__ import annotations

import re
import shutil
import sys
from pathlib import Path

import pytest

from nbpress import record as records
from nbpress.execution import environment, keys
from tests.helpers import REPO, build_cli, write_post

MINOR = "{}.{}".format(*sys.version_info[:2])


@pytest.mark.parametrize(
    ("version", "read"),
    [
        ("2.13.0+cpu", "2.13.0"),
        ("2.13.0+cu121", "2.13.0"),
        ("2.13.0+rocm6.2", "2.13.0"),
        ("1.0+ubuntu.1-2", "1.0"),
        ("2.13.0", "2.13.0"),
        ("2.13.0rc1+cpu", "2.13.0rc1"),
        ("1!2.0.post3+abc", "1!2.0.post3"),
        ("not a version", "not a version"),
    ],
)
def test_a_local_version_label_is_not_part_of_the_key(version: str, read: str) -> None:
    assert environment.key_version(version) == read


@pytest.mark.parametrize(
    ("pin", "version"),
    [("==2.13.0", "2.13.0"), ("===2.13.0", "2.13.0"), ("==2.13.0+cpu", "2.13.0"), ("", "")]
    + [(loose, "") for loose in (">=2.13", "~=2.13.0", "==2.13.*", ">=2,<3", "!=2.0", "not a pin")],
)
def test_only_an_exact_pin_says_which_version_installs(pin: str, version: str) -> None:
    assert environment.pinned_version(pin) == version


def committed_post(blog: Path, slug: str, torch: str, python: str = MINOR) -> None:
    """Copy a committed post into `blog`, its record saying it executed with `torch` on `python`.

    The record a build on such a machine writes: its key from its parts, sealed with its digest.
    """
    shutil.copy(REPO / "posts" / f"{slug}.ipynb", blog / "posts" / f"{slug}.ipynb")
    markdown = blog / "site_src" / "posts" / f"{slug}.md"
    markdown.parent.mkdir(parents=True, exist_ok=True)
    text = (REPO / "site_src" / "posts" / f"{slug}.md").read_text(encoding="utf-8")
    published = records.parse(text)
    assert published is not None and isinstance(published.executed_with, dict)
    text, count = re.subn(r"(?m)^(    installed: \{.*torch: )[^,}]+", rf"\g<1>{torch}", text)
    assert count == 1
    text = re.sub(r"(?m)^(    python: ).*$", rf"\1'{python}'", text, count=1)
    edited = records.parse(text)
    assert edited is not None and isinstance(edited.executed_with, dict)
    assert edited.executed_with["installed"]["torch"] == torch
    text = text.replace(published.exec_key, keys.digest_parts(dict(edited.executed_with)), 1)
    text = text.replace(published.digest, records.DIGEST_PLACEHOLDER, 1)
    markdown.write_text(records.seal(text), encoding="utf-8")


@pytest.mark.parametrize("torch", ["2.13.0+cpu", "2.13.0", "2.13.0+cu121", "2.13.0+rocm6.2"])
@pytest.mark.slow
def test_a_post_executed_with_another_build_of_a_release_does_not_run_again(blog: Path, torch: str) -> None:
    """Whatever build of torch 2.13.0 the record names, and whichever this machine has (or none, pinned)."""
    committed_post(blog, "SLR_NN", torch)
    proc = build_cli(blog, "--check", jobs=None, timeout=120)
    assert "runs again" not in proc.stderr, proc.stderr
    assert "torch" not in proc.stderr, proc.stderr


@pytest.mark.parametrize(
    ("torch", "named"), [("2.12.1+cpu", "torch 2.12.1 -> 2.13.0"), ("2.14.0", "torch 2.14.0 -> 2.13.0")]
)
@pytest.mark.slow
def test_another_release_runs_again_and_is_named_without_its_label(
    blog: Path, torch: str, named: str
) -> None:
    committed_post(blog, "SLR_NN", torch)
    proc = build_cli(blog, "--check", jobs=None, timeout=120)
    assert proc.returncode == 1
    assert re.search(
        rf"(?m)^stale +posts/SLR_NN\.ipynb: {re.escape(named)}: the post runs again$", proc.stderr
    ), proc.stderr


def test_the_provenance_line_keeps_the_full_version() -> None:
    """What readers see names the build it ran with; only the key leaves the label out."""
    text = (REPO / "site_src" / "posts" / "SLR_NN.md").read_text(encoding="utf-8")
    published = records.parse(text)
    assert published is not None and isinstance(published.executed_with, dict)
    [line] = [line for line in text.splitlines() if line.startswith("*Executed ")]
    installed = published.executed_with["installed"]
    assert isinstance(installed, dict)
    version = str(installed["torch"])
    assert re.search(rf"torch {re.escape(version)}[+.,]", line), line
    assert environment.key_version(version) == "2.13.0"


@pytest.mark.slow
def test_the_build_names_a_python_change(blog: Path) -> None:
    """A post executed by another Python minor version runs again, and the build says why."""
    write_post(blog, "post", "import yaml\nprint(yaml.__name__)")
    first = build_cli(blog, "post", timeout=300)
    assert first.returncode == 0, first.stdout + first.stderr
    markdown = blog / "site_src" / "posts" / "post.md"
    text = markdown.read_text(encoding="utf-8")
    published = records.parse(text)
    assert published is not None and isinstance(published.executed_with, dict)
    other = "3.12" if MINOR != "3.12" else "3.13"
    text = re.sub(r"(?m)^(    python: ).*$", rf"\1'{other}'", text, count=1)
    moved = records.parse(text)
    assert moved is not None and isinstance(moved.executed_with, dict)
    text = text.replace(published.exec_key, keys.digest_parts(dict(moved.executed_with)), 1)
    text = text.replace(published.digest, records.DIGEST_PLACEHOLDER, 1)
    markdown.write_text(records.seal(text), encoding="utf-8")
    check = build_cli(blog, "--check", jobs=None, timeout=120)
    assert check.returncode == 1
    assert f"posts/post.ipynb: Python {other} -> {MINOR}: the post runs again" in check.stderr, check.stderr
    again = build_cli(blog, "post", timeout=300)
    assert again.returncode == 0, again.stdout + again.stderr
    # Executed, or taken from the cache this machine's first build filled: either way, named.
    assert re.search(
        rf"(?m)^(executed|cached) .*posts/post\.ipynb \(Python {other} -> {MINOR}\)$", again.stdout
    ), again.stdout


@pytest.mark.slow
def test_a_post_recorded_with_a_local_label_renders_from_its_entry_without_executing(blog: Path) -> None:
    """A post built before the key left labels out: its record and cache entry hold `+cpu`.

    The build renders it from that entry (its outputs stand) and keeps them under today's key.
    """
    from nbpress.execution import Store

    write_post(blog, "post", "import yaml\nprint(yaml.__name__)")
    assert build_cli(blog, "post", timeout=300).returncode == 0
    markdown = blog / "site_src" / "posts" / "post.md"
    text = markdown.read_text(encoding="utf-8")
    published = records.parse(text)
    assert published is not None and isinstance(published.executed_with, dict)
    # What the older rule recorded: the full version in the parts, the key their digest.
    text, count = re.subn(r"(?m)^(    installed: \{pyyaml: )([^,}]+)", r"\g<1>\g<2>+cpu", text)
    assert count == 1
    old = records.parse(text)
    assert old is not None and isinstance(old.executed_with, dict)
    old_key = keys.digest_parts(dict(old.executed_with))
    store = Store(blog / ".nbpress-cache")
    entry, problem = store.entry(published.exec_key)
    assert entry is not None and problem is None
    store.put(old_key, entry, old.executed_with)
    store.entry_path(published.exec_key).unlink()
    text = text.replace(published.exec_key, old_key, 1).replace(
        published.digest, records.DIGEST_PLACEHOLDER, 1
    )
    markdown.write_text(records.seal(text), encoding="utf-8")

    check = build_cli(blog, "--check", jobs=None, timeout=120)
    assert "runs again" not in check.stderr, check.stderr
    again = build_cli(blog, "post", timeout=300)
    assert again.returncode == 0, again.stdout + again.stderr
    assert re.search(r"(?m)^cached .*posts/post\.ipynb", again.stdout), again.stdout
    rebuilt = records.read(markdown)
    assert rebuilt is not None and rebuilt.exec_key == published.exec_key
    assert store.entry(published.exec_key)[0] == entry  # kept under today's key
    assert build_cli(blog, "--check", jobs=None, timeout=120).returncode == 0
