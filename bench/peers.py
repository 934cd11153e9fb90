"""Benchmark nbpress against its peers on the same notebooks, in one run (issue 25).

    python bench/peers.py            # small posts and the real posts, 3 cold and 5 warm rounds
    python bench/peers.py --quick    # small posts only, 1 cold and 3 warm rounds
    python bench/peers.py --only nbpress,jupyter-book-1 --workloads real

Run it from the repository root inside the activated nbpress venv. Each peer lives in its own
virtual environment under --venvs (default: ~/.cache/nbpress-bench/peers), installed on the first
run from the package registries at the pinned versions below (a few minutes each). Every peer's
kernel is this venv's Python (a `python3` kernelspec in the cache folder, found through
JUPYTER_PATH), so all tools run the same numpy, matplotlib, torch and TensorFlow.

Each row is the tool's own command for "make the deployable site", as a separate process:

- nbpress: `python build.py --site`, the build and the deployable site in one command (the site
  rendered by `mkdocs build --strict` only when what it is rendered from changed); the ratios
  are against it. Also reported, in a project of their own: `python build.py` alone, and
  `python build.py` then a plain `mkdocs build`. Execution is cached by nbpress's per-post key.
- nbconvert + make: a Makefile whose rule runs `jupyter nbconvert --execute --to markdown` on each
  notebook newer than its Markdown (make's timestamps are its only cache: any edit re-executes
  the post); it makes Markdown only, so its ratios are against build.py alone.
- Jupyter Book 1: `jupyter-book build` with `execute_notebooks: cache` (jupyter-cache: a notebook
  re-executes only when its code cells change).
- Jupyter Book 2: `jupyter-book build --site --execute` (mystmd; results cached in _build/execute,
  keyed by the code cells). Its themes are downloaded from the web on first use, and this machine
  reaches only the package registries: a local stub template stands in, so its rows stop at the
  site's content (every page read, executed and written as JSON, with the search index) and leave
  out the theme's HTML render, which only flatters it. mystmd's 20 s wait for the Jupyter server
  it starts is raised to 300 s in the installed bundle (see SERVER_WAIT).
- mkdocs-jupyter: `mkdocs build` with `execute: true` and its cache on (`cache: true`, its
  default in 0.26.3: a page's HTML is kept under a key of the whole notebook's bytes, so a no-op
  executes nothing and any edit, prose too, re-executes that notebook).

Rounds are interleaved (every tool once per row per round, the order rotated each round); the
table gives min and median seconds per row and the ratios peer time / nbpress time. Each edit is
checked in the built output (the prose edit's text, the code edit's printed output), so a row
that did not rebuild fails the run instead of looking fast.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.bench import make_blog  # noqa: E402
from tests.skeleton import copy_skeleton  # noqa: E402

# The peers' pinned installs: venv name -> pip requirements.
PEER_VENVS: dict[str, list[str]] = {
    "jupyter-book-1": ["jupyter-book==1.0.4.post1"],
    "jupyter-book-2": ["jupyter-book==2.1.7"],
    "mkdocs-jupyter": ["mkdocs==1.6.1", "mkdocs-material==9.8.1", "mkdocs-jupyter==0.26.3"],
}
# What each peer's version line reports.
VERSION_OF = {
    "jupyter-book-1": ["jupyter-book", "sphinx", "myst-nb", "jupyter-cache"],
    "jupyter-book-2": ["jupyter-book"],
    "mkdocs-jupyter": ["mkdocs", "mkdocs-material", "mkdocs-jupyter", "nbconvert"],
}
HANG = 1800  # seconds; a build slower than this is stuck
SMALL_POSTS = 20


def run(cmd: list[str], cwd: Path, env: dict[str, str], bad: str | None = None) -> float:
    """Return the wall seconds of `cmd` in `cwd`; stop the benchmark if it fails or prints `bad`."""
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=HANG)
    seconds = time.perf_counter() - start
    if proc.returncode != 0 or (bad is not None and bad in proc.stdout + proc.stderr):
        raise SystemExit(f"{' '.join(cmd)} failed in {cwd}:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
    return seconds


# --- the peers' virtual environments and their kernel ---------------------------------------


def base_python() -> str:
    """Return the interpreter this venv was made from, for the peers' venvs."""
    return str(getattr(sys, "_base_executable", sys.executable))


