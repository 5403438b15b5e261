/* Catalogue, progressive enhancement: on wide screens the filter panel is a sidebar that is always
   open. Browsers that support ::details-content get that from site.css; the others get it here.
   On phones the panel stays closed so that the results come first. */
(function () {
  "use strict";
  var wide = window.matchMedia("(min-width: 900px)");
  function apply() {
    document.querySelectorAll("details[data-open-wide]").forEach(function (panel) {
      if (wide.matches) panel.open = true;
    });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", apply);
  else apply();
  if (wide.addEventListener) wide.addEventListener("change", apply);
})();
