// SPEC V4 (WCAG 2.2.1): before the idle limit ends a session, a dialog offers
// "Stay signed in"; after it ends, the page goes to sign-in, which says why.
// Text typed into forms marked data-keep-draft survives: it is kept in this
// tab's sessionStorage while typed and put back when the page is shown again,
// and forgotten once the page after a submit reports success.
// SPEC V9: after a failed submit, focus goes to the error summary.
(function () {
  var body = document.body;
  var errors = document.querySelector("[data-error-summary]");
  if (errors) { errors.focus(); }

  // --- Drafts -------------------------------------------------------------
  var store = window.sessionStorage;
  var SENT = "molar-draft-sent";
  function draftKey(form) { return "molar-draft:" + location.pathname + ":" + (form.id || form.getAttribute("action") || ""); }
  function fields(form) {
    return Array.prototype.filter.call(form.elements, function (el) {
      return el.name && el.name !== "csrfmiddlewaretoken" && !el.disabled &&
        ["password", "hidden", "submit", "button", "file"].indexOf(el.type) < 0;
    });
  }
  function save(form) {
    var values = {};
    fields(form).forEach(function (el) { values[el.name] = el.type === "checkbox" ? el.checked : el.value; });
    try { store.setItem(draftKey(form), JSON.stringify(values)); } catch (e) { /* storage full or off */ }
  }
  try {
    // The page after a submit: success means the draft was taken; otherwise keep it.
    var sent = store.getItem(SENT);
    if (sent && document.querySelector(".messages .success")) { store.removeItem(sent); }
    store.removeItem(SENT);
  } catch (e) { /* no storage: drafts are simply not kept */ }
  document.querySelectorAll("form[data-keep-draft]").forEach(function (form) {
    var kept = null;
    try { kept = JSON.parse(store.getItem(draftKey(form)) || "null"); } catch (e) { kept = null; }
    if (kept && !form.querySelector("[aria-invalid=true]")) {
      fields(form).forEach(function (el) {
        if (!(el.name in kept)) return;
        if (el.type === "checkbox") { el.checked = kept[el.name]; } else { el.value = kept[el.name]; }
      });
    }
    form.addEventListener("input", function () { save(form); });
    form.addEventListener("change", function () { save(form); });
    form.addEventListener("submit", function () { try { store.setItem(SENT, draftKey(form)); } catch (e) { /* ignore */ } });
  });

  // --- Idle limit -----------------------------------------------------------
  var dialog = document.getElementById("idle-dialog");
  var left = parseInt(body.dataset.sessionExpiresIn || "", 10);
  if (!dialog || isNaN(left)) return;
  var warnBefore = parseInt(body.dataset.sessionWarningSeconds || "120", 10);
  var countdown = document.getElementById("idle-countdown");
  var deadline, warnTimer, endTimer, tick;
  var form = dialog.querySelector("form.stay");

  function clock(seconds) {
    var s = Math.max(0, Math.round(seconds));
    return Math.floor(s / 60) + ":" + ("0" + (s % 60)).slice(-2);
  }
  function signedOut() {
    // Another tab may have kept the session alive: ask before leaving.
    fetch(form.action, { credentials: "same-origin", headers: { "X-Requested-With": "fetch" } })
      .then(function (response) { return response.ok ? response.json() : Promise.reject(response); })
      .then(function (answer) { dialog.close(); schedule(answer.expires_in); })
      .catch(leave);
  }
  function leave() {
    document.querySelectorAll("form[data-keep-draft]").forEach(save);
    var target = new URL(body.dataset.signInUrl, location.href);
    target.searchParams.set("timeout", "1");
    target.searchParams.set("next", location.pathname + location.search);
    location.assign(target.toString());
  }
  function warn() {
    if (!dialog.open) { dialog.showModal(); }
    tick = setInterval(function () { countdown.textContent = clock((deadline - Date.now()) / 1000); }, 1000);
    countdown.textContent = clock((deadline - Date.now()) / 1000);
  }
  function schedule(seconds) {
    clearTimeout(warnTimer); clearTimeout(endTimer); clearInterval(tick);
    deadline = Date.now() + seconds * 1000;
    warnTimer = setTimeout(warn, Math.max(0, (seconds - warnBefore) * 1000));
    // A little after the end, so the server has surely ended the session too.
    endTimer = setTimeout(signedOut, seconds * 1000 + 1500);
  }
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    fetch(form.action, { method: "POST", body: new FormData(form), credentials: "same-origin",
                         headers: { "X-Requested-With": "fetch" } })
      .then(function (response) { return response.ok ? response.json() : Promise.reject(response); })
      .then(function (answer) { dialog.close(); schedule(answer.expires_in); })
      .catch(leave);
  });
  schedule(left);
})();
