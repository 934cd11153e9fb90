// Material for MkDocs' inline script of partials/javascripts/base.html (MIT, Martin Donath), as a
// file so the Content Security Policy allows no inline script (overrides/partials/nbpress-csp.html).
// Its template values come as data attributes of the <script> element; Zensical's version
// (a scope always ending in "/", the data-platform attribute), which serves both themes. The scope
// resolves against the document's base, not its address: the same on every page but the 404,
// whose <base> is the site's (overrides/404.html), so a reader's palette choice holds there too.
(function () {
  var script = document.currentScript;
  __md_scope = new URL(script.getAttribute("data-scope"), document.baseURI);
  __md_scope.pathname.endsWith("/") || (__md_scope = new URL(__md_scope.pathname + "/", document.baseURI));
  __md_hash = (e) => [...e].reduce((e, t) => (e << 5) - e + t.charCodeAt(0), 0);
  __md_get = (e, t = localStorage, _ = __md_scope) => JSON.parse(t.getItem(_.pathname + "." + e));
  __md_set = (e, t, _ = localStorage, a = __md_scope) => {
    try {
      _.setItem(a.pathname + "." + e, JSON.stringify(t));
    } catch (e) {}
  };
  document.documentElement.setAttribute("data-platform", navigator.platform);
})();
