"""Issue 9, section 5: errors stay per post, and the blog's state mends itself.

A full disk is a real one for the build's process: RLIMIT_FSIZE makes the kernel refuse
any write past the limit (EFBIG), exactly where ENOSPC would strike.
"""

from __future__ import annotations

import json
import resource
import signal
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from nbpress.atomic import TMP_PREFIX
from nbpress.execution.store import Store, entry_digest
from tests.helpers import HANG, build_cli, copy_blog, copy_skeleton, published, write_post

LIMIT = 1_000_000  # bytes any one file of the build may grow to under `small_disk`

# A PNG of incompressible noise, far over LIMIT; built by hand so no image library is needed.
BIG_PNG = (
    "import os, struct, zlib\nfrom IPython.display import Image, display\n"
    "def chunk(kind, data):\n"
    "    return struct.pack('>I', len(data)) + kind + data + struct.pack('>I', zlib.crc32(kind + data))\n"
    "w = h = 700\n"
    "raw = b''.join(b'\\x00' + os.urandom(3 * w) for _ in range(h))\n"
    "png = (b'\\x89PNG\\r\\n\\x1a\\n' + chunk(b'IHDR', struct.pack('>IIBBBBB', w, h, 8, 2, 0, 0, 0))\n"
    "       + chunk(b'IDAT', zlib.compress(raw)) + chunk(b'IEND', b''))\n"
    "display(Image(data=png, format='png'))"
)
PLOT = (
    "import matplotlib\nmatplotlib.use('module://matplotlib_inline.backend_inline')\n"
    "import matplotlib.pyplot as plt\nplt.figure(figsize=(1, 1)); plt.plot([0, {v}]); plt.show()"
)


def small_disk() -> None:
    """Let no file the build writes grow past LIMIT; a write past it fails with EFBIG."""
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # fail the write, do not kill the process
    resource.setrlimit(resource.RLIMIT_FSIZE, (LIMIT, LIMIT))


def build_small_disk(blog: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return build_cli(blog, *args, preexec_fn=small_disk)


def error_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("error:")]


@pytest.mark.slow
def test_a_cache_that_cannot_be_written_fails_that_post_alone(
    blog: Path, add_post: Callable[..., Path]
) -> None:
    # 15 outputs of 90,000 characters: a cache entry over LIMIT, each output under the cap.
    add_post("huge", *[f"print('{c}' * 90_000)" for c in "abcdefghijklmno"])
    add_post("healthy", "print('still published')")
    done = build_small_disk(blog)
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr
    [line] = error_lines(done.stderr)
    assert line.startswith("error: posts/huge.ipynb: .nbpress-cache/")
    assert "the build cache could not be written (File too large)" in line
    assert "free some space" in line
    assert "still published" in (blog / "site_src" / "posts" / "healthy.md").read_text(encoding="utf-8")
    assert not (blog / "site_src" / "posts" / "huge.md").exists()
    assert not [p for p in (blog / ".nbpress-cache").iterdir() if p.name.startswith(TMP_PREFIX)]


# Cache entries of the wrong shape: each must be a miss with one warning naming it.
WRONG_SHAPES: list[object] = [
    "not a list",
    ["not a list of outputs"],
    [["a string where an output goes"]],
    [[{"output_type": "stream", "name": "stdout", "text": 42}]],
    [[{"output_type": "display_data", "data": {"text/plain": 3}, "metadata": {}}]],
    [[{"output_type": "nonsense"}]],
    [[{"output_type": "error", "ename": "E", "evalue": "v", "traceback": [1]}]],
]


class Reread:
    """A blog whose post `post-N` had its cache entry replaced by WRONG_SHAPES[N], built again."""

    def __init__(self, blog: Path, entries: dict[int, Path], done: subprocess.CompletedProcess[str]):
        self.blog = blog
        self.entries = entries
        self.done = done


