"""`build.py --site`: the deployable site rendered by `mkdocs build --strict`, and only when
what it is rendered from changed (publishing.renderers.site_state)."""

from __future__ import annotations

import contextlib
import filecmp
import os
import shutil
import signal
import subprocess
from pathlib import Path

import psutil
import pytest

from nbpress.publishing import RENDERERS, site_state
from tests.helpers import (
    HANG,
    build_cli,
    build_command,
    kill_orphan_kernels,
    mkdocs,
    running,
    wait_until,
    write_post,
)
from tests.skeleton import copy_skeleton

MKDOCS = RENDERERS["mkdocs"]


def _blog(root: Path) -> Path:
    blog = copy_skeleton(root)
    write_post(blog, "first", "print('first output')")
    return blog


def _mtimes(folder: Path) -> dict[str, int]:
    return {p.relative_to(folder).as_posix(): p.stat().st_mtime_ns for p in folder.rglob("*") if p.is_file()}


def _same_tree(a: Path, b: Path) -> list[str]:
    """Return the files that differ between folders `a` and `b` (missing on either side included)."""
    left = {p.relative_to(a).as_posix() for p in a.rglob("*") if p.is_file()}
    right = {p.relative_to(b).as_posix() for p in b.rglob("*") if p.is_file()}
    differ = sorted(left ^ right)
    differ += [f for f in sorted(left & right) if not filecmp.cmp(a / f, b / f, shallow=False)]
    return differ


# --- What the site is rendered from (no render needed) ---------------------------------------


@pytest.fixture
def bare(tmp_path: Path) -> Path:
    blog = copy_skeleton(tmp_path / "blog")
    (blog / "site_src" / "posts").mkdir(exist_ok=True)
    (blog / "posts" / "notes.txt").write_text("an author's notes\n", encoding="utf-8")
    return blog


INPUTS = {
    "the config": lambda b: _append(b / "mkdocs.yml", "\n# a comment\n"),
    "a page of docs_dir": lambda b: _append(b / "site_src" / "about.md", "\nMore.\n"),
    "a new published post": lambda b: _append(b / "site_src" / "posts" / "new.md", "---\ntitle: x\n---\n"),
    "a figure (assets/, through site_src/assets)": lambda b: _append(b / "assets" / "x.png", "png"),
    "a template override": lambda b: _append(b / "overrides" / "main.html", "\n{# a comment #}\n"),
    "a hook": lambda b: _append(b / "hooks" / "reader.py", "\n# a comment\n"),
    "the git remote": lambda b: _git(b, "remote", "add", "origin", "https://github.com/someone/blog.git"),
    "an environment variable the config reads": lambda b: _env_config(b),
}


