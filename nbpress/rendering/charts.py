"""Interactive charts: plotly, Vega-Lite and Vega (altair), bokeh and ipywidgets outputs.

The charts step of the chain (transform.py), on a cleaned notebook: each chart output becomes an
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

from ..errors import cell_place
from ..execution import reachable
from ..notebook import (
    PLOTLY,
    VEGA,
    VEGALITE,
    WIDGET_STATE,
    WIDGET_VIEW,
    Key,
    Notebook,
    Output,
    chart_kind,
    note,
    outputs_of,
)
from ..notebook import text_of as _join
from .mathtext import bokeh_text, has_math, plotly_text, unknown_commands
from .outputs import richest_form
from .sanitize import css_value, sanitize_html

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
# widget-math typesets the math of widgets' descriptions and labels with the site's KaTeX.
LIBRARIES = (
    "plotly", "vega", "vega-lite", "vega-embed", "bokeh", "bokeh-widgets", "bokeh-tables", "widgets",
    "widget-math",
)  # fmt: skip
# Widget models the vendored manager draws itself; any other module would be fetched from a CDN.
_WIDGET_MODULES = ("@jupyter-widgets/base", "@jupyter-widgets/controls", "@jupyter-widgets/output")
_UNSHOWN_NOTE = re.compile(r"^\[nbpress: (.+) cannot be shown on a static page\]\n?$")


@dataclass
class Charts:
    """What the step found: the libraries the page needs (in LIBRARIES order) and warnings."""

    libraries: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


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


def embed_charts(notebook: Notebook, rel_path: str) -> Charts:
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
            where = cell_place(rel_path, index + 1)
            if output.get("output_type") == "stream":
                match = _UNSHOWN_NOTE.match(_join(output.get("text", "")))
                if match:
                    found.warnings.append(
                        f"{where}: {match.group(1)} is not shown on the page (an output nbpress cannot draw)"
                    )
                kept.append(output)
                continue
            data = output.get("data", {})
            what = (
                chart_kind(data) if output.get("output_type") in ("display_data", "execute_result") else None
            )
            if what is None:
                kept.append(output)
                continue
            if what in ("bokeh-load", "bokeh-target"):
                continue
            element = f"nbpress-chart-{index}-{number}"
            removed: list[str] = []
            try:
                libraries, body = _embed(what, data, output.get("metadata", {}), widget_state, removed)
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
            found.warnings.extend(f"{where}: {line}" for line in removed)
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
            order += [m for m in reachable(widget_state, match.group(1), ordered=True) if m not in order]
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
    what: str,
    data: Mapping[str, object],
    metadata: Mapping[str, object],
    widget_state: dict[str, object],
    removed: list[str],
) -> tuple[list[str], str]:
    """Return (libraries, embed HTML) of one chart output; raise _Unshown if it cannot be drawn.

    What a rule removed from a chart that is still drawn is said in `removed`, one line each.
    """
    if what == "plotly":
        figure = data[PLOTLY]
        if not isinstance(figure, dict):
            raise _Unshown("a plotly chart without its figure")
        return ["plotly"], _script("plotly", _plotly_figure(figure, removed))
    if what in ("vega-lite", "vega"):
        mime = next(m for m in (*VEGALITE, *VEGA) if m in data)
        return _vega(what, data[mime], removed)
    if what == "altair-html":
        spec, options = _altair_spec(_join(data.get("text/html", "")))
        mode = "vega" if options.get("mode") == "vega" else "vega-lite"
        return _vega(mode, spec, removed)
    if what == "bokeh":
        item = _bokeh_item(_join(data.get("application/javascript", "")), removed)
        doc = item["doc"]
        return ["bokeh", *_bokeh_bundles(doc if isinstance(doc, dict) else {})], _script("bokeh", item)
    return _widget(data[WIDGET_VIEW], metadata, widget_state, removed)


# ---- plotly ----------------------------------------------------------------------------------

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
# Settings that fetch map outlines or tiles from another site (with a map's `style`).
_PLOTLY_REMOTE_KEYS = {"topojson", "topojsonurl", "mapboxaccesstoken", "accesstoken"}
# An image plotly may show: embedded raster data, or a file of the site (a relative URL).
_PLOTLY_IMAGE = re.compile(r"data:image/(?:png|jpeg|gif|webp);base64,[A-Za-z0-9+/=\s]*\Z", re.I)
_URL_SCHEME = re.compile(r"^\s*(?:[a-z][a-z0-9+.-]*:|[\\/]{2})", re.I)


def _plotly_figure(figure: dict[str, object], removed: list[str]) -> dict[str, object]:
    """Return the figure's data and layout, every part of them that would fetch a file removed.

    The whole figure is walked (traces, layout, layout.template, updatemenus' and sliders'
    arguments): an image `source` that is neither embedded raster data nor a file of the
    site, and map settings (mapbox, geo, topojson), are removed, each said in `removed`.
    Raises _Unshown for a map trace, or a button that would make one: its tiles are another
    site's. Frames are not kept (the site does not animate plotly charts).
    """
    data = figure.get("data")
    traces: list[object] = data if isinstance(data, list) else []
    layout = figure.get("layout")
    clean = _plotly_clean({"data": traces, "layout": layout if isinstance(layout, dict) else {}}, "", removed)
    assert isinstance(clean, dict)
    return clean


def _plotly_clean(value: object, path: str, removed: list[str]) -> object:
    """Return `value` (a part of a plotly figure at `path`) without what would fetch a file.

    A text plotly.js would typeset as math with MathJax (`$\\alpha_{1c}$`) becomes plotly's
    own markup (nbpress.rendering.mathtext.plotly_text): the site loads no MathJax. A command it cannot
    read is shown as its name, said in `removed`.
    """
    if isinstance(value, str):
        converted = plotly_text(value)
        if converted.unknown:
            removed.append(
                f"the plotly text {path} uses LaTeX the site cannot typeset "
                f"({', '.join(converted.unknown)}): it is shown as plain text"
            )
        return converted.text
    if isinstance(value, list):
        return [_plotly_clean(item, f"{path}[{n}]", removed) for n, item in enumerate(value)]
    if not isinstance(value, dict):
        return value
    kept: dict[str, object] = {}
    for key, item in value.items():
        where = f"{path}.{key}" if path else str(key)
        # Keys of relayout and restyle arguments name a path themselves: "images[0].source".
        parts = [p for p in re.split(r"[.\[\]]+", str(key).lower()) if p and not p.isdigit()]
        # A template's per-type defaults (template.data.choropleth) make no trace; a "type" elsewhere does.
        maps = [t for t in (item if isinstance(item, list) else [item]) if str(t) in _PLOTLY_MAPS]
        if key == "type" and maps and "template.data" not in where:
            raise _Unshown(
                f"a plotly chart with a {maps[0]} map (its tiles or outlines would come from another site)"
            )
        map_style = parts[-1:] == ["style"] and (
            "mapbox" in parts or "map" in parts or path.endswith(("mapbox", "map"))
        )
        if map_style or any(p in _PLOTLY_REMOTE_KEYS for p in parts):
            removed.append(f"the plotly setting {where} was removed (maps load another site's files)")
            continue
        if parts and parts[-1] == "source" and isinstance(item, str) and not _plotly_local(item):
            removed.append(f"the plotly image {where} was removed (it is not embedded or on the site)")
            continue
        kept[key] = _plotly_clean(item, where, removed)
    return kept


def _plotly_local(source: str) -> bool:
    """Return True if an image source is embedded raster data or a file of the site."""
    source = re.sub(r"[\x00-\x20\x7f]", "", source)  # what a browser's URL parser skips too
    if _PLOTLY_IMAGE.match(source):
        return True
    return not _URL_SCHEME.match(source) and "\\" not in source


# ---- Vega and Vega-Lite ----------------------------------------------------------------------


def _vega(mode: str, spec: object, removed: list[str]) -> tuple[list[str], str]:
    """Return a Vega or Vega-Lite chart's embed: its spec without `usermeta`.

    vega-embed reads `usermeta.embedOptions` from the spec over the options the site gives
    (its actions menu, its editor URL, its loader): the site's options are not the spec's to
    change. charts.js deletes `usermeta` again before drawing.
    """
    if not isinstance(spec, dict):
        raise _Unshown(f"a {mode} chart without its spec")
    if "usermeta" in spec:
        spec = {k: v for k, v in spec.items() if k != "usermeta"}
        removed.append(
            f"the {mode} chart's usermeta was removed (a chart may not set the site's embed options)"
        )
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


def _bokeh_item(script: str, removed: list[str]) -> dict[str, object]:
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
    _bokeh_doc_check(doc, removed)
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


# The bokeh models that only draw data: plots, renderers, glyphs, axes, tickers, formatters,
# ranges, scales, mappers, annotations, legends, plain data sources, tools that run no code and
# write no HTML, layouts and plain widgets. Any other model is refused, whatever it is: code
# (CustomJS*, *JS* formatters and filters, callbacks such as SetValue or OpenURL), HTML or DOM
# (Div, Markdown, HTML annotations, bokeh.models.dom, icons with markup, tooltips, menus,
# dialogs, panes), other sites' files (ImageURL, tiles, web data sources, style sheets) and
# models of versions or extensions this list has not met. Checked against bokeh's own model
# names by tests/test_charts.py.
_BOKEH_ALLOWED = frozenset(
    """
    Plot GridPlot Figure DocumentConfig Notifications
    GlyphRenderer GraphRenderer ContourRenderer
    AnnularWedge Annulus Arc Bezier Block Circle Ellipse HArea HAreaStep HBar HSpan HStrip HexTile
    Image ImageRGBA ImageStack Line MultiLine MultiPolygons Ngon Patch Patches Quad Quadratic Ray
    Rect Scatter Segment Step Text VArea VAreaStep VBar VSpan VStrip Wedge
    LinearAxis LogAxis CategoricalAxis DatetimeAxis TimedeltaAxis MercatorAxis Grid
    AdaptiveTicker BasicTicker BinnedTicker CategoricalTicker CompositeTicker DatetimeTicker DaysTicker
    FixedTicker LogTicker MercatorTicker MonthsTicker SingleIntervalTicker TimedeltaTicker YearsTicker
    BasicTickFormatter CategoricalTickFormatter DatetimeTickFormatter LogTickFormatter
    MercatorTickFormatter NumeralTickFormatter PrintfTickFormatter TimedeltaTickFormatter
    AllLabels NoOverlap
    DataRange1d Range1d FactorRange LinearScale LogScale CategoricalScale CompositeScale
    LinearColorMapper LogColorMapper EqHistColorMapper CategoricalColorMapper CategoricalMarkerMapper
    CategoricalPatternMapper
    Dodge Jitter LinearInterpolator StepInterpolator CumSum Stack Maximum Minimum
    Title Label LabelSet Legend LegendItem ColorBar Span BoxAnnotation BoxInteractionHandles AreaVisuals
    PolyAnnotation Band Whisker Slope Arrow NormalHead OpenHead TeeHead VeeHead
    ColumnDataSource CDSView AllIndices BooleanFilter GroupFilter IndexFilter IntersectionFilter
    UnionFilter DifferenceFilter SymmetricDifferenceFilter InversionFilter
    Selection UnionRenderers IntersectRenderers
    StaticLayoutProvider NodesOnly EdgesOnly NodesAndLinkedEdges EdgesAndLinkedNodes NodesAndAdjacentNodes
    Toolbar PanTool WheelPanTool WheelZoomTool ZoomInTool ZoomOutTool BoxZoomTool BoxSelectTool
    LassoSelectTool PolySelectTool TapTool CrosshairTool HoverTool ResetTool SaveTool UndoTool RedoTool
    HelpTool RangeTool FullscreenTool
    PlainText
    Row Column GridBox Spacer Tabs TabPanel
    Slider RangeSlider DateSlider DateRangeSlider Select MultiSelect TextInput Toggle Button
    CheckboxGroup RadioGroup CheckboxButtonGroup RadioButtonGroup Spinner Paragraph PreText Div
    DataTable TableColumn StringFormatter NumberFormatter DateFormatter ScientificFormatter
    BooleanFormatter StringEditor NumberEditor IntEditor
    """.split()  # noqa: SIM905  (a list to read, not to format)
)
# A bokeh document's own keys; `defs` (models defined in the notebook) must be empty.
_BOKEH_DOC_KEYS = {"version", "title", "roots", "config", "callbacks", "defs"}
_CSS_CLASS = re.compile(r"-?[A-Za-z_][A-Za-z0-9_-]*\Z")
_BOKEH_ICON = re.compile(r"\.?[A-Za-z0-9_-]+\Z")
# Text BokehJS's table (SlickGrid) writes as HTML: escaped, so it shows as typed.
_BOKEH_HTML_TEXT = {"TableColumn": ("title",), "DataTable": ("index_header",)}
_HOVER_SAFE = re.compile(r"\{\s*safe\s*\}", re.I)


def _bokeh_models(value: object) -> Iterator[dict[str, object]]:
    """Yield every model object ({"type": "object", ...}) inside a bokeh document."""
    if isinstance(value, dict):
        if value.get("type") == "object":
            yield value
        for item in value.values():
            yield from _bokeh_models(item)
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from _bokeh_models(item)


def _bokeh_doc_check(doc: dict[str, object], removed: list[str]) -> None:
    """Raise _Unshown unless every model of the document only draws data (one rule: _BOKEH_ALLOWED)."""
    if set(doc) - _BOKEH_DOC_KEYS or doc.get("defs"):
        raise _Unshown("a bokeh plot whose document defines its own models")
    for model in _bokeh_models(doc):
        _bokeh_check(model)
        _bokeh_math(model, removed)


def _bokeh_math(model: dict[str, object], removed: list[str]) -> None:
    """Turn the math in a bokeh model's texts into Unicode, in place (nbpress.rendering.mathtext.bokeh_text).

    BokehJS would ask a CDN for MathJax to typeset it. A command nbpress cannot read is said in
    `removed`. Models inside the attributes are left to their own turn.
    """
    attributes = model.get("attributes")
    if not isinstance(attributes, dict):
        return
    unknown: list[str] = []

    def convert(value: object) -> object:
        if isinstance(value, str):
            converted = bokeh_text(value)
            unknown.extend(converted.unknown)
            return converted.text
        if isinstance(value, list):
            return [convert(v) for v in value]
        if isinstance(value, dict) and value.get("type") != "object":
            return {k: convert(v) for k, v in value.items()}
        return value

    for key, value in attributes.items():
        attributes[key] = convert(value)
        if unknown:
            removed.append(
                f"the bokeh {model.get('name')}'s {key} uses LaTeX the site cannot typeset "
                f"({', '.join(dict.fromkeys(unknown))}): it is shown as plain text"
            )
            unknown.clear()


def _bokeh_map(value: object) -> dict[str, object] | None:
    """Return a bokeh dict value (a JSON object or {"type": "map", "entries": ...}) as a dict."""
    if isinstance(value, dict) and value.get("type") == "map":
        entries = value.get("entries", [])
        if isinstance(entries, list) and all(isinstance(e, list) and len(e) == 2 for e in entries):
            return {str(k): v for k, v in entries}
        return None
    return value if isinstance(value, dict) else None


def _bokeh_check(model: dict[str, object]) -> None:
    """Raise _Unshown for a bokeh model that could run code, write HTML or load another site's file."""
    name = model.get("name")
    if not isinstance(name, str) or name not in _BOKEH_ALLOWED:
        raise _Unshown(f"a bokeh plot with {name} (only models that draw data are shown)")
    found = model.get("attributes", {})
    if not isinstance(found, dict):
        raise _Unshown(f"a bokeh plot with a {name} that could not be read")
    attributes: dict[str, object] = found

    def refuse(what: str) -> _Unshown:
        return _Unshown(f"a bokeh plot with a {name} whose {what}")

    if attributes.get("stylesheets") or attributes.get("html_attributes") or attributes.get("elements"):
        raise refuse("style sheets, HTML attributes or elements could load files or run code")
    for key in ("styles", "css_variables"):
        if key in attributes and attributes[key] is not None:
            styles = _bokeh_map(attributes[key])
            if styles is None or not all(
                v is None or (isinstance(v, str) and css_value(v)) for v in styles.values()
            ):
                raise refuse(f"{key} are not plain CSS values")
    classes = attributes.get("css_classes", [])
    if not isinstance(classes, list) or not all(isinstance(c, str) and _CSS_CLASS.match(c) for c in classes):
        raise refuse("css_classes are not plain class names")
    html_id = attributes.get("html_id")
    if html_id is not None and not (isinstance(html_id, str) and _CSS_CLASS.match(html_id)):
        raise refuse("html_id is not a plain name")
    icon = attributes.get("icon")
    if isinstance(icon, str) and not (_BOKEH_ICON.match(icon) or _PLOTLY_IMAGE.match(icon)):
        raise refuse("icon is not a tool icon's name or an embedded image")
    if name == "Div" and attributes.get("render_as_text") is not True:
        raise refuse("text is HTML")
    if name in ("Div", "Paragraph", "PreText"):
        # With TeX in it, BokehJS writes the whole text as HTML (MathJax beside it): text only.
        attributes["disable_math"] = True
    for key in _BOKEH_HTML_TEXT.get(name, ()):
        if isinstance(attributes.get(key), str):
            attributes[key] = html.escape(str(attributes[key]))
    if name == "HoverTool":
        tooltips = attributes.get("tooltips")
        if isinstance(tooltips, str):
            raise refuse("tooltips are an HTML template")
        pairs = tooltips if isinstance(tooltips, list) else []
        if not all(isinstance(p, list) and all(isinstance(t, str) for t in p) for p in pairs) or any(
            _HOVER_SAFE.search(t) for p in pairs for t in p
        ):
            raise refuse("tooltips show raw HTML ({safe})")
    if name == "HelpTool" and attributes.get("redirect", _bokeh_help()) != _bokeh_help():
        raise refuse("link is not bokeh's own documentation")
    if attributes.get("output_backend") == "webgl":
        attributes["output_backend"] = "canvas"  # the site does not serve bokeh-gl


