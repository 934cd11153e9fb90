"""What a build costs when little changed (issue 25): each page read once, nothing written twice.

- YAML is read by libyaml where it reads as PyYAML's own loader does, and by that loader where
  the two part ways, so values and errors are the same either way (nbpress.yamlload).
- A generated page is parsed once per file state (nbpress.record.read).
- The execution report shows the build's own decisions (nbpress.report.rows).
- A build that changed nothing writes nothing under site_src/ or assets/.
- The kernel's environment is probed once, and again whenever its sys.path folders change
  (nbpress.execution.provenance).
- A watch's rebuild of one post parses, decides and looks up what changed, not every post
  (nbpress.filestate, the report's reused rows, the watcher's table).
"""

from __future__ import annotations

import json
import os
import sys
import venv
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from nbpress import yamlload
from nbpress.execution import provenance
from nbpress.layout import Layout
from nbpress.pipeline import Options, build
from nbpress.record import read
from nbpress.report import page, rows
from tests.helpers import REPO, build_cli

# -- YAML: libyaml where it agrees, the pure loader's values and errors everywhere


def _front_matters() -> list[tuple[str, str]]:
    """Return (file, YAML text) of every front matter and YAML file the repository holds."""
    found: list[tuple[str, str]] = []
    for base in ("posts", "site_src", "tests"):
        for path in sorted((REPO / base).rglob("*")):
            if not path.is_file() or path.stat().st_size > 2_000_000 or "__pycache__" in path.parts:
                continue
            try:
                text = path.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError):
                continue
            name = path.relative_to(REPO).as_posix()
            if path.suffix == ".ipynb":
                try:
                    cells = json.loads(text).get("cells", [])
                except (ValueError, AttributeError):
                    continue
                for cell in cells if isinstance(cells, list) else []:
                    source = cell.get("source", "") if isinstance(cell, dict) else ""
                    source = "".join(source) if isinstance(source, list) else str(source)
                    if source.lstrip().startswith("---"):
                        found.append((name, source.strip().removeprefix("---").split("\n---")[0]))
            elif path.suffix in (".yml", ".yaml"):
                found.append((name, text))
            elif text.startswith("---\n") and (end := text.find("\n---\n", 4)) > 0:
                found.append((name, text[4:end]))
    return found


def _outcome(load: Callable[[str], object], text: str) -> tuple[str, object]:
    try:
        return "value", repr(load(text))
    except yaml.YAMLError as err:
        return "error", (type(err).__name__, yamlload.error_line(err), yamlload.error_problem(err))
    except Exception as err:  # a bad date, a recursion: raised alike by both
        return "raised", type(err).__name__


def _pure_safe(text: str) -> object:
    return yaml.load(text, Loader=yamlload.NoAliasLoader)


def _pure_text(text: str) -> object:
    return yaml.load(text, Loader=yamlload._Loader)


def test_every_front_matter_of_the_repository_reads_the_same_with_libyaml() -> None:
    texts = _front_matters()
    assert len(texts) > 50
    by_c = [name for name, text in texts if yamlload._read_by_c(text)]
    # The generated pages (the bulk of a build's reads) go through libyaml.
    assert {"site_src/posts/SLR_NN.md", "site_src/posts/Linear_Regression_SciPy_vs_Torch.md"} <= set(by_c)
    assert len(by_c) > len(texts) // 2
    for name, text in texts:
        assert _outcome(yamlload.safe_load, text) == _outcome(_pure_safe, text), name
        assert _outcome(yamlload.load_yaml, text) == _outcome(_pure_text, text), name


@pytest.mark.parametrize(
    "text",
    [
        "tags: [plots?, demo]",  # libyaml takes `plots?`; PyYAML's scanner refuses it
        "slug: same\turl",  # a tab inside a plain value: libyaml takes it
        "title: a\ndate: 2024-5\t-01",
        "title: x\n\ufeffdate: 2024-05-01",  # a BOM inside: PyYAML takes it, libyaml does not
        "title: lone \ud800 surrogate",  # libyaml cannot even be given it
        "base: &b {x: 1}\nother: *b",  # anchors and aliases: refused
        "title: [" * 150 + "]" * 150,  # nested too deep: refused before reading
        "date: 2024-13-45",  # a date that is none: ValueError from both
    ],
)
def test_where_libyaml_and_pyyaml_part_ways_the_pure_loader_decides(text: str) -> None:
    assert _outcome(yamlload.safe_load, text) == _outcome(_pure_safe, text)
    assert _outcome(yamlload.load_yaml, text) == _outcome(_pure_text, text)


