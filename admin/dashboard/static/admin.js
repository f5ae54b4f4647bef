// Progressive enhancement only: every page works without this file.
(function () {
  "use strict";
  // Fill the CSV textarea from a chosen file, so uploads stay plain form posts (no multipart).
  document.querySelectorAll("input[type=file][data-fill]").forEach(function (input) {
    input.addEventListener("change", function () {
      var target = document.getElementById(input.getAttribute("data-fill"));
      var file = input.files && input.files[0];
      if (!target || !file) { return; }
      if (file.size > 900000) { window.alert("Bestand is te groot (max. 900 kB)."); return; }
      file.text().then(function (text) { target.value = text; });
    });
  });
  document.querySelectorAll("form[data-confirm]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      if (!window.confirm(form.getAttribute("data-confirm"))) { event.preventDefault(); }
    });
  });
  // Live pages (meta refresh-seconds) reload themselves, but never while a form is being
  // filled in: a plain meta refresh would throw away what was typed. Without JavaScript the
  // page's <noscript> meta refresh does the reloading.
  var refresh = document.querySelector("meta[name=refresh-seconds]");
  var seconds = refresh ? parseInt(refresh.getAttribute("content"), 10) : 0;
  if (seconds > 0) {
    var edited = false;
    document.addEventListener("input", function () { edited = true; });
    document.addEventListener("change", function () { edited = true; });
    window.setInterval(function () {
      var active = document.activeElement;
      var typing = active && /^(INPUT|TEXTAREA|SELECT)$/.test(active.tagName);
      if (!edited && !typing) { window.location.reload(); }
    }, seconds * 1000);
  }
  document.querySelectorAll("button[data-print]").forEach(function (button) {
    button.addEventListener("click", function () { window.print(); });
  });
})();
