// SPEC V1: on narrow screens the portal's menu folds behind a button.
(function () {
  document.documentElement.classList.add("js");
  var toggle = document.querySelector(".menu-toggle");
  var nav = document.getElementById("portal-nav");
  if (!toggle || !nav) return;
  toggle.hidden = false;
  toggle.addEventListener("click", function () {
    var open = nav.classList.toggle("open");
    toggle.setAttribute("aria-expanded", open ? "true" : "false");
  });
})();

// Dates in the reader's own locale (issue 6: "reads dates in the browser's
// locale"). The server writes a readable English date and the machine value in
// <time datetime>; this rewrites the text with Intl, in the practice's time zone.
(function () {
  var zone = document.body.dataset.timeZone || undefined;
  var styles = {
    date: { dateStyle: "full" },
    time: { timeStyle: "short" },
    datetime: { dateStyle: "medium", timeStyle: "short" },
  };
  document.querySelectorAll("time[datetime]").forEach(function (el) {
    var value = el.getAttribute("datetime");
    var dateOnly = /^\d{4}-\d{2}-\d{2}$/.test(value);
    var kind = el.dataset.format || (dateOnly ? "date" : "datetime");
    try {
      var format, when;
      if (dateOnly) {
        var parts = value.split("-").map(Number);
        when = new Date(Date.UTC(parts[0], parts[1] - 1, parts[2]));
        format = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeZone: "UTC" });
      } else {
        when = new Date(value);
        format = new Intl.DateTimeFormat(undefined, Object.assign({ timeZone: zone }, styles[kind] || styles.datetime));
      }
      el.textContent = format.format(when);
      // The page is lang="en"; say which language the rewritten text is in, so
      // a screen reader reads "6. Mai" in German (WCAG 3.1.2, language of parts).
      el.lang = format.resolvedOptions().locale;
    } catch (e) {
      // Unknown zone or an old browser: keep the server's text.
    }
  });
})();
