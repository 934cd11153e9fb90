"""Code run by a post stays inside its post (issue 20, part 5).

Cells run with the author's rights, so nothing stops them from writing anywhere; what the
build guarantees is that it never publishes what a cell did behind its back. Real builds
with real kernels: a cell that writes into the published tree, the site's code or the
cache, or deletes or rewrites another post's files, fails its post with one line naming
the post and the file, exit 1, and the published tree is as before. A daemon a cell starts
(a new session, a double fork) ends with its post; a SIGKILLed `--watch` leaves no kernel.
"""

from __future__ import annotations

import contextlib
import json
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import psutil
import pytest

from tests.helpers import HANG, build_cli, build_command, copy_blog, copy_skeleton, write_post

# Every test runs real builds with hostile kernels, some wait for daemons: the slow tier.
pytestmark = pytest.mark.slow

# What a build publishes or runs: compared whole before and after a hostile post's build.
WATCHED = ("site_src", "assets", "hooks", "overrides", "mkdocs.yml")


def tree(blog: Path) -> dict[str, bytes | str]:
    """Return {path: bytes, or a link's target} of everything the site is built from (the report aside)."""
    found: dict[str, bytes | str] = {}
    for name in WATCHED:
        top = blog / name
        for path in [top, *top.rglob("*")] if top.is_dir() and not top.is_symlink() else [top]:
            rel = path.relative_to(blog).as_posix()
            if rel.startswith("site_src/execution"):
                continue  # the execution report, rewritten by every build
            if path.is_symlink():
                found[rel] = str(path.readlink())
            elif path.is_file():
                found[rel] = path.read_bytes()
            elif path.is_dir():
                found[rel] = "<dir>"
    return found


def errors(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("error: ")]


