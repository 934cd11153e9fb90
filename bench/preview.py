"""Measure the live preview: from a save to the served page showing the edit, and the site rebuilds per save.

    python bench/preview.py                       # 300 posts, `build.py --serve`, 5 rounds
    python bench/preview.py --posts 1000 --rounds 5
    python bench/preview.py --modes serve,mkdocs-dirty,zensical   # candidates, interleaved

Generates a blog of N posts: N - 1 small Markdown posts (prose, a heading, a code block; no
kernel, so the first build is quick) and one notebook post from bench/bench.py's cells (numpy,
a matplotlib figure), which every round edits. Builds it once, then per mode starts the preview,
waits until it serves the post, and per round saves a prose edit (a new sentence in a Markdown
cell) and a code edit (a new printed value), polling the post's URL over HTTP until the page
shows it. Modes run interleaved (mode A round 1, mode B round 1, ...), each with its own
preview process started fresh for every round, on the same blog.

Modes:
  serve          python build.py --serve (whatever the code does now)
  serve-zensical python build.py --serve --renderer zensical
  serve-mkdocs   python build.py --serve --renderer mkdocs (MkDocs' server, partial renders)
  mkdocs         python build.py --watch + `mkdocs serve` beside it (the preview before issue 25)
  mkdocs-dirty   python build.py --watch + `mkdocs serve --dirty`
  zensical       python build.py --watch + `zensical serve`

`--build-only` times the watcher's rebuild alone, without a server: `build.py --watch -j 1` of
this tree (and, with `--against OLD_CHECKOUT`, of another checkout of nbpress, on its own copy
of the blog, interleaved: this, other, this, ...), from the save to the build's summary line,
for a prose and a code edit per round; it prints min and median per tree and the ratios
other / this, and each watcher's peak memory (its own resident size, kernels excluded).

Site rebuilds per save are counted from the server's log, by the line each rebuild prints
("Building documentation" for MkDocs, "No issues found" for Zensical), from the save until
3 s after the page showed the edit.
Kernel time: what the watcher's build says the code edit's execution took ("executed N s").
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))  # for tests.skeleton and bench.bench

from bench.bench import CODE  # noqa: E402
from nbpress.layout import Layout  # noqa: E402
from tests.skeleton import copy_skeleton  # noqa: E402

EDITED = "edited"  # the notebook post every round edits
# What a site rebuild prints, per server (one line per rebuild).
REBUILD_LINES = re.compile(r"Building documentation|No issues found|^rendered \d+ page", re.M)
# The build's line for the executed post: its kernel's time (start and cells).
KERNEL = re.compile(rf"executed\s+([\d.]+) s\s+posts/{EDITED}\.ipynb")
# The pages that list the edited post with its excerpt: the blog's index, its category, its archive.
LISTINGS = ("/", "/category/numpy/", "/archive/2024/")
SUMMARY = re.compile(r"\d+ posts?: ")
TOPICS = ("numpy", "plotting", "statistics", "notes", "tooling")


def write_note(root: Path, i: int) -> None:
    """Write the small Markdown post number `i` (no code: every note has the same execution key)."""
    topic = TOPICS[i % len(TOPICS)]
    (Layout(root).sources / f"note-{i:04d}.md").write_text(
        f"---\ntitle: Note {i}\ndate: 2023-{1 + i % 12:02d}-{1 + i % 28:02d}\n"
        f"categories: [{topic}]\ntags: [{topic}, t{i % 7}]\n---\n\n"
        f"A short note, number {i}, about {topic}.\n\n## Details\n\n"
        + "Some prose that a reader reads, with *emphasis* and `code`. " * 8
        + f"\n\n```text\nhello {i}\n```\n",
        encoding="utf-8",
    )


def make_blog(root: Path, count: int) -> Path:
    """Return a new blog at `root` with `count` posts, built: Markdown notes and the notebook post EDITED.

    The first note and EDITED are built first; the other notes then share the first one's cache
    entry (no code, same key), so their build starts no kernel.
    """
    import nbformat
    from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_raw_cell

    copy_skeleton(root)
    nb = new_notebook(metadata={"kernelspec": {"name": "python3", "display_name": "Python 3"}})
    nb.cells = [
        new_raw_cell("---\ntitle: The edited post\ndate: 2024-06-01\ncategories: [numpy]\n---"),
        new_markdown_cell("A small post that the benchmark edits."),
        *(new_code_cell(c.format(i=7)) for c in CODE),
        new_code_cell("print('value', 0)"),
    ]
    for n, cell in enumerate(nb.cells):
        cell["id"] = f"c{n}"
    nbformat.write(nb, Layout(root).sources / f"{EDITED}.ipynb")
    write_note(root, 0)
    build = [sys.executable, str(REPO / "build.py"), "--root", str(root)]
    subprocess.run(build, check=True, capture_output=True)
    for i in range(1, count - 1):
        write_note(root, i)
    subprocess.run(build, check=True, capture_output=True)
    return root


def save_edit(root: Path, marker: str, prose: bool) -> None:
    """Save the edited post with `marker` in its prose or in what its last code cell prints."""
    path = Layout(root).sources / f"{EDITED}.ipynb"
    nb = json.loads(path.read_text(encoding="utf-8"))
    if prose:
        nb["cells"][1]["source"] = f"A small post that the benchmark edits: {marker}."
    else:
        nb["cells"][-1]["source"] = f"print('value', {marker!r})"
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(nb, indent=1), encoding="utf-8")
    tmp.replace(path)  # as editors save: one change, never a half-written notebook


def fetch(url: str) -> str:
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            return str(response.read().decode("utf-8"))
    except OSError:
        return ""


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Preview:
    """One running preview of `mode` on `root`: its processes, its log, its URL."""

    def __init__(self, root: Path, mode: str) -> None:
        self.port = free_port()
        self.address = f"127.0.0.1:{self.port}"
        self.url = f"http://{self.address}/posts/{EDITED}/"
        self.log: list[tuple[float, str]] = []
        self.procs: list[subprocess.Popen[str]] = []
        build = [sys.executable, str(REPO / "build.py"), "--root", str(root), "-j", "1"]
        env = {**os.environ, "NO_MKDOCS_2_WARNING": "1", "PYTHONUNBUFFERED": "1"}
        if mode.startswith("serve"):
            extra = ["--renderer", mode.removeprefix("serve-")] if mode.startswith("serve-") else []
            self._start([*build, "--serve", "--dev-addr", self.address, *extra], root, env)
            return
        self._start([*build, "--watch"], root, env)
        py = sys.executable
        server = {
            "mkdocs": [py, "-m", "mkdocs", "serve", "--dev-addr", self.address],
            "mkdocs-dirty": [py, "-m", "mkdocs", "serve", "--dirty", "--dev-addr", self.address],
            "zensical": [py, "-m", "zensical", "serve", "--dev-addr", self.address],
        }[mode]
        self._start(server, root, env)

    def _start(self, command: list[str], root: Path, env: dict[str, str]) -> None:
        proc = subprocess.Popen(
            command, cwd=root, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        self.procs.append(proc)
        threading.Thread(target=self._read, args=(proc,), daemon=True).start()

    def _read(self, proc: subprocess.Popen[str]) -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            self.log.append((time.perf_counter(), line.rstrip()))

    def rebuilds(self, since: float, until: float) -> int:
        return sum(1 for t, line in list(self.log) if since <= t <= until and REBUILD_LINES.search(line))

    def wait_serving(self, marker: str, limit: float = 900) -> None:
        end = time.perf_counter() + limit
        while marker not in fetch(self.url):
            if time.perf_counter() > end or any(p.poll() is not None for p in self.procs):
                tail = "\n".join(line for _, line in self.log[-40:])
                raise SystemExit(f"the preview never served {marker!r}:\n{tail}")
            time.sleep(0.2)
        # Armed: the watcher and server have settled (their first build's writes seen).
        quiet_until = time.perf_counter() + 2.0
        while time.perf_counter() < quiet_until:
            if self.log and self.log[-1][0] > time.perf_counter() - 2.0:
                quiet_until = self.log[-1][0] + 2.0
            time.sleep(0.1)

    def stop(self) -> None:
        for proc in reversed(self.procs):
            if proc.poll() is None:
                proc.send_signal(2)  # SIGINT, as Ctrl-C
                try:
                    proc.wait(timeout=60)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()


def one_edit(preview: Preview, root: Path, marker: str, prose: bool) -> tuple[float, int, float, float]:
    """Return (seconds from the save to the page showing it, site rebuilds, kernel seconds, site seconds).

    Site seconds: from the end of the build (its summary line) to the page showing the edit.
    """
    saved = time.perf_counter()
    save_edit(root, marker, prose)
    while marker not in fetch(preview.url):
        if time.perf_counter() - saved > 300:
            raise SystemExit(f"{marker!r} never showed")
        time.sleep(0.02)
    seen = time.perf_counter() - saved
    time.sleep(3.0)  # a rebuild that follows the one that showed the edit still counts
    if prose:  # the listings that show the post's excerpt, once the preview has settled
        base = preview.url.split("/posts/")[0]
        stale = [page for page in LISTINGS if marker not in fetch(base + page)]
        if stale:
            print(f"  stale listings after the prose edit: {', '.join(stale)}", flush=True)
    log = [(t, line) for t, line in list(preview.log) if t >= saved]
    kernel = [float(m.group(1)) for _, line in log if (m := KERNEL.search(line))]
    # The build's last line ("1 posts: ..."): what follows it is the site's render and the reload.
    built = [t for t, line in log if SUMMARY.match(line) and t <= saved + seen]
    render = saved + seen - built[-1] if built else float("nan")
    print(f"  build done {seen - render:.2f} s after the save; shown {render:.2f} s after that", flush=True)
    return seen, preview.rebuilds(saved, time.perf_counter()), sum(kernel), render


class Watcher:
    """`build.py --watch -j 1` of the nbpress checkout `tree` on `root`, its log read as it comes."""

    def __init__(self, tree: Path, root: Path) -> None:
        self.log: list[tuple[float, str]] = []
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        command = [sys.executable, str(tree / "build.py"), "--root", str(root), "-j", "1", "--watch"]
        self.proc = subprocess.Popen(
            command, cwd=root, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.log.append((time.perf_counter(), line.rstrip()))

    def settle(self, seconds: float = 2.0, limit: float = 900) -> None:
        """Wait until the watch is armed and its log has been quiet for `seconds`."""
        end = time.perf_counter() + limit
        while not any("watching posts/" in line for _, line in list(self.log)):
            if self.proc.poll() is not None or time.perf_counter() > end:
                raise SystemExit("the watcher stopped:\n" + "\n".join(line for _, line in self.log[-30:]))
            time.sleep(0.1)
        while self.log and self.log[-1][0] > time.perf_counter() - seconds:
            time.sleep(0.1)
        time.sleep(seconds)  # its table of inputs is found again after the build's last line

    def rebuilt(self, saved: float, limit: float = 300) -> tuple[float, float]:
        """Return (seconds from `saved` to the build's summary line, the kernel's seconds in it)."""
        end = saved + limit
        while True:
            log = [(t, line) for t, line in list(self.log) if t >= saved]
            done = [t for t, line in log if SUMMARY.match(line)]
            if done:
                kernel = sum(float(m.group(1)) for _, line in log if (m := KERNEL.search(line)))
                return done[0] - saved, kernel
            if self.proc.poll() is not None or time.perf_counter() > end:
                raise SystemExit("no rebuild:\n" + "\n".join(line for _, line in self.log[-30:]))
            time.sleep(0.01)

    def peak_mb(self) -> int:
        """Return the watcher's peak resident size in MB (VmHWM; 0 where /proc does not say)."""
        try:
            status = Path(f"/proc/{self.proc.pid}/status").read_text()
        except OSError:
            return 0
        found = re.search(r"VmHWM:\s+(\d+) kB", status)
        return int(found.group(1)) // 1024 if found else 0

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(2)
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def build_only(root: Path, rounds: int, against: Path | None) -> None:
    """Time the watcher's rebuild after a prose and a code edit, interleaved with `against` (docstring)."""
    trees = {"this": REPO, **({"other": against.resolve()} if against else {})}
    copies = {name: root.parent / f"{root.name}-{name}" for name in trees}
    for name, tree in trees.items():
        if not copies[name].exists():
            shutil.copytree(root, copies[name], symlinks=True)
        # A renderer that differs renders every post once: done here, not in the first round.
        command = [sys.executable, str(tree / "build.py"), "--root", str(copies[name])]
        subprocess.run(command, capture_output=True)
    watchers = {name: Watcher(tree, copies[name]) for name, tree in trees.items()}
    times: dict[tuple[str, str], list[float]] = {}
    kernels: dict[str, list[float]] = {name: [] for name in trees}
    beyond: dict[str, list[float]] = {name: [] for name in trees}  # a code edit's build less its kernel
    loads = []
    try:
        for watcher in watchers.values():
            watcher.settle()
        for n in range(rounds):
            for name, watcher in watchers.items():
                for kind in ("prose", "code"):
                    marker = f"b{n}{name}{kind}{time.time_ns() % 10**9}"
                    saved = time.perf_counter()
                    save_edit(copies[name], marker, kind == "prose")
                    seconds, kernel = watcher.rebuilt(saved)
                    times.setdefault((name, kind), []).append(seconds)
                    if kind == "code":
                        kernels[name].append(kernel)
                        beyond[name].append(seconds - kernel)
                    loads.append(os.getloadavg()[0])
                    print(
                        f"round {n + 1} {name:<6} {kind:<5} build {seconds:6.2f} s  kernel {kernel:5.2f} s"
                        f"  load {loads[-1]:.1f}",
                        flush=True,
                    )
                    watcher.settle(1.0)
        peaks = {name: watcher.peak_mb() for name, watcher in watchers.items()}
    finally:
        for watcher in watchers.values():
            watcher.stop()
    print(f"\nload average (1 min) during the rounds: {min(loads):.1f}-{max(loads):.1f}")
    for kind in ("prose", "code"):
        for name in trees:
            found = times[(name, kind)]
            extra = ""
            if kind == "code":
                extra = (
                    f"  kernel median {statistics.median(kernels[name]):.2f} s, beyond it min "
                    f"{min(beyond[name]):.2f} s median {statistics.median(beyond[name]):.2f} s"
                )
            print(
                f"{kind:<6}{name:<6} build part: min {min(found):6.2f} s  median "
                f"{statistics.median(found):6.2f} s{extra}"
            )
        if against:
            ratio = statistics.median(times[("other", kind)]) / statistics.median(times[("this", kind)])
            print(f"{kind:<6}median ratio other / this: {ratio:.2f} x")
            if kind == "code":
                ratio = statistics.median(beyond["other"]) / statistics.median(beyond["this"])
                print(f"{kind:<6}median ratio other / this, beyond the kernel: {ratio:.2f} x")
    for name, peak in peaks.items():
        print(f"peak memory of the watcher ({name}): {peak} MB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--modes", default="serve", help="comma-separated (see the module's docstring)")
    parser.add_argument("--keep", type=Path, help="build the blog here and keep it (reused if present)")
    parser.add_argument("--build-only", action="store_true", help="time the watcher's rebuild alone")
    parser.add_argument("--against", type=Path, help="--build-only: another nbpress checkout, interleaved")
    args = parser.parse_args()
    modes = args.modes.split(",")
    tmp = tempfile.mkdtemp(prefix="nbpress-preview-")
    root = args.keep or Path(tmp) / "blog"
    try:
        start = time.perf_counter()
        if not (root / "mkdocs.yml").exists():
            make_blog(root, args.posts)
        print(f"{args.posts} posts; made and built in {time.perf_counter() - start:.1f} s", flush=True)
        if args.build_only:
            build_only(root, args.rounds, args.against)
            return
        results: dict[str, dict[str, list[tuple[float, int, float, float]]]] = {
            m: {"prose": [], "code": []} for m in modes
        }
        loads = []
        for n in range(args.rounds):
            for mode in modes:
                preview = Preview(root, mode)
                try:
                    preview.wait_serving("benchmark edits")
                    for kind in ("prose", "code"):
                        marker = f"m{n}{mode.replace('-', '')}{kind}{time.time_ns() % 10**9}"
                        seconds, rebuilds, kernel, site = one_edit(preview, root, marker, kind == "prose")
                        results[mode][kind].append((seconds, rebuilds, kernel, site))
                        print(
                            f"round {n + 1} {mode:<14} {kind:<5} {seconds:6.2f} s  {rebuilds} rebuild(s)"
                            f"  kernel {kernel:.2f} s  load {os.getloadavg()[0]:.1f}",
                            flush=True,
                        )
                finally:
                    preview.stop()
                loads.append(os.getloadavg()[0])
        print(f"\nload average (1 min) during the rounds: {min(loads):.1f}-{max(loads):.1f}")
        head = f"{'mode':<16}{'edit':<7}{'save to page: min':>18}{'median':>8}"
        print(f"{head}{'beyond kernel':>15}{'site part':>11}  rebuilds")
        for mode in modes:
            for kind in ("prose", "code"):
                rows = results[mode][kind]
                times = [r[0] for r in rows]
                beyond = statistics.median(r[0] - r[2] for r in rows)
                site = statistics.median(r[3] for r in rows)
                counts = "/".join(map(str, sorted({r[1] for r in rows})))
                print(
                    f"{mode:<16}{kind:<7}{min(times):17.2f}s{statistics.median(times):7.2f}s"
                    f"{beyond:14.2f}s{site:10.2f}s  {counts}"
                )
        print("(median beyond kernel: save to page less the kernel's time; site part: build end to page)")
    finally:
        if args.keep is None:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