def _bokeh_help() -> str:
    """Return the address bokeh's help tool links to by default (its documentation)."""
    from bokeh.models import HelpTool

    return str(HelpTool().redirect)


def _bokeh_bundles(doc: dict[str, object]) -> list[str]:
    """Return the BokehJS bundles besides the core that the document's models live in."""
    import bokeh.models  # noqa: F401  (registers every model class)
    from bokeh.model import Model

    classes = Model.model_class_reverse_map
    names = [str(m.get("name")) for m in _bokeh_models(doc)]
    modules = {classes[n].__module__ for n in names if n in classes}
    bundles = []
    if any(m.startswith("bokeh.models.widgets.") and not m.endswith(".tables") for m in modules):
        bundles.append("bokeh-widgets")
    if any(m.endswith("widgets.tables") for m in modules):
        bundles += ["bokeh-widgets", "bokeh-tables"]  # tables build on the widgets bundle
    return bundles


# ---- ipywidgets ------------------------------------------------------------------------------

# Models whose `value` the views write as HTML; the media models, whose `format: url` loads a URL.
_WIDGET_HTML_VALUE = ("HTMLModel", "HTMLMathModel")
_WIDGET_MEDIA = ("ImageModel", "VideoModel", "AudioModel")
_WIDGET_LINKS = ("LinkModel", "DirectionalLinkModel")
# Models whose `value` is a colour the views put in a style (a CSS value like any style's).
_WIDGET_COLOUR_VALUE = ("ColorPickerModel", "ColorsInputModel")
# Traits a link may not write: markup, CSS, URLs, outputs and the widget tree itself.
_WIDGET_LINK_SINKS = {
    "description",
    "description_allow_html",
    "outputs",
    "layout",
    "style",
    "children",
    "format",
}