def install_peers(venvs: Path, names: list[str]) -> dict[str, float]:
    """Make the venv of every peer in `names` that is missing or not at its pins; return seconds each."""
    seconds: dict[str, float] = {}
    for name in names:
        venv = venvs / name
        marker = venv / "nbpress-bench-pins.txt"
        pins = "\n".join(PEER_VENVS[name]) + "\n"
        if marker.is_file() and marker.read_text() == pins:
            continue
        print(f"installing {name} ({' '.join(PEER_VENVS[name])}) into {venv} ...", flush=True)
        start = time.perf_counter()
        shutil.rmtree(venv, ignore_errors=True)
        subprocess.run([base_python(), "-m", "venv", str(venv)], check=True)
        proc = subprocess.run(
            [str(venv / "bin" / "python"), "-m", "pip", "install", "-q", *PEER_VENVS[name]],
            capture_output=True,
            text=True,
        )
        if proc.returncode != 0:
            errors = [line for line in proc.stderr.splitlines() if "is ignored: it is neither" not in line]
            raise SystemExit(f"installing {name} failed:\n" + "\n".join(errors[-30:]))
        marker.write_text(pins)
        seconds[name] = time.perf_counter() - start
        print(f"  {name} installed in {seconds[name]:.0f} s", flush=True)
    return seconds


# mystmd gives the Jupyter server it starts 20 s to print its address; on a loaded shared machine
# importing jupyter_server alone takes longer, and every execution then fails. The one change made
# to a peer: that wait, raised to 300 s (a bound on waiting, not a speed; idle, the server is up in
# about 2 s).
SERVER_WAIT = re.compile(r'(Jupyter server did not respond"\)\}`\);\s*reject\(\);\s*\}, )2e4\)')


def lengthen_server_wait(venvs: Path) -> None:
    """Raise mystmd's 20 s wait for its Jupyter server to 300 s in Jupyter Book 2's bundle."""
    for bundle in (venvs / "jupyter-book-2").glob("lib/python*/site-packages/jupyter_book/dist/*.cjs"):
        text = bundle.read_text()
        patched, count = SERVER_WAIT.subn(r"\g<1>3e5)", text)
        if count:
            bundle.write_text(patched)


def write_kernelspec(venvs: Path) -> Path:
    """Return a JUPYTER_PATH folder whose `python3` kernel is this venv's Python."""
    folder = venvs / "jupyter"
    spec = folder / "kernels" / "python3"
    spec.mkdir(parents=True, exist_ok=True)
    kernel = {
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "Python 3",
        "language": "python",
        "metadata": {"debugger": False},
    }
    (spec / "kernel.json").write_text(json.dumps(kernel, indent=1))
    return folder


def versions(venvs: Path, name: str) -> str:
    """Return 'package version, ...' of a peer's venv."""
    code = (
        "import importlib.metadata as m, sys\nprint(', '.join(f'{p} {m.version(p)}' for p in sys.argv[1:]))"
    )
    python = venvs / name / "bin" / "python"
    out = subprocess.run([str(python), "-c", code, *VERSION_OF[name]], capture_output=True, text=True)
    return out.stdout.strip() or out.stderr.strip().splitlines()[-1]


# --- the tools -------------------------------------------------------------------------------


@dataclass
class Tool:
    """One tool's project: how to lay it out, build it, and where its notebooks and output are."""

    name: str
    rows: list[str]  # the row names its build reports, in order
    prepare: Callable[[Path, Path], None]  # (project, notebooks) -> lay the project out
    build: Callable[[Path], list[float]]  # project -> seconds per row (cumulative steps)
    posts: str  # the notebooks' folder inside the project
    outputs: list[str]  # per row: the folder whose files must show an edit


def copy_notebooks(src: Path, dest: Path) -> None:
    dest.mkdir(parents=True, exist_ok=True)
    for nb in sorted(src.glob("*.ipynb")):
        shutil.copy2(nb, dest / nb.name)


def nbpress_tool(env: dict[str, str]) -> Tool:
    def prepare(project: Path, notebooks: Path) -> None:
        copy_skeleton(project)
        copy_notebooks(notebooks, project / "posts")

    def build(project: Path) -> list[float]:
        own = run([sys.executable, str(REPO / "build.py"), "--root", str(project)], project, env)
        site = run([sys.executable, "-m", "mkdocs", "build"], project, env)
        return [own, own + site]

    return Tool(
        "nbpress",
        ["nbpress build.py", "nbpress build.py + mkdocs build"],
        prepare,
        build,
        "posts",
        ["site_src/posts", "site"],
    )


MAKE_MARKDOWN = """\
NB := $(wildcard posts/*.ipynb)
all: $(patsubst posts/%.ipynb,out/%.md,$(NB))
out/%.md: posts/%.ipynb
\t{jupyter} nbconvert --execute --to markdown --output-dir out $<
"""


