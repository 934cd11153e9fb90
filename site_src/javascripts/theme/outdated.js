// Material for MkDocs' inline script of partials/javascripts/outdated.html (MIT, Martin Donath), as a
// file so the Content Security Policy allows no inline script (overrides/partials/nbpress-csp.html).
// Its base_url comes as the data-base attribute of the <script> element.
var el=document.querySelector("[data-md-component=outdated]"),base=new URL(document.currentScript.getAttribute("data-base"),location),outdated=__md_get("__outdated",sessionStorage,base);!0===outdated&&el&&(el.hidden=!1)
