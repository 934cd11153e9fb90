"""CPU seconds of one render of a blog's site: `mkdocs build`, with Jinja's compiled templates
kept (hooks/template_cache.py), and in build.py's own process (what `build.py --site` runs).

    python bench/site_render.py --root BLOG [--rounds 5]

BLOG is a blog already built (`python build.py --root BLOG`). CPU seconds, not wall time, so a
shared machine's load changes the figures less; the rows are interleaved, min / median printed.
The in-process row is the render alone: a process that loads what a prose edit's build has
loaded (nbconvert, nbpress) and renders, minus the same process without the render.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
LOADED = (
    f"import sys; sys.path.insert(0, {str(REPO)!r}); import nbconvert; "
    "from nbpress.publishing.renderers import MKDOCS"
)
RENDER = (
    LOADED + "; import os; from pathlib import Path; "
    "done = MKDOCS.render(Path('.').resolve(), dict(os.environ)); assert done.returncode == 0, done.messages"
)


def child_cpu(command: list[str], root: Path, env: dict[str, str]) -> float:
    """Return the CPU seconds (user + system) the finished `command` took, run in `root`."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run(command, cwd=root, env=env, check=True, capture_output=True)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--root", type=Path, required=True, help="a built blog")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    root: Path = args.root.resolve()
    plain = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    kept = {**plain, "NBPRESS_TEMPLATE_CACHE": str(root / ".nbpress-cache" / "templates")}
    mkdocs = [sys.executable, "-m", "mkdocs", "build", "--quiet", "--strict"]
    names = ("mkdocs build", "mkdocs build, templates kept", "in build.py's process")
    rows: dict[str, list[float]] = {name: [] for name in names}
    for _ in range(args.rounds):
        rows["mkdocs build"].append(child_cpu(mkdocs, root, plain))
        rows["mkdocs build, templates kept"].append(child_cpu(mkdocs, root, kept))
        rendered = child_cpu([sys.executable, "-c", RENDER], root, kept)
        rows["in build.py's process"].append(rendered - child_cpu([sys.executable, "-c", LOADED], root, kept))
    print("| render | CPU s, min / median |\n| --- | --- |")
    for name, seconds in rows.items():
        print(f"| {name} | {min(seconds):.2f} / {statistics.median(seconds):.2f} s |")
    print(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
