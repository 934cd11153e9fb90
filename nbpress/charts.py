"""Interactive charts: plotly, Vega-Lite and Vega (altair), bokeh and ipywidgets outputs.

One transform step, run by render.py on a cleaned notebook: each chart output becomes an
embed (its JSON in a `<script type="application/json">` that cannot end early) drawn on the
page by site_src/javascripts/charts.js with libraries the site serves itself, plus a static
form (the output's PNG, else a one-line note) for the feed and readers without JavaScript.
No script from an output is ever kept: plotly's and altair's HTML, bokeh's JavaScript and
its loader are replaced by their data. The step returns which libraries the page needs and
a warning for every interactive output that is still not shown.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

from .notebook import Key, Notebook, Output, code_outputs, note, outputs_of
from .notebook import text_of as _join
from .sanitize import sanitize_html

PLOTLY = "application/vnd.plotly.v1+json"
VEGALITE = tuple(f"application/vnd.vegalite.v{n}+json" for n in (6, 5, 4))
VEGA = tuple(f"application/vnd.vega.v{n}+json" for n in (6, 5))
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"
BOKEH_EXEC = "application/vnd.bokehjs_exec.v0+json"
BOKEH_LOAD = "application/vnd.bokehjs_load.v0+json"

# The versions vendored under site_src/vendor/ (README, "Interactive charts").
VENDORED = {
    "plotly.js": "4.1.1",
    "vega": "6.4.0",
    "vega-interpreter": "2.3.2",
    "vega-lite": "6.5.0",
    "vega-embed": "7.3.0",
    "bokeh": "3.9.2",
    "@jupyter-widgets/html-manager": "1.0.15",
}
# Libraries a page may ask for, in the order their scripts must load (vega-embed reads the
# vega-lite global when it loads); mkdocs.yml's extra.nbpress_charts maps each to its files.
LIBRARIES = ("plotly", "vega", "vega-lite", "vega-embed", "bokeh", "bokeh-widgets", "bokeh-tables", "widgets")
# Widget models the vendored manager draws itself; any other module would be fetched from a CDN.
_WIDGET_MODULES = ("@jupyter-widgets/base", "@jupyter-widgets/controls", "@jupyter-widgets/output")
_MODEL_REF = re.compile(r"IPY_MODEL_([0-9a-zA-Z_-]+)")
_UNSHOWN_NOTE = re.compile(r"^\[nbpress: (.+) cannot be shown on a static page\]\n?$")
# What altair's and bokeh's notebook HTML and JavaScript look like; only their data is taken.
_ALTAIR_DIV = re.compile(r'<div id="altair-viz-[0-9a-f]+">')
_BOKEH_TARGET = re.compile(
    r'^\s*<div id="[^"<>]+" data-root-id="[^"<>]+" style="display: contents;"></div>\s*$'
)
_BOKEH_LOADING = re.compile(r'class="bk-notebook-logo"')


@dataclass
class Charts:
    """What the step found: the libraries the page needs (in LIBRARIES order) and warnings."""

    libraries: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def kind(data: Mapping[str, object]) -> str | None:
    """Return which chart an output's data is ("plotly", "vega-lite", ...), or None.

    "bokeh-load" and "bokeh-target" are bokeh's loader and its empty target div: dropped,
    since the site brings its own BokehJS and its own element.
    """
    if PLOTLY in data:
        return "plotly"
    if any(m in data for m in VEGALITE):
        return "vega-lite"
    if any(m in data for m in VEGA):
        return "vega"
    if WIDGET_VIEW in data:
        return "widget"
    if BOKEH_EXEC in data:
        return "bokeh"
    if BOKEH_LOAD in data:
        return "bokeh-load"
    page = _join(data.get("text/html", ""))
    if _ALTAIR_DIV.search(page) and "vegaEmbed(" in page:
        return "altair-html"
    if _BOKEH_TARGET.match(page):
        return "bokeh-target"
    if _BOKEH_LOADING.search(page) and "Loading BokehJS" in page:
        return "bokeh-load"
    return None


def is_chart(data: Mapping[str, object]) -> bool:
    """Return True if `data` is a chart output this step turns into a safe embed."""
    return kind(data) is not None


def embed_json(value: object) -> str:
    """Return `value` as JSON that cannot end its <script> element or break a Markdown block.

    <, > and & become \\u escapes (no "</script>", no "<!--"), and so do U+2028 and U+2029.
    """
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    for char, escape in (
        ("<", "\\u003c"),
        (">", "\\u003e"),
        ("&", "\\u0026"),
        ("\u2028", "\\u2028"),
        ("\u2029", "\\u2029"),
    ):
        text = text.replace(char, escape)
    return text


def attach_widget_state(notebook: Notebook) -> Notebook:
    """Return the notebook with each widget view's saved state copied into that output, in place.

    nbclient saves widget state in the notebook's metadata, which the build cache does not
    keep; stored with the output (only the models that view reaches), it survives caching.
    """
    saved = notebook.get("metadata", {}).get("widgets", {}).get(WIDGET_STATE, {})
    state = saved.get("state", {}) if isinstance(saved, dict) else {}
    if not isinstance(state, dict) or not state:
        return notebook
    for output in code_outputs(notebook):
        view = output.get("data", {}).get(WIDGET_VIEW)
        if isinstance(view, dict) and view.get("model_id") in state:
            output.setdefault("metadata", {})[Key.WIDGET_STATE] = _reachable(state, str(view["model_id"]))
    return notebook


def _reachable(state: dict[str, object], root: str, ordered: bool = False) -> dict[str, object]:
    """Return the models of `state` that the model `root` refers to, itself included.

    Sorted by id, or with `ordered` in the order they are reached (depth first, in key order).
    """
    found: dict[str, object] = {}
    todo = [root]
    while todo:
        model_id = todo.pop()
        if model_id in found or model_id not in state:
            continue
        found[model_id] = state[model_id]
        todo.extend(reversed(_MODEL_REF.findall(json.dumps(state[model_id], sort_keys=True))))
    return found if ordered else dict(sorted(found.items()))


def transform(notebook: Notebook, rel_path: str) -> Charts:
    """Turn the chart outputs of a cleaned notebook into embeds, in place; return what the page needs.

    A chart output's data is replaced by its PNG (kept as a figure) or nothing, and its
    metadata gains `nbpress_chart`: the HTML of the embed, built here from data only.
    """
    found = Charts()
    needed: set[str] = set()
    widget_state: dict[str, object] = {}
    widgets: list[Output] = []
    for index, cell in enumerate(notebook.cells):
        if cell.cell_type != "code" or cell.metadata.get(Key.REMOVE):
            continue
        kept: list[Output] = []
        for number, output in enumerate(outputs_of(cell)):
            where = f"{rel_path}, cell {index + 1}"
            if output.get("output_type") == "stream":
                match = _UNSHOWN_NOTE.match(_join(output.get("text", "")))
                if match:
                    found.warnings.append(
                        f"{where}: {match.group(1)} is not shown on the page (an output nbpress cannot draw)"
                    )
                kept.append(output)
                continue
            data = output.get("data", {})
            what = kind(data) if output.get("output_type") in ("display_data", "execute_result") else None
            if what is None:
                kept.append(output)
                continue
            if what in ("bokeh-load", "bokeh-target"):
                continue
            element = f"nbpress-chart-{index}-{number}"
            try:
                libraries, body = _embed(what, data, output.get("metadata", {}), widget_state)
            except _Unshown as err:
                found.warnings.append(f"{where}: {err} is not shown on the page")
                # Its PNG as a plain figure when it has one, else the note unshowable outputs get.
                png = data.get("image/png")
                if png:
                    output["data"] = {"image/png": png}
                    kept.append(output)
                else:
                    kept.append(note(f"an interactive {_NAMES[what]} cannot be shown on a static page"))
                continue
            if what == "widget":
                widgets.append(output)
            needed.update(libraries)
            png = data.get("image/png")
            js_note = f"[nbpress: an interactive {_NAMES[what]}; it needs JavaScript]"
            output["data"] = {"image/png": png} if png else {}
            output.setdefault("metadata", {})[Key.CHART] = {
                "html": (
                    f'<div class="nbpress-chart nbpress-chart-{html.escape(what)}" id="{element}" '
                    f'data-nbpress-chart="{html.escape(what)}" data-search-exclude>{body}'
                    + ("" if png else f'<p class="nbpress-chart-note">{html.escape(js_note)}</p>')
                    + "</div>"
                ),
                "static": bool(png),
            }
            kept.append(output)
        cell.outputs = kept
    if widgets:
        _embed_widget_state(widgets, widget_state)
    found.libraries = [lib for lib in LIBRARIES if lib in needed]
    return found


def _embed_widget_state(widgets: list[Output], widget_state: dict[str, object]) -> None:
    """Put the page's one widget state in its first widget's embed; give models stable ids.

    The manager draws every view tag of the page from one state. Kernels name models with
    random ids; renamed in order of appearance, a re-execution publishes the same Markdown.
    """
    views = [re.search(r'"model_id":"([^"]+)"', w["metadata"][Key.CHART]["html"]) for w in widgets]
    order: list[str] = []
    for match in views:
        if match:
            order += [m for m in _reachable(widget_state, match.group(1), ordered=True) if m not in order]
    order += sorted(m for m in widget_state if m not in order)
    names = {old: f"nbpress-widget-{n}" for n, old in enumerate(order, 1)}
    pattern = re.compile("|".join(re.escape(old) for old in sorted(names, key=len, reverse=True)))

    def rename(text: str) -> str:
        return pattern.sub(lambda m: names[m.group(0)], text)

    state = {"version_major": 2, "version_minor": 0, "state": {names[k]: widget_state[k] for k in order}}
    tag = f'<script type="{WIDGET_STATE}">{rename(embed_json(state))}</script>'
    for number, output in enumerate(widgets):
        chart = output["metadata"][Key.CHART]
        chart["html"] = rename(chart["html"])
        if number == 0:
            chart["html"] = chart["html"].replace("data-search-exclude>", f"data-search-exclude>{tag}", 1)


_NAMES = {
    "plotly": "plotly chart",
    "vega-lite": "Vega-Lite chart",
    "vega": "Vega chart",
    "altair-html": "altair chart",
    "bokeh": "bokeh plot",
    "widget": "widget",
}


class _Unshown(Exception):
    """An interactive output that cannot be drawn; its message says why."""


def _script(kind_: str, value: object) -> str:
    """Return the <script> element holding a chart's JSON for charts.js; it never runs."""
    attributes = f'type="application/json" class="nbpress-chart-data" data-kind="{kind_}"'
    return f"<script {attributes}>{_checked_json(value)}</script>"


