"""Benchmark nbpress against the plain `jupyter nbconvert --execute` loop, in one run.

    python bench/bench.py            # full run (about 10 minutes on 2 cores)
    python bench/bench.py --small    # 20 and 40 posts instead of 20 and 200, no real blog
    python bench/bench.py --requirements   # only: 200 posts, unrelated requirement vs no-op
    python bench/bench.py --latency 300    # only: no-op, prose and code edit rows at 300 posts
    python bench/bench.py --latency 300 --blog DIR --against OTHER_CHECKOUT --rounds 5

Prints wall times and the ratios the targets are stated in (README, bench/RESULTS.md).
Every build runs `build.py` as a separate process, as an author would.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))  # for tests.skeleton, shared with the test suite

from nbpress.layout import Layout  # noqa: E402
from tests.skeleton import copy_skeleton  # noqa: E402

CODE = [
    "import numpy as np\nimport matplotlib.pyplot as plt\nnp.random.seed({i})",
    "x = np.linspace(0, 10, 50)\ny = {i} * x + np.random.randn(50)\nprint(y[:3].round(2))",
    "plt.figure(figsize=(3, 2))\nplt.plot(x, y, 'o')\nplt.show()",
]
# Measures the build process alone: RUSAGE_SELF leaves out the kernels it starts. Printed as
# the process exits (build.py ends with os._exit, after atexit; an older tree with sys.exit).
MEMORY_PROBE = """
import atexit, resource, runpy, sys
sys.argv = ["build.py", *sys.argv[1:]]
atexit.register(lambda: print("PEAK_KB", resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, file=sys.stderr))
runpy.run_path({build!r}, run_name="__main__")
"""


def make_blog(root: Path, count: int) -> Path:
    """Return a new blog at `root` with `count` small numpy + matplotlib posts."""
    import nbformat
    from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_raw_cell

    copy_skeleton(root)
    for i in range(count):
        nb = new_notebook(metadata={"kernelspec": {"name": "python3", "display_name": "Python 3"}})
        nb.cells = [
            new_raw_cell(f"---\ntitle: Synthetic post {i}\ndate: 2024-01-{1 + i % 28:02d}\n---"),
            new_markdown_cell(f"A small post number {i}."),
            *(new_code_cell(c.format(i=i)) for c in CODE),
        ]
        for n, cell in enumerate(nb.cells):
            cell["id"] = f"c{n}"
        nbformat.write(nb, Layout(root).sources / f"post-{i:03d}.ipynb")
    return root


def timed(cmd: list[str], cwd: Path | None = None) -> tuple[float, subprocess.CompletedProcess[str]]:
    """Return (wall seconds, completed process) of a command; raise if it fails."""
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{proc.stdout}\n{proc.stderr}")
    return seconds, proc


def build(root: Path, *args: str, tree: Path = REPO) -> tuple[float, int]:
    """Return (wall seconds, peak RSS in MB of the build process) of one `build.py` run of `tree`."""
    probe = MEMORY_PROBE.format(build=str(tree / "build.py"))
    seconds, proc = timed([sys.executable, "-c", probe, "--root", str(root), *args])
    peak_kb = int(proc.stderr.rsplit("PEAK_KB", 1)[1].split()[0])
    return seconds, peak_kb // 1024


BUSY = (
    "for _ in range(20): print('x' * 1_000_000, flush=True)",
    "import matplotlib.pyplot as plt\n"
    "for i in range(40):\n    plt.figure(figsize=(1, 1)); plt.plot([0, i]); plt.show()",
    "import time; time.sleep(60)",
)


def sigterm_seconds(root: Path, delay: float = 1.5) -> float:
    """Return the seconds from SIGTERM to exit of a build whose 3 kernels stream megabytes.

    The signal comes `delay` seconds after the first kernel starts, while outputs stream,
    figures render and posts are published; the build must stop its kernels and exit.
    """
    import signal

    import nbformat
    import psutil
    from nbformat.v4 import new_code_cell, new_notebook, new_raw_cell

    copy_skeleton(root)
    for i in range(3):
        cells = [new_raw_cell(f"---\ntitle: Busy {i}\ndate: 2024-01-01\n---")]
        nb = new_notebook(cells=cells + [new_code_cell(c) for c in BUSY])
        for n, cell in enumerate(nb.cells):
            cell["id"] = f"c{n}"
        nbformat.write(nb, Layout(root).sources / f"busy{i}.ipynb")
    proc = subprocess.Popen(
        [sys.executable, str(REPO / "build.py"), "--root", str(root)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    build_process = psutil.Process(proc.pid)
    while not any("ipykernel" in " ".join(c.cmdline()) for c in build_process.children(recursive=True)):
        time.sleep(0.1)
    time.sleep(delay)
    sent = time.perf_counter()
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=120)
    return time.perf_counter() - sent


def nbconvert_loop(root: Path) -> float:
    """Return the wall seconds of `jupyter nbconvert --execute --to markdown`, once per notebook."""
    jupyter = str(Path(sys.executable).parent / "jupyter")
    out = root / "nbconvert-out"
    start = time.perf_counter()
    for nb in sorted(Layout(root).sources.glob("*.ipynb")):
        timed([jupyter, "nbconvert", "--execute", "--to", "markdown", "--output-dir", str(out), str(nb)])
    return time.perf_counter() - start


def edit(root: Path, index: int, prose: bool) -> None:
    """Append to one post's markdown cell (prose) or its first code cell (code)."""
    path = Layout(root).sources / f"post-{index:03d}.ipynb"
    nb = json.loads(path.read_text())
    cell = nb["cells"][1 if prose else 2]
    cell["source"] = "".join(cell["source"]) + ("\n\nAn edit." if prose else "\nz = 1")
    path.write_text(json.dumps(nb, indent=1))


