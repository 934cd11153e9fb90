"""Bokeh (issue 20, section 2): a bokeh document is code as much as data.

Icons with markup, `{safe}` and HTML tooltips, callbacks writing HTML or running code, style
sheets and styles loading another host, HTML models, links to javascript:, other sites'
images and tiles. Only models that draw data are kept (nbpress/rendering/charts.py, _BOKEH_ALLOWED);
a plot holding any other is its static form or a note, with a warning.
"""

from __future__ import annotations

from tests.attack_kit import Posts, pwn


def img(tag: str) -> str:
    return f'<img src="missing.png" onerror="{pwn(tag)}">'


SHOW = (
    "from bokeh.io import output_notebook, show\nfrom bokeh.plotting import figure\n"
    "from bokeh.models import *\nfrom bokeh.layouts import column\noutput_notebook(hide_banner=True)\n"
)


def plot(extra: str, name: str = "p") -> str:
    """Return a cell that draws a small scatter plot `name` (after `extra`) and shows it."""
    return (
        f"{name} = figure(width=300, height=200)\n"
        f"{name}.scatter('x', 'y', size=40, source=ColumnDataSource(dict(x=[1, 2], y=[1, 2], "
        f"h=[{img('bokeh-' + name)!r}, 'b'])))\n{extra}\nshow({name})"
    )


SVG_ICON = (
    '<svg xmlns="http://www.w3.org/2000/svg"><image href="missing.png" onerror="'
    + pwn("bokeh-svgicon")
    + '"/></svg>'
)
TICK = pwn("bokeh-tick-formatter") + ";return tick"
SHEET = ":host { background: url(http://example.invalid/i.png) }"
POSTS: Posts = {}
CLICKS: dict[str, str] = {}

POSTS["bokeh-icons-and-callbacks"] = (
    {},
    [
        (SHOW + f"show(Button(label='icon', icon=SVGIcon(svg={SVG_ICON!r})))", []),
        (
            "target = Paragraph(text='target')\nbutton = Button(label='set')\n"
            f"button.js_on_click(SetValue(obj=target, attr='text', value={img('bokeh-setvalue')!r}))\n"
            "show(column(button, target))",
            [],
        ),
        (plot(f"p.js_on_event('document_ready', CustomJS(code={pwn('bokeh-document-ready')!r}))"), []),
        (
            plot(
                f"q.xaxis.formatter = CustomJSTickFormatter(code={TICK!r})",
                "q",
            ),
            [],
        ),
        (
            plot(
                f"r.add_tools(TapTool(callback=OpenURL(url={'javascript:' + pwn('bokeh-openurl')!r})))", "r"
            ),
            [],
        ),
        (plot(f"s.add_tools(HelpTool(redirect={'javascript:' + pwn('bokeh-help')!r}))", "s"), []),
    ],
)
CLICKS["bokeh-icons-and-callbacks"] = ".bk-btn, .bk-tool-icon-help"
POSTS["bokeh-tooltips"] = (
    {},
    [
        (SHOW + plot("p.add_tools(HoverTool(tooltips=[('h', '@h{safe}')]))"), []),
        (
            plot(f"t.add_tools(HoverTool(tooltips='<div>@h</div>' + {img('bokeh-hover-template')!r}))", "t"),
            [],
        ),
        (
            plot(
                "u.add_tools(HoverTool(tooltips=[('h', '@h{custom}')], formatters={'@h': CustomJSHover("
                f"code={pwn('bokeh-customjshover') + ';return value'!r})}}))",
                "u",
            ),
            [],
        ),
    ],
)
POSTS["bokeh-html-models"] = (
    {},
    [
        (SHOW + f"show(Div(text={img('bokeh-div')!r}))", []),
        (f"show(Markdown(text={img('bokeh-markdown')!r}))", []),
        (plot(f"v.add_layout(HTMLLabel(x=1, y=1, text={img('bokeh-htmllabel')!r}))", "v"), []),
        (
            "from bokeh.models.dom import HTML\n"
            "show(TextInput(title='t', description=Tooltip(content=HTML("
            f"{img('bokeh-tooltip-model')!r}), position='right')))",
            [],
        ),
        (
            "show(DataTable(source=ColumnDataSource(dict(a=['x'])), columns=[TableColumn(field='a', "
            f"title='a', formatter=HTMLTemplateFormatter(template={img('bokeh-html-template')!r}))]))",
            [],
        ),
    ],
)
CLICKS["bokeh-html-models"] = ".bk-description"
# Table headers and cells, a Paragraph and a title: bokeh writes these as text; drawn.
POSTS["bokeh-text"] = (
    {},
    [
        (
            SHOW + f"show(column(Paragraph(text={img('bokeh-paragraph')!r}), DataTable("
            f"source=ColumnDataSource(dict(a=[{img('bokeh-table-cell')!r}])), "
            f"columns=[TableColumn(field='a', title={img('bokeh-table-title')!r})], width=300, height=80)))",
            [],
        ),
        (plot(f"w.title.text = {img('bokeh-title')!r}", "w"), []),
    ],
)
POSTS["bokeh-remote"] = (
    {},
    [
        (SHOW + plot("p.stylesheets = [ImportedStyleSheet(url='http://example.invalid/imported.css')]"), []),
        (plot("q.stylesheets = ['@import url(http://example.invalid/raw.css);']", "q"), []),
        (
            plot(
                f"r.stylesheets = [InlineStyleSheet(css={SHEET!r})]",
                "r",
            ),
            [],
        ),
        (plot("s.styles = {'background-image': 'url(http://example.invalid/style.png)'}", "s"), []),
        (plot("t.image_url(url=['http://example.invalid/glyph.png'], x=1, y=1, w=1, h=1)", "t"), []),
        (plot("u.add_tile('OSM')", "u"), []),
        (plot("v.css_classes = ['ok', 'x{background:url(http://example.invalid/c.png)}']", "v"), []),
    ],
)
# With TeX in it, a Paragraph or a slider's title would be HTML were MathJax on the page.
POSTS["bokeh-text"][1].append(
    (
        f"show(column(Paragraph(text='$$x^2$$ ' + {img('bokeh-paragraph-tex')!r}), "
        f"Slider(start=0, end=1, value=0, step=1, title='$$y$$ ' + {img('bokeh-slider-tex')!r})))",
        [],
    )
)
# The text of bokeh's widgets and tabs: drawn as text.
WIDGET_TEXT = [
    ("Tabs(tabs=[TabPanel(child=Paragraph(text='x'), title={})])", "bokeh-tab-title"),
    ("Select(options=[{0}], value={0}, title={0})", "bokeh-select"),
    ("CheckboxGroup(labels=[{}])", "bokeh-checkbox-label"),
    ("RadioButtonGroup(labels=[{}])", "bokeh-radio-label"),
    ("Button(label={})", "bokeh-button-label"),
    ("TextInput(value={0}, title={0}, placeholder={0})", "bokeh-text-input"),
    ("Slider(start=0, end=1, value=0, step=1, title={})", "bokeh-slider-title"),
]
POSTS["bokeh-text"][1].append(
    ("show(column(" + ", ".join(call.format(repr(img(tag))) for call, tag in WIDGET_TEXT) + "))", [])
)
CLICKS["bokeh-text"] = ".bk-btn, .bk-tab"
