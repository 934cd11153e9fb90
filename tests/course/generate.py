"""Write the tutorial course in this folder: `python tests/course/generate.py`.

A small course as a teacher would move it into the blog: notebooks that link each other
(with and without Jupyter-style anchors, one by a date-prefixed name, one in a text format),
local images in subfolders, wide tables and formulas, SymPy and seaborn palette outputs,
interactive matplotlib backends, raw cells of several formats, and two notebooks with odd
metadata (another kernel, a kernelspec without a name). tests/test_course.py builds it.
The files are committed; this script documents how they were made.
"""

from __future__ import annotations

import json
import shutil
import struct
import zlib
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_raw_cell

HERE = Path(__file__).resolve().parent
KERNEL = {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}}


def png(width: int, height: int, rgb: tuple[int, int, int]) -> bytes:
    """Return a PNG of one colour (no imaging library needed)."""
    row = b"\x00" + bytes(rgb) * width
    raw = zlib.compress(row * height)

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", raw) + chunk(b"IEND", b"")


def front(title: str, date: str = "2024-06-01", extra: str = "") -> str:
    return f'---\ntitle: "{title}"\ndate: {date}\ncategories: [course]\n{extra}---'


def raw(text: str, fmt: str | None) -> nbformat.NotebookNode:
    cell: nbformat.NotebookNode = new_raw_cell(text)
    if fmt is not None:
        cell.metadata["raw_mimetype"] = fmt
    return cell


def notebook(
    name: str, cells: list[nbformat.NotebookNode], metadata: dict[str, object] | None = None
) -> None:
    nb = new_notebook(metadata=KERNEL)
    nb.cells = cells
    for i, cell in enumerate(nb.cells):
        cell["id"] = f"c{i}"
    if metadata is not None:
        nb.metadata = metadata  # written as given, even where nbformat's schema objects
    text = json.dumps(nb, indent=1, sort_keys=True, ensure_ascii=False)
    (HERE / f"{name}.ipynb").write_text(text + "\n", encoding="utf-8")


