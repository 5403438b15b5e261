/* The portal's Markdown editors (templates/portal/_markdown.html): while a text is typed, post it
   (with the form's CSRF token) to the preview endpoint and show the sanitised HTML it returns — the
   same function as the public pages (shop/markup.py). Without this script the "Preview" button
   does the same through the server; the HTML inserted is the server's, never the typed text. */
(function () {
  "use strict";
  var DELAY = 400;
  function init() {
    var form = document.querySelector("form[data-preview-url]");
    if (!form) return;
    var url = form.getAttribute("data-preview-url");
    var token = form.querySelector("input[name='csrf_token']");
    form.querySelectorAll("textarea[data-preview]").forEach(function (area) {
      var target = document.getElementById(area.getAttribute("data-preview"));
      if (!target) return;
      var timer = null, sent = 0;
      area.addEventListener("input", function () {
        clearTimeout(timer);
        timer = setTimeout(function () {
          var body = new FormData();
          body.append("text", area.value);
          if (token) body.append("csrf_token", token.value);
          var mine = ++sent;
          fetch(url, { method: "POST", body: body, credentials: "same-origin",
                       headers: { "X-Requested-With": "fetch" } })
            .then(function (response) { return response.ok ? response.text() : null; })
            .then(function (html) { if (html !== null && mine === sent) target.innerHTML = html; })
            .catch(function () { /* offline: the Preview button still works */ });
        }, DELAY);
      });
    });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