def _checked_json(value: object) -> str:
    """Return embed_json(value); raise _Unshown if it holds NaN or infinity (not JSON)."""
    try:
        return embed_json(value)
    except ValueError:
        raise _Unshown("a chart whose data holds NaN or infinity (not JSON)") from None


def _embed(
    what: str, data: Mapping[str, object], metadata: Mapping[str, object], widget_state: dict[str, object]
) -> tuple[list[str], str]:
    """Return (libraries, embed HTML) of one chart output; raise _Unshown if it cannot be drawn."""
    if what == "plotly":
        figure = data[PLOTLY]
        if not isinstance(figure, dict):
            raise _Unshown("a plotly chart without its figure")
        return ["plotly"], _script("plotly", _plotly_figure(figure))
    if what in ("vega-lite", "vega"):
        mime = next(m for m in (*VEGALITE, *VEGA) if m in data)
        return _vega(what, data[mime])
    if what == "altair-html":
        spec, options = _altair_spec(_join(data.get("text/html", "")))
        mode = "vega" if options.get("mode") == "vega" else "vega-lite"
        return _vega(mode, spec)
    if what == "bokeh":
        item = _bokeh_item(_join(data.get("application/javascript", "")))
        doc = item["doc"]
        return ["bokeh", *_bokeh_bundles(doc if isinstance(doc, dict) else {})], _script("bokeh", item)
    return _widget(data[WIDGET_VIEW], metadata, widget_state)