def nbpress_site_tool(env: dict[str, str]) -> Tool:
    """`python build.py --site`: the build and the deployable site in one command, the site
    rendered (mkdocs build --strict) only when what it is rendered from changed."""

    def prepare(project: Path, notebooks: Path) -> None:
        copy_skeleton(project)
        copy_notebooks(notebooks, project / "posts")

    def build(project: Path) -> list[float]:
        return [run([sys.executable, str(REPO / "build.py"), "--root", str(project), "--site"], project, env)]

    return Tool("nbpress site", [SITE_ROW], prepare, build, "posts", ["site_src/posts", "site"])


SITE_ROW = "nbpress build.py --site"


def nbconvert_tool(env: dict[str, str]) -> Tool:
    jupyter = str(Path(sys.executable).parent / "jupyter")

    def prepare(project: Path, notebooks: Path) -> None:
        copy_notebooks(notebooks, project / "posts")
        (project / "Makefile").write_text(MAKE_MARKDOWN.format(jupyter=jupyter))

    def build(project: Path) -> list[float]:
        return [run(["make", "-s"], project, env)]

    return Tool("nbconvert + make", ["nbconvert + make"], prepare, build, "posts", ["out"])


JB1_CONFIG = """\
title: Benchmark
author: nbpress bench
only_build_toc_files: true
execute:
  execute_notebooks: cache
  timeout: 1200
"""


def jupyter_book_1(venvs: Path, env: dict[str, str]) -> Tool:
    def prepare(project: Path, notebooks: Path) -> None:
        copy_notebooks(notebooks, project / "posts")
        (project / "_config.yml").write_text(JB1_CONFIG)
        (project / "intro.md").write_text("# Benchmark\n\nThe posts.\n")
        chapters = "".join(f"  - file: posts/{nb.stem}\n" for nb in sorted(notebooks.glob("*.ipynb")))
        (project / "_toc.yml").write_text(f"format: jb-book\nroot: intro\nchapters:\n{chapters}")

    def build(project: Path) -> list[float]:
        return [run([str(venvs / "jupyter-book-1" / "bin" / "jupyter-book"), "build", "."], project, env)]

    return Tool("Jupyter Book 1", ["Jupyter Book 1"], prepare, build, "posts", ["_build/html"])


JB2_CONFIG = """\
version: 1
project:
  title: Benchmark
  toc:
    - file: index.md
    - pattern: posts/*.ipynb
site:
  template: ./site-template
"""
# The book theme is downloaded from the web on first use, which this machine cannot reach: a
# local stub template lets `build --site` run everything up to the theme (reading, executing,
# the pages' content and search index written to _build/site), and the theme's own render is
# left out of Jupyter Book 2's times, which only flatters it.
JB2_TEMPLATE = "myst: v1\nkind: site\ntitle: Local stub (no theme)\n"


def jupyter_book_2(venvs: Path, env: dict[str, str]) -> Tool:
    def prepare(project: Path, notebooks: Path) -> None:
        copy_notebooks(notebooks, project / "posts")
        (project / "myst.yml").write_text(JB2_CONFIG)
        (project / "index.md").write_text("# Benchmark\n\nThe posts.\n")
        (project / "site-template").mkdir()
        (project / "site-template" / "template.yml").write_text(JB2_TEMPLATE)

    # mystmd starts its Jupyter server with the `python` on PATH: the venv's, which has jupyter_server.
    # That server refuses to run as root unless its configuration allows it (CI runs as root).
    config = venvs / "jupyter-config"
    config.mkdir(exist_ok=True)
    (config / "jupyter_server_config.json").write_text(json.dumps({"ServerApp": {"allow_root": True}}))
    own = {
        **env,
        "PATH": f"{venvs / 'jupyter-book-2' / 'bin'}{os.pathsep}{env['PATH']}",
        "JUPYTER_CONFIG_DIR": str(config),
    }

    def build(project: Path) -> list[float]:
        jb = str(venvs / "jupyter-book-2" / "bin" / "jupyter-book")
        # A notebook that could not run is a warning (⛔️) and exit 0: that would be a fast failure.
        return [run([jb, "build", "--site", "--execute"], project, own, bad="\u26d4")]

    return Tool("Jupyter Book 2", ["Jupyter Book 2"], prepare, build, "posts", ["_build/site/content"])


MKJ_CONFIG = """\
site_name: Benchmark
theme:
  name: material
docs_dir: docs
plugins:
  - search
  - mkdocs-jupyter:
      execute: true
      cache: true
      include: ["*.ipynb"]
"""