def widget_kinds() -> frozenset[tuple[object, ...]]:
    """Return every (model module, version, name, view module, version, name) ipywidgets defines.

    Read from ipywidgets' own registry of its widget classes, so the list follows the installed
    ipywidgets: the vendored manager draws exactly these (a version 1 `controls` module would be
    another, older code whose descriptions are HTML).
    """
    import importlib

    importlib.import_module("ipywidgets")  # registers every widget class
    registry = importlib.import_module("ipywidgets.widgets.widget")._registry
    return frozenset(tuple(key) for key, _ in registry.items())


def _widget_kind(model: Mapping[str, object]) -> tuple[object, ...]:
    """Return a saved model's (model module, version, name, view module, version, name)."""
    found = model.get("state")
    state: Mapping[str, object] = found if isinstance(found, dict) else {}
    return (
        model.get("model_module"),
        model.get("model_module_version"),
        model.get("model_name"),
        state.get("_view_module"),
        state.get("_view_module_version"),
        state.get("_view_name"),
    )


def _widget(
    view: object, metadata: Mapping[str, object], widget_state: dict[str, object], removed: list[str]
) -> tuple[list[str], str]:
    state = metadata.get(Key.WIDGET_STATE)
    model_id = view.get("model_id") if isinstance(view, dict) else None
    if not isinstance(state, dict) or model_id not in state:
        raise _Unshown("a widget without saved state (re-run the post with --force)")
    models = {str(k): m for k, m in state.items()}
    if not all(isinstance(m, dict) for m in models.values()):
        raise _Unshown("a widget whose saved state could not be read")
    kinds = widget_kinds()
    for model in models.values():
        kind_ = _widget_kind(model)
        if kind_ not in kinds:
            module = next((m for m in (kind_[0], kind_[3]) if m not in _WIDGET_MODULES), None)
            if module is not None:
                # The manager would fetch any other package's code from a CDN.
                raise _Unshown(f"a widget from {module} (only ipywidgets' own widgets are drawn)")
            raise _Unshown(
                f"a widget {kind_[2]} drawn by {kind_[5]} "
                f"(only the pairs ipywidgets {_ipywidgets()} defines are drawn)"
            )
    safe = {key: _safe_model(model, models) for key, model in models.items()}
    _checked_json(safe)
    widget_state.update(safe)
    tag = {"model_id": str(model_id), "version_major": 2, "version_minor": 0}
    # Read as the reader's browser shows them (an HTMLMath value is sanitized HTML: &#123; is {).
    texts = [t for m in safe.values() for t in map(html.unescape, _typeset_texts(m)) if has_math(t)]
    # KaTeX typesets these on the page; a command of the notebook's own (\newcommand) it cannot.
    removed.extend(
        f'a widget\'s text "{text[:60]}" uses LaTeX the site cannot typeset '
        f"({', '.join(unknown)}): it shows as written"
        for text in texts
        if (unknown := unknown_commands(text))
    )
    math = ["widget-math"] if texts else []
    return ["widgets", *math], f'<script type="{WIDGET_VIEW}">{embed_json(tag)}</script>'