@pytest.fixture(scope="module")
def reread(tmp_path_factory: pytest.TempPathFactory) -> Reread:
    """Return the blog of every wrong shape at once: one build, the entries replaced, one more.

    Each post prints its own text, so each has its own entry; a post's warning names its entry.
    """
    blog = copy_skeleton(tmp_path_factory.mktemp("wrong-shapes") / "blog")
    for n in range(len(WRONG_SHAPES)):
        write_post(blog, f"post-{n}", f"print('from the kernel', {n})")
    first = build_cli(blog)
    assert first.returncode == 0, first.stderr
    entries = {}
    for entry in (p for p in (blog / ".nbpress-cache").glob("*.json") if len(p.stem) == 64):
        [[output]] = json.loads(entry.read_text())["outputs"]
        entries[int(output["text"].split()[-1])] = entry
    assert sorted(entries) == list(range(len(WRONG_SHAPES)))
    for n, outputs in enumerate(WRONG_SHAPES):
        # Its digest matches: the shape alone makes it a miss.
        wrong: dict[str, object] = {"key": entries[n].stem, "outputs": outputs}
        entries[n].write_text(json.dumps({**wrong, "digest": entry_digest(wrong)}))
        (blog / "site_src" / "posts" / f"post-{n}.md").unlink()  # so the build needs the entry
    return Reread(blog, entries, build_cli(blog))


@pytest.mark.slow
@pytest.mark.parametrize("outputs", WRONG_SHAPES)
def test_a_cache_entry_of_the_wrong_shape_is_a_miss_with_one_warning(reread: Reread, outputs: object) -> None:
    n = WRONG_SHAPES.index(outputs)
    done, entry = reread.done, reread.entries[n]
    failed = [
        line for line in done.stderr.splitlines() if f"posts/post-{n}.ipynb" in line and "error" in line
    ]
    assert not failed and f"failed: posts/post-{n}.ipynb" not in done.stderr, done.stderr
    assert "Traceback" not in done.stderr
    [warning] = [
        line for line in done.stderr.splitlines() if line.startswith("warning:") and entry.name in line
    ]
    assert warning.startswith(f"warning: cache entry .nbpress-cache/{entry.name} is unreadable (")
    assert warning.endswith("the post will run again.") and "digest" not in warning, warning
    assert len([line for line in done.stderr.splitlines() if line.startswith("warning:")]) == len(
        WRONG_SHAPES
    )
    assert any(
        line.startswith("executed") and f"posts/post-{n}.ipynb" in line for line in done.stdout.splitlines()
    )
    assert json.loads(entry.read_text())["outputs"] == [
        [{"name": "stdout", "output_type": "stream", "text": f"from the kernel {n}\n"}]
    ]


def test_the_store_returns_its_warning_and_prints_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store = Store(tmp_path)
    (tmp_path / ("k" * 64 + ".json")).write_text(json.dumps({"key": "k" * 64, "outputs": [["x"]]}))
    outputs, warning = store.lookup("k" * 64)
    assert outputs is None and warning is not None and "code cell 1" in warning
    assert store.lookup("missing") == (None, None)
    assert capsys.readouterr() == ("", "")


