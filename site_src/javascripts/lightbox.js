// glightbox, started once the page has loaded (hooks/reader.py puts this file where the
// plugin's inline script was: the Content Security Policy allows no inline script). Its
// stylesheet and script are fetched after the page's own files, so on a slow connection their
// 70 kB do not share the bandwidth with the page's stylesheets, script and first figure.
// The plugin's options come as JSON in data-options, read as data.
(function () {
  "use strict";
  const script = document.currentScript;
  const options = JSON.parse(script.getAttribute("data-options"));
  const css = script.getAttribute("data-css");
  const js = script.getAttribute("data-js");
  window.addEventListener("load", () => {
    const sheet = document.createElement("link");
    sheet.rel = "stylesheet";
    sheet.href = css;
    document.head.append(sheet);
    const code = document.createElement("script");
    code.src = js;
    code.onload = () => {
      const lightbox = GLightbox(options);
      // Material's instant navigation swaps the content: find its figures again.
      if (window.document$) document$.subscribe(() => lightbox.reload());
    };
    document.head.append(code);
  });
})();
