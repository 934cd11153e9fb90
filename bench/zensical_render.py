"""Time Zensical's incremental render of one edited post, with the blog's listings on and off.

    python bench/zensical_render.py                 # 300 posts, 4 edits per variant
    python bench/zensical_render.py --posts 1000 --edits 4

Generates the preview benchmark's blog (bench/preview.py: N - 1 small Markdown posts and one
notebook post), then per variant copies it, changes its mkdocs.yml, starts `zensical serve`
on it and saves an edit of one old post's prose `--edits` times, timing each from the save
until the served page shows it. Edits follow one another in one server (bench/preview.py
starts a server per round, so it sees only a first edit). Variants: the site as it is; the
blog plugin's archive, categories or pagination off; all three off. Where Zensical's render
goes, for issue 25: the preview cannot turn listings off without differing from the site.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.preview import fetch, free_port, make_blog  # noqa: E402

VARIANTS = {
    "as the site is": {},
    "archive off": {"archive: true": "archive: false"},
    "categories off": {"categories: true": "categories: false"},
    "pagination off": {"pagination: true": "pagination: false"},
    "all three off": {
        "archive: true": "archive: false",
        "categories: true": "categories: false",
        "pagination: true": "pagination: false",
    },
}
EDITED = "note-0005"  # an old post, on a later page of every listing


def edits(root: Path, count: int) -> list[float]:
    """Return the seconds from each save of EDITED to the served page showing it."""
    port = free_port()
    url = f"http://127.0.0.1:{port}/posts/{EDITED}/"
    source = root / "site_src" / "posts" / f"{EDITED}.md"
    text = source.read_text(encoding="utf-8")
    server = subprocess.Popen(
        [sys.executable, "-m", "zensical", "serve", "-a", f"127.0.0.1:{port}"],
        cwd=root,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        while "A short note" not in fetch(url):
            time.sleep(0.1)
        time.sleep(2)
        seconds = []
        for i in range(count):
            marker = f"A changed note {i}"
            start = time.monotonic()
            source.write_text(text.replace("A short note", marker), encoding="utf-8")
            while marker not in fetch(url):
                time.sleep(0.02)
            seconds.append(time.monotonic() - start)
            time.sleep(1.5)
        return seconds
    finally:
        source.write_text(text, encoding="utf-8")
        server.terminate()
        server.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--posts", type=int, default=300)
    parser.add_argument("--edits", type=int, default=4)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        blog = make_blog(Path(tmp) / "blog", args.posts)
        for name, changes in VARIANTS.items():
            copy = Path(tmp) / "variant"
            shutil.rmtree(copy, ignore_errors=True)
            shutil.copytree(blog, copy, symlinks=True)
            config = copy / "mkdocs.yml"
            text = config.read_text(encoding="utf-8")
            for old, new in changes.items():
                assert old in text, f"mkdocs.yml has no {old!r}"
                text = text.replace(old, new)
            config.write_text(text, encoding="utf-8")
            seconds = edits(copy, args.edits)
            shown = " ".join(f"{s:.2f}" for s in seconds)
            print(f"{args.posts} posts, {name:15} {shown} s", flush=True)


if __name__ == "__main__":
    main()
