// SPEC W8: warn before leaving a page that shows credentials not yet printed.
// SPEC V8: the typed password can be shown on request.
(function () {
  var toggle = document.getElementById("show-password");
  var typed = document.getElementById("id_password");
  if (toggle && typed && !typed.disabled) {
    toggle.closest(".show-password").hidden = false;
    toggle.addEventListener("change", function () { typed.type = toggle.checked ? "text" : "password"; });
  }
  var box = document.getElementById("access");
  if (!box || box.dataset.unprinted !== "true") return;
  var warn = function (event) { event.preventDefault(); event.returnValue = ""; };
  window.addEventListener("beforeunload", warn);
  var printed = function () { window.removeEventListener("beforeunload", warn); };
  var form = document.getElementById("print-form");
  if (form) form.addEventListener("submit", printed);
  document.querySelectorAll("#access form").forEach(function (f) {
    if (f !== form) f.addEventListener("submit", printed);
  });
})();
