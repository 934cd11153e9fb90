"""Cache hits and misses for each part of the key; parallel equals serial; shards partition."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from nbpress.execution.executor import shard_of
from nbpress.pipeline import Options, build
from tests.helpers import HANG, build_cli, build_command, copy_skeleton, without_execution_time, write_post

FIGURE = (
    "import numpy as np, matplotlib.pyplot as plt\n"
    "np.random.seed({seed})\n"
    "plt.plot(np.random.rand(5)); plt.show()"
)
RANDOM = "import random; random.random()"  # a fresh execution prints a new number


def statuses(root: Path, **kw: object) -> dict[str, str]:
    options = {"jobs": 2, **kw}
    return {r.name: r.status for r in build(Options(root=root, **options))}  # type: ignore[arg-type]


def markdown(root: Path, slug: str) -> str:
    return (root / "site_src" / "posts" / f"{slug}.md").read_text(encoding="utf-8")


def snapshot(root: Path) -> dict[str, bytes]:
    """Return {relative path: bytes} of everything the build publishes, execution times masked
    (two executions differ only in when they ran)."""
    files = [*(root / "site_src" / "posts").rglob("*"), *(root / "assets" / "images").rglob("*")]
    return {
        p.relative_to(root).as_posix(): (
            without_execution_time(p.read_text(encoding="utf-8")).encode()
            if p.suffix == ".md"
            else p.read_bytes()
        )
        for p in sorted(files)
        if p.is_file()
    }


def set_markdown_cell(path: Path, text: str) -> None:
    import nbformat

    nb = nbformat.read(path, as_version=4)
    nb.cells.insert(1, nbformat.v4.new_markdown_cell(text, id="prose"))
    nbformat.write(nb, path)


@pytest.fixture(scope="module")
def built_once(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A blog with one post holding a random number, built once for the module's tests."""
    blog = copy_skeleton(tmp_path_factory.mktemp("cache") / "blog")
    write_post(blog, "post", RANDOM, front="inputs: [data.csv]\n")
    (blog / "posts" / "data.csv").write_text("1,2\n")
    assert statuses(blog) == {"posts/post.ipynb": "executed"}
    return blog


@pytest.fixture
def built(built_once: Path, blog: Path) -> Path:
    """A copy of `built_once` where `blog` (and so add_post) is: a test may change it."""
    shutil.rmtree(blog)
    return Path(shutil.copytree(built_once, blog, symlinks=True))


@pytest.mark.slow
def test_unchanged_post_is_left_alone(built: Path) -> None:
    before = snapshot(built)
    assert statuses(built) == {"posts/post.ipynb": "unchanged"}
    assert snapshot(built) == before


def test_prose_edit_rerenders_from_the_cache(built: Path) -> None:
    # The result as printed: random.random() can print 7.3e-05 as well as 0.73 (a 1-in-13,700 case
    # that once failed a run when this read the digits after "0.").
    found = re.search(r"\.nbpress-result\}\n(.+)\n", markdown(built, "post"))
    assert found is not None
    number = found.group(1)
    set_markdown_cell(built / "posts" / "post.ipynb", "Some new prose.")
    assert statuses(built) == {"posts/post.ipynb": "cached"}
    text = markdown(built, "post")
    assert "Some new prose." in text and number in text  # same outputs: no kernel ran


def test_fresh_clone_with_current_posts_executes_nothing(built: Path) -> None:
    shutil.rmtree(built / ".nbpress-cache")
    assert statuses(built) == {"posts/post.ipynb": "unchanged"}


@pytest.mark.slow
@pytest.mark.parametrize(
    "change",
    ["code", "tag", "requirements", "input"],
)
def test_what_decides_outputs_is_a_miss(built: Path, add_post: Callable[..., Path], change: str) -> None:
    if change == "code":
        add_post("post", RANDOM + "  # edited", front="inputs: [data.csv]\n")
    elif change == "tag":
        add_post("post", RANDOM, front="inputs: [data.csv]\n", tags={0: ["hide-input"]})
    elif change == "requirements":
        # The post's own import: a pin only it uses (tests/test_quiet.py: unrelated pins change nothing).
        add_post("post", "import yaml\n" + RANDOM, front="inputs: [data.csv]\n")
        assert statuses(built) == {"posts/post.ipynb": "executed"}
        # Pinned in requirements-site.txt, which requirements.txt includes.
        text = (built / "requirements-site.txt").read_text().replace("PyYAML==6.0.3", "PyYAML==6.0.4")
        (built / "requirements-site.txt").write_text(text)
    else:
        (built / "posts" / "data.csv").write_text("3,4\n")
    assert statuses(built) == {"posts/post.ipynb": "executed"}


@pytest.mark.slow
def test_force_executes_again(built: Path) -> None:
    assert statuses(built, force=True) == {"posts/post.ipynb": "executed"}


@pytest.mark.slow
def test_corrupt_cache_entry_is_a_miss_with_a_warning(built: Path) -> None:
    [entry] = [p for p in (built / ".nbpress-cache").glob("*.json") if len(p.stem) == 64]
    entry.write_text("{not json")
    set_markdown_cell(built / "posts" / "post.ipynb", "prose")
    [result] = build(Options(root=built, jobs=2))
    assert result.status == "executed"
    assert [w for w in result.warnings if w.startswith(f"cache entry .nbpress-cache/{entry.name}")]
    assert json.loads(entry.read_text())["key"] == entry.stem  # rewritten whole