def test_block_nesting_libyaml_would_crash_on_is_left_to_the_pure_loader() -> None:
    # libyaml composes recursively in C: tens of thousands of levels overflow the C stack (a
    # segmentation fault). Such text never reaches it; PyYAML stops with a RecursionError.
    text = "- " * 50_000 + "x"
    assert not yamlload._read_by_c(text)
    with pytest.raises(RecursionError):
        yamlload.safe_load(text)


# -- Each generated page is parsed once per file state


def test_a_generated_page_is_parsed_once_per_file_state(tmp_path: Path) -> None:
    page_path = tmp_path / "p.md"
    page_path.write_text("---\ntitle: t\nnbpress:\n  source: posts/p.ipynb\n  exec_key: aaaa\n---\nbody\n")
    first = read(page_path)
    assert first is not None and first.exec_key == "aaaa"
    assert read(page_path) is first  # not parsed again
    # The same size, written again (in place: the same file): a new state, read again.
    page_path.write_text("---\ntitle: t\nnbpress:\n  source: posts/p.ipynb\n  exec_key: bbbb\n---\nbody\n")
    second = read(page_path)
    assert second is not None and second.exec_key == "bbbb"
    # Replaced by another file (as the build writes), its times set back: still read again.
    stat = page_path.stat()
    other = tmp_path / "new.md"
    other.write_text("---\ntitle: t\nnbpress:\n  source: posts/p.ipynb\n  exec_key: cccc\n---\nbody\n")
    os.utime(other, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    other.replace(page_path)
    third = read(page_path)
    assert third is not None and third.exec_key == "cccc"
    page_path.unlink()
    assert read(page_path) is None


# -- A build that changed nothing: the report from its decisions, no file written


@pytest.fixture
def built(blog: Path, add_post: Callable[..., Path]) -> Path:
    """Return a blog of two posts, parts of one series, built once."""
    add_post("one", "print(1)", front="series: Trio\n")
    add_post("two", "import matplotlib.pyplot as plt\nplt.plot([1, 2])\nplt.show()", front="series: Trio\n")
    result = build_cli(blog)
    assert result.returncode == 0, result.stdout + result.stderr
    return blog


def _mtimes(blog: Path) -> dict[str, int]:
    return {
        path.relative_to(blog).as_posix(): path.lstat().st_mtime_ns
        for top in ("site_src", "assets")
        for path in sorted((blog / top).rglob("*"))
        if not path.is_dir() or path.is_symlink()
    }


@pytest.mark.slow
def test_a_build_that_changed_nothing_writes_no_file(built: Path) -> None:
    before = _mtimes(built)
    assert {"site_src/execution/index.md", "site_src/series/trio.md", "site_src/posts/two.md"} <= set(before)
    assert any(name.startswith("assets/images/two/") for name in before)
    again = build_cli(built)
    assert again.returncode == 0 and "2 unchanged" in again.stdout, again.stdout + again.stderr
    assert _mtimes(built) == before


@pytest.mark.slow
def test_the_report_shows_the_builds_own_decisions(built: Path) -> None:
    written = (built / "site_src" / "execution" / "index.md").read_text(encoding="utf-8")
    assert page(rows(built)) == written  # decided afresh: the same page
    results = build(Options(root=built))
    assert set(results.keys) == {"posts/one.ipynb", "posts/two.ipynb"}
    # The report shows the build's decisions and reads no source again: one that cannot be read
    # now still shows what the build decided.
    (built / "posts" / "one.ipynb").write_text("not a notebook")
    reused = rows(built, results.keys, results.context)
    assert (reused[0].source, reused[0].status, reused[0].cache) == ("posts/one.ipynb", "ok", "cached")
    assert page(reused) == written
    assert rows(built)[0].status == "unreadable"


# -- The kernel's environment: probed once, and again when its folders change


def _site_packages(env: Path) -> Path:
    return next((env / "lib").glob("python3*/site-packages"))


def _install(site_packages: Path, name: str, version: str) -> None:
    """Lay out the metadata an installed distribution leaves (what pip writes, without pip)."""
    info = site_packages / f"{name}-{version}.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")
    (info / "top_level.txt").write_text(f"{name}\n")
    (site_packages / f"{name}.py").write_text("")


