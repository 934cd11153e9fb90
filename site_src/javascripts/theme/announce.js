// Material for MkDocs' inline script of partials/javascripts/announce.html (MIT, Martin Donath), as a
// file so the Content Security Policy allows no inline script (overrides/partials/nbpress-csp.html).
var el=document.querySelector("[data-md-component=announce]");if(el){var content=el.querySelector(".md-typeset");__md_hash(content.innerHTML)===__md_get("__announce")&&(el.hidden=!0)}
