/* Checkout, progressive enhancement: show only the fieldset and payment methods that apply to the
   chosen fulfilment. Without JavaScript everything is shown and the server ignores what does not apply. */
(function () {
  "use strict";
  function init() {
    var form = document.querySelector(".checkout-form");
    if (!form) return;
    var radios = form.querySelectorAll('input[name="fulfilment"]');
    function apply() {
      var chosen = form.querySelector('input[name="fulfilment"]:checked');
      var value = chosen ? chosen.value : "delivery";
      document.querySelectorAll("[data-fulfilment]").forEach(function (el) {
        el.hidden = el.getAttribute("data-fulfilment") !== value;
      });
      var firstVisible = null, checkedHidden = false;
      form.querySelectorAll(".choice[data-for]").forEach(function (label) {
        var applies = label.getAttribute("data-for").split(" ").indexOf(value) !== -1;
        var input = label.querySelector("input");
        label.hidden = !applies;
        input.disabled = !applies;
        if (applies && !firstVisible) firstVisible = input;
        if (!applies && input.checked) { input.checked = false; checkedHidden = true; }
      });
      if (checkedHidden && firstVisible) firstVisible.checked = true;
    }
    radios.forEach(function (r) { r.addEventListener("change", apply); });
    apply();
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
