"""Widget state (issue 20, section 2): every route by which a saved widget reaches the page.

Views swapped onto other models, links copying values into markup, hand-written state (values
as lists, an old `controls` version whose descriptions are HTML), Output widgets holding any
kind of output, styles and media loading another host's files, and the text channels of the
other views (descriptions, options, titles). The build keeps only the (model, view) pairs
ipywidgets defines and sanitizes every HTML route (nbpress/rendering/charts.py).
"""

from __future__ import annotations

from tests.attack_kit import Posts, pwn


def img(tag: str) -> str:
    """Return HTML whose image error handler marks attack `tag`."""
    return f'<img src="missing.png" onerror="{pwn(tag)}">'


# Displays a widget from state written by hand: the kernel's own state of `root` (and `extra`),
# changed by `mutate` and given new ids, so nbclient's saved copy does not replace it.
HAND = """import json
import ipywidgets as w
from ipywidgets.embed import dependency_state
from IPython.display import display

def hand(root, mutate=lambda state, ids: None, extra=()):
    state = dependency_state([root, *extra], drop_defaults=False)
    text = json.dumps(state, default=str)
    for old in list(state):
        text = text.replace(old, 'hand-' + old)
    state = json.loads(text)
    mutate(state, {m: 'hand-' + m.model_id for m in [root, *extra]})
    view = {'model_id': 'hand-' + root.model_id, 'version_major': 2, 'version_minor': 0}
    display({'application/vnd.jupyter.widget-view+json': view, 'text/plain': 'widget'}, raw=True,
            metadata={'nbpress_widget_state': state})
"""

POSTS: Posts = {}
CLICKS: dict[str, str] = {}

