// Progressive enhancement for a campaign's dashboard (/admin/c/{slug}): the viewer's own time next to each time,
// and the numbers refreshed from live.json every few seconds without reloading. The page works without it (a
// "Refresh" link reloads it); every word comes from the page (server-translated), numbers and dates from Intl.
(function () {
  "use strict";
  var note = document.getElementById("live-note");
  if (!note) { return; }
  var url = note.getAttribute("data-live");
  var lang = document.documentElement.lang || "en";
  var locale = lang + (lang.split("-")[0] === "ar" ? "-u-nu-latn" : ""); // the server's digits (Babel: latn)
  var INTERVAL = 5000;

  function num(n) {
    try { return new Intl.NumberFormat(locale).format(n); } catch (e) { return String(n); }
  }

  function pct(part, whole) {
    if (!whole) { return "\u2013"; }
    try { return new Intl.NumberFormat(locale, { style: "percent" }).format(part / whole); } catch (e) {
      return Math.round(100 * part / whole) + "%";
    }
  }

  function fill(template, value) {
    return template ? template.split("{time}").join(value) : value;
  }

  function localTimes() {
    var yours = note.getAttribute("data-yours");
    document.querySelectorAll("time.when").forEach(function (el) {
      var d = new Date(el.getAttribute("datetime"));
      var slot = el.parentNode && el.parentNode.querySelector(".local");
      if (isNaN(d) || !slot) { return; }
      try {
        var text = new Intl.DateTimeFormat(locale, { dateStyle: "full", timeStyle: "short" }).format(d);
        var zone = new Intl.DateTimeFormat(locale, { timeZoneName: "short" }).formatToParts(d)
          .filter(function (p) { return p.type === "timeZoneName"; }).map(function (p) { return p.value; })[0];
        slot.textContent = fill(yours, text + (zone ? " " + zone : ""));
        slot.hidden = false;
      } catch (e) { /* the campaign's time and UTC stay */ }
    });
  }

  function pick(data, key) {
    return key.split(".").reduce(function (o, k) { return o == null ? undefined : o[k]; }, data);
  }

  function apply(data) {
    document.querySelectorAll("[data-live-key]").forEach(function (el) {
      var key = el.getAttribute("data-live-key");
      var value = pick(data, key);
      if (value === undefined || value === null) { return; }
      if (key === "state") {
        var labels = {};
        try { labels = JSON.parse(el.getAttribute("data-labels") || "{}"); } catch (e) { /* raw */ }
        value = labels[value] || value;
      } else {
        value = num(value);
      }
      if (el.textContent !== value) { el.textContent = value; }
    });
    document.querySelectorAll("[data-live-share]").forEach(function (el) {
      var key = el.getAttribute("data-live-share");
      var whole = key === "confirmed" ? parseFloat(el.getAttribute("data-of")) : pick(data, "funnel.pledged");
      var value = pick(data, key);
      if (typeof value === "number") { el.textContent = pct(value, whole); }
    });
    var time = new Intl.DateTimeFormat(locale, { timeStyle: "medium" }).format(new Date());
    note.textContent = fill(note.getAttribute("data-updated"), time);
  }

  var timer = null;
  function poll() {
    timer = null;
    if (document.hidden) { return; } // resumed by visibilitychange
    fetch(url, { credentials: "same-origin", cache: "no-store", headers: { Accept: "application/json" } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (data) { if (data) { apply(data); } })
      .catch(function () { /* offline for a moment: try again */ })
      .then(function () { if (!timer) { timer = setTimeout(poll, INTERVAL); } });
  }

  document.addEventListener("visibilitychange", function () {
    if (!document.hidden && !timer) { poll(); }
  });
  localTimes();
  timer = setTimeout(poll, INTERVAL);
}());
