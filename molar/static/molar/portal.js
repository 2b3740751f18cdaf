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
      if (dateOnly) {
        var parts = value.split("-").map(Number);
        var day = new Date(Date.UTC(parts[0], parts[1] - 1, parts[2]));
        el.textContent = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeZone: "UTC" }).format(day);
      } else {
        var options = Object.assign({ timeZone: zone }, styles[kind] || styles.datetime);
        el.textContent = new Intl.DateTimeFormat(undefined, options).format(new Date(value));
      }
    } catch (e) {
      // Unknown zone or an old browser: keep the server's text.
    }
  });
})();