def unrelated_requirement(big: Path, row: Callable[[str, str, str], None], many: int) -> None:
    """Time no-op rebuilds against rebuilds after a requirement no post imports changed.

    The two alternate, three times each, so a change in the machine's load hits both alike;
    the best of each is reported.
    """
    command = [sys.executable, str(REPO / "build.py"), "--root", str(big)]
    req = big / "requirements.txt"
    noops, changed = [], []
    for n in range(3):
        noops.append(timed(command)[0])
        # A package for a post to come, then its pin moved: no post imports it.
        text = req.read_text()
        if n == 0:
            req.write_text(text + "plotly==6.0.0\n")
        else:
            req.write_text(text.replace(f"plotly==6.0.{n - 1}", f"plotly==6.0.{n}"))
        seconds, proc = timed(command)
        if f"{many} posts: {many} unchanged" not in proc.stdout:
            raise SystemExit(f"an unrelated requirement re-executed posts:\n{proc.stdout}")
        changed.append(seconds)
    row(f"no-op rebuild, {many} posts (best of 3)", f"{min(noops):.2f} s", "")
    row("unrelated requirement changed (best of 3)", f"{min(changed):.2f} s", "<= no-op")
    row(
        "  ratio unrelated requirement / no-op",
        f"{min(changed) / min(noops):.2f} x",
        "<= 1.0 x (noise aside)",
    )


