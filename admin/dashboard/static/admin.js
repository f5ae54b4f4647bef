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
  document.querySelectorAll("button[data-print]").forEach(function (button) {
    button.addEventListener("click", function () { window.print(); });
  });
})();