# Trace types whose map tiles or outlines plotly.js fetches from another site.
_PLOTLY_MAPS = {
    "scattergeo",
    "choropleth",
    "scattermapbox",
    "choroplethmapbox",
    "densitymapbox",
    "scattermap",
    "choroplethmap",
    "densitymap",
}


def _plotly_figure(figure: dict[str, object]) -> dict[str, object]:
    """Return the figure's data and layout; raise _Unshown for a map (its tiles are another site's).

    Layout images are kept only when embedded (data: URLs): any other would be fetched.
    """
    data = figure.get("data")
    traces: list[object] = data if isinstance(data, list) else []
    for trace in traces:
        kind_ = str(trace.get("type", "")) if isinstance(trace, dict) else ""
        if kind_ in _PLOTLY_MAPS:
            raise _Unshown(f"a plotly {kind_} map (its tiles or outlines would come from another site)")
    given = figure.get("layout")
    layout: dict[str, object] = dict(given) if isinstance(given, dict) else {}
    images = layout.get("images")
    if isinstance(images, list):
        layout["images"] = [
            image
            for image in images
            if isinstance(image, dict) and str(image.get("source", "")).startswith("data:")
        ]
    return {"data": traces, "layout": layout}


def _vega(mode: str, spec: object) -> tuple[list[str], str]:
    if not isinstance(spec, dict):
        raise _Unshown(f"a {mode} chart without its spec")
    return ["vega", "vega-embed", *(["vega-lite"] if mode == "vega-lite" else [])], _script(mode, spec)


