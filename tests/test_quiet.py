"""Quiet re-execution: unchanged outputs keep their bytes, posts run again for what they use, and say why."""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from nbpress.check import find_stale
from nbpress.execution import environment, keys, store, volatile
from nbpress.pipeline import Options, PostResult, build
from tests.helpers import (
    FIXTURES,
    REPO,
    build_cli,
    copy_blog,
    copy_skeleton,
    published,
    without_execution_time,
    write_post,
)

# Every kind of volatile token a run prints, each printed anew by every execution.
NOISY = (
    "import os, tempfile, threading, time, datetime\n"
    "print(object())\n"
    "print(f'pid {os.getpid()}')\n"
    "now = datetime.datetime.now()\n"
    "print(f'{now:%Y-%m-%d %H:%M:%S,%f} INFO step done in {time.perf_counter() % 1:.3f} s')\n"
    "print(tempfile.mkdtemp())\n"
    "threading.current_thread()"
)
# The same pixels, written with metadata that changes every run (as matplotlib's Software
# chunk changes with its version).
FIGURE = (
    "import io, time\n"
    "import matplotlib\n"
    "matplotlib.use('Agg')\n"
    "import matplotlib.pyplot as plt\n"
    "from IPython.display import Image, display\n"
    "fig = plt.figure(figsize=(2, 1)); plt.plot([1, 3, 2])\n"
    "buf = io.BytesIO(); fig.savefig(buf, format='png', metadata={'Software': str(time.time())})\n"
    "display(Image(buf.getvalue()))"
)


def statuses(results: list[PostResult]) -> dict[str, str]:
    return {r.name: r.status for r in results}


def reasons(results: list[PostResult]) -> dict[str, str]:
    return {r.name: r.reason for r in results}


def run(root: Path, **kw: object) -> list[PostResult]:
    return build(Options(root=root, jobs=2, **kw))  # type: ignore[arg-type]


def set_pin(root: Path, name: str, spec: str) -> None:
    """Pin `name` as `spec` in the requirement file that pins it (requirements.txt includes the site's)."""
    for req in (root / "requirements.txt", root / "requirements-site.txt"):
        text, count = re.subn(rf"(?m)^{re.escape(name)}==[^\s;]+", f"{name}{spec}", req.read_text())
        if count:
            assert count == 1, f"{name} is pinned twice in {req.name}"
            req.write_text(text)
            return
    raise AssertionError(f"{name} is not pinned in requirements.txt or requirements-site.txt")


# ---- 1. Re-execution keeps what did not really change ------------------------------------


def test_volatile_tokens_of_the_real_posts_mask_equal() -> None:
    """Outputs of two real executions of the torch and tensorflow posts (collected once)."""
    pairs = json.loads((FIXTURES / "volatile_real_outputs.json").read_text(encoding="utf-8"))
    assert {p["output"] for p in pairs} == {"execute_result", "stream:stderr", "stream:stdout"}
    for pair in pairs:
        old = {"output_type": "stream", "name": "stdout", "text": pair["first_run"]}
        new = {**old, "text": pair["second_run"]}
        assert old != new and volatile.same_output(old, new), pair["output"]


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("4/4 ━━━━ 0s 6ms/step - loss: 801.9482", "4/4 ━━━━ 0s 6ms/step - loss: 801.9483"),
        ("Weights: [[0.6098]]", "Weights: [[0.6099]]"),
        (
            "I0000 00:00:17.5  27 port.cc:153] oneDNN is on.",
            "I0000 00:00:17.5  27 port.cc:153] oneDNN is off.",
        ),
        ("<Generator at 0x7f01>", "<Sampler at 0x7f01>"),
        ("0xff", "0xfe"),
        ("2024-06-18 10:00:00 value 1", "2024-06-18 10:00:00 value 2"),
    ],
)
def test_a_real_change_is_not_volatile(old: str, new: str) -> None:
    assert volatile.mask(old) != volatile.mask(new)


