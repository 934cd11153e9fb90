// nbpress: typeset the math of ipywidgets (a description `$\alpha$`, a Label's or an HTMLMath's
// value) with the KaTeX the site serves, as Jupyter typesets these with MathJax. The widget
// manager (vendor/widgets/embed.js) draws them on its own; this watches what it draws and
// typesets exactly the elements Jupyter typesets, again whenever their text changes (a label
// linked to a slider). Loaded, with KaTeX, only on pages whose widgets hold math
// (nbpress/rendering/charts.py, "widget-math"). No global MathJax is faked: plotly and BokehJS look for one.
(function () {
  "use strict";

  // The elements @jupyter-widgets/controls passes to its typeset(): description labels, a
  // checkbox's description, a Label widget, an HTMLMath widget's content.
  const TYPESET = [
    "label.widget-label",
    "div.widget-label",
    ".widget-checkbox .widget-label-basic > span",
    ".widget-htmlmath-content",
  ].join(",");
  const DELIMITERS = [
    { left: "$$", right: "$$", display: true },
    { left: "$", right: "$", display: false },
    { left: "\\(", right: "\\)", display: false },
    { left: "\\[", right: "\\]", display: true },
  ];

  function typeset(root) {
    if (!window.renderMathInElement) return;
    for (const element of root.querySelectorAll(TYPESET)) {
      const text = element.textContent;
      if (text.includes("$") || text.includes("\\(") || text.includes("\\[")) {
        renderMathInElement(element, { delimiters: DELIMITERS, throwOnError: false });
      }
    }
  }

  function start() {
    for (const chart of document.querySelectorAll(".nbpress-chart-widget")) {
      // Typesetting changes the element too; a second pass finds no delimiter left and stops.
      new MutationObserver(() => typeset(chart)).observe(chart, {
        childList: true,
        subtree: true,
        characterData: true,
      });
      typeset(chart);
    }
  }

  // KaTeX is loaded with `defer`: it is there once the document is parsed.
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
