// Live length counters and previews for the workspace's text fields (progressive enhancement: the pages work and
// show server-rendered lengths without this file).
//
// Every <textarea data-channel="x facebook"> with an <output class="length" data-for="<its id>"> gets, as the manager
// types (debounced), the weighted length per network from POST /admin/c/<slug>/preview.json (the same rules as
// `check`), and a preview box per network close to how the network shows the post. Crossing a limit is announced
// politely once (a live region per field), not on every key press. Words come translated from the server.
(function () {
  "use strict";
  var match = /^\/admin\/c\/([^/]+)\//.exec(window.location.pathname);
  if (!match || !window.fetch) { return; }
  var endpoint = "/admin/c/" + match[1] + "/preview.json";
  var cards = document.querySelector(".media-fields");
  var WAIT = 300;

  function cardUrl(channel) {
    var img = document.querySelector(".media-fields img[data-card]");
    if (!img || !cards) { return null; }
    var target = channel === "facebook" ? "facebook" : "x";
    return cards.getAttribute("data-cards") + encodeURIComponent(img.getAttribute("data-card")) + "/" + target + ".png";
  }

  function csrfFor(area) {
    var form = area.form || document.querySelector("form");
    var input = form ? form.querySelector("input[name=csrf]") : null;
    return input ? input.value : "";
  }

  function box(area) {
    var id = "preview-" + area.id;
    var found = document.getElementById(id);
    if (found) { return found; }
    var holder = document.createElement("div");
    holder.className = "net-previews";
    holder.id = id;
    var output = document.querySelector('output.length[data-for="' + area.id + '"]');
    (output || area).insertAdjacentElement("afterend", holder);
    return holder;
  }

  function liveRegion(area) {
    var id = "live-" + area.id;
    var found = document.getElementById(id);
    if (found) { return found; }
    var p = document.createElement("p");
    p.id = id;
    p.className = "visually-hidden";
    p.setAttribute("aria-live", "polite");
    area.insertAdjacentElement("afterend", p);
    return p;
  }

  function preview(item, author) {
    var figure = document.createElement("figure");
    figure.className = "net-preview net-" + item.channel + (item.over ? " is-over" : "");
    var caption = document.createElement("figcaption");
    caption.textContent = item.preview_label;
    figure.appendChild(caption);
    var head = document.createElement("p");
    head.className = "net-author";
    var name = document.createElement("span");
    name.className = "net-name";
    name.textContent = author.name;
    var handle = document.createElement("span");
    handle.className = "net-handle";
    handle.textContent = author.handle;
    head.appendChild(name);
    head.appendChild(document.createTextNode(" "));
    head.appendChild(handle);
    figure.appendChild(head);
    var text = document.createElement("p");
    text.className = "net-text";
    text.innerHTML = item.html; // escaped by the server (workspace/preview.py mark_up)
    figure.appendChild(text);
    var url = cardUrl(item.channel);
    if (url && item.channel !== "outbox") {
      var img = document.createElement("img");
      img.src = url;
      img.alt = "";
      img.className = "net-card";
      img.loading = "lazy";
      figure.appendChild(img);
    }
    return figure;
  }

  function show(area, data) {
    var output = document.querySelector('output.length[data-for="' + area.id + '"]');
    var items = data.items || [];
    var over = items.some(function (item) { return item.over; });
    if (output) {
      output.textContent = items.map(function (item) { return item.label; }).join(" · ");
      output.classList.toggle("over", over);
    }
    area.classList.toggle("is-over", over);
    var live = liveRegion(area);
    if (area.dataset.wasOver !== String(over)) {
      if (area.dataset.wasOver !== undefined || over) {
        live.textContent = items.filter(function (item) { return item.over || !over; })
          .map(function (item) { return item.label; }).join(". ");
      }
      area.dataset.wasOver = String(over);
    }
    var holder = box(area);
    holder.textContent = "";
    if (!area.value.trim()) { return; } // an empty box (no override): nothing to preview
    items.forEach(function (item) {
      if (item.channel !== "outbox") { holder.appendChild(preview(item, data.author || {})); }
    });
  }

  function ask(area) {
    var channels = (area.getAttribute("data-channel") || "x").split(/\s+/).filter(Boolean);
    var body = JSON.stringify({ items: [{ id: area.id, channels: channels, text: area.value }] });
    var token = csrfFor(area);
    area.dataset.asked = String((Number(area.dataset.asked) || 0) + 1);
    var mine = area.dataset.asked;
    fetch(endpoint, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "Accept": "application/json", "X-CSRF-Token": token },
      body: body
    }).then(function (response) {
      return response.ok ? response.json() : null;
    }).then(function (data) {
      if (data && area.dataset.asked === mine) { show(area, data); }
    }).catch(function () { /* the server-rendered length stays */ });
  }

  document.querySelectorAll("textarea[data-channel]").forEach(function (area) {
    if (!area.id) { return; }
    var output = document.querySelector('output.length[data-for="' + area.id + '"]');
    if (output) { output.setAttribute("aria-live", "off"); } // <output> is a live region: announce only crossings
    var timer = null;
    area.addEventListener("input", function () {
      window.clearTimeout(timer);
      timer = window.setTimeout(function () { ask(area); }, WAIT);
    });
    ask(area);
  });
})();