def latency(many: int, rounds: int, blog: Path | None, against: Path | None) -> None:
    """Print the no-op, prose-edit and code-edit rows at `many` posts: min and median of `rounds`.

    With `against` (another checkout of nbpress), its build.py runs on a copy of the same blog,
    interleaved with this one's (A, B, A, B ...), and the ratios are printed. `blog` is a blog
    made by make_blog and built once (a cold build of 300 posts takes minutes); without it one
    is made and built here.
    """
    import statistics

    trees = {"this": REPO, **({"against": against.resolve()} if against else {})}
    with tempfile.TemporaryDirectory() as tmp:
        if blog is None:
            blog = make_blog(Path(tmp) / "blog", many)
            build(blog)
        copies = {name: Path(tmp) / f"copy-{name}" for name in trees}
        for name, tree in trees.items():
            shutil.copytree(blog, copies[name], symlinks=True)
            build(copies[name], tree=tree)  # a renderer that differs renders every post once
        times: dict[tuple[str, str], list[float]] = {}
        peaks: dict[str, int] = {}
        for n in range(rounds):
            for name, tree in trees.items():
                root = copies[name]
                seconds, peak = build(root, tree=tree)
                times.setdefault((name, "no-op"), []).append(seconds)
                peaks[name] = max(peaks.get(name, 0), peak)
                edit(root, 7 + n % 5, prose=True)
                times.setdefault((name, "prose edit"), []).append(build(root, tree=tree)[0])
                edit(root, 8 + n % 5, prose=False)
                times.setdefault((name, "code edit"), []).append(build(root, tree=tree)[0])
            print(f"round {n + 1}/{rounds} done, load {os.getloadavg()[0]:.1f}", file=sys.stderr, flush=True)
    for row in ("no-op", "prose edit", "code edit"):
        for name in trees:
            found = times[(name, row)]
            print(
                f"{row:<11} {many} posts, {name:<8} min {min(found):6.2f} s   "
                f"median {statistics.median(found):6.2f} s"
            )
        if against:
            ratio = statistics.median(times[("against", row)]) / statistics.median(times[("this", row)])
            print(f"{row:<11} median ratio against / this: {ratio:.2f} x")
    for name, peak in peaks.items():
        print(f"peak memory of the no-op build process, {name}: {peak} MB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", action="store_true", help="a quick run: 40 posts, no real blog")
    parser.add_argument(
        "--requirements", action="store_true", help="only the unrelated-requirement measurement, 200 posts"
    )
    parser.add_argument("--latency", type=int, metavar="N", help="only the no-op/edit rows, at N posts")
    parser.add_argument("--rounds", type=int, default=5, help="rounds of the --latency rows")
    parser.add_argument("--blog", type=Path, help="--latency: a blog make_blog made, built once")
    parser.add_argument("--against", type=Path, help="--latency: another nbpress checkout, interleaved")
    args = parser.parse_args()
    if args.latency:
        latency(args.latency, args.rounds, args.blog, args.against)
        return
    many = 40 if args.small else 200
    jobs = f"{(os.cpu_count() or 1) + 1} (build.py's default)"
    rows: list[tuple[str, str, str]] = []

    def row(name: str, value: str, target: str) -> None:
        rows.append((name, value, target))
        print(f"{name:<48} {value:>18}   {target}", flush=True)

    print(f"nbpress benchmark: {os.cpu_count()} cores, Python {sys.version.split()[0]}, -j {jobs}\n")
    if args.requirements:
        with tempfile.TemporaryDirectory() as tmp:
            big = make_blog(Path(tmp) / "blog-many", many)
            row(f"nbpress cold build, {many} posts", f"{build(big)[0]:.1f} s", "")
            unrelated_requirement(big, row, many)
        return
    help_s, _ = timed([sys.executable, str(REPO / "build.py"), "--help"])
    row("build.py --help", f"{help_s:.2f} s", "<= 0.3 s")
    with tempfile.TemporaryDirectory() as tmp:
        stop = sigterm_seconds(Path(tmp) / "busy")
    row("SIGTERM to exit, 3 busy kernels", f"{stop:.1f} s", "<= 5 s")

    with tempfile.TemporaryDirectory() as tmp:
        small = make_blog(Path(tmp) / "blog20", 20)
        reference = nbconvert_loop(small)
        cold, _ = build(small)
        row("nbconvert --execute loop, 20 posts", f"{reference:.1f} s", "reference")
        row("nbpress cold build, 20 posts", f"{cold:.1f} s", "")
        row("  ratio cold / nbconvert loop", f"{cold / reference:.2f} x", "<= 0.36 x")

        big = make_blog(Path(tmp) / "blog-many", many)
        cold_many, _ = build(big)
        row(f"nbpress cold build, {many} posts", f"{cold_many:.1f} s", "")
        noop, peak = build(big)
        row(f"no-op rebuild, {many} posts", f"{noop:.2f} s", "<= 1.0 s (200 posts)")
        unrelated_requirement(big, row, many)
        edit(big, 7, prose=True)
        prose, _ = build(big)
        row(f"prose edit to 1 of {many} posts (no kernel)", f"{prose:.2f} s", "<= 1.5 s (200 posts)")
        edit(big, 8, prose=False)
        code, peak_code = build(big)
        row(f"code edit to 1 of {many} posts", f"{code:.2f} s", "")
        row(f"peak memory of build process, {many} posts", f"{max(peak, peak_code)} MB", "<= 250 MB")
        peak_cold = build(big, "--force")[1]
        row(f"peak memory, forced rebuild of {many} posts", f"{peak_cold} MB", "<= 250 MB")

        if not args.small:
            real = Path(tmp) / "real"
            make_blog(real, 0)
            for nb in Layout(REPO).sources.glob("*.ipynb"):
                shutil.copy2(nb, Layout(real).sources / nb.name)
            own = {}
            for nb in sorted(Layout(real).sources.glob("*.ipynb")):
                own[nb.stem] = build(real, "--force", "-j", "1", nb.stem)[0]
            slowest = max(own, key=lambda k: own[k])
            shutil.rmtree(Layout(real).cache)
            for path in Layout(real).generated.glob("*.md"):
                path.unlink()
            real_cold, real_peak = build(real)
            real_noop, _ = build(real)
            for name, seconds in sorted(own.items()):
                row(f"real post {name} alone", f"{seconds:.1f} s", "")
            row("real blog cold build (both posts)", f"{real_cold:.1f} s", "")
            row(f"  ratio cold / slowest post ({slowest})", f"{real_cold / own[slowest]:.2f} x", "<= 1.15 x")
            row("real blog no-op rebuild", f"{real_noop:.2f} s", "")
            row("peak memory, real blog cold build", f"{real_peak} MB", "")


if __name__ == "__main__":
    main()
