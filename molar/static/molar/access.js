// SPEC W8: warn before leaving a page that shows credentials not yet printed.
(function () {
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