def test_the_environment_is_probed_once_and_again_when_its_folders_change(tmp_path: Path) -> None:
    venv.create(tmp_path / "env", with_pip=False)
    python = str(tmp_path / "env" / "bin" / "python")
    site_packages = _site_packages(tmp_path / "env")
    cache = tmp_path / "cache"
    saved = cache / provenance.VERSIONS_FILE
    version = ".".join(map(str, sys.version_info[:3]))
    assert provenance.package_versions({"fakepkg"}, python, cache) == (version, {})
    written = saved.stat().st_mtime_ns
    # Asked again, by this process or a new one: the answer kept, nothing probed or written.
    assert provenance.package_versions({"fakepkg"}, python, cache) == (version, {})
    provenance._PROBED.clear()  # as a new build process starts
    assert provenance.package_versions({"fakepkg"}, python, cache) == (version, {})
    assert saved.stat().st_mtime_ns == written
    # An install changes site-packages: the next question probes again and sees it.
    _install(site_packages, "fakepkg", "1.0")
    assert provenance.package_versions({"fakepkg"}, python, cache) == (version, {"fakepkg": "1.0"})
    # Nothing installed, only the folder's state moved: probed again all the same.
    probed = json.loads(saved.read_text())[python]["state"]
    stat = site_packages.stat()
    os.utime(site_packages, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    provenance._PROBED.clear()
    assert provenance.package_versions({"fakepkg"}, python, cache) == (version, {"fakepkg": "1.0"})
    assert json.loads(saved.read_text())[python]["state"] != probed


@pytest.mark.slow  # 2.1 s on an idle machine (a build that runs a kernel)
def test_the_build_probes_before_any_kernel_runs(blog: Path, add_post: Callable[..., Path]) -> None:
    # Written while kernels run, the answer would be a change a post's code made to the cache.
    add_post("p", "import yaml\nprint(yaml.__version__)")
    result = build_cli(blog)
    assert result.returncode == 0, result.stdout + result.stderr
    answers = json.loads((Layout(blog).cache / provenance.VERSIONS_FILE).read_text())
    assert provenance.kernel_python("python3") in answers
    markdown = (blog / "site_src" / "posts" / "p.md").read_text(encoding="utf-8")
    assert f"PyYAML {yaml.__version__}" in markdown


def test_a_source_is_parsed_once_per_content_and_an_edit_is_always_seen(tmp_path: Path) -> None:
    """The plan, the series index and the report read the sources again: one parse per content."""
    from nbpress.sources.posts import read_post
    from tests.skeleton import copy_skeleton

    blog = copy_skeleton(tmp_path / "blog")
    source = blog / "posts" / "p.md"
    source.write_text("---\ntitle: One\ndate: 2024-01-01\n---\n\nText.\n", encoding="utf-8")
    first = read_post(source, blog)
    assert read_post(source, blog) is first
    # Same size, same modification time: only the content tells the edit apart.
    state = source.stat()
    source.write_text("---\ntitle: Two\ndate: 2024-01-01\n---\n\nText.\n", encoding="utf-8")
    os.utime(source, ns=(state.st_atime_ns, state.st_mtime_ns))
    assert read_post(source, blog).front_matter.title == "Two"


# -- A watch's rebuild of one post costs what changed, not what the blog holds


def _note(blog: Path, i: int, extra: str = "") -> Path:
    path = blog / "posts" / f"note-{i:02d}.md"
    path.write_text(
        f"---\ntitle: Note {i}\ndate: 2024-01-{1 + i % 28:02d}\n{extra}---\n\nA short note, number {i}.\n",
        encoding="utf-8",
    )
    return path


@pytest.mark.slow
def test_a_one_post_rebuild_parses_and_decides_only_what_changed(
    blog: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A watch's rebuild of one post of 40: one source parsed, one post decided, one row derived.

    Counted (never timed): the parses and reads of nbpress.filestate's caches, plan.decide's
    calls, and the watcher's table entries found again. Before, the report alone decided all 40.
    """
    import time

    from nbpress import pipeline, report, watch
    from nbpress.execution import store
    from nbpress.filestate import SETTLED_NS
    from nbpress.record import PAGES
    from nbpress.sources.formats import TEXT_POSTS
    from nbpress.sources.posts import SOURCES

    count = 40
    for i in range(count):
        extra = "series: Pair\n" if i < 2 else ""  # a series: its parts are rebuilt together
        _note(blog, i, extra)
        if i == 2:
            # The notes' code (none) is the same: one kernel fills the cache, not 40 (a build
            # runs each post its plan finds missing, even when another has the same key).
            build(Options(root=blog, slugs=("note-02",), jobs=1))
    (blog / "posts" / "note-03.md").write_text(
        _note(blog, 3).read_text(encoding="utf-8") + "\nSee [note 4](note-04.md).\n", encoding="utf-8"
    )

    def rebuild(slugs: tuple[str, ...] = ()) -> pipeline.Results:
        return build(Options(root=blog, slugs=slugs, jobs=1), then=lambda done: report.record(blog, done))

    time.sleep(SETTLED_NS / 1e9 + 0.2)  # the sources have settled when the first build reads them
    first = rebuild()  # the watch's first build: every post
    assert len(first) == count and all(r.status is not pipeline.Status.FAILED for r in first)
    table = watch.inputs_by_path(blog)
    assert table[(blog / "posts" / "note-04.md").resolve()] >= {"note-03"}
    time.sleep(SETTLED_NS / 1e9 + 0.2)  # what the build wrote has settled: known by its state alone

    decided: list[str] = []
    real_decide = pipeline.decide

    def counting(post: object, *args: object, **kwargs: object) -> object:
        decided.append(post.rel_path)  # type: ignore[attr-defined]
        return real_decide(post, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(pipeline, "decide", counting)
    monkeypatch.setattr(report, "decide", counting)
    caches = (SOURCES, PAGES, TEXT_POSTS, store._FIELDS)
    before = [(c.derivations, c.reads) for c in caches]
    found_before = dict(watch._FOUND)

    edited = _note(blog, 10, "tags: [edited]\n")
    posts_dir = (blog / "posts").resolve()
    slugs, full = watch.affected([("modified", posts_dir / edited.name)], posts_dir, table)
    assert (slugs, full) == ({"note-10"}, False)
    results = rebuild(tuple(slugs))
    table = watch.inputs_by_path(blog, slugs)

    assert [r.name for r in results] == ["posts/note-10.md"]
    assert [r.status for r in results] == [pipeline.Status.CACHED]
    assert decided == ["posts/note-10.md"]  # not the other 39 (the report used to decide them all)
    (sources, pages, text_posts, fields) = [
        (c.derivations - d, c.reads - r) for c, (d, r) in zip(caches, before, strict=True)
    ]
    # Parsed once each: the edited source, whether it is still a post, its page written back. A
    # file written in the last two seconds is read again when asked again (never parsed again),
    # so the reads are a few per changed file, whatever the blog holds.
    assert sources[0] == 1 and text_posts[0] == 1 and pages[0] <= 1
    assert max(sources[1], text_posts[1], pages[1]) <= 5
    # No cache entry parsed (the rows' entry is known by its state); the one the 40 notes share,
    # written during the first build, read once more now that it has settled.
    assert fields[0] == 0 and fields[1] <= 1
    found_again = [p for p, known in watch._FOUND.items() if found_before.get(p) != known]
    assert found_again == [edited]  # the watcher's table: the edited post's files found again
    assert table[(blog / "posts" / "note-04.md").resolve()] >= {"note-03"}

    # The report is what deciding every post afresh shows (the rows of the other 39 reused).
    written = (blog / "site_src" / "execution" / "index.md").read_text(encoding="utf-8")
    assert written == page(rows(blog))
    assert written.count("<td>ok</td>") == count

    # A part of a series brings its sibling; both decided, nothing else.
    decided.clear()
    _note(blog, 0, "series: Pair\ntags: [edited]\n")
    results = rebuild(("note-00",))
    assert sorted(r.name for r in results) == ["posts/note-00.md", "posts/note-01.md"]
    assert sorted(decided) == ["posts/note-00.md", "posts/note-01.md"]
