// The share page's Copy button (progressive enhancement: without JavaScript the text is still selectable).
// Same-origin file, no inline code (CSP script-src 'self'). The words come translated from the page's data- attributes.
(function () {
  "use strict";
  var text = document.getElementById("share-text");
  var row = document.getElementById("copy-row");
  var status = document.getElementById("copy-status");
  if (!text || !row || !status) return;
  var button = document.createElement("button");
  button.type = "button";
  button.id = "copy-text";
  button.textContent = text.getAttribute("data-copy") || "Copy";
  row.insertBefore(button, status);
  var timer = null;

  function say(message) {
    status.textContent = "";
    window.setTimeout(function () { status.textContent = message; }, 50); // a fresh change, so it is announced again
    if (timer) window.clearTimeout(timer);
    timer = window.setTimeout(function () { status.textContent = ""; }, 5000);
  }
  function fallback() {
    text.focus();
    text.select();
    var ok = false;
    try { ok = document.execCommand("copy"); } catch (e) { ok = false; }
    say(ok ? text.getAttribute("data-copied") : text.getAttribute("data-failed"));
  }
  button.addEventListener("click", function () {
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text.value).then(function () {
        say(text.getAttribute("data-copied"));
      }, fallback);
    } else {
      fallback();
    }
  });
})();