def _append(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as file:
        file.write(text)


def _git(folder: Path, *args: str) -> None:
    """Run `git ARGS` in `folder`, made a git checkout first if it is none."""
    if not (folder / ".git").exists():
        subprocess.run(["git", "init", "-q", str(folder)], check=True)
    subprocess.run(["git", "-C", str(folder), *args], check=True, capture_output=True)


def test_the_remote_of_a_checkout_the_blog_lies_in_is_an_input(tmp_path: Path) -> None:
    """The hook asks git, which finds the checkout above the blog (or a worktree's): so does the state."""
    checkout = tmp_path / "checkout"
    blog = copy_skeleton(checkout / "site" / "blog")
    _git(checkout, "remote", "add", "origin", "https://github.com/someone/blog.git")
    before = site_state(MKDOCS, blog).inputs
    _git(checkout, "remote", "set-url", "origin", "https://github.com/other/blog.git")
    assert site_state(MKDOCS, blog).inputs != before


def _env_config(blog: Path) -> None:
    _append(blog / "mkdocs.yml", "\ncopyright: !ENV [NBPRESS_TEST_COPYRIGHT, 'nobody']\n")
    before = site_state(MKDOCS, blog).inputs
    os.environ["NBPRESS_TEST_COPYRIGHT"] = "someone"
    try:
        assert site_state(MKDOCS, blog).inputs != before, "the variable !ENV names is not an input"
    finally:
        del os.environ["NBPRESS_TEST_COPYRIGHT"]


@pytest.mark.parametrize("change", sorted(INPUTS))
def test_each_kind_of_input_changes_what_the_site_is_rendered_from(bare: Path, change: str) -> None:
    before = site_state(MKDOCS, bare).inputs
    INPUTS[change](bare)
    assert site_state(MKDOCS, bare).inputs != before, f"{change} is not an input of the site"


def test_what_the_site_does_not_read_leaves_it_current(bare: Path) -> None:
    before = site_state(MKDOCS, bare)
    _append(bare / "posts" / "notes.txt", "more notes\n")  # sources reach the site through site_src/
    _append(bare / "README.md", "\nMore.\n")
    (bare / "hooks" / "__pycache__").mkdir(exist_ok=True)
    _append(bare / "hooks" / "__pycache__" / "reader.cpython-311.pyc", "x")
    assert site_state(MKDOCS, bare) == before
    assert site_state(RENDERERS["zensical"], bare).inputs != before.inputs, "the renderer is an input"


# --- Real renders ------------------------------------------------------------------------------


@pytest.mark.slow
def test_site_renders_once_what_mkdocs_build_renders_and_then_only_after_a_change(tmp_path: Path) -> None:
    blog = _blog(tmp_path / "blog")
    first = build_cli(blog, "--site")
    assert first.returncode == 0, first.stdout + first.stderr
    assert "site: rendered into site/ by mkdocs" in first.stdout
    assert "first output" in (blog / "site" / "posts" / "first" / "index.html").read_text(encoding="utf-8")
    assert list((blog / ".nbpress-cache" / "templates").glob("jinja2-*/*")), "no compiled template kept"

    # A build that changed nothing renders nothing: not one file of site/ written again.
    before = _mtimes(blog / "site")
    again = build_cli(blog, "--site")
    assert again.returncode == 0, again.stdout + again.stderr
    assert "site/ is current" in again.stdout and "rendered into" not in again.stdout
    assert _mtimes(blog / "site") == before

    # A prose edit renders again, and the page shows it.
    write_post(blog, "first", "print('first output')", front="description: Edited prose.\n")
    edited = build_cli(blog, "--site")
    assert "rendered into" in edited.stdout, edited.stdout + edited.stderr
    assert "Edited prose." in (blog / "site" / "posts" / "first" / "index.html").read_text(encoding="utf-8")
    by_worker = tmp_path / "worker-site"
    shutil.copytree(blog / "site", by_worker)

    # A site folder touched since the render (a file removed) is rendered again, with no post
    # to publish.
    (blog / "site" / "about" / "index.html").unlink()
    touched = build_cli(blog, "--site")
    assert "rendered into" in touched.stdout, touched.stdout + touched.stderr
    assert (blog / "site" / "about" / "index.html").is_file()

    # The kept compiled templates change no byte: the same tree as a plain `mkdocs build --strict`.
    # A plain `mkdocs build` keeps nothing in the build cache (which the build guards).
    kept = tmp_path / "kept-site"
    shutil.copytree(blog / "site", kept)
    shutil.rmtree(blog / ".nbpress-cache" / "templates")
    plain = mkdocs(blog, "build", "--strict")
    assert plain.returncode == 0, plain.stderr
    assert _same_tree(kept, blog / "site") == []
    assert _same_tree(by_worker, blog / "site") == []
    assert not (blog / ".nbpress-cache" / "templates").exists()


@pytest.mark.slow
def test_a_render_that_fails_says_so_in_one_line_and_is_not_taken_as_current(tmp_path: Path) -> None:
    blog = _blog(tmp_path / "blog")
    _append(blog / "site_src" / "about.md", "\nSee [the missing page](missing.md).\n")
    failed = build_cli(blog, "--site")
    assert failed.returncode == 1, failed.stdout + failed.stderr
    assert "missing.md" in failed.stderr  # MkDocs' own message, shown
    last = failed.stderr.strip().splitlines()[-1]
    assert last.startswith("error: mkdocs build --strict failed (exit 1)") and "build.py --site" in last
    # Nothing claims the folder holds this render: the next run renders (and fails) again.
    again = build_cli(blog, "--site")
    assert again.returncode == 1 and "is current" not in again.stdout, again.stdout + again.stderr


def test_renderer_goes_with_serve_or_site(tmp_path: Path) -> None:
    import build

    assert build.parse_args(["--site"]).renderer == "mkdocs"  # what the deploy publishes
    assert build.parse_args(["--serve"]).renderer == "mkdocs"
    assert build.parse_args(["--site", "--renderer", "zensical"]).renderer == "zensical"
    for wrong in (["--renderer", "mkdocs"], ["--site", "--shard", "1/2"], ["--site", "--check"]):
        with pytest.raises(SystemExit):
            build.parse_args(wrong)


def test_a_link_back_up_the_tree_is_walked_once(bare: Path) -> None:
    (bare / "site_src" / "loop").symlink_to("..")
    assert site_state(MKDOCS, bare).inputs  # returns: the linked folder is not walked again


def _workers(build: psutil.Process) -> list[psutil.Process]:
    """Return the render workers (publishing.mkdocs_render run alone) among `build`'s descendants."""
    found = []
    for child in build.children(recursive=True):
        with contextlib.suppress(psutil.Error):
            if any("mkdocs_render.py" in part for part in child.cmdline()):
                found.append(child)
    return found


def _workers_of(blog: Path) -> list[psutil.Process]:
    """Return the render workers of the blog at `blog` alive now, whatever their parent."""
    found = []
    for proc in psutil.process_iter():
        with contextlib.suppress(psutil.Error):
            command = proc.cmdline()
            if any("mkdocs_render.py" in part for part in command) and str(blog) in command:
                found.append(proc)
    return found


@pytest.mark.slow
def test_a_site_build_that_renders_nothing_ends_its_worker_before_it_ends(tmp_path: Path) -> None:
    """The render is readied as `--site` starts, before the build knows whether it will render:
    a build that renders nothing (its site current, or its command line wrong) leaves no worker
    behind, not even one still importing MkDocs."""
    blog = _blog(tmp_path / "blog")
    first = build_cli(blog, "--site")
    assert "rendered into" in first.stdout, first.stdout + first.stderr
    again = build_cli(blog, "--site")
    assert "is current" in again.stdout, again.stdout + again.stderr
    assert _workers_of(blog) == [], "a worker outlived a build that rendered nothing"
    wrong = build_cli(blog, "--site", "no-such-post")
    assert wrong.returncode == 2 and "no-such-post" in wrong.stderr, wrong.stderr
    assert _workers_of(blog) == [], "a worker outlived a build that stopped"


def test_what_the_worker_imports_is_read_as_the_build_starts(tmp_path: Path) -> None:
    """A cell may rewrite mkdocs.yml while the build runs (the build puts it back afterwards):
    what the render worker imports was read from it before, as `--site` started the worker."""
    from nbpress.publishing.renderers import _Worker

    blog = copy_skeleton(tmp_path / "blog")
    marker = tmp_path / "imported"
    (blog / "tampered").mkdir()  # importable from the blog's root, where the worker runs
    (blog / "tampered" / "ext.py").write_text(f"open({str(marker)!r}, 'w').close()\n", encoding="utf-8")
    worker = _Worker.start(blog)
    _append(blog / "mkdocs.yml", "\nmarkdown_extensions:\n  - tampered.ext\n")  # the last key wins
    assert worker.proc.stdin is not None
    worker.proc.stdin.close()  # no go: the worker preloads, then ends
    assert worker.proc.wait(timeout=HANG) == 0, worker.proc.communicate()
    assert not marker.exists(), "the worker imported what mkdocs.yml named after it started"


SLEEPS = "open('first.running', 'w').close()\nimport time; time.sleep(120)"


@pytest.mark.slow
@pytest.mark.parametrize("stop", ["ctrl-c", "sigkill"])
def test_a_stopped_site_build_leaves_no_render_worker(tmp_path: Path, stop: str) -> None:
    """The worker readied beside the build ends with it: after Ctrl-C (the build says it was
    interrupted and closes it), and after SIGKILL (its parent-death signal)."""
    blog = _blog(tmp_path / "blog")
    write_post(blog, "first", "print('first output')", SLEEPS)
    with running(build_command(blog, "--site")) as proc:
        build = psutil.Process(proc.pid)
        workers = wait_until(lambda: _workers(build), "the render worker starting", running=proc)
        wait_until(lambda: (blog / "posts" / "first.running").exists(), "the cell running", running=proc)
        if stop == "ctrl-c":
            proc.send_signal(signal.SIGINT)
            _out, err = proc.communicate(timeout=HANG)
            assert proc.returncode == 130 and "interrupted:" in err and "Traceback" not in err, err
        else:
            proc.kill()
            proc.communicate()
        _gone, alive = psutil.wait_procs(workers, timeout=HANG)
        assert not alive, f"render workers left running: {[w.pid for w in alive]}"
    kill_orphan_kernels(blog)