def mkdocs_jupyter(venvs: Path, env: dict[str, str]) -> Tool:
    mkdocs = str(venvs / "mkdocs-jupyter" / "bin" / "mkdocs")

    def prepare(project: Path, notebooks: Path) -> None:
        (project / "docs").mkdir(parents=True)
        (project / "docs" / "index.md").write_text("# Benchmark\n\nThe posts.\n")
        (project / "mkdocs.yml").write_text(MKJ_CONFIG)
        copy_notebooks(notebooks, project / "docs" / "posts")

    def build(project: Path) -> list[float]:
        return [run([mkdocs, "build"], project, env)]

    return Tool("mkdocs-jupyter", ["mkdocs-jupyter"], prepare, build, "docs/posts", ["site"])


# --- workloads and edits ---------------------------------------------------------------------


def small_notebooks(dest: Path) -> Path:
    """Return a folder of the small synthetic posts of bench/bench.py."""
    blog = make_blog(dest / "blog", SMALL_POSTS)
    return blog / "posts"


def real_notebooks(dest: Path) -> Path:
    """Return a folder holding a copy of the repository's own posts."""
    copy_notebooks(REPO / "posts", dest / "posts")
    return dest / "posts"


def edit(notebook: Path, prose: bool, marker: str) -> None:
    """Append `marker` to the first Markdown cell (prose) or print it from the first code cell."""
    nb = json.loads(notebook.read_text())
    kind = "markdown" if prose else "code"
    cell = next(c for c in nb["cells"] if c["cell_type"] == kind)
    text = "".join(cell["source"])
    cell["source"] = text + (f"\n\nEdited: {marker}." if prose else f"\nprint('{marker}')")
    notebook.write_text(json.dumps(nb, indent=1))


def shows(folder: Path, marker: str) -> bool:
    """Whether any file under `folder` contains `marker`."""
    needle = marker.encode()
    return any(p.is_file() and needle in p.read_bytes() for p in folder.rglob("*"))


# --- the run ---------------------------------------------------------------------------------

Samples = dict[str, dict[str, list[float]]]  # row kind -> tool row -> seconds
Loads = dict[str, list[float]]  # row kind -> 1-minute load averages seen