@pytest.fixture(scope="module")
def published_blog(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Return a blog whose post `victim` (a figure, a download, a declared input) is published."""
    blog = copy_skeleton(tmp_path_factory.mktemp("isolation") / "blog")
    (blog / "posts" / "data.csv").write_text("a,b\n1,2\n")
    write_post(
        blog,
        "victim",
        "import matplotlib.pyplot as plt; plt.plot([1, 2]); plt.show()",
        "print(open('data.csv').read())",
        front="inputs: [data.csv]\n",
    )
    done = build_cli(blog)
    assert done.returncode == 0, done.stderr
    return blog


@pytest.fixture
def victim(published_blog: Path, tmp_path: Path) -> Path:
    """Return a copy of `published_blog` (its cache too) for one test to attack."""
    return copy_blog(published_blog, tmp_path)


def cache_entries(blog: Path) -> list[Path]:
    return [p for p in (blog / ".nbpress-cache").glob("*.json") if len(p.stem) == 64]


# (cell run by the hostile post, with posts/ as its working directory; a path its error names)
ATTACKS = {
    "page": (
        "open('../site_src/posts/evil.md', 'w').write('---\\ntitle: evil\\n---\\nhi')",
        "created site_src/posts/evil.md (moved to .nbpress-cache/quarantine/)",
    ),
    "svg-in-images": (
        "open('../assets/images/evil.svg', 'w').write('<svg xmlns=\"http://www.w3.org/2000/svg\"/>')",
        "created assets/images/evil.svg (moved to .nbpress-cache/quarantine/)",
    ),
    "svg-in-another-posts-folder": (
        "open('../assets/images/victim/extra.svg', 'w').write('<svg/>')",
        "created assets/images/victim/extra.svg (moved to .nbpress-cache/quarantine/)",
    ),
    "new-hook": (
        "open('../hooks/evil.py', 'w').write('import os')",
        "created hooks/evil.py (moved to .nbpress-cache/quarantine/)",
    ),
    "appended-hook": (
        "open('../hooks/reader.py', 'a').write('\\nimport os\\n')",
        "changed hooks/reader.py (restored)",
    ),
    "override-written": (
        "import os; os.makedirs('../overrides/partials', exist_ok=True); "
        "open('../overrides/partials/evil.html', 'w').write('<script></script>')",
        "created overrides/partials/evil.html (moved to .nbpress-cache/quarantine/)",
    ),
    "override-appended": (
        "open('../overrides/main.html', 'a').write('<script></script>')",
        "changed overrides/main.html (restored)",
    ),
    "mkdocs-yml": (
        "open('../mkdocs.yml', 'a').write('\\nhooks: [hooks/evil.py]\\n')",
        "changed mkdocs.yml (restored)",
    ),
    "mkdocs-yml-deleted": ("import os; os.remove('../mkdocs.yml')", "deleted mkdocs.yml (restored)"),
    "markdown-deleted": (
        "import os; os.remove('../site_src/posts/victim.md')",
        "deleted site_src/posts/victim.md (restored from the cache)",
    ),
    "markdown-rewritten": (
        "p = '../site_src/posts/victim.md'; open(p, 'w').write(open(p).read().replace('1,2', 'forged'))",
        "changed site_src/posts/victim.md (restored from the cache)",
    ),
    "figure-edited": (
        "open('../assets/images/victim/output_1_0.png', 'ab').write(b'forged')",
        "changed assets/images/victim/output_1_0.png (restored from the cache)",
    ),
    "download-deleted": (
        "import os; os.remove('../assets/notebooks/victim/data.csv')",
        "deleted assets/notebooks/victim/data.csv (restored from the cache)",
    ),
    "figures-folder-deleted": (
        "import shutil; shutil.rmtree('../assets/images/victim')",
        "deleted assets/images/victim",
    ),
    "symlink-to-a-secret": (
        "import os; os.symlink('/etc/hostname', '../site_src/secret.txt')",
        "created site_src/secret.txt (moved to .nbpress-cache/quarantine/)",
    ),
    "site-page-edited": (
        "open('../site_src/about.md', 'a').write('<script></script>')",
        "changed site_src/about.md (restored)",
    ),
    "pycache-planted": (
        "import os; os.makedirs('../hooks/__pycache__', exist_ok=True); "
        "open('../hooks/__pycache__/reader.cpython-311.pyc', 'wb').write(b'forged')",
        None,
    ),
}


@dataclass
class Attacked:
    """One build of the published blog beside a hostile post per attack, one post at a time."""

    blog: Path
    before: dict[str, bytes | str]  # the guarded tree before the build
    done: subprocess.CompletedProcess[str]
    check: subprocess.CompletedProcess[str]  # `--check` after it


@pytest.fixture(scope="module")
def attacked(published_blog: Path, tmp_path_factory: pytest.TempPathFactory) -> Attacked:
    """Return the published blog after one build of a post per attack (`hostile-<attack>`).

    One kernel at a time (-j 1): the guard compares the tree after each post and undoes what it
    finds, so every post's verdict names that post's writes alone, as a build of it alone would.
    """
    blog = copy_blog(published_blog, tmp_path_factory.mktemp("attacked"))
    before = tree(blog)
    for attack, (cell, _phrase) in ATTACKS.items():
        write_post(blog, f"hostile-{attack}", cell)
    done = build_cli(blog, jobs=1)
    return Attacked(blog, before, done, build_cli(blog, "--check"))


@pytest.mark.parametrize("attack", sorted(ATTACKS))
def test_a_cell_that_writes_outside_posts_fails_its_post_and_changes_nothing(
    attacked: Attacked, attack: str
) -> None:
    blog, done, slug = attacked.blog, attacked.done, f"hostile-{attack}"
    _cell, phrase = ATTACKS[attack]
    mine = [line for line in errors(done.stderr) if line.startswith(f"error: posts/{slug}.ipynb:")]
    if phrase is None:  # a __pycache__ file is only removed: Python writes it again
        assert mine == [], done.stderr
        assert (blog / "site_src" / "posts" / f"{slug}.md").is_file()
        assert not (blog / "hooks" / "__pycache__").exists()
        return
    kind, path = phrase.split()[:2]
    # What this attack wrote is as before (test_the_attacks_leave_the_tree_as_it_was: all of it).
    assert under(tree(blog), path) == under(attacked.before, path)
    assert done.returncode == 1, done.stderr
    [line] = mine
    assert line.startswith(f"error: posts/{slug}.ipynb: a cell changed files outside posts/"), line
    assert phrase in line, line
    assert "unchanged           posts/victim.ipynb" in done.stdout
    if (phrase.endswith("(restored)") and kind == "changed") or kind == "created":
        # What the cell wrote is kept aside, not published: an author's edit made meanwhile is not lost.
        assert (blog / ".nbpress-cache" / "quarantine" / path).exists()
    assert not (blog / "site_src" / "posts" / f"{slug}.md").exists()
    # The next build runs the hostile post again (it was never cached) and the victim is current.
    assert f"posts/{slug}.ipynb" in attacked.check.stdout + attacked.check.stderr
    assert "victim" not in attacked.check.stdout + attacked.check.stderr


def under(found: dict[str, bytes | str], path: str) -> dict[str, bytes | str]:
    """Return the entries of `found` at `path` or under it."""
    return {k: v for k, v in found.items() if k == path or k.startswith(f"{path}/")}


def test_the_attacks_leave_the_tree_as_it_was(attacked: Attacked) -> None:
    # All but the files of the one attack that publishes its post (pycache-planted).
    kept = {k: v for k, v in tree(attacked.blog).items() if "hostile-pycache-planted" not in k}
    assert kept == attacked.before


def test_only_the_hostile_posts_fail(attacked: Attacked) -> None:
    failed = {line.split(":")[1].strip() for line in errors(attacked.done.stderr)}
    assert failed == {f"posts/hostile-{a}.ipynb" for a, (_c, phrase) in ATTACKS.items() if phrase}


# A process a cell leaves behind writes this long after it started: after the build ended.
LATE = 8.0

DOUBLE_FORK = """
import os, time
pid = os.fork()
if pid == 0:
    os.setsid()
    if os.fork() == 0:
        open({pidfile!r}, 'w').write(str(os.getpid()))
        time.sleep({late})
        open({target!r}, 'w').write('written by a daemon after the build')
        os._exit(0)
    os._exit(0)
os.waitpid(pid, 0)
time.sleep(0.5)
"""

NEW_SESSION = """
import subprocess, sys
code = "import os, time; time.sleep({late}); open({target!r}, 'w').write('written late')"
child = subprocess.Popen([sys.executable, '-c', code], start_new_session=True, env={{}})
open({pidfile!r}, 'w').write(str(child.pid))
"""


def wait_gone(pid: int, seconds: float) -> bool:
    """Return True once `pid` is gone (or a zombie) within `seconds`."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        try:
            if psutil.Process(pid).status() == psutil.STATUS_ZOMBIE:
                return True
        except psutil.NoSuchProcess:
            return True
        time.sleep(0.1)
    return False


class Daemons:
    """One build of posts whose cells start daemons, beside a post that runs on after them."""

    def __init__(self, blog: Path, pids: Path, done: subprocess.CompletedProcess[str]) -> None:
        self.blog = blog
        self.pids = pids  # daemon.<post>.pid: what each post's daemon wrote when it started
        self.done = done
        self.target = blog / "site_src" / "posts" / "late.md"  # a page, had a daemon lived


# post -> (its cell, seconds until its daemon would write): the long post runs on after the others.
DAEMONS = {
    "double-fork": (DOUBLE_FORK, LATE),
    "new-session-no-env": (NEW_SESSION, LATE),
    "early": (DOUBLE_FORK, LATE),
}

# The long post runs until the early post's daemon is gone, or has written its page (then this post
# fails: the page appeared while it ran), however long the machine takes.
UNTIL_GONE = """
import os, time
def alive(pid):
    try:
        return open(f'/proc/{{pid}}/stat').read().rsplit(')', 1)[1].split()[0] != 'Z'
    except OSError:
        return False
pid = 0
while not pid:
    time.sleep(0.05)
    if os.path.exists({pidfile!r}):
        pid = int(open({pidfile!r}).read() or 0)
while alive(pid) and not os.path.exists({target!r}):
    time.sleep(0.05)
"""


@pytest.fixture(scope="module")
def daemons(tmp_path_factory: pytest.TempPathFactory) -> Daemons:
    """Return the blog after one build of every daemon post and a long post, all at once (-j 4)."""
    folder = tmp_path_factory.mktemp("daemons")
    blog = copy_skeleton(folder / "blog")
    target = blog / "site_src" / "posts" / "late.md"
    for name, (cell, late) in DAEMONS.items():
        pidfile = folder / f"daemon.{name}.pid"
        write_post(
            blog,
            f"daemon-{name}",
            cell.format(target=str(target), pidfile=str(pidfile), late=late),
            "print('done')",
        )
    early = folder / "daemon.early.pid"
    write_post(blog, "long", UNTIL_GONE.format(pidfile=str(early), target=str(target)), "print('long')")
    return Daemons(blog, folder, build_cli(blog, jobs=len(DAEMONS) + 1))


@pytest.mark.parametrize("name", ["double-fork", "new-session-no-env"])
def test_a_daemon_a_cell_starts_ends_with_its_post(daemons: Daemons, name: str) -> None:
    assert daemons.done.returncode == 0, daemons.done.stderr
    pid = int((daemons.pids / f"daemon.{name}.pid").read_text())
    assert wait_gone(pid, 2), f"the daemon {pid} outlived the build"
    # Gone, it can write nothing more: no need to sleep until it would have written.
    assert not daemons.target.exists(), "a daemon wrote a page after the build ended"
    assert (daemons.blog / "site_src" / "posts" / f"daemon-{name}.md").is_file()


# Runs a command under a subreaper, as a desktop session (systemd --user) or a container's
# init does: an orphan is then not reparented to PID 1, so a kernel watching for that (as
# ipykernel does) never notices that its build is gone.
UNDER_SUBREAPER = """
import ctypes, subprocess, sys
ctypes.CDLL(None).prctl(36, 1, 0, 0, 0)
proc = subprocess.Popen(sys.argv[1:])
print(proc.pid, flush=True)
sys.stdin.read()
"""


def test_a_sigkilled_watch_leaves_no_kernel_and_no_daemon(blog: Path, tmp_path: Path) -> None:
    target = blog / "site_src" / "posts" / "late.md"
    pidfile = tmp_path / "daemon.pid"
    daemon = DOUBLE_FORK.format(target=str(target), pidfile=str(pidfile), late=LATE)
    write_post(blog, "slow", daemon, "import time; time.sleep(600)", front="timeout: 900\n")
    session = subprocess.Popen(
        [sys.executable, "-c", UNDER_SUBREAPER, *build_command(blog, "--watch", jobs=1)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert session.stdout is not None
    try:
        build = psutil.Process(int(session.stdout.readline()))
        end = time.monotonic() + HANG
        kernels: list[psutil.Process] = []
        while time.monotonic() < end and not (kernels and pidfile.exists()):
            kernels = [c for c in build.children() if "ipykernel" in " ".join(c.cmdline())]
            time.sleep(0.2)
        assert kernels and pidfile.exists(), "the build never started its kernel and the daemon"
        time.sleep(0.2)
        pid = int(pidfile.read_text())
        build.send_signal(signal.SIGKILL)
        # Within 5 s, as ipykernel's own poller would have acted had its parent become PID 1.
        gone = [wait_gone(k.pid, 5) for k in kernels]
        alive = [k.pid for k, dead in zip(kernels, gone, strict=True) if not dead]
        assert not alive, f"kernels survived the SIGKILL: {alive}"
        assert wait_gone(pid, 5), f"the daemon {pid} survived the SIGKILL"
        # Gone, it can write nothing more: no need to sleep until it would have written.
        assert not target.exists(), "a daemon wrote a page after the build was killed"
    finally:
        # The session may be gone already (a zombie): the assertion above, if any, is what failed.
        with contextlib.suppress(psutil.Error):
            for proc in psutil.Process(session.pid).children(recursive=True):
                proc.kill()
        session.communicate("", timeout=HANG)


FORGE_ENTRY = """
import glob, hashlib, json
for path in glob.glob('../.nbpress-cache/*.json'):
    entry = json.load(open(path))
    if 'outputs' not in entry:
        continue
    forged = {'output_type': 'stream', 'name': 'stdout', 'text': 'FORGED'}
    entry['outputs'] = [[forged] for _ in entry['outputs']]
    body = {k: v for k, v in entry.items() if k != 'digest'}
    entry['digest'] = 'sha256:' + hashlib.sha256(
        json.dumps(body, ensure_ascii=False, sort_keys=True).encode()).hexdigest()
    open(path, 'w').write(json.dumps(entry))
"""


def test_a_cache_entry_a_cell_rewrites_is_never_used(victim: Path) -> None:
    [entry] = cache_entries(victim)
    write_post(victim, "hostile", FORGE_ENTRY)
    done = build_cli(victim)
    assert done.returncode == 1
    [line] = errors(done.stderr)
    assert line.startswith("error: posts/hostile.ipynb: a cell changed files outside posts/"), line
    assert f"changed the cache file .nbpress-cache/{entry.name} (removed: a cache miss)" in line
    assert not entry.exists()
    # The victim needs its outputs again (a prose edit): it runs, and shows what it printed.
    (victim / "posts" / "hostile.ipynb").unlink()
    write_post(
        victim,
        "victim",
        "import matplotlib.pyplot as plt; plt.plot([1, 2]); plt.show()",
        "print(open('data.csv').read())",
        front="inputs: [data.csv]\ndescription: edited prose\n",
    )
    again = build_cli(victim)
    assert again.returncode == 0, again.stderr
    assert "executed" in again.stdout and "posts/victim.ipynb" in again.stdout
    markdown = (victim / "site_src" / "posts" / "victim.md").read_text()
    assert "FORGED" not in markdown and "1,2" in markdown


def test_a_cache_entry_changed_between_builds_is_a_miss_naming_the_post(victim: Path) -> None:
    [entry] = cache_entries(victim)
    data = json.loads(entry.read_text())
    data["outputs"] = [
        [{"output_type": "stream", "name": "stdout", "text": "FORGED"}] for _ in data["outputs"]
    ]
    entry.write_text(json.dumps(data))  # its digest no longer matches
    (victim / "site_src" / "posts" / "victim.md").unlink()  # so the build needs the entry
    done = build_cli(victim)
    assert done.returncode == 0, done.stderr
    [warning] = [line for line in done.stderr.splitlines() if line.startswith("warning:")]
    assert warning.startswith(f"warning: cache entry .nbpress-cache/{entry.name} is unreadable (its content ")
    assert "posts/victim.ipynb" in warning
    assert "executed" in done.stdout
    assert "FORGED" not in (victim / "site_src" / "posts" / "victim.md").read_text()


# The writer writes once the post beside it runs; that post runs until the write was undone.
AFTER_BESIDE_STARTED = "import os, time\nwhile not os.path.exists('beside.started'): time.sleep(0.05)"
UNTIL_UNDONE = """
import os, time
open('beside.started', 'w').close()
page, end = '../site_src/posts/evil.md', time.monotonic() + 300
while not os.path.exists(page) and time.monotonic() < end: time.sleep(0.05)
while os.path.exists(page) and time.monotonic() < end: time.sleep(0.05)
"""


def test_a_post_running_beside_the_writer_fails_too_naming_both(victim: Path) -> None:
    write_post(victim, "hostile", AFTER_BESIDE_STARTED, ATTACKS["page"][0])
    write_post(victim, "beside", UNTIL_UNDONE, "print('innocent')")
    before = tree(victim)
    done = build_cli(victim, jobs=2)
    assert done.returncode == 1
    lines = sorted(errors(done.stderr))
    assert len(lines) == 2, done.stderr
    assert lines[0].startswith(
        "error: posts/beside.ipynb: a cell of this post or of posts/hostile.ipynb"
    ) or lines[0].startswith("error: posts/beside.ipynb: a cell changed"), lines
    assert (
        "created site_src/posts/evil.md (moved to .nbpress-cache/quarantine/)" in lines[0]
        and "created site_src/posts/evil.md" in lines[1]
    )
    assert tree(victim) == before


def test_a_daemon_ends_with_its_post_while_other_posts_still_run(daemons: Daemons) -> None:
    # Had the early daemon lived until the long post ended, its page would fail that post.
    assert daemons.done.returncode == 0, daemons.done.stderr
    assert wait_gone(int((daemons.pids / "daemon.early.pid").read_text()), 2)
    assert not daemons.target.exists()
    assert sorted(p.name for p in (daemons.blog / "site_src" / "posts").iterdir()) == sorted(
        [*(f"daemon-{name}.md" for name in DAEMONS), "long.md"]
    )


@pytest.mark.parametrize(
    "where", ["assets/images/victim/evil.svg", "assets/notebooks/victim/extra/evil.html"]
)
def test_a_file_no_record_explains_in_a_posts_folder_is_refused(victim: Path, where: str) -> None:
    # Put there outside any build (a build would have moved it aside at once).
    planted = victim / where
    planted.parent.mkdir(parents=True, exist_ok=True)
    planted.write_text("<svg/>")
    done = build_cli(victim)
    assert done.returncode == 1
    [line] = errors(done.stderr)
    assert line == (
        f"error: posts/victim.ipynb: {where} lies among the post's published files, but its record does "
        "not list it: nbpress did not write it, and publishes nothing it cannot explain; move it out of "
        "the folder, then build again."
    )
    assert planted.read_text() == "<svg/>"  # the author's, maybe: refused, never deleted
    planted.unlink()
    assert build_cli(victim).returncode == 0


def test_a_damaged_post_without_cached_outputs_is_withdrawn_whole_then_rebuilt(victim: Path) -> None:
    for entry in cache_entries(victim):
        entry.unlink()  # a fresh clone: the published posts, no cache
    write_post(victim, "hostile", ATTACKS["figure-edited"][0])
    done = build_cli(victim)
    assert done.returncode == 1
    [line] = errors(done.stderr)
    assert line.startswith("error: posts/hostile.ipynb: a cell changed files outside posts/"), line
    assert "changed assets/images/victim/output_1_0.png (withdrawn: build it again to publish it)" in line
    # Nothing of the victim is left half-forged: its Markdown, figures and downloads are gone together.
    assert not (victim / "site_src" / "posts" / "victim.md").exists()
    assert not (victim / "assets" / "images" / "victim").exists()
    assert not (victim / "assets" / "notebooks" / "victim").exists()
    (victim / "posts" / "hostile.ipynb").unlink()
    again = build_cli(victim)
    assert again.returncode == 0, again.stderr
    assert (
        "executed" in again.stdout and (victim / "assets" / "images" / "victim" / "output_1_0.png").is_file()
    )