# Models whose `value` the views typeset as math, as Jupyter does (besides every description).
_WIDGET_MATH_VALUE = ("LabelModel", "HTMLMathModel")
# Models whose description is the text of a button, not typeset.
_WIDGET_PLAIN_DESCRIPTION = ("ButtonModel", "ToggleButtonModel")


def _typeset_texts(model: Mapping[str, object]) -> list[str]:
    """Return the texts of a widget model its view typesets as math: its description, a label's value."""
    found = model.get("state")
    state: Mapping[str, object] = found if isinstance(found, dict) else {}
    name = model.get("model_name")
    traits = [
        *(["description"] if name not in _WIDGET_PLAIN_DESCRIPTION else []),
        *(["value"] if name in _WIDGET_MATH_VALUE else []),
    ]
    return [str(state[t]) for t in traits if isinstance(state.get(t), str)]


def _ipywidgets() -> str:
    from importlib.metadata import version

    return version("ipywidgets")


def _safe_model(model: dict[str, object], models: Mapping[str, object]) -> dict[str, object]:
    """Return a copy of a widget model whose every value that reaches the page as HTML is sanitized.

    HTML widgets' values and HTML descriptions are sanitized wherever their strings sit (a list
    is written as its items joined); an Output widget's outputs go through the site's own output
    rules. Raises _Unshown for a model that would load another site's file (a media URL, a style
    that is not a plain CSS value) or a link that would write into markup, CSS, URLs or outputs.
    """
    model = json.loads(json.dumps(model))
    found = model.get("state")
    state: dict[str, object] = found if isinstance(found, dict) else {}
    model["state"] = state
    name = str(model.get("model_name", ""))
    for own in ("_model_module", "_model_module_version", "_model_name"):
        if own in state and state[own] != model.get(own[1:]):
            raise _Unshown(f"a widget {name} whose state names another model ({state[own]})")
    # Binary values (an image's bytes) are put into the state at their path: a plain value only.
    buffers = model.get("buffers", [])
    for buffer in buffers if isinstance(buffers, list) else [None]:
        path = buffer.get("path") if isinstance(buffer, dict) else None
        first = path[0] if isinstance(path, list) and path else None
        if not (isinstance(first, str) and _plain_trait(name, first)):
            raise _Unshown(f"a widget {name} with binary data at {path} (only plain values hold bytes)")
    if name in _WIDGET_MEDIA and state.get("format") == "url":
        raise _Unshown(f"a widget showing a file from a URL ({name[:-5]})")
    styled = name == "LayoutModel" or name.endswith("StyleModel")
    for trait, value in state.items():
        css = (styled and not trait.startswith("_")) or (name in _WIDGET_COLOUR_VALUE and trait == "value")
        if css and not _css_values(value):
            raise _Unshown(f"a widget whose style {trait} is not a plain CSS value")
    if name in _WIDGET_HTML_VALUE and "value" in state:
        state["value"] = _sanitize_strings(state["value"])
    if state.get("description_allow_html") not in (None, False) and "description" in state:
        state["description"] = _sanitize_strings(state["description"])
    if name in _WIDGET_LINKS:
        ends = ("source", "target") if name == "LinkModel" else ("target",)
        for end in ends:
            if not _safe_link_end(state.get(end), models):
                raise _Unshown(
                    f"a widget link writing into {_link_trait(state.get(end))} (markup, CSS or outputs)"
                )
    if name == "OutputModel" and "outputs" in state:
        outputs = state["outputs"]
        state["outputs"] = [_safe_output(o) for o in (outputs if isinstance(outputs, list) else [])]
    return model


