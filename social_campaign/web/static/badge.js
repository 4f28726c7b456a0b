// The badge maker (templates/badge.html), progressive enhancement. Without JavaScript the plain form works: file
// input, size, Download (a centre crop). With it: the frame is the drop zone, the chosen photo is previewed under the
// frame on a canvas, moved by dragging or the arrow keys, zoomed by the slider, +/-, the wheel or a pinch; the
// Download button appears once a photo is chosen; a file that is not a usable image gets an inline error.
// It only sets the hidden x, y and scale fields; the browser submits the form itself with its csrf token, and the
// server makes the badge. The photo never leaves the browser any other way.
(function () {
  "use strict";
  var form = document.getElementById("badge-form");
  if (!form || !window.URL || !document.createElement("canvas").getContext) return;
  var $ = function (id) { return document.getElementById(id); };
  var input = $("photo"), canvas = $("badge-canvas"), stage = $("badge-stage");
  var zoom = $("zoom"), controls = $("preview"), download = $("badge-download"), next = $("badge-next");
  var errorBox = $("photo-error"), status = $("badge-status"), change = $("badge-change");
  var fx = $("x"), fy = $("y"), fs = $("scale");
  var ctx = canvas.getContext("2d"), frame = new Image(), photo = new Image(), url = null;
  var state = { x: 0.5, y: 0.5, scale: 1 }, pointers = {}, drag = null, pinch = null, announceTimer = null;
  var ACCEPTED = ["image/jpeg", "image/png", "image/webp", "image/gif", "image/bmp", "image/tiff"];
  var MAX_SCALE = parseFloat(zoom.max) || 4;
  var lang = document.documentElement.lang || undefined;

  form.classList.add("js");
  download.hidden = true;
  if (next && !form.querySelector("#form-error")) next.hidden = true;
  frame.src = form.getAttribute("data-frame");
  frame.onload = draw;

  function loaded() { return photo.naturalWidth > 0 && !canvas.hidden; }
  function side() { return Math.min(photo.naturalWidth, photo.naturalHeight) / state.scale; }
  function clamp() { // keep the crop inside the photo, so no key press or drag is ever lost at an edge
    var w = photo.naturalWidth, h = photo.naturalHeight, s = side();
    state.scale = Math.min(MAX_SCALE, Math.max(1, state.scale));
    s = side();
    state.x = Math.min(1 - s / 2 / w, Math.max(s / 2 / w, state.x));
    state.y = Math.min(1 - s / 2 / h, Math.max(s / 2 / h, state.y));
  }
  function box() { // the square crop in photo pixels, as the server computes it (graphics/badge.py crop_box)
    var w = photo.naturalWidth, h = photo.naturalHeight, s = side();
    var left = Math.min(Math.max(state.x * w - s / 2, 0), w - s);
    var top = Math.min(Math.max(state.y * h - s / 2, 0), h - s);
    return { left: left, top: top, side: s };
  }
  function draw() {
    var n = canvas.width;
    ctx.clearRect(0, 0, n, n);
    ctx.save();
    if (form.getAttribute("data-shape") === "circle") { ctx.beginPath(); ctx.arc(n / 2, n / 2, n / 2, 0, 2 * Math.PI); ctx.clip(); }
    if (photo.naturalWidth) { var b = box(); ctx.fillStyle = "#fff"; ctx.fillRect(0, 0, n, n); ctx.drawImage(photo, b.left, b.top, b.side, b.side, 0, 0, n, n); }
    if (frame.complete && frame.naturalWidth) ctx.drawImage(frame, 0, 0, n, n);
    ctx.restore();
    fx.value = state.x.toFixed(4); fy.value = state.y.toFixed(4); fs.value = state.scale.toFixed(3);
  }
  function update(announce) {
    clamp();
    zoom.value = String(state.scale);
    draw();
    if (announce) say();
  }
  function say() { // polite, and only once the keys are let go for a moment
    if (announceTimer) window.clearTimeout(announceTimer);
    announceTimer = window.setTimeout(function () {
      var pct = function (v) { return new Intl.NumberFormat(lang, { style: "percent" }).format(v); };
      var times = new Intl.NumberFormat(lang, { maximumFractionDigits: 1 }).format(state.scale) + "×";
      status.textContent = form.getAttribute("data-moved").replace("{x}", pct(state.x)).replace("{y}", pct(state.y)).replace("{z}", times);
    }, 400);
  }
  function showError(message) {
    errorBox.textContent = message;
    input.setAttribute("aria-invalid", "true");
    input.setAttribute("aria-describedby", "photo-help photo-error");
  }
  function clearError() {
    errorBox.textContent = "";
    input.removeAttribute("aria-invalid");
    input.setAttribute("aria-describedby", "photo-help");
  }
  function reset() {
    canvas.hidden = true; controls.hidden = true; download.hidden = true;
    stage.classList.remove("badge-has-photo");
    if (url) { URL.revokeObjectURL(url); url = null; }
    photo.removeAttribute("src");
  }
  function choose(file) {
    if (!file) return;
    if (ACCEPTED.indexOf(file.type) < 0) { reset(); showError(form.getAttribute("data-not-image")); input.value = ""; return; }
    if (file.size > parseInt(form.getAttribute("data-max-bytes"), 10)) { reset(); showError(form.getAttribute("data-too-big")); input.value = ""; return; }
    state = { x: 0.5, y: 0.5, scale: 1 };
    if (url) URL.revokeObjectURL(url);
    url = URL.createObjectURL(file); // stays in the browser; EXIF orientation is applied by the browser
    photo.onload = function () {
      clearError();
      canvas.hidden = false; controls.hidden = false; download.hidden = false;
      stage.classList.add("badge-has-photo");
      update(false);
    };
    photo.onerror = function () { reset(); showError(form.getAttribute("data-unreadable")); input.value = ""; };
    photo.src = url;
  }
  input.addEventListener("change", function () { choose(input.files && input.files[0]); });
  change.addEventListener("click", function () { input.click(); });

  // Drag and drop onto the frame (or the preview).
  ["dragenter", "dragover"].forEach(function (type) {
    stage.addEventListener(type, function (e) { e.preventDefault(); stage.classList.add("badge-over"); });
  });
  ["dragleave", "drop"].forEach(function (type) {
    stage.addEventListener(type, function () { stage.classList.remove("badge-over"); });
  });
  stage.addEventListener("drop", function (e) {
    e.preventDefault();
    var files = e.dataTransfer && e.dataTransfer.files;
    if (!files || !files.length) return;
    try { input.files = files; } catch (err) { /* an old browser: preview only, the input keeps its file */ }
    choose(files[0]);
  });

  // Keyboard: arrows move the photo (Shift: further), + and - zoom.
  canvas.addEventListener("keydown", function (e) {
    if (!loaded()) return;
    var step = (e.shiftKey ? 0.2 : 0.05) * side(), w = photo.naturalWidth, h = photo.naturalHeight;
    var moves = { ArrowLeft: [step / w, 0], ArrowRight: [-step / w, 0], ArrowUp: [0, step / h], ArrowDown: [0, -step / h] };
    if (moves[e.key]) { state.x += moves[e.key][0]; state.y += moves[e.key][1]; }
    else if (e.key === "+" || e.key === "=") state.scale *= 1.1;
    else if (e.key === "-" || e.key === "_") state.scale /= 1.1;
    else return;
    e.preventDefault();
    update(true);
  });
  zoom.addEventListener("input", function () { state.scale = parseFloat(zoom.value) || 1; update(false); });
  canvas.addEventListener("wheel", function (e) {
    if (!loaded()) return;
    e.preventDefault();
    state.scale *= Math.exp(-e.deltaY * 0.0015);
    update(false);
  }, { passive: false });

  // Pointers: one drags, two pinch.
  function distance() {
    var ids = Object.keys(pointers), a = pointers[ids[0]], b = pointers[ids[1]];
    return Math.max(1, Math.hypot(a.x - b.x, a.y - b.y));
  }
  canvas.addEventListener("pointerdown", function (e) {
    if (!loaded()) return;
    canvas.setPointerCapture(e.pointerId);
    pointers[e.pointerId] = { x: e.clientX, y: e.clientY };
    var count = Object.keys(pointers).length;
    if (count === 1) drag = { x: e.clientX, y: e.clientY };
    if (count === 2) { drag = null; pinch = { distance: distance(), scale: state.scale }; }
  });
  function lift(e) {
    delete pointers[e.pointerId];
    pinch = null;
    var ids = Object.keys(pointers);
    drag = ids.length === 1 ? { x: pointers[ids[0]].x, y: pointers[ids[0]].y } : null;
  }
  canvas.addEventListener("pointerup", lift);
  canvas.addEventListener("pointercancel", lift);
  canvas.addEventListener("pointermove", function (e) {
    if (!pointers[e.pointerId] || !loaded()) return;
    pointers[e.pointerId] = { x: e.clientX, y: e.clientY };
    if (pinch && Object.keys(pointers).length === 2) {
      state.scale = pinch.scale * distance() / pinch.distance;
      update(false);
      return;
    }
    if (!drag) return;
    var perPx = side() / canvas.getBoundingClientRect().width;
    state.x -= (e.clientX - drag.x) * perPx / photo.naturalWidth;
    state.y -= (e.clientY - drag.y) * perPx / photo.naturalHeight;
    drag = { x: e.clientX, y: e.clientY };
    update(false);
  });

  // After the download: what next.
  form.addEventListener("submit", function () {
    if (!next) return;
    window.setTimeout(function () {
      next.hidden = false;
      var heading = $("badge-next-title");
      if (heading) heading.focus();
    }, 300);
  });
})();
