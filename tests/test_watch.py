"""`build.py --watch`: an edited source or declared input rebuilds its post."""

from __future__ import annotations

import signal
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from nbpress.watch import affected
from tests.helpers import HANG, build_command, free_port, site_base, start_serve, wait_until, watcher_armed


def wait_for(predicate: Callable[[], bool], proc: subprocess.Popen[str]) -> bool:
    """Return True once `predicate()` holds; fail if `proc` ends first or only a hang is left."""
    return wait_until(predicate, "the watched build", running=proc)


def text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return ""


def start_watch(blog: Path) -> subprocess.Popen[str]:
    """Return `build.py --watch` started on `blog` (one kernel at a time), its output piped."""
    return subprocess.Popen(
        build_command(blog, "--watch", jobs=1), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )


def interrupt(proc: subprocess.Popen[str]) -> str:
    """Send Ctrl-C to `proc`; return its output once it ends (killed if it hangs)."""
    proc.send_signal(signal.SIGINT)
    try:
        out, _ = proc.communicate(timeout=HANG)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, _ = proc.communicate()
    return str(out)


@pytest.mark.slow
def test_watch_rebuilds_on_source_and_input_changes(blog: Path, add_post: Callable[..., Path]) -> None:
    (blog / "posts" / "data.txt").write_text("first data\n")
    add_post("reads", "print(open('data.txt').read())", front="inputs: [data.txt]\n")
    add_post("edited", "print('version one')")
    md_reads = blog / "site_src" / "posts" / "reads.md"
    md_edited = blog / "site_src" / "posts" / "edited.md"
    proc = start_watch(blog)
    try:
        assert wait_for(lambda: "version one" in text(md_edited) and "first data" in text(md_reads), proc)
        # What the watcher itself sees: edits once it is armed (after the first build).
        assert wait_for(lambda: watcher_armed(proc.pid), proc)
        add_post("edited", "print('version two')")
        assert wait_for(lambda: "version two" in text(md_edited), proc)
        (blog / "posts" / "data.txt").write_text("second data\n")
        assert wait_for(lambda: "second data" in text(md_reads), proc)
        (blog / "posts" / "edited.ipynb").unlink()
        assert wait_for(lambda: not md_edited.exists(), proc)
    finally:
        out = interrupt(proc)
    assert proc.returncode == 0, out
    assert "watching posts/ for changes" in out and "removed" in out


def kernel_running(pid: int) -> bool:
    """Return whether the process `pid` has an ipykernel among its descendants."""
    import psutil

    try:
        return any("ipykernel" in " ".join(c.cmdline()) for c in psutil.Process(pid).children(recursive=True))
    except psutil.Error:
        return False


UNTIL_SAVED = "import time\nwhile 'version ' + 'two' not in open('slow.ipynb').read(): time.sleep(0.05)"


@pytest.mark.slow
def test_a_save_during_the_first_build_is_built_once_the_watch_starts(
    blog: Path, add_post: Callable[..., Path]
) -> None:
    # Runs until its source is saved again, however long the machine takes to get there.
    add_post("slow", UNTIL_SAVED, "print('version one')")
    add_post("other", "print('untouched')")
    md = blog / "site_src" / "posts" / "slow.md"
    proc = start_watch(blog)
    try:
        assert wait_for(lambda: kernel_running(proc.pid), proc)
        # Saved while the first build runs, before any watcher exists.
        add_post("slow", "print('version two')")
        assert not watcher_armed(proc.pid) and not md.exists()
        assert wait_for(lambda: "version two" in text(md), proc)
    finally:
        out = interrupt(proc)
    assert proc.returncode == 0, out
    # Only the post saved meanwhile is built again.
    assert out.count("other.ipynb") == 1, out


def test_changes_since_names_added_modified_and_deleted_files(tmp_path: Path) -> None:
    from nbpress.watch import changes_since

    a, b, c = tmp_path / "a", tmp_path / "b", tmp_path / "c"
    assert changes_since({a: 1, b: 2}, {a: 1, b: 3, c: 4}) == [("modified", b), ("added", c)]
    assert changes_since({a: 1, b: 2}, {b: 2}) == [("deleted", a)]
    assert changes_since({a: 1}, {a: 1}) == []


