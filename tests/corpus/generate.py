"""Write the corpus notebooks in this folder: `python tests/corpus/generate.py`.

Each notebook exercises one case of the failure matrix or ordinary real-world content;
tests/test_corpus.py says what each must become. The notebooks are committed; this script
documents how they were made and remakes them after an intended change.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_raw_cell

HERE = Path(__file__).resolve().parent
KERNEL = {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}}
# A 1x1 red PNG, for attachments and many-figure cells.
PNG_1PX = (
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg=="
)


def front(title: str, extra: str = "") -> str:
    return f'---\ntitle: "{title}"\ndate: 2024-05-01\n{extra}---'


def notebook(name: str, cells: list[object], metadata: dict[str, object] | None = None) -> None:
    nb = new_notebook(metadata={**KERNEL, **(metadata or {})})
    nb.cells = cells
    for i, cell in enumerate(nb.cells):
        cell["id"] = f"c{i}"
    nbformat.write(nb, HERE / f"{name}.ipynb")


def with_meta(cell: object, **metadata: object) -> object:
    cell.metadata.update(metadata)  # type: ignore[attr-defined]
    return cell


def raw_file(name: str, text: str) -> None:
    (HERE / name).write_text(text, encoding="utf-8")


def main() -> None:
    for old in HERE.glob("*.ipynb"):
        old.unlink()
    # --- ordinary content that must build -------------------------------------------------
    notebook("pandas-table", [
        new_raw_cell(front("A pandas table", "tags: [pandas]\n")),
        new_markdown_cell("A table from pandas, shown as HTML."),
        new_code_cell("import pandas as pd\ndf = pd.DataFrame({'x': [1, 2, 3], 'y': ['a', 'b', 'c']})\ndf"),
        new_code_cell("df.describe()"),
    ])
    notebook("svg-figure", [
        new_raw_cell(front("An SVG figure")),
        new_code_cell("%config InlineBackend.figure_formats = ['svg']\nimport matplotlib.pyplot as plt\n"
                      "plt.plot([1, 3, 2]); plt.show()"),
    ])
    notebook("jpeg-figure", [
        new_raw_cell(front("A JPEG figure")),
        new_code_cell("%config InlineBackend.figure_formats = ['jpeg']\nimport matplotlib.pyplot as plt\n"
                      "plt.bar(['a', 'b'], [2, 5]); plt.show()"),
    ])
    notebook("png-and-text", [
        new_raw_cell(front("Figures and prints")),
        new_code_cell("import matplotlib.pyplot as plt\nprint('before')\nplt.plot([0, 1]); plt.show()\n"
                      "print('after')"),
        new_code_cell("plt.scatter([1, 2], [2, 1]); plt.show()"),
    ])
    notebook("latex-output", [
        new_raw_cell(front("LaTeX output")),
        new_markdown_cell("Inline math in prose: $e^{i\\pi} + 1 = 0$."),
        new_code_cell("from IPython.display import Math, Latex\ndisplay(Math(r'\\int_0^1 x^2\\,dx = \\frac{1}{3}'))"),
        new_code_cell("Latex(r'$\\alpha + \\beta$')"),
    ])
    attach = new_markdown_cell("An attached picture: ![a red dot](attachment:dot.png)")
    attach["attachments"] = {"dot.png": {"image/png": PNG_1PX}}
    notebook("markdown-attachment", [new_raw_cell(front("Markdown attachments")), attach,
                                     new_code_cell("1 + 1")])
    notebook("unicode-everywhere", [
        new_raw_cell(front("Ünïcödé — 数学 🚀", "tags: [Ελληνικά, 日本語]\nauthor: Zoë Ørsted\n")),
        new_markdown_cell("Prose in עברית, العربية and 한국어. Emoji: 🎉"),
        new_code_cell("print('résumé 🐍 数据 \\u200b zero-width')\n{'ключ': 'значение'}"),
    ])
    notebook("empty-cells", [
        new_raw_cell(front("Empty cells")),
        new_code_cell(""),
        new_markdown_cell(""),
        new_code_cell("   \n"),
        new_code_cell("print('only this')"),
        new_code_cell(""),
    ])
    notebook("raw-cells", [
        new_raw_cell(front("Raw cells")),
        new_raw_cell("This raw cell has no format and is left out of the Markdown."),
        with_meta(new_raw_cell("**Raw Markdown** passes through."), raw_mimetype="text/markdown"),
        new_code_cell("print('code after raw cells')"),
    ])
    notebook("metadata-front-matter", [
        new_markdown_cell("Front matter lives in the notebook metadata here."),
        new_code_cell("sum(range(10))"),
    ], {"nbpress": {"title": "Metadata front matter", "date": "2024-05-02", "tags": ["meta"]}})
    notebook("no-cells", [], {"nbpress": {"title": "No cells at all", "date": "2024-05-03"}})
    notebook("expected-error", [
        new_raw_cell(front("An error that is the point")),
        with_meta(new_code_cell("1 / 0"), tags=["raises-exception"]),
        new_code_cell("print('went on')"),
    ])
    # --- outputs that need care ----------------------------------------------------------
    notebook("huge-output", [
        new_raw_cell(front("Fifty megabytes of text")),
        new_code_cell("import sys\nline = 'x' * 99 + '\\n'\nfor _ in range(500):\n"
                      "    sys.stdout.write(line * 1000)\nprint('end')"),
    ])
    notebook("many-figures", [
        new_raw_cell(front("Five hundred figures")),
        new_code_cell("import base64\nfrom IPython.display import Image, display\n"
                      f"png = base64.b64decode('{PNG_1PX}')\nfor _ in range(500):\n"
                      "    display(Image(data=png, format='png'))"),
    ])
    notebook("unshowable-outputs", [
        new_raw_cell(front("Widgets, PDF and JavaScript")),
        new_code_cell("display({'application/vnd.jupyter.widget-view+json': {'model_id': 'abc',"
                      " 'version_major': 2, 'version_minor': 0}}, raw=True)"),
        new_code_cell("display({'application/pdf': 'JVBERi0xLjQK'}, raw=True)"),
        new_code_cell("from IPython.display import Javascript\nJavascript('alert(1)')"),
        new_code_cell("print('still here')"),
    ])
    notebook("non-utf8-stream", [
        new_raw_cell(front("Bytes that are not UTF-8")),
        # ipykernel forwards what is written to fd 1 from a thread of its own: the pause lets
        # it arrive before the cell ends (bytes written in a cell's last instant can be lost).
        new_code_cell("import os, sys, time\nsys.stdout.flush()\nos.write(1, b'bad \\xff\\xfe bytes\\n')\n"
                      "time.sleep(0.5)\nsys.stdout.flush()\nprint('ok')"),
    ])
    notebook("corrupt-image", [
        new_raw_cell(front("A corrupt image")),
        new_code_cell("display({'image/png': 'this is not base64!', 'text/plain': 'x'}, raw=True)"),
        new_code_cell("display({'image/png': 'aGVsbG8='}, raw=True)  # valid base64, not a PNG"),
    ])
    notebook("unsafe-html", [
        new_raw_cell(front("Unsafe HTML outputs")),
        new_code_cell("from IPython.display import HTML\n"
                      "HTML('<p id=\"safe\">kept</p><script>document.title=\"pwned\"</script>'\n"
                      "     '<img src=\"x\" onerror=\"document.title=\\'pwned\\'\">'\n"
                      "     '<a id=\"js\" href=\"javascript:document.title=\\'pwned\\'\">click</a>')"),
    ])
    # --- failures: each a clear error, last good version kept -----------------------------
    notebook("fail-raises", [
        new_raw_cell(front("Raises")),
        new_code_cell("x = 1"),
        new_code_cell("raise ValueError('the data file is empty')"),
    ])
    notebook("fail-hangs", [
        new_raw_cell(front("Hangs", "timeout: 3\n")),
        new_code_cell("import time\ntime.sleep(600)"),
    ])
    notebook("fail-exit", [
        new_raw_cell(front("Exits")),
        new_code_cell("import os\nos._exit(3)"),
    ])
    notebook("fail-segfault", [
        new_raw_cell(front("Segfaults")),
        new_code_cell("import ctypes\nctypes.string_at(0)"),
    ])
    raw_file("fail-not-json.ipynb", "{ this is not JSON\n")
    raw_file("fail-not-notebook.ipynb", json.dumps({"name": "a JSON file", "items": [1, 2]}))
    raw_file("fail-nbformat.ipynb", json.dumps({"nbformat": 2, "nbformat_minor": 0, "cells": []}))
    notebook("fail-yaml", [new_raw_cell("---\ntitle: ok\ndate: 2024-01-01\ntags: [a, b\n---"),
                           new_code_cell("1")])
    notebook("fail-no-title", [new_raw_cell("---\ndate: 2024-01-01\n---"), new_code_cell("1")])
    notebook("fail-no-date", [new_raw_cell("---\ntitle: No date\n---"), new_code_cell("1")])
    notebook("fail-date", [new_raw_cell("---\ntitle: Bad date\ndate: 01/02/2024\n---"), new_code_cell("1")])
    notebook("fail-no-front-matter", [new_code_cell("1")])
    notebook("fail-slug-escape", [new_raw_cell(front("Escaping slug", "slug: ../../outside\n")),
                                  new_code_cell("1")])
    notebook("dup-slug-a", [new_raw_cell(front("Duplicate A", "slug: same-url\n")), new_code_cell("1")])
    notebook("dup-slug-b", [new_raw_cell(front("Duplicate B", "slug: same-url\n")), new_code_cell("1")])
    raw_file("bad name!.ipynb", json.dumps(nbformat.v4.new_notebook(), default=str))
    # A post whose figure folder would be the blog's avatar picture.
    notebook("avatar.svg", [
        new_raw_cell(front("Collides with an asset")),
        new_code_cell("import matplotlib.pyplot as plt\nplt.plot([1]); plt.show()"),
    ])


if __name__ == "__main__":
    main()
    print(len(list(HERE.glob("*.ipynb"))), "notebooks written")