@pytest.mark.slow
def test_a_failed_publish_leaves_the_old_version_whole(blog: Path, add_post: Callable[..., Path]) -> None:
    add_post("pics", PLOT.format(v=1), "print('old')")
    assert build_cli(blog).returncode == 0
    before = published(blog)
    # The new version changes the first figure and adds one too large for the disk. Its
    # outputs are cached first (no publishing), so only publishing meets the full disk.
    add_post("pics", PLOT.format(v=2), BIG_PNG)
    assert build_cli(blog, "--shard", "1/1").returncode == 0
    done = build_small_disk(blog)
    assert done.returncode == 1, done.stderr
    [line] = error_lines(done.stderr)
    assert line.startswith("error: posts/pics.ipynb: site_src/posts/pics.md could not be written (")
    assert "the last version stays published" in line
    # Old Markdown and old figures, byte for byte: no new picture under an old name.
    assert published(blog) == before
    leftovers = [*(blog / "site_src").rglob(".nbpress-*"), *(blog / "assets").rglob(".nbpress-*")]
    assert not leftovers
    # With room again, the next build publishes the new version.
    again = build_cli(blog)
    assert again.returncode == 0, again.stderr
    assert published(blog) != before


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Return a blog whose posts `edited` and `orphan` (one code, so one kernel) are published."""
    blog = copy_skeleton(tmp_path_factory.mktemp("generated") / "blog")
    for slug in ("edited", "orphan"):
        write_post(blog, slug, "print('generated')")
    assert build_cli(blog).returncode == 0
    return blog


@pytest.fixture
def generated_copy(generated: Path, tmp_path: Path) -> Path:
    """Return a copy of `generated` (its cache too) for one test to change."""
    return copy_blog(generated, tmp_path)


@pytest.mark.slow
def test_a_hand_edited_post_is_never_overwritten(generated_copy: Path) -> None:
    blog = generated_copy
    md = blog / "site_src" / "posts" / "edited.md"
    hand = md.read_text(encoding="utf-8").replace("generated", "fixed by hand")
    md.write_text(hand, encoding="utf-8")
    check = build_cli(blog, "--check")
    assert check.returncode == 1
    assert "edited   posts/edited.ipynb: site_src/posts/edited.md was edited by hand" in check.stderr
    # A prose edit re-renders the post: the build refuses, and keeps the hand edit.
    write_post(blog, "edited", "print('generated')", front="description: new prose\n")
    done = build_cli(blog)
    assert done.returncode == 1
    [line] = error_lines(done.stderr)
    assert "site_src/posts/edited.md was edited by hand" in line
    assert "move it into the source posts/edited.ipynb, or delete the file" in line
    assert md.read_text(encoding="utf-8") == hand
    md.unlink()
    assert build_cli(blog).returncode == 0
    assert "generated" in md.read_text(encoding="utf-8")
    assert build_cli(blog, "--check").returncode == 0


@pytest.mark.slow
def test_a_hand_edited_post_whose_source_is_gone_is_kept(generated_copy: Path) -> None:
    blog = generated_copy
    source = blog / "posts" / "orphan.ipynb"
    md = blog / "site_src" / "posts" / "orphan.md"
    md.write_text(md.read_text(encoding="utf-8") + "\nA paragraph added by hand.\n", encoding="utf-8")
    source.unlink()
    done = build_cli(blog)
    assert done.returncode == 1
    [line] = error_lines(done.stderr)
    assert line == (
        "error: site_src/posts/orphan.md: its source is gone, but it was edited by hand since the build "
        "wrote it, so nbpress keeps it; move the edit into a source in posts/, or delete the file."
    )
    assert "added by hand" in md.read_text(encoding="utf-8")


@pytest.mark.slow
def test_a_broken_authors_file_is_one_line_with_its_line(blog: Path, add_post: Callable[..., Path]) -> None:
    add_post("post", "1")
    authors = blog / "site_src" / ".authors.yml"
    authors.write_text("authors:\n  steve:\n    name: Steve\n    avatar: [unclosed\n", encoding="utf-8")
    done = build_cli(blog)
    assert done.returncode == 2
    [line] = done.stderr.splitlines()
    assert line.startswith("error: site_src/.authors.yml, line 4: ") and line.endswith("then build again.")
    authors.write_text("- just a list\n", encoding="utf-8")
    done = build_cli(blog)
    assert done.returncode == 2 and done.stderr.startswith("error: site_src/.authors.yml: expected a mapping")


@pytest.mark.parametrize("jobs", ["0", "-3"])
def test_no_kernels_at_once_is_refused(blog: Path, jobs: str) -> None:
    done = build_cli(blog, jobs=jobs, timeout=HANG)
    assert done.returncode == 2
    assert f"argument -j/--jobs: '{jobs}': run at least 1 kernel at once" in done.stderr
    assert not (blog / ".nbpress-cache").exists()
