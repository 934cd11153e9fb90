"""Full-page screenshots of pages of a built site, at a phone's and a desktop's width, light and dark.

    python bench/screenshots.py DIR OUT PAGE [PAGE ...] [--widths 390 1280]

serves DIR on 127.0.0.1 (a blog's root, say, so `site/posts/x/` and a notebook's nbconvert page
`posts/x.html` beside it are both reachable), opens each PAGE (a path under DIR) in Debian's
Chromium with the reader's colour scheme set to light, then dark, and writes
OUT/<page>-<width>-<scheme>.png. Requests to other hosts are refused and listed, as a reader
offline would see the page. Look at the pictures; they are not checked by anything.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from tests.helpers import launch_chromium  # noqa: E402
from tests.siteserver import serve  # noqa: E402

SCROLL_THROUGH = """async () => {
  for (let y = 0; y < document.body.scrollHeight; y += innerHeight / 2) {
    scrollTo(0, y);
    await new Promise(done => setTimeout(done, 50));
  }
  await Promise.all([...document.images].map(image => image.decode().catch(() => null)));
  scrollTo(0, 0);
}"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("dir", type=Path)
    parser.add_argument("out", type=Path)
    parser.add_argument("pages", nargs="+")
    parser.add_argument("--widths", type=int, nargs="+", default=[390, 1280])
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    outside: list[str] = []

    def only_here(route: Any) -> None:
        if route.request.url.startswith("http://127.0.0.1"):
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    with serve(args.dir) as url, launch_chromium() as browser:
        for path in args.pages:
            name = re.sub(r"[^A-Za-z0-9]+", "-", path).strip("-") or "home"
            for width in args.widths:
                for scheme in ("light", "dark"):
                    viewport = {"width": width, "height": 900}
                    context = browser.new_context(viewport=viewport, color_scheme=scheme)
                    page = context.new_page()
                    page.route("**/*", only_here)
                    page.goto(url + path, wait_until="load")
                    # Scrolled through as a reader would: lazy figures load only near the view,
                    # and a full-page picture alone would show their empty frames.
                    page.evaluate(SCROLL_THROUGH)
                    page.wait_for_timeout(1500)  # charts and math draw after load
                    target = args.out / f"{name}-{width}-{scheme}.png"
                    page.screenshot(path=str(target), full_page=True)
                    print(target)
                    context.close()
    for request in sorted(set(outside)):
        print(f"refused: {request}")


if __name__ == "__main__":
    main()
