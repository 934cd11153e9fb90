"""Time README's two test commands, on the machine as it is and under a made load.

    python bench/suite.py [--tier fast|all|both] [--loads 0,2]

Runs `python -m pytest -m "not slow"` (the fast tier) and/or `python -m pytest` (the whole suite)
once per load in --loads: 0 is the machine as it is; N > 0 adds N busy processes (one pure-Python
loop each, at normal priority) competing for the cores, what a shared CI runner or a laptop doing
other work looks like. Prints the wall time, the test count and pytest's last line per run, and
the share of the tests the fast tier holds. Timing belongs here, never in a test.
"""

from __future__ import annotations

import argparse
import multiprocessing
import re
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PYTEST = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"]
TIERS = {"fast": [*PYTEST, "-m", "not slow"], "all": PYTEST}


def _spin() -> None:
    while True:
        pass


def run(tier: str) -> tuple[float, int, str]:
    """Return (wall seconds, tests passed, pytest's summary line) of one run of `tier`."""
    start = time.monotonic()
    proc = subprocess.run(TIERS[tier], cwd=REPO, capture_output=True, text=True)
    wall = time.monotonic() - start
    lines = [line for line in proc.stdout.splitlines() if line.strip()]
    summary = lines[-1] if lines else proc.stderr.strip()[-200:]
    passed = re.search(r"(\d+) passed", summary)
    if proc.returncode != 0:
        print(proc.stdout[-4000:], file=sys.stderr)
    return wall, int(passed.group(1)) if passed else 0, summary


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tier", choices=["fast", "all", "both"], default="both")
    parser.add_argument("--loads", default="0", help="comma-separated numbers of busy processes (default 0)")
    args = parser.parse_args()
    tiers = ["fast", "all"] if args.tier == "both" else [args.tier]
    counts: dict[str, int] = {}
    for load in (int(n) for n in args.loads.split(",")):
        spinners = [multiprocessing.Process(target=_spin, daemon=True) for _ in range(load)]
        for spinner in spinners:
            spinner.start()
        try:
            for tier in tiers:
                wall, passed, summary = run(tier)
                counts[tier] = passed
                print(f"{tier:4}  load {load}  {wall:7.1f} s  {passed:5d} passed  | {summary}", flush=True)
        finally:
            for spinner in spinners:
                spinner.terminate()
    if "fast" in counts and "all" in counts and counts["all"]:
        share = counts["fast"] / counts["all"]
        print(f"fast tier holds {counts['fast']} of {counts['all']} tests ({share:.0%})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
