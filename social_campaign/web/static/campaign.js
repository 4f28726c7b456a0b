// Progressive enhancement for the campaign page: local times, countdowns, and live progress. The page works without it.
(function () {
  "use strict";
  var script = document.currentScript;
  var progressUrl = script && script.getAttribute("data-progress");
  var interval = Math.max(2, parseFloat((script && script.getAttribute("data-interval")) || "5")) * 1000;

  function localize() {
    document.querySelectorAll("time.when").forEach(function (el) {
      var d = new Date(el.getAttribute("datetime"));
      if (!isNaN(d)) {
        el.textContent = d.toLocaleString(undefined, { dateStyle: "full", timeStyle: "short" }) + " (your time)";
      }
    });
  }

  function pad(n) { return n < 10 ? "0" + n : "" + n; }

  function tick() {
    var now = Date.now();
    document.querySelectorAll(".countdown").forEach(function (el) {
      var until = Date.parse(el.getAttribute("data-until"));
      if (isNaN(until)) { return; }
      var s = Math.max(0, Math.floor((until - now) / 1000));
      var days = Math.floor(s / 86400);
      el.textContent = s === 0 ? "now" :
        "in " + days + " day" + (days === 1 ? "" : "s") + " " + pad(Math.floor(s % 86400 / 3600)) + ":" + pad(Math.floor(s % 3600 / 60)) + ":" + pad(s % 60);
    });
  }

  function poll() {
    if (!progressUrl || !window.fetch) { return; }
    fetch(progressUrl, { headers: { "Accept": "application/json" } }).then(function (r) {
      return r.ok ? r.json() : null;
    }).then(function (p) {
      if (!p) { return; }
      var confirmed = document.getElementById("confirmed"), bar = document.getElementById("bar"), state = document.getElementById("state");
      if (confirmed) { confirmed.textContent = p.confirmed; }
      if (bar) { bar.max = p.goal; bar.value = Math.min(p.confirmed, p.goal); }
      if (state) { state.textContent = p.state.charAt(0).toUpperCase() + p.state.slice(1); }
    }).catch(function () { /* keep the last figure */ });
  }

  localize();
  tick();
  setInterval(tick, 1000);
  setInterval(poll, interval);
})();