def _css_values(value: object) -> bool:
    """Return True if a style value is absent, a number, a flag or a plain CSS value."""
    if value is None or isinstance(value, (bool, int, float)):
        return True
    if isinstance(value, list):
        return all(_css_values(v) for v in value)
    return isinstance(value, str) and css_value(value)


def _sanitize_strings(value: object) -> object:
    """Return `value` with every string in it, at any depth, sanitized as HTML."""
    if isinstance(value, str):
        return sanitize_html(value)
    if isinstance(value, list):
        return [_sanitize_strings(v) for v in value]
    if isinstance(value, dict):
        return {k: _sanitize_strings(v) for k, v in value.items()}
    return value


def _link_trait(end: object) -> str:
    return str(end[1]) if isinstance(end, list) and len(end) == 2 else "an unknown trait"


def _safe_link_end(end: object, models: Mapping[str, object]) -> bool:
    """Return True if a link may write into this end, [IPY_MODEL_id, trait]: a plain value."""
    if not (isinstance(end, list) and len(end) == 2 and all(isinstance(e, str) for e in end)):
        return False
    ref, trait = end
    model = models.get(ref.removeprefix("IPY_MODEL_"))
    if not ref.startswith("IPY_MODEL_") or not isinstance(model, dict):
        return False
    return _plain_trait(str(model.get("model_name", "")), trait) and not (
        trait == "value" and model.get("model_name") in _WIDGET_MEDIA
    )