def _altair_spec(page: str) -> tuple[object, dict[str, object]]:
    """Return (spec, embed options) from altair's HTML: the JSON arguments of its closing call."""
    start = page.rfind("})(")
    decoder = json.JSONDecoder()
    try:
        spec, end = decoder.raw_decode(page, start + 3)
        options, _ = decoder.raw_decode(page, page.index("{", end))
    except (ValueError, IndexError):
        raise _Unshown("an altair chart whose spec could not be read") from None
    return spec, options if isinstance(options, dict) else {}


def _bokeh_item(script: str) -> dict[str, object]:
    """Return bokeh's JSON item (doc, root_id) from the data in its notebook JavaScript.

    The script itself never runs: only the JSON values of `docs_json` and `render_items` are read.
    """
    decoder = json.JSONDecoder()
    try:
        docs, _ = decoder.raw_decode(script, script.index("const docs_json = ") + len("const docs_json = "))
        items, _ = decoder.raw_decode(
            script, script.index("const render_items = ") + len("const render_items = ")
        )
        doc_id = items[0]["docid"]
        root_id = next(iter(items[0]["roots"]))
        doc = docs[doc_id]
    except (ValueError, KeyError, IndexError, TypeError, StopIteration):
        raise _Unshown("a bokeh plot whose document could not be read") from None
    if doc.get("version") != VENDORED["bokeh"]:
        raise _Unshown(f"a bokeh {doc.get('version')} plot (the site serves BokehJS {VENDORED['bokeh']})")
    for model in _bokeh_models(doc):
        _bokeh_check(model)
    for root in doc.get("roots", []):
        attributes = root.get("attributes", {}) if isinstance(root, dict) else {}
        if (
            root.get("id") == root_id
            and "sizing_mode" not in attributes
            and isinstance(attributes.get("width"), int)
        ):
            # Scales down to a phone's column, never above the width the author chose.
            attributes["sizing_mode"] = "scale_width"
            attributes["max_width"] = attributes["width"]
    return {"doc": doc, "root_id": root_id, "version": doc.get("version")}


# A bokeh document is code as much as data: these models run JavaScript from the notebook
# (CustomJS*, templates, canvas textures), open any URL (OpenURL takes javascript:), put raw
# HTML on the page (bokeh.models.dom) or fetch from other sites (tiles, images, style sheets).
_BOKEH_REFUSED = (
    "CustomJS",
    "bokeh.models.dom.",
    "CustomLabelingPolicy",
    "CanvasTexture",
    "HTMLTemplateFormatter",
    "OpenURL",
    "ImportedStyleSheet",
    "GlobalImportedStyleSheet",
    "ImageURL",
)
# Models whose `text` BokehJS sets as HTML: sanitized like any HTML output.
_BOKEH_HTML_TEXT = ("Div", "HTMLTitle", "HTMLLabel", "HTMLLabelSet", "Markdown")


def _bokeh_models(value: object) -> Iterator[dict[str, object]]:
    """Yield every model object ({"type": "object", "name": ...}) inside a bokeh document."""
    if isinstance(value, dict):
        if value.get("type") == "object" and isinstance(value.get("name"), str):
            yield value
        for item in value.values():
            yield from _bokeh_models(item)
    elif isinstance(value, list):
        for item in value:
            yield from _bokeh_models(item)


