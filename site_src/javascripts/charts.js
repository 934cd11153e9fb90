// nbpress: draw the chart embeds of a post (written by nbpress/rendering/charts.py) with the libraries
// the site serves itself (site_src/vendor/). A chart's data is read as JSON, never run; links
// in Vega charts open only http(s) and mailto, and Vega loads nothing from another site.
// Widgets are drawn by the vendored @jupyter-widgets/html-manager (embed.js) on its own.
(function () {
  "use strict";

  const here = document.currentScript ? document.currentScript.src : document.baseURI;
  const darkTemplateUrl = new URL("../vendor/plotly/plotly_dark.json", here).href;
  let darkTemplate = null;
  const drawn = new Map();

  function isDark() {
    return document.body.getAttribute("data-md-color-scheme") === "slate";
  }

  function readData(chart) {
    const tag = chart.querySelector("script.nbpress-chart-data");
    return tag ? { kind: tag.dataset.kind, value: JSON.parse(tag.textContent) } : null;
  }

  // Called once a chart is on the page: its static form (PNG or note) is no longer needed.
  function showDrawn(chart) {
    chart.classList.add("nbpress-drawn");
    const next = chart.nextElementSibling;
    if (next && next.querySelector("img.nbpress-chart-static")) next.hidden = true;
  }

  function freshTarget(chart) {
    const old = chart.querySelector(".nbpress-chart-target");
    if (old && window.Plotly && old.classList.contains("js-plotly-plot")) Plotly.purge(old);
    if (old) old.remove();
    const target = document.createElement("div");
    target.className = "nbpress-chart-target";
    chart.appendChild(target);
    return target;
  }

  // plotly: its default template swaps for plotly_dark in the dark scheme.
  async function drawPlotly(chart, figure) {
    const layout = Object.assign({}, figure.layout || {});
    const template = layout.template && layout.template.layout;
    if (isDark() && template && String(template.plot_bgcolor).toUpperCase() === "#E5ECF6") {
      if (!darkTemplate) darkTemplate = await (await fetch(darkTemplateUrl)).json();
      layout.template = darkTemplate;
    }
    // A fixed width wider than the column would overflow a phone; plotly then fits the column.
    if (layout.width && layout.width > chart.clientWidth) delete layout.width;
    layout.autosize = true;
    const target = freshTarget(chart);
    await Plotly.newPlot(target, figure.data || [], layout, {
      responsive: true,
      displaylogo: false,
      showLink: false,
      showSendToCloud: false,
      showEditInChartStudio: false,
      // Math in its texts was made plotly's own markup at build time (nbpress/rendering/mathtext.py):
      // the site serves no MathJax, and a MathJax-like global (widget math) is not for plotly.
      typesetMath: false,
    });
  }

  // Vega's loader, restricted: data and images only from this site, links only http(s)/mailto.
  function refuse(why) {
    console.warn(`nbpress: ${why}`); // said aloud: Vega drops a refused link silently
    throw new Error(`nbpress: ${why}`);
  }

  function safeLoader() {
    const loader = vega.loader();
    const sanitize = loader.sanitize.bind(loader);
    loader.sanitize = async function (uri, options) {
      const url = new URL(String(uri), document.baseURI);
      if (options && options.context === "href") {
        if (!["http:", "https:", "mailto:"].includes(url.protocol)) {
          refuse(`a chart link to ${url.protocol} was refused`);
        }
        return { href: url.href, rel: "noopener noreferrer" };
      }
      if (url.origin !== window.location.origin) refuse(`a chart may load only this site's files, not ${url.origin}`);
      return sanitize(url.href, options);
    };
    return loader;
  }

  async function drawVega(chart, mode, spec) {
    const copy = Object.assign({}, spec);
    // The vendored Vega-Lite draws v4 to v6 specs; the mode says which grammar it is.
    delete copy.$schema;
    // vega-embed would read usermeta.embedOptions over the options below: never the spec's to set.
    delete copy.usermeta;
    const target = freshTarget(chart);
    const previous = drawn.get(chart);
    if (previous && previous.finalize) previous.finalize();
    const result = await vegaEmbed(target, copy, {
      mode: mode,
      actions: false,
      renderer: "svg",
      theme: isDark() ? "dark" : undefined,
      loader: safeLoader(),
      // Expressions run by Vega's interpreter (vendor/vega/vega-interpreter.js), not compiled
      // with new Function: the site's Content Security Policy has no 'unsafe-eval'.
      ast: true,
      expr: vega.expressionInterpreter,
    });
    drawn.set(chart, result);
  }

  async function drawBokeh(chart, item) {
    const target = freshTarget(chart);
    target.id = chart.id + "-bokeh";
    await Bokeh.embed.embed_item({ doc: item.doc, root_id: item.root_id, target_id: null }, target.id);
  }

  async function draw(chart) {
    const data = readData(chart);
    if (!data) return;
    if (data.kind === "plotly") await drawPlotly(chart, data.value);
    else if (data.kind === "vega-lite" || data.kind === "vega") await drawVega(chart, data.kind, data.value);
    else if (data.kind === "bokeh") await drawBokeh(chart, data.value);
    else return;
    showDrawn(chart);
  }

  function drawAll(kinds) {
    for (const chart of document.querySelectorAll(".nbpress-chart")) {
      const data = chart.querySelector("script.nbpress-chart-data");
      if (data && (!kinds || kinds.includes(data.dataset.kind))) {
        draw(chart).catch((err) => console.warn("nbpress: a chart could not be drawn", err));
      }
    }
  }

  function start() {
    drawAll(null);
    // Material's light/dark toggle sets data-md-color-scheme on body: redraw what has themes.
    new MutationObserver(() => drawAll(["plotly", "vega-lite", "vega"])).observe(document.body, {
      attributes: true,
      attributeFilter: ["data-md-color-scheme"],
    });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