def test_missing_declared_input_names_the_file(built: Path) -> None:
    (built / "posts" / "data.csv").unlink()
    [result] = build(Options(root=built, jobs=1))
    assert result.status == "failed"
    assert "posts/post.ipynb: declared input 'data.csv' does not exist" in str(result.error)


@pytest.fixture(scope="module")
def four_posts(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Return a folder holding `sources` (four posts with a figure each, never built), `serial`
    (built one post at a time) and `parallel` (built two at once)."""
    folder = tmp_path_factory.mktemp("four-posts")
    sources = copy_skeleton(folder / "sources")
    for i in range(4):
        write_post(sources, f"p{i}", FIGURE.format(seed=i), f"print({i} * 'x')")
    for name, jobs in (("serial", 1), ("parallel", 2)):
        shutil.copytree(sources, folder / name)
        assert set(statuses(folder / name, jobs=jobs).values()) == {"executed"}
    return folder


@pytest.mark.slow
def test_parallel_build_equals_serial_build(four_posts: Path) -> None:
    assert snapshot(four_posts / "parallel") == snapshot(four_posts / "serial")
    assert len([n for n in snapshot(four_posts / "parallel") if n.endswith(".png")]) == 4


# Appends its kernel's PID to runs.txt (in posts/, the kernels' folder): one line per run.
RUN_ONCE = (
    "import os\nwith open('runs.txt', 'a') as f: f.write(f'{os.getpid()}\\n')\nprint('pid', os.getpid())"
)
# Fails in the first kernel that runs it and passes in the next (it leaves tried.txt behind).
FAILS_FIRST = (
    "import pathlib\nfirst = not pathlib.Path('tried.txt').exists()\npathlib.Path('tried.txt').touch()\n"
    "assert not first, 'the first run fails'"
)


@pytest.mark.slow
def test_posts_with_the_same_code_run_one_kernel_and_render_from_its_entry(blog: Path) -> None:
    for slug in ("a", "b", "c"):
        write_post(blog, slug, RUN_ONCE)
    write_post(blog, "d", RUN_ONCE + "\nprint('other code')")
    results = {r.name: r for r in build(Options(root=blog, jobs=2))}
    assert len((blog / "posts" / "runs.txt").read_text().split()) == 2  # a kernel per code, not per post
    same = [results[f"posts/{s}.ipynb"] for s in "abc"]
    assert sorted(r.status for r in same) == ["cached", "cached", "executed"]
    first = next(r.name for r in same if r.status == "executed")
    assert all(r.reason == f"its code ran once this build, for {first}" for r in same if r.status == "cached")
    assert results["posts/d.ipynb"].status == "executed"
    runs = (blog / "posts" / "runs.txt").read_text().split()
    shown = {s: re.findall(r"pid (\d+)", markdown(blog, s)) for s in "abc"}
    assert all(pids == [shown["a"][0]] for pids in shown.values()), shown  # the same run's output
    assert shown["a"][0] in runs


@pytest.mark.slow
def test_posts_whose_shared_run_failed_run_themselves(blog: Path) -> None:
    for slug in ("a", "b", "c"):
        write_post(blog, slug, FAILS_FIRST)
    results = build(Options(root=blog, jobs=2))
    # The first run fails that post alone; the others run after it, one of them for both.
    assert sorted(r.status for r in results) == ["cached", "executed", "failed"]


def test_shards_partition_the_posts() -> None:
    slugs = [f"post-{i}" for i in range(200)]
    for n in (1, 2, 3, 5):
        groups = [{s for s in slugs if shard_of(s, n) == k} for k in range(n)]
        assert set().union(*groups) == set(slugs)
        assert sum(len(g) for g in groups) == len(slugs)
        if n > 1:
            assert all(groups), "every shard gets some posts"


@pytest.mark.slow
def test_sharded_execution_then_merge_equals_a_full_build(four_posts: Path, tmp_path: Path) -> None:
    blog = Path(shutil.copytree(four_posts / "sources", tmp_path / "blog"))
    full = four_posts / "parallel"  # the same posts, built whole
    merged = blog / ".nbpress-cache"
    for k in (1, 2):
        runner = tmp_path / f"runner{k}"
        shutil.copytree(blog, runner)
        ran = statuses(runner, shard=(k, 2))
        assert set(ran.values()) <= {"executed"}
        assert not (runner / "site_src" / "posts").exists() or not list(
            (runner / "site_src" / "posts").glob("p*.md")
        )
        shutil.copytree(runner / ".nbpress-cache", merged, dirs_exist_ok=True)
    assert set(statuses(blog).values()) == {"cached"}
    assert snapshot(blog) == snapshot(full)


@pytest.mark.slow
def test_help_and_no_op_build_import_no_heavy_modules(built: Path) -> None:
    probe = (  # prints as the process exits (build.py ends with os._exit, after atexit)
        "import atexit, runpy, sys\n"
        f"sys.argv = {build_command(built, jobs=None)[1:]!r}\n"
        "heavy = lambda: [m for m in ('torch', 'tensorflow', 'nbconvert', 'nbclient') if m in sys.modules]\n"
        "atexit.register(lambda: print('HEAVY', heavy()))\n"
        "runpy.run_path(sys.argv[0], run_name='__main__')\n"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=HANG)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "unchanged" in out.stdout and "HEAVY []" in out.stdout, out.stdout + out.stderr
    helped = build_cli(built, "--help", jobs=None, python=("-X", "importtime"))
    assert helped.returncode == 0 and "--shard" in helped.stdout
    assert "nbpress" not in helped.stderr and "nbformat" not in helped.stderr