@pytest.mark.slow
def test_unchanged_code_run_again_leaves_the_post_byte_identical(
    blog: Path, add_post: Callable[..., Path]
) -> None:
    add_post("noisy", NOISY, FIGURE, "print(7 * 6)")
    assert statuses(run(blog)) == {"posts/noisy.ipynb": "executed"}
    first = published(blog)
    md = "site_src/posts/noisy.md"
    first_md = first.pop(md).decode()
    assert re.search(r"object at 0x[0-9a-f]+", first_md)
    assert statuses(run(blog, force=True)) == {"posts/noisy.ipynb": "executed"}
    again = published(blog)
    assert without_execution_time(again.pop(md).decode()) == without_execution_time(first_md)
    assert again == first  # the figure too: same pixels, the first run's bytes
    assert any(name.endswith(".png") for name in first)

    # A real change in one cell shows; the other cells keep the first run's bytes.
    add_post("noisy", NOISY, FIGURE, "print(7 * 7)")
    [result] = run(blog)
    assert (result.status, result.reason) == ("executed", "code cell 4")
    text = (blog / md).read_text()
    assert "\n49\n" in text and "\n42\n" not in text
    address = re.search(r"object at 0x[0-9a-f]+", first_md)
    assert address is not None and address.group() in text


@pytest.mark.slow
def test_a_fresh_clone_run_again_keeps_the_committed_bytes(blog: Path, add_post: Callable[..., Path]) -> None:
    # A fresh clone has the committed posts and downloads but no cache: a forced run still
    # keeps the bytes of outputs that differ only in volatile tokens (the published download
    # holds the previous run's outputs).
    add_post("noisy", NOISY, "print(7 * 6)")
    assert statuses(run(blog)) == {"posts/noisy.ipynb": "executed"}
    md = blog / "site_src" / "posts" / "noisy.md"
    first = md.read_text(encoding="utf-8")
    assert re.search(r"object at 0x[0-9a-f]+", first)
    shutil.rmtree(blog / ".nbpress-cache")
    assert statuses(run(blog, force=True)) == {"posts/noisy.ipynb": "executed"}
    assert without_execution_time(md.read_text(encoding="utf-8")) == without_execution_time(first)


# ---- 2. A post re-executes for what it uses ----------------------------------------------


