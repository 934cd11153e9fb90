// Material for MkDocs' inline script of partials/javascripts/base.html (MIT, Martin Donath), as a
// file so the Content Security Policy allows no inline script (overrides/partials/nbpress-csp.html).
// Its template values come as data attributes of the <script> element; Zensical's version
// (a scope always ending in "/", the data-platform attribute), which serves both themes.
(function () {
  var script = document.currentScript;
  __md_scope = new URL(script.getAttribute("data-scope"), location);
  __md_scope.pathname.endsWith("/") || (__md_scope = new URL(__md_scope.pathname + "/", location));
  __md_hash = (e) => [...e].reduce((e, t) => (e << 5) - e + t.charCodeAt(0), 0);
  __md_get = (e, t = localStorage, _ = __md_scope) => JSON.parse(t.getItem(_.pathname + "." + e));
  __md_set = (e, t, _ = localStorage, a = __md_scope) => {
    try {
      _.setItem(a.pathname + "." + e, JSON.stringify(t));
    } catch (e) {}
  };
  document.documentElement.setAttribute("data-platform", navigator.platform);
})();
