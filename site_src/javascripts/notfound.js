// The 404 page's one correction to the theme (overrides/404.html): a server shows that page at
// whatever address was missing, so the theme must find the site's files from the <base> the
// page's first script set, never from the address. The theme reads its base from the
// #__config element against the address (Material's and Zensical's bundles alike); this file,
// loaded after that element and before the bundle, writes the <base> there instead, so the
// search index, its worker and the palette's stored choice are the site's own.
(function () {
  var element = document.getElementById("__config");
  if (!element) return;
  var config = JSON.parse(element.textContent);
  config.base = document.baseURI;
  element.textContent = JSON.stringify(config);
})();