@pytest.fixture(scope="module")
def three_built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A blog whose posts import PyYAML, jinja2, and nothing but declares PyYAML and reads data.csv, built."""
    blog = copy_skeleton(tmp_path_factory.mktemp("three") / "blog")
    (blog / "posts" / "data.csv").write_text("1,2\n")
    write_post(blog, "uses-yaml", "import yaml\nprint(yaml.safe_dump([1]))")
    write_post(blog, "uses-jinja", "import jinja2\nprint(jinja2.Template('{{ 6 * 7 }}').render())")
    front = "depends: [PyYAML]\ninputs: [data.csv]\n"
    write_post(blog, "declares", "print(open('data.csv').read())", front=front)
    assert set(statuses(run(blog)).values()) == {"executed"}
    return blog


@pytest.fixture
def three(three_built: Path, tmp_path: Path) -> Path:
    """Return a copy of `three_built` (its cache too) for one test to change."""
    return copy_blog(three_built, tmp_path)


@pytest.mark.slow
def test_an_unrelated_requirement_executes_nothing(three: Path) -> None:
    with (three / "requirements.txt").open("a") as handle:
        handle.write("plotly==6.0.0\n# a comment\n")
    assert set(statuses(run(three)).values()) == {"unchanged"}
    assert find_stale(three) == (3, [])


@pytest.mark.slow
def test_a_pin_makes_stale_only_the_posts_that_use_it(three: Path) -> None:
    set_pin(three, "PyYAML", "==6.0.4")
    current, findings = find_stale(three)
    assert current == 1
    assert {(f.name, f.problem, f.reason) for f in findings} == {
        (f"posts/{slug}.ipynb", "stale", "pyyaml pin ==6.0.3 -> ==6.0.4: the post runs again")
        for slug in ("uses-yaml", "declares")
    }
    results = run(three)
    assert statuses(results) == {
        "posts/uses-yaml.ipynb": "executed",
        "posts/declares.ipynb": "executed",  # through its depends: list
        "posts/uses-jinja.ipynb": "unchanged",
    }
    assert reasons(results)["posts/uses-yaml.ipynb"] == "pyyaml pin ==6.0.3 -> ==6.0.4"
    proc = build_cli(three)
    assert proc.returncode == 0 and "3 posts: 3 unchanged; cache: 5 entries" in proc.stdout


@pytest.mark.slow
def test_a_declared_input_is_named(three: Path) -> None:
    (three / "posts" / "data.csv").write_text("3,4\n")
    [finding] = find_stale(three)[1]
    assert finding.reason == "input data.csv: the post runs again"
    proc = build_cli(three)
    assert re.search(r"executed .* posts/declares.ipynb \(input data.csv\)", proc.stdout), proc.stdout
    assert [line.split()[0] for line in proc.stdout.splitlines()].count("unchanged") == 2


@pytest.mark.slow
def test_an_installed_version_is_named(three: Path) -> None:
    """The key holds the installed version of each imported distribution beside its pin."""
    from nbpress.sources.posts import read_post

    post = read_post(three / "posts" / "uses-yaml.ipynb", three)
    env = environment.environment_fingerprint(three)
    parts = keys.key_parts(post, three / "posts", env)
    assert parts["installed"] == {"pyyaml": env.installed("pyyaml")} and parts["pins"] == {
        "pyyaml": "==6.0.3"
    }
    older: keys.KeyParts = {**parts, "installed": {"pyyaml": "6.0.2"}}
    assert keys.explain(older, parts, post) == f"pyyaml 6.0.2 -> {env.installed('pyyaml')}"
    assert keys.digest_parts(older) != keys.digest_parts(parts)


@pytest.mark.slow
def test_prune_cache_keeps_what_current_posts_use(three: Path) -> None:
    write_post(three, "uses-jinja", "import jinja2\nprint(jinja2.__name__)")
    assert statuses(run(three))["posts/uses-jinja.ipynb"] == "executed"
    (three / "posts" / "uses-yaml.ipynb").unlink()
    assert statuses(run(three))["site_src/posts/uses-yaml.md"] == "removed"
    entries = store.Store(three / store.CACHE_DIR_NAME)
    assert len(entries.keys()) == 4
    proc = build_cli(three, "--prune-cache")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("removed 2 cache entries no post uses; cache: 2 entries, ")
    kept = {r["nbpress"]["exec_key"] for r in map(front_matter, (three / "site_src" / "posts").glob("*.md"))}
    assert entries.keys() == kept
    assert set(statuses(run(three)).values()) == {"unchanged"}


def front_matter(path: Path) -> dict[str, Any]:
    import yaml

    data = yaml.safe_load(path.read_text().split("\n---\n", 1)[0].removeprefix("---\n"))
    assert isinstance(data, dict)
    return data


# ---- the real posts ---------------------------------------------------------------------


@pytest.mark.slow
def test_two_forced_builds_of_the_real_posts_differ_only_in_provenance(
    real_copy: Path,
) -> None:
    """torch and tensorflow print addresses, log timestamps, thread ids and step timings every run."""
    blog = real_copy
    before = published(blog)
    results = build(Options(root=blog, force=True, jobs=2))
    assert {r.name: r.status for r in results} == {
        f"posts/{nb.name}": "executed" for nb in (REPO / "posts").glob("*.ipynb")
    }, [str(r.error) for r in results]
    after = published(blog)
    for name in [n for n in before if n.endswith(".md")]:
        old, new = before.pop(name).decode(), after.pop(name).decode()
        assert old != new, "the provenance line records the new run"
        assert without_execution_time(new) == without_execution_time(old), name
    assert after == before  # every figure byte-identical


@pytest.mark.slow
def test_the_tensorflow_pin_makes_only_the_tensorflow_post_stale(real_copy: Path) -> None:
    blog = real_copy
    assert find_stale(blog) == (2, [])
    set_pin(blog, "tensorflow-cpu", "==2.21.1")  # its marker (Linux only) stays
    current, findings = find_stale(blog)
    assert current == 1
    assert [(f.name, f.reason) for f in findings] == [
        ("posts/SLR_NN.ipynb", "tensorflow-cpu pin ==2.21.0 -> ==2.21.1: the post runs again")
    ]