def test_affected_maps_changes_to_posts(blog: Path, add_post: Callable[..., Path]) -> None:
    posts_dir = (blog / "posts").resolve()
    add_post("a", "1")
    data = posts_dir / "data.csv"
    inputs = {data: {"a", "b"}}
    assert affected([("modified", posts_dir / "a.ipynb")], posts_dir, inputs) == ({"a"}, False)
    assert affected([("modified", data)], posts_dir, inputs) == ({"a", "b"}, False)
    assert affected([("deleted", posts_dir / "a.ipynb")], posts_dir, inputs) == (set(), True)
    # Editor files and checkpoints are not posts.
    noise = [
        ("modified", posts_dir / ".a.ipynb.swp"),
        ("added", posts_dir / ".ipynb_checkpoints" / "a.ipynb"),
    ]
    assert affected(noise, posts_dir, inputs) == (set(), False)


@pytest.mark.slow
def test_serve_runs_mkdocs_beside_the_watcher(blog: Path, add_post: Callable[..., Path]) -> None:
    import psutil

    add_post("live", "print('served one')")
    port = free_port()
    url = f"http://127.0.0.1:{port}{site_base(blog)}/posts/live/"
    proc = start_serve(blog, port)
    try:
        assert wait_for(lambda: "served one" in fetch(url), proc)
        assert wait_for(lambda: watcher_armed(proc.pid), proc)  # as in the test above
        children = psutil.Process(proc.pid).children(recursive=True)
        assert children  # mkdocs serve
        add_post("live", "print('served two')")
        assert wait_for(lambda: "served two" in fetch(url), proc)
    finally:
        out = interrupt(proc)
    assert proc.returncode == 0, out
    _, alive = psutil.wait_procs(children, timeout=HANG)
    assert not alive


def fetch(url: str) -> str:
    import urllib.request

    try:
        with urllib.request.urlopen(url, timeout=HANG) as response:
            return str(response.read().decode("utf-8"))
    except OSError:  # not served yet (URLError, refused, reset); a slow answer is waited for
        return ""


def test_a_post_is_rebuilt_when_a_post_it_links_or_references_changes(tmp_path: Path) -> None:
    # What a post shows of another one (a heading's id, a label's number and text) comes from that
    # post's source: --watch re-renders it when that source changes, as a full build's keys do.
    from nbpress.watch import inputs_by_path

    posts_dir = tmp_path / "posts"
    posts_dir.mkdir()
    head = "---\ntitle: {}\ndate: 2024-01-0{}\n---\n\n"
    (posts_dir / "b.md").write_text(head.format("B", 2) + "(sec-b)=\n## Section B\n\nText.\n")
    (posts_dir / "c.md").write_text(head.format("C", 3) + "## Other\n\nText.\n")
    (posts_dir / "a.md").write_text(
        head.format("A", 1) + "See {ref}`sec-b` and [C](c.md#other).\n\nMore text.\n"
    )
    table = inputs_by_path(tmp_path)
    resolved = posts_dir.resolve()
    assert affected([("modified", resolved / "b.md")], resolved, table) == ({"a", "b"}, False)
    assert affected([("modified", resolved / "c.md")], resolved, table) == ({"a", "c"}, False)
    assert affected([("modified", resolved / "a.md")], resolved, table) == ({"a"}, False)


# What a render loads on first use, which a watch loads before it waits (pipeline.warm).
WARM_PROBE = """
import sys
from pathlib import Path
from nbpress import pipeline
from nbpress.rendering import render
root = Path(sys.argv[1])
before = "nbconvert" in sys.modules or "nbclient" in sys.modules
pipeline.warm(root)
print(before, "nbconvert" in sys.modules, "nbclient" in sys.modules, render._exporter.cache_info().currsize)
"""


def _tree(blog: Path) -> dict[str, tuple[int, int]]:
    return {
        p.relative_to(blog).as_posix(): (p.stat().st_size, p.stat().st_mtime_ns)
        for p in sorted(blog.rglob("*"))
        if p.is_file()
    }


@pytest.mark.parametrize("source", ["a notebook", "a broken notebook", "no source"])
@pytest.mark.slow
def test_the_watch_warm_up_loads_the_render_and_writes_nothing(blog: Path, source: str) -> None:
    import sys

    if source == "a notebook":
        from tests.helpers import write_post

        write_post(blog, "post", "print(1)", "from IPython.display import HTML; HTML('<b>x</b>')")
    elif source == "a broken notebook":
        (blog / "posts" / "broken.ipynb").write_text('{"cells": [', encoding="utf-8")
    before = _tree(blog)
    probe = subprocess.run(
        [sys.executable, "-c", WARM_PROBE, str(blog)], capture_output=True, text=True, timeout=HANG
    )
    assert probe.returncode == 0 and probe.stderr == "", probe.stderr
    # Loaded beforehand only where there was a post to render; nothing written either way.
    warmed = source == "a notebook"
    assert probe.stdout.split() == ["False", str(warmed), str(warmed), str(int(warmed))]
    assert _tree(blog) == before
