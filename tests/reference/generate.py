"""Write the reference course in this folder: `python tests/reference/generate.py`.

A course that uses every kind of output a tutorial has, for tests/test_reference.py to build
with nbpress and compare, output by output, with Jupyter's own rendering of the same executed
notebook (`nbconvert --to html`). Every code cell starts with `# ref: <name>`, the name the
test knows it by. The notebooks are committed without outputs; this script documents them.
"""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_raw_cell

HERE = Path(__file__).resolve().parent
KERNEL = {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}}

LOGO = (
    '<svg xmlns="http://www.w3.org/2000/svg" width="120" height="40" viewBox="0 0 120 40">'
    '<rect width="120" height="40" fill="#1e78c8"/><circle cx="100" cy="20" r="12" fill="#f5b800"/></svg>\n'
)


def code(name: str, source: str, tags: list[str] | None = None) -> nbformat.NotebookNode:
    cell: nbformat.NotebookNode = new_code_cell(f"# ref: {name}\n{source}")
    if tags:
        cell.metadata["tags"] = tags
    return cell


def notebook(name: str, title: str, date: str, cells: list[nbformat.NotebookNode]) -> None:
    nb = new_notebook(metadata=KERNEL)
    nb.cells = [new_raw_cell(f'---\ntitle: "{title}"\ndate: {date}\ncategories: [reference]\n---'), *cells]
    for i, cell in enumerate(nb.cells):
        cell["id"] = f"c{i}"
    text = json.dumps(nb, indent=1, sort_keys=True, ensure_ascii=False)
    (HERE / f"{name}.ipynb").write_text(text + "\n", encoding="utf-8")


def main() -> None:
    for old in HERE.glob("*.ipynb"):
        old.unlink()
    (HERE / "images").mkdir(exist_ok=True)
    (HERE / "images" / "logo.svg").write_text(LOGO, encoding="utf-8")

    notebook(
        "ref-math-and-tables",
        "Math, pictures and tables",
        "2024-07-01",
        [
            new_markdown_cell(
                "# Math, pictures and tables\n\n"
                "We fit the line $y = \\beta_0 + \\beta_1 x$ to the points, so that each "
                "$\\hat y_i$ stays in its sentence. The sum of squared errors is\n\n"
                "$$\nSSE = \\sum_{i=1}^{n} (y_i - \\beta_0 - \\beta_1 x_i)^2\n$$ {#eq-sse}\n\n"
                "and @eq-sse is what the fit makes smallest."
            ),
            code("palette", 'import seaborn as sns\nsns.color_palette("husl", 4)'),
            code(
                "svg-xmlns",
                "from IPython.display import SVG, Markdown, display\n"
                'SVG(\'<svg xmlns="http://www.w3.org/2000/svg" height="100" width="100">'
                '<circle cx="50" cy="50" r="40" stroke="black" stroke-width="2" fill="red"/></svg>\')',
            ),
            code(
                "svg-bare",
                'SVG(\'<svg height="100" width="100">'
                '<circle cx="50" cy="50" r="40" stroke="black" stroke-width="2" fill="#3070b0"/></svg>\')',
            ),
            code(
                "markdown",
                "display(Markdown('Some **bold** text, the logo ![the logo](images/logo.svg) "
                "and $x^2$ inline.'))",
            ),
            code(
                "figure",
                "import matplotlib.pyplot as plt\nplt.plot([1, 3, 2, 4])\nplt.title('A line')\nplt.show()",
            ),
            code(
                "dataframe",
                "import pandas as pd\n"
                "df = pd.DataFrame({'x': [1.0, 2.0, 3.0], 'y': [2.1, 3.9, 6.2],\n"
                "                   'label': ['a', 'b', 'c']})\ndf",
            ),
            code(
                "styler",
                "df.style.highlight_max(subset=['y'], color='yellow').format({'x': '{:.1f}', 'y': '{:.2f}'})",
            ),
            code(
                "multiindex",
                "cols = pd.MultiIndex.from_product([['train', 'test'], ['loss', 'acc']])\n"
                "rows = pd.MultiIndex.from_product([['model A', 'model B'], [1, 2]],\n"
                "                                  names=['model', 'run'])\n"
                "pd.DataFrame([[0.5, 0.8, 0.6, 0.7], [0.4, 0.85, 0.55, 0.75],\n"
                "              [0.3, 0.9, 0.5, 0.8], [0.25, 0.92, 0.45, 0.82]], index=rows, columns=cols)",
            ),
            code(
                "wide",
                "pd.DataFrame([[r * c for c in range(20)] for r in range(3)],\n"
                "             columns=[f'feature_{c}' for c in range(20)])",
            ),
            code(
                "sympy",
                "import sympy\nx = sympy.symbols('x')\nsympy.init_printing()\n"
                "sympy.Integral(sympy.exp(-x**2), (x, -sympy.oo, sympy.oo))",
            ),
            code(
                "log",
                "for epoch in range(1, 4):\n"
                "    print(f'Epoch {epoch}/3')\n"
                "    print(f'32/32 \\u2501\\u2501\\u2501\\u2501\\u2501\\u2501\\u2501\\u2501\\u2501\\u2501"
                "\\u2501\\u2501\\u2501\\u2501\\u2501\\u2501\\u2501\\u2501\\u2501\\u2501 0s 3ms/step - "
                "loss: {0.9 / epoch:.4f} - mae: {0.7 / epoch:.4f} - val_loss: {1.0 / epoch:.4f} - "
                "val_mae: {0.8 / epoch:.4f}')",
            ),
            code(
                "long-code",
                "values = {'alpha': 0.001, 'beta': 0.999, 'gamma': 0.5, 'delta': 12, 'epsilon': 1e-8, "
                "'learning_rate': 3e-4}  # a long line of code keeps scrolling\nlen(values)",
            ),
            code("error", "1 / 0", tags=["raises-exception"]),
        ],
    )
    notebook(
        "ref-charts",
        "Charts and widgets",
        "2024-07-02",
        [
            new_markdown_cell("# Charts and widgets\n\nLive charts with math in their labels."),
            code(
                "plotly",
                "import plotly.graph_objects as go\n"
                "fig = go.Figure(go.Scatter(x=[1, 2, 3], y=[350, 352, 355]))\n"
                "fig.update_layout(title='$\\\\alpha_{1c} = 352 \\\\pm 11$', width=500, height=350)\nfig",
            ),
            code(
                "altair",
                "import altair as alt\nimport pandas as pd\n"
                "points = pd.DataFrame({'x': [1, 2, 3, 4], 'y': [3, 1, 4, 2]})\n"
                "alt.Chart(points).mark_line().encode(x='x', y='y').properties(width=300, height=200)",
            ),
            code(
                "bokeh",
                "from bokeh.io import output_notebook, show\nfrom bokeh.plotting import figure\n"
                "output_notebook(hide_banner=True)\n"
                "p = figure(width=300, height=200, title='bokeh')\np.line([1, 2, 3], [3, 1, 2])\nshow(p)",
            ),
            code(
                "widget",
                "import ipywidgets as widgets\n"
                "widgets.FloatSlider(value=0.5, min=0, max=1, description='$\\\\alpha$ rate')",
            ),
        ],
    )


if __name__ == "__main__":
    main()