def _plain_trait(name: str, trait: str) -> bool:
    """Return True if a model's trait is a plain value: not markup, CSS, a URL, outputs or structure."""
    if trait.startswith("_") or trait in _WIDGET_LINK_SINKS:
        return False
    if name == "LayoutModel" or name.endswith("StyleModel") or name in _WIDGET_LINKS:
        return False
    return not (trait == "value" and name in (*_WIDGET_HTML_VALUE, *_WIDGET_COLOUR_VALUE))


def _safe_output(output: object) -> dict[str, object]:
    """Return an Output widget's output as the site would show it: one safe form, or a note.

    The manager renders these outputs as trusted (it would run their scripts), so each goes
    through the rules of the site's cell outputs (nbpress.rendering.outputs): HTML and Markdown sanitized,
    SVG cleaned, LaTeX as math, else an image or text. Streams and errors stay text; a nested
    widget view stays a view (its model is checked with the rest of the state).
    """
    if not isinstance(output, dict):
        return dict(note("an output that could not be read"))
    kind_ = output.get("output_type")
    if kind_ == "stream":
        name = output.get("name") if output.get("name") in ("stdout", "stderr") else "stdout"
        return {"output_type": "stream", "name": name, "text": _join(output.get("text", ""))}
    if kind_ == "error":
        traceback = output.get("traceback")
        lines = [str(t) for t in traceback] if isinstance(traceback, list) else []
        return {
            "output_type": "error",
            "ename": str(output.get("ename", "")),
            "evalue": str(output.get("evalue", "")),
            "traceback": lines,
        }
    if kind_ not in ("display_data", "execute_result", "update_display_data"):
        return dict(note(f"an output of type {kind_} cannot be shown"))
    found = output.get("data")
    data: dict[str, object] = found if isinstance(found, dict) else {}
    view = data.get(WIDGET_VIEW)
    if isinstance(view, dict) and isinstance(view.get("model_id"), str):
        shown = {WIDGET_VIEW: {"model_id": view["model_id"], "version_major": 2, "version_minor": 0}}
        return {"output_type": "display_data", "data": shown, "metadata": {}}
    chosen = richest_form(data, False, [])
    if chosen is None:
        return dict(note("an output held nothing a static page can show"))
    mime, value = chosen
    return {"output_type": "display_data", "data": {mime: value}, "metadata": {}}
