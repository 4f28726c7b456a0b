// Progressive enhancement for the campaign page and the embeddable counter: local times, countdowns, live progress,
// focus on the first invalid field, and the phone's pinned "Pledge" button hidden while the form is on screen.
// The page works without it; every word comes from the page (server-translated), numbers and dates from Intl.
(function () {
  "use strict";
  var script = document.currentScript;
  var progressUrl = script && script.getAttribute("data-progress");
  var interval = Math.max(2, parseFloat((script && script.getAttribute("data-interval")) || "5")) * 1000;
  var lang = document.documentElement.lang || "en";
  var locale = lang + (lang.split("-")[0] === "ar" ? "-u-nu-latn" : ""); // the server's digits (Babel: latn)
  var words = document.getElementById("live-words");

  function data(name) {
    if (!words) { return null; }
    try { return JSON.parse(words.getAttribute("data-" + name) || "null"); } catch (e) { return null; }
  }
  var countForms = data("count"), neededForms = data("needed"), states = data("states");
  var leftTemplate = words ? words.getAttribute("data-left") : null;

  function num(n) {
    try { return new Intl.NumberFormat(locale).format(n); } catch (e) { return String(n); }
  }

  function plural(forms, n) {
    if (!forms) { return null; }
    var category = "other";
    try { category = new Intl.PluralRules(lang).select(n); } catch (e) { /* "other" */ }
    var form = forms[category] || forms.other;
    return form ? form.split("{n}").join(num(n)) : null;
  }

  function localize() {
    document.querySelectorAll("time.when").forEach(function (el) {
      var d = new Date(el.getAttribute("datetime"));
      if (isNaN(d)) { return; }
      try {
        var text = new Intl.DateTimeFormat(locale, { dateStyle: "full", timeStyle: "short", timeZoneName: undefined }).format(d);
        var zone = new Intl.DateTimeFormat(locale, { timeZoneName: "short" }).formatToParts(d)
          .filter(function (p) { return p.type === "timeZoneName"; }).map(function (p) { return p.value; })[0];
        if (!el.title) { el.title = el.textContent; } // the campaign's own time stays a hover away
        el.textContent = text + (zone ? " " + zone : "");
      } catch (e) { /* keep the server's words */ }
    });
  }

  function unit(n, name) {
    return new Intl.NumberFormat(locale, { style: "unit", unit: name, unitDisplay: "long" }).format(n);
  }

  function duration(seconds) {
    if (seconds >= 86400) { return unit(Math.floor(seconds / 86400), "day"); }
    var minutesLeft = Math.max(1, Math.ceil(seconds / 60));
    var hours = Math.floor(minutesLeft / 60), minutes = minutesLeft % 60, parts = [];
    if (hours) { parts.push(unit(hours, "hour")); }
    if (minutes || !hours) { parts.push(unit(minutes, "minute")); }
    try { return new Intl.ListFormat(locale, { style: "long", type: "conjunction" }).format(parts); } catch (e) { return parts.join(" "); }
  }

  function tick() {
    var now = Date.now();
    document.querySelectorAll(".countdown").forEach(function (el) {
      var until = Date.parse(el.getAttribute("data-until"));
      if (isNaN(until)) { return; }
      var seconds = Math.floor((until - now) / 1000);
      var line = el.closest(".countdown-line") || el;
      if (seconds <= 0) { line.hidden = true; return; }
      if (!leftTemplate) { return; }
      try { el.textContent = leftTemplate.split("%(duration)s").join(duration(seconds)); } catch (e) { /* keep it */ }
    });
  }

  function poll() {
    if (!progressUrl || !window.fetch || document.hidden) { return; }
    fetch(progressUrl, { headers: { "Accept": "application/json" } }).then(function (r) {
      return r.ok ? r.json() : null;
    }).then(function (p) {
      if (!p || !p.goal) { return; }
      var shown = Math.min(p.confirmed, p.goal), share = Math.min(1, p.confirmed / p.goal);
      var bar = document.getElementById("bar"), box = document.getElementById("bar-box");
      var percent = document.getElementById("percent"), count = document.getElementById("count-text");
      var needed = document.getElementById("needed"), state = document.getElementById("state");
      var percentText = new Intl.NumberFormat(locale, { style: "percent" }).format(Math.round(share * 100) / 100);
      if (bar) { bar.max = p.goal; bar.value = shown; }
      if (box) { box.setAttribute("aria-valuenow", shown); box.setAttribute("aria-valuemax", p.goal); box.setAttribute("aria-valuetext", percentText); }
      if (percent) { percent.textContent = percentText; }
      if (count && p.confirmed > 0) { count.textContent = plural(countForms, p.confirmed) || count.textContent; }
      if (needed && p.goal > p.confirmed) { needed.textContent = plural(neededForms, p.goal - p.confirmed) || needed.textContent; }
      if (state && states && states[p.state]) { state.textContent = states[p.state]; }
    }).catch(function () { /* keep the last figure */ });
  }

  function focusFirstError() { // after the load, or the browser's own jump to #pledge-form takes the focus back
    var first = document.querySelector("#pledge-form [aria-invalid='true']") || document.getElementById("form-error");
    if (!first) { return; }
    var go = function () { window.setTimeout(function () { first.focus(); first.scrollIntoView({ block: "center" }); }, 0); };
    if (document.readyState === "complete") { go(); } else { window.addEventListener("load", go); }
  }

  function pinnedButton() {
    var pin = document.querySelector(".pin-cta"), form = document.getElementById("pledge-form");
    if (!form) { return; }
    document.querySelectorAll("a[href='#pledge-form']").forEach(function (link) {
      link.addEventListener("click", function () { // the keyboard lands in the form, not just the view
        window.setTimeout(function () { var name = document.getElementById("name"); if (name) { name.focus({ preventScroll: true }); } }, 50);
      });
    });
    if (!pin || !window.IntersectionObserver) { return; }
    new IntersectionObserver(function (entries) {
      entries.forEach(function (e) { pin.classList.toggle("is-hidden", e.isIntersecting); });
    }).observe(form);
  }

  localize();
  tick();
  focusFirstError();
  pinnedButton();
  setInterval(tick, 15000);
  setInterval(poll, interval);
})();
