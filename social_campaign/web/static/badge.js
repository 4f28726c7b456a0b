// The badge maker's preview: draws the chosen photo under the frame on a canvas; drag to move, slider to zoom.
// It only sets the hidden x, y and scale fields; the browser then submits the form itself, with its hidden csrf
// token, and the server makes the badge (without JavaScript: a centre crop). Never post the photo any other way.
(function () {
  "use strict";
  var form = document.getElementById("badge-form");
  if (!form || !window.URL || !document.createElement("canvas").getContext) return;
  var input = document.getElementById("photo"), canvas = document.getElementById("badge-canvas");
  var zoom = document.getElementById("zoom"), preview = document.getElementById("preview");
  var fx = document.getElementById("x"), fy = document.getElementById("y"), fs = document.getElementById("scale");
  var ctx = canvas.getContext("2d"), frame = new Image(), photo = new Image();
  var state = { x: 0.5, y: 0.5, scale: 1 }, drag = null;
  frame.src = form.getAttribute("data-frame");
  frame.onload = draw;

  function box() { // the square crop in photo pixels, as the server computes it (graphics/badge.py crop_box)
    var w = photo.naturalWidth, h = photo.naturalHeight, side = Math.min(w, h) / state.scale;
    var left = Math.min(Math.max(state.x * w - side / 2, 0), w - side);
    var top = Math.min(Math.max(state.y * h - side / 2, 0), h - side);
    return { left: left, top: top, side: side };
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
  input.addEventListener("change", function () {
    var file = input.files && input.files[0];
    if (!file) return;
    state = { x: 0.5, y: 0.5, scale: 1 }; zoom.value = "1";
    photo.onload = function () { preview.hidden = false; draw(); };
    photo.src = URL.createObjectURL(file); // stays in the browser; EXIF orientation is applied by the browser
  });
  zoom.addEventListener("input", function () { state.scale = parseFloat(zoom.value) || 1; draw(); });
  canvas.addEventListener("pointerdown", function (e) { drag = { x: e.clientX, y: e.clientY }; canvas.setPointerCapture(e.pointerId); });
  canvas.addEventListener("pointerup", function () { drag = null; });
  canvas.addEventListener("pointermove", function (e) {
    if (!drag || !photo.naturalWidth) return;
    var b = box(), perPx = b.side / canvas.getBoundingClientRect().width;
    state.x = Math.min(1, Math.max(0, state.x - (e.clientX - drag.x) * perPx / photo.naturalWidth));
    state.y = Math.min(1, Math.max(0, state.y - (e.clientY - drag.y) * perPx / photo.naturalHeight));
    drag = { x: e.clientX, y: e.clientY };
    draw();
  });
})();