def main() -> None:
    for old in [*HERE.glob("*.ipynb"), *HERE.glob("*.py")]:
        if old.name != "generate.py":
            old.unlink()
    for folder in ("img", "figures", "notes"):
        shutil.rmtree(HERE / folder, ignore_errors=True)
    (HERE / "img").mkdir()
    (HERE / "figures" / "sub").mkdir(parents=True)
    (HERE / "notes").mkdir()
    (HERE / "img" / "logo.png").write_bytes(png(64, 32, (30, 120, 200)))
    (HERE / "figures" / "sub" / "diagram.png").write_bytes(png(40, 40, (200, 80, 40)))
    (HERE / "figures" / "steps.svg").write_text(
        '<svg xmlns="http://www.w3.org/2000/svg" width="120" height="40" viewBox="0 0 120 40">'
        '<rect width="120" height="40" fill="#4a8"/><text x="10" y="25">steps</text></svg>\n',
        encoding="utf-8",
    )
    (HERE / "data.csv").write_text("x,y\n1,2\n3,4\n", encoding="utf-8")
    # A notebook that is not a post: it lives in a subfolder of posts/.
    nbformat.write(
        new_notebook(cells=[new_markdown_cell("scratch")], metadata=KERNEL), HERE / "notes" / "scratch.ipynb"
    )

    notebook(
        "01-welcome",
        [
            raw(front("Welcome to the course", "2024-06-01"), None),
            new_markdown_cell(
                "# Welcome\n\n![The course logo](img/logo.png)\n\n"
                "This course has [several parts](#What-you-will-learn). Start with "
                "[symbols](symbols.ipynb), then [wide tables](./03-tables.ipynb#Wide-Tables) "
                "and [dates](dates.ipynb#Parsing-Dates).\n\n"
                "The `[not a link](02-numbers.ipynb)` in code stays as written.\n\n"
                "Data for the exercises: [data.csv](data.csv)."
            ),
            new_markdown_cell(
                "| part | picture |\n| --- | --- |\n| [Figures](04-figures.ipynb#Interactive-Figures) "
                "| ![a diagram](figures/sub/diagram.png) |\n\n> Quoted: [the palettes](05-palettes.ipynb)."
            ),
            new_markdown_cell(
                "## What you will learn\n\n1. Numbers\n2. Tables\n3. Figures\n\n"
                "See also [the figures part][figs].\n\n[figs]: 04-figures.ipynb#Interactive-Figures"
            ),
            new_code_cell("print('welcome')"),
        ],
    )
    # A percent-format text source, linked as if it were a notebook.
    (HERE / "symbols.py").write_text(
        "# ---\n# title: Numbers and symbols\n# date: 2024-06-02\n# categories: [course]\n# ---\n\n"
        "# %% [markdown]\n# # Numbers and symbols\n#\n# Back to the [welcome](01-welcome.ipynb#Welcome).\n\n"
        "# %%\nimport sympy\nx = sympy.symbols('x')\nsympy.init_printing()\n"
        "sympy.Integral(sympy.exp(-x**2), (x, -sympy.oo, sympy.oo))\n\n"
        "# %%\nsympy.Matrix([[1, x], [x**2, 1]])\n",
        encoding="utf-8",
    )
    notebook(
        "03-tables",
        [
            raw(front("Wide tables and formulas", "2024-06-03"), None),
            new_markdown_cell("# Wide Tables\n\nA table with many columns scrolls in its own box."),
            new_code_cell(
                "import pandas as pd\n"
                "pd.DataFrame([[f'value {r}-{c}' for c in range(24)] for r in range(4)],\n"
                "             columns=[f'column_{c}' for c in range(24)])"
            ),
            new_markdown_cell(
                "## A long formula\n\n$$\n"
                + " + ".join(f"\\frac{{a_{{{i}}} x^{{{i}}}}}{{{i}!}}" for i in range(1, 30))
                + "\n$$\n\nA Markdown table:\n\n| "
                + " | ".join(f"heading {i}" for i in range(16))
                + " |\n|"
                + "---|" * 16
                + "\n| "
                + " | ".join(f"cell {i}" for i in range(16))
                + " |"
            ),
            new_code_cell("print('-'.join(str(i) for i in range(400)))"),
            new_markdown_cell("Back to [the start](01-welcome.ipynb)."),
        ],
    )
    notebook(
        "04-figures",
        [
            raw(front("Interactive figures made static", "2024-06-04"), None),
            new_markdown_cell("# Interactive Figures\n\nThese cells ask for interactive backends."),
            new_code_cell(
                "%matplotlib widget\nimport matplotlib.pyplot as plt\nplt.plot([1, 3, 2])\nplt.show()"
            ),
            new_code_cell("%matplotlib notebook\nplt.figure()\nplt.bar([1, 2, 3], [3, 1, 2])\nplt.show()"),
            new_code_cell(
                "import matplotlib\nmatplotlib.use('nbagg')\n"
                "plt.figure()\nplt.scatter([1, 2], [2, 1])\nplt.show()"
            ),
            new_markdown_cell("![steps](figures/steps.svg)"),
        ],
    )
    notebook(
        "05-palettes",
        [
            raw(front("Palettes", "2024-06-05"), None),
            new_markdown_cell("# Palettes\n\nA seaborn palette and a colormap."),
            new_code_cell("import seaborn as sns\nsns.color_palette('viridis', 8)"),
            new_code_cell("import matplotlib\nmatplotlib.colormaps['plasma']"),
        ],
    )
    notebook(
        "06-raw-cells",
        [
            raw(front("Raw cells", "2024-06-06"), None),
            new_markdown_cell("# Raw cells\n\nOnly Markdown and HTML raw cells are published."),
            raw("**Raw Markdown** with a [link](01-welcome.ipynb).", "text/markdown"),
            raw('<p class="from-raw">Raw <b>HTML</b><script>alert(1)</script></p>', "text/html"),
            raw("A reST cell\n===========\n\n.. note:: left out", "text/restructuredtext"),
            raw("\\section{LaTeX} left out", "text/latex"),
            new_code_cell("print('after the raw cells')"),
        ],
    )
    notebook(
        "07-images",
        [
            raw(front("Local images", "2024-06-07"), None),
            new_markdown_cell(
                '# Local images\n\nAn inline <img src="figures/sub/diagram.png" width="40" alt="diagram"> '
                'image, and a centred one:\n\n<div align="center">\n<img src="figures/sub/diagram.png" '
                'alt="diagram again">\n</div>\n\nAnd the logo once more: ![logo](img/logo.png)'
            ),
            new_markdown_cell('An HTML link to <a href="03-tables.ipynb#Wide-Tables">the tables</a>.'),
            new_code_cell("1 + 1"),
        ],
    )
    notebook(
        "08-odd-links",
        [
            raw(front("Links that cannot be followed", "2024-06-08"), None),
            new_markdown_cell(
                "# Odd links\n\nA [scratch notebook](notes/scratch.ipynb) that is not a post, and an "
                "[anchor](#Odd-links) in this page."
            ),
            new_code_cell("print('odd links')"),
            new_code_cell("from IPython.display import Javascript\n\nJavascript('console.log(1)')"),
        ],
    )
    notebook(
        "2024-06-09-dates",
        [
            new_markdown_cell(
                "# Parsing Dates\n\nA date-prefixed file, linked as `dates.ipynb`.\n\n"
                "Before: [tables](03-tables.ipynb)."
            ),
            new_code_cell("import datetime\ndatetime.date(2024, 6, 9).isoformat()"),
        ],
        metadata={**KERNEL, "nbpress": {"title": "Dates", "categories": ["course"]}},
    )
    notebook(
        "09-display-error",
        [
            raw(front("An error while a result is displayed", "2024-06-09"), None),
            new_code_cell(
                "class Broken:\n    def _repr_html_(self):\n"
                "        raise ValueError('no HTML today')\n\nBroken()"
            ),
        ],
    )
    notebook(
        "12-missing-image",
        [
            raw(front("An image that is not there", "2024-06-12"), None),
            new_markdown_cell("# Missing\n\n![gone](img/missing.png)"),
            new_code_cell("print('never published')"),
        ],
    )
    notebook(
        "10-julia",
        [
            raw(front("A Julia notebook", "2024-06-10"), None),
            new_code_cell('println("hello from Julia")'),
        ],
        metadata={
            "kernelspec": {"name": "julia-1.10", "display_name": "Julia 1.10.0", "language": "julia"},
            "language_info": {"name": "julia"},
        },
    )
    notebook(
        "11-odd-metadata",
        [
            raw(front("A kernelspec without a name", "2024-06-11"), None),
            new_code_cell("print('built anyway')"),
        ],
        metadata={"kernelspec": {"display_name": "Python 3", "language": "python"}},
    )


if __name__ == "__main__":
    main()