def _bokeh_check(model: dict[str, object]) -> None:
    """Sanitize one bokeh model's HTML in place; raise _Unshown for one that would run code."""
    name = str(model["name"])
    if name.startswith(_BOKEH_REFUSED) or name.endswith("TileSource"):
        raise _Unshown(f"a bokeh plot with {name} (code, raw HTML or another site's files)")
    attributes = model.get("attributes")
    if not isinstance(attributes, dict):
        return
    if name in _BOKEH_HTML_TEXT and isinstance(attributes.get("text"), str):
        attributes["text"] = sanitize_html(attributes["text"])
    if name == "HoverTool" and isinstance(attributes.get("tooltips"), str):
        attributes["tooltips"] = sanitize_html(attributes["tooltips"])  # an HTML template
    if attributes.get("output_backend") == "webgl":
        attributes["output_backend"] = "canvas"  # the site does not serve bokeh-gl


def _bokeh_bundles(doc: dict[str, object]) -> list[str]:
    """Return the BokehJS bundles besides the core that the document's models live in."""
    import bokeh.models  # noqa: F401  (registers every model class)
    from bokeh.model import Model

    classes = Model.model_class_reverse_map
    modules = {classes[m["name"]].__module__ for m in _bokeh_models(doc) if m["name"] in classes}
    bundles = []
    if any(m.startswith("bokeh.models.widgets.") and not m.endswith(".tables") for m in modules):
        bundles.append("bokeh-widgets")
    if any(m.endswith("widgets.tables") for m in modules):
        bundles += ["bokeh-widgets", "bokeh-tables"]  # tables build on the widgets bundle
    return bundles


def _widget(
    view: object, metadata: Mapping[str, object], widget_state: dict[str, object]
) -> tuple[list[str], str]:
    state = metadata.get(Key.WIDGET_STATE)
    model_id = view.get("model_id") if isinstance(view, dict) else None
    if not isinstance(state, dict) or model_id not in state:
        raise _Unshown("a widget without saved state (re-run the post with --force)")
    # Both the model's and the view's code: the manager fetches any other package from a CDN.
    modules = {
        str(module)
        for m in state.values()
        if isinstance(m, dict)
        for module in (m.get("model_module"), (m.get("state") or {}).get("_view_module"))
        if module is not None
    }
    foreign = sorted(modules - set(_WIDGET_MODULES))
    if foreign:
        raise _Unshown(f"a widget from {foreign[0]} (only ipywidgets' own widgets are drawn)")
    safe = {key: _safe_model(model) for key, model in state.items()}
    _checked_json(safe)
    widget_state.update(safe)
    tag = {"model_id": str(model_id), "version_major": 2, "version_minor": 0}
    return ["widgets"], f'<script type="{WIDGET_VIEW}">{embed_json(tag)}</script>'


def _safe_model(model: dict[str, object]) -> dict[str, object]:
    """Return a widget model whose HTML is sanitized: HTML widgets' values, HTML descriptions,
    and the outputs an Output widget holds (the manager would run their scripts).

    Raises _Unshown for a widget that would load another site's file.
    """
    model = json.loads(json.dumps(model))
    found = model.get("state")
    state: dict[str, object] = found if isinstance(found, dict) else {}
    name = str(model.get("model_name", ""))
    # The page may ask no other site for anything: media from a URL, CSS url() in styles.
    if name in ("ImageModel", "VideoModel", "AudioModel") and state.get("format") == "url":
        raise _Unshown(f"a widget showing a file from a URL ({name[:-5]})")
    styled = name == "LayoutModel" or name.endswith("StyleModel")
    if styled and any(isinstance(v, str) and "url(" in v.lower() for v in state.values()):
        raise _Unshown("a widget whose style loads a URL")
    if name in ("HTMLModel", "HTMLMathModel") and isinstance(value := state.get("value"), str):
        state["value"] = sanitize_html(value)
    if state.get("description_allow_html") and isinstance(text := state.get("description"), str):
        state["description"] = sanitize_html(text)
    if name == "OutputModel" and isinstance(outputs := state.get("outputs"), list):
        state["outputs"] = [_safe_output(o) for o in outputs if isinstance(o, dict)]
    return model


def _safe_output(output: dict[str, object]) -> dict[str, object]:
    """Return an Output widget's output with only text, images and sanitized HTML left."""
    if output.get("output_type") not in ("display_data", "execute_result"):
        return output
    found = output.get("data")
    data: dict[str, object] = found if isinstance(found, dict) else {}
    kept: dict[str, object] = {m: data[m] for m in ("text/plain", "image/png", "image/jpeg") if m in data}
    if "text/html" in data:
        kept["text/html"] = sanitize_html(_join(data["text/html"]))
    return {**output, "data": kept}
