// Material for MkDocs' inline script of partials/javascripts/content.html (MIT, Martin Donath), as a
// file so the Content Security Policy allows no inline script (overrides/partials/nbpress-csp.html).
// The saved tab is restored only with the feature content.tabs.link (data-tabs-link).
if (document.currentScript.hasAttribute("data-tabs-link")) {
var tabs=__md_get("__tabs");if(Array.isArray(tabs))e:for(var set of document.querySelectorAll(".tabbed-set")){var labels=set.querySelector(".tabbed-labels");for(var tab of tabs)for(var label of labels.getElementsByTagName("label"))if(label.innerText.trim()===tab){var input=document.getElementById(label.htmlFor);input.checked=!0;continue e}}
}
var target=document.getElementById(location.hash.slice(1));target&&target.name&&(target.checked=target.name.startsWith("__tabbed_"))