def measure(
    tools: list[Tool], notebooks: Path, work: Path, cold_rounds: int, rounds: int
) -> tuple[Samples, Loads]:
    """Time every tool's cold build, no-op, prose edit and code edit, interleaved."""
    samples: Samples = {kind: {} for kind in ("cold", "no-op", "prose edit", "code edit")}
    loads: Loads = {kind: [] for kind in samples}
    target = sorted(p.name for p in notebooks.glob("*.ipynb"))[len(list(notebooks.glob("*.ipynb"))) // 3]

    def one(kind: str, tool: Tool, marker: str | None = None) -> None:
        project = work / tool.name.replace(" ", "_")
        loads[kind].append(os.getloadavg()[0])
        for row, seconds in zip(tool.rows, tool.build(project), strict=True):
            samples[kind].setdefault(row, []).append(seconds)
        print(f"  {kind:<10} {tool.name:<32} {seconds:7.2f} s  (load {os.getloadavg()[0]:.1f})", flush=True)
        if marker is not None:
            for output in tool.outputs:
                if not shows(project / output, marker):
                    raise SystemExit(f"{tool.name}: {kind} did not reach {output} ({marker} missing)")

    for r in range(cold_rounds):
        order = tools[r % len(tools) :] + tools[: r % len(tools)]
        for tool in order:
            project = work / tool.name.replace(" ", "_")
            shutil.rmtree(project, ignore_errors=True)
            project.mkdir(parents=True)
            tool.prepare(project, notebooks)
            one("cold", tool)
    for r in range(rounds):
        order = tools[r % len(tools) :] + tools[: r % len(tools)]
        for tool in order:
            one("no-op", tool)
        for kind, prose in (("prose edit", True), ("code edit", False)):
            marker = f"bench-{'prose' if prose else 'code'}-{r}"
            for tool in order:
                edit(work / tool.name.replace(" ", "_") / tool.posts / target, prose, marker)
                one(kind, tool, marker)
    return samples, loads


def table(title: str, samples: Samples, loads: Loads, reference: str, own: str) -> str:
    """Return a Markdown table: min / median per row and tool, and peer / nbpress ratios."""
    lines = [f"### {title}", ""]
    kinds = list(samples)
    rows = list(samples[kinds[0]])
    lines.append("| tool | " + " | ".join(f"{k} min / median" for k in kinds) + " |")
    lines.append("| --- |" + " --- |" * len(kinds))
    for row in rows:
        cells = [f"{min(samples[k][row]):.2f} / {statistics.median(samples[k][row]):.2f} s" for k in kinds]
        lines.append(f"| {row} | " + " | ".join(cells) + " |")
    lines.append("")
    lines.append(f"Ratios peer / nbpress (min / median), against `{reference}`:")
    lines.append("")
    lines.append("| peer | " + " | ".join(kinds) + " |")
    lines.append("| --- |" + " --- |" * len(kinds))
    for row in rows:
        if row.startswith("nbpress"):
            continue
        base = own if row == "nbconvert + make" else reference
        cells = []
        for k in kinds:
            mine, theirs = samples[k][base], samples[k][row]
            ratio_min = min(theirs) / min(mine)
            ratio_median = statistics.median(theirs) / statistics.median(mine)
            cells.append(f"{ratio_min:.2f} / {ratio_median:.2f} x")
        suffix = f" (vs `{own}`)" if base == own else ""
        lines.append(f"| {row}{suffix} | " + " | ".join(cells) + " |")
    lines.append("")
    load = ", ".join(f"{k} {min(v):.1f}-{max(v):.1f}" for k, v in loads.items() if v)
    lines.append(f"1-minute load average during the rows (2 cores): {load}.")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small posts only, 1 cold and 3 warm rounds")
    parser.add_argument(
        "--venvs",
        type=Path,
        default=Path.home() / ".cache" / "nbpress-bench" / "peers",
        help="where the peers' virtual environments live (default: ~/.cache/nbpress-bench/peers)",
    )
    parser.add_argument("--rounds", type=int, help="warm rounds (no-op and edits; default 5, quick 3)")
    parser.add_argument("--cold-rounds", type=int, help="cold builds per tool (default 3, quick 1)")
    parser.add_argument("--workloads", default=None, help="comma-separated: small,real")
    parser.add_argument("--only", default=None, help="comma-separated tool names (nbpress is always in)")
    args = parser.parse_args()
    rounds = args.rounds or (3 if args.quick else 5)
    cold_rounds = args.cold_rounds or (1 if args.quick else 3)
    workloads = (args.workloads or ("small" if args.quick else "small,real")).split(",")

    venvs: Path = args.venvs.expanduser().resolve()
    venvs.mkdir(parents=True, exist_ok=True)
    installed = install_peers(venvs, list(PEER_VENVS))
    lengthen_server_wait(venvs)
    env = {
        **os.environ,
        "JUPYTER_PATH": str(write_kernelspec(venvs)),
        "NO_MKDOCS_2_WARNING": "1",
        "PYDEVD_DISABLE_FILE_VALIDATION": "1",
    }
    tools = [
        nbpress_tool(env),
        nbpress_site_tool(env),
        nbconvert_tool(env),
        jupyter_book_1(venvs, env),
        jupyter_book_2(venvs, env),
        mkdocs_jupyter(venvs, env),
    ]
    if args.only:
        wanted = ["nbpress", *(w.strip().lower().replace(" ", "-") for w in args.only.split(","))]
        tools = [t for t in tools if any(w in t.name.lower().replace(" ", "-") for w in wanted)]

    print(f"nbpress peers benchmark, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}")
    print(f"machine: {os.cpu_count()} cores, {platform.system()}, Python {platform.python_version()}")
    print(f"load average at start: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    for name in PEER_VENVS:
        took = f" (installed in {installed[name]:.0f} s)" if name in installed else ""
        print(f"  {name}: {versions(venvs, name)}{took}")
    node = subprocess.run(["node", "--version"], capture_output=True, text=True).stdout.strip()
    print(f"  node {node}; nbconvert from this venv; kernel: this venv's Python for every tool")
    print(f"rounds: {cold_rounds} cold, {rounds} warm (no-op, prose edit, code edit), interleaved\n")

    reports = []
    for workload in workloads:
        with tempfile.TemporaryDirectory(prefix="nbpress-peers-") as tmp:
            make = small_notebooks if workload == "small" else real_notebooks
            notebooks = make(Path(tmp) / "src")
            count = len(list(notebooks.glob("*.ipynb")))
            title = f"{count} small posts" if workload == "small" else f"the {count} real posts"
            print(f"{title}:", flush=True)
            try:
                samples, loads = measure(tools, notebooks, Path(tmp) / "work", cold_rounds, rounds)
            except SystemExit as failed:  # one workload's failure leaves the other's table
                print(f"{title}: stopped: {failed}", flush=True)
                continue
            report = table(title, samples, loads, SITE_ROW, "nbpress build.py")
            print(f"\n{report}\n", flush=True)
            reports.append(report)
    if len(reports) > 1:  # every table again, together
        print("\n" + "\n\n".join(reports))
    print(f"\nload average at end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