POSTS["widgets-view-swap"] = (
    {},
    [
        # A text widget drawn by the view that writes its value as HTML.
        (
            "import ipywidgets as w\n"
            f"label = w.Label({img('label-htmlview')!r})\nlabel._view_name = 'HTMLView'\nlabel",
            [],
        ),
        (f"area = w.Textarea({img('textarea-htmlview')!r})\narea._view_name = 'HTMLMathView'\narea", []),
        (f"text = w.Text({img('text-htmlview')!r})\ntext._view_name = 'HTMLView'\ntext", []),
    ],
)
POSTS["widgets-links"] = (
    {},
    [
        # Links are models of the state: a box holding one draws it (its view fails, the link works).
        (
            f"import ipywidgets as w\nsource = w.Text({img('jsdlink-html')!r})\ntarget = w.HTML('x')\n"
            "w.VBox([source, target, w.jsdlink((source, 'value'), (target, 'value'))])",
            [],
        ),
        (
            f"area = w.Textarea({img('jslink-htmlmath')!r})\nmath = w.HTMLMath('y')\n"
            "w.VBox([area, math, w.jslink((area, 'value'), (math, 'value'))])",
            [],
        ),
        (
            f"name = w.Text({img('jsdlink-description')!r})\n"
            "box = w.Checkbox(description='z', description_allow_html=True)\n"
            "w.VBox([name, box, w.jsdlink((name, 'value'), (box, 'description'))])",
            [],
        ),
        (
            f"flag = w.Checkbox(True)\nplain = w.Button(description={img('jsdlink-allow-html')!r})\n"
            "slider = w.IntSlider(description=" + repr(img("jsdlink-allow-html-slider")) + ")\n"
            "w.VBox([flag, slider, w.jsdlink((flag, 'value'), (slider, 'description_allow_html'))])",
            [],
        ),
    ],
)
POSTS["widgets-hand-state"] = (
    {},
    [
        (
            HAND + "html = w.HTML('x')\n"
            "def as_list(state, ids):\n"
            f"    state[ids[html]]['state']['value'] = [{img('html-value-list')!r}]\n"
            "hand(html, as_list)",
            [],
        ),
        (
            "label = w.Label('x', description='d')\n"
            "def old_controls(state, ids):\n"
            "    for model in state.values():\n"
            "        if model['model_module'] == '@jupyter-widgets/controls':\n"
            "            model['model_module_version'] = model['state']['_model_module_version'] = '1.5.0'\n"
            "            model['state']['_view_module_version'] = '1.5.0'\n"
            f"    state[ids[label]]['state']['description'] = {img('controls-1.5-description')!r}\n"
            "hand(label, old_controls)",
            [],
        ),
        (
            "check = w.Checkbox(description='c', description_allow_html=True)\n"
            "def truthy(state, ids):\n"
            "    state[ids[check]]['state']['description_allow_html'] = []  # true to JavaScript\n"
            f"    state[ids[check]]['state']['description'] = [{img('description-list')!r}]\n"
            "hand(check, truthy)",
            [],
        ),
        (
            "html2 = w.HTML('x')\n"
            "def model_swap(state, ids):\n"
            "    state[ids[html2]]['state']['_model_name'] = 'LabelModel'\n"
            "    state[ids[html2]]['model_name'] = 'LabelModel'\n"
            f"    state[ids[html2]]['state']['value'] = {img('label-model-html-view')!r}\n"
            "hand(html2, model_swap)",
            [],
        ),
    ],
)
OUTPUTS = [
    {
        "output_type": "update_display_data",
        "data": {"text/html": img("output-update-display")},
        "metadata": {},
    },
    {"output_type": "display_data", "data": {"text/html": img("output-display")}, "metadata": {}},
    {
        "output_type": "execute_result",
        "data": {"text/html": img("output-result")},
        "metadata": {},
        "execution_count": 1,
    },
    {"output_type": "display_data", "data": {"text/markdown": img("output-markdown")}, "metadata": {}},
    {
        "output_type": "display_data",
        "data": {"application/javascript": pwn("output-javascript")},
        "metadata": {},
    },
    {
        "output_type": "display_data",
        "data": {"image/svg+xml": f'<svg xmlns="http://www.w3.org/2000/svg" onload="{pwn("output-svg")}"/>'},
        "metadata": {},
    },
    {"output_type": "stream", "name": "stdout", "text": img("output-stream")},
    {
        "output_type": "error",
        "ename": "E",
        "evalue": img("output-error"),
        "traceback": [img("output-traceback")],
    },
]
POSTS["widgets-output"] = (
    {},
    [
        (
            HAND + "out = w.Output()\n"
            "def outputs(state, ids):\n"
            f"    state[ids[out]]['state']['outputs'] = {OUTPUTS!r}\n"
            "hand(out, outputs)",
            [],
        ),
        # The kernel's own Output widget, captured by nbclient: a display and its update.
        (
            "from IPython.display import HTML\nlive = w.Output()\nwith live:\n"
            "    handle = display(HTML('first'), display_id=True)\n"
            f"    handle.update(HTML({img('output-live-update')!r}))\n"
            f"    display(HTML({img('output-live')!r}))\nlive",
            [],
        ),
    ],
)
POSTS["widgets-style"] = (
    {},
    [
        (
            "import ipywidgets as w\n"
            "w.HTML('a', style={'background': 'image-set(\"http://example.invalid/set.png\" 1x)'})",
            [],
        ),
        ("w.HTML('b', style={'background': '\\\\75 rl(http://example.invalid/escape.png)'})", []),
        ("w.Label('c', style={'background': 'url(//example.invalid/slashes.png)'})", []),
        (
            "w.Button(description='d', style={'font_family': 'x; background-image: url(http://example.invalid/d.png)'})",
            [],
        ),
        ("w.Box([w.Label('e')], layout=w.Layout(border='1px solid red', grid_area='\\\\75 rl(x)'))", []),
        ("w.Image.from_url('http://example.invalid/image.png')", []),
        ("w.Video.from_url('http://example.invalid/video.mp4')", []),
    ],
)
CHANNELS = [
    ("w.Checkbox(description={}, description_allow_html=True)", "checkbox-description"),
    ("w.IntSlider(description={}, description_allow_html=True)", "slider-description"),
    ("w.Button(description={0}, tooltip={0})", "button-description"),
    ("w.Dropdown(options=[{}])", "dropdown-option"),
    ("w.Select(options=[{}])", "select-option"),
    ("w.RadioButtons(options=[{}])", "radio-option"),
    ("w.ToggleButtons(options=[{}])", "toggle-option"),
    ("w.Combobox(options=[{0}], placeholder={0})", "combobox-option"),
    ("w.TagsInput(value=[{}])", "tags-value"),
    ("w.Label({})", "label-value"),
    ("w.Textarea({})", "textarea-value"),
    ("w.HTMLMath({} + ' $x^2$')", "htmlmath-value"),
    ("w.HTML({})", "html-value"),
    ("w.Tab([w.Label('t')], titles=[{}])", "tab-title"),
    ("w.Accordion([w.Label('a')], titles=[{}])", "accordion-title"),
]
POSTS["widgets-text-channels"] = (
    {},
    [
        (
            "import ipywidgets as w\nw.VBox([\n"
            + "".join(f"    {call.format(repr(img(tag)))},\n" for call, tag in CHANNELS)
            + "])",
            [],
        )
    ],
)
CLICKS["widgets-text-channels"] = (
    ".widget-button, .widget-toggle-button, .lm-TabBar-tab, .jupyter-widget-Collapse-header"
)
CLICKS["widgets-links"] = ".widget-checkbox input"
