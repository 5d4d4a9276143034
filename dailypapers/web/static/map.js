/* The topic map (/map): every paper a point on a canvas, drawn from /api/map. Hand-written, no library.
 *
 * Drawing: points are written as 2x2 pixels into one ImageData buffer (one putImageData per frame: ~100k points
 * in a few milliseconds, where 100k fillRect calls take tens), then topic labels, search hits and the reader's
 * own papers are drawn on top with the 2-D context. Hover: a grid over the data space (GRID x GRID cells of point
 * indexes) finds the nearest point under the cursor without scanning them all. Pan: drag; zoom: wheel or pinch,
 * around the cursor; click: the paper's page. Filters (since, until, category) come from the page's form.
 * window.mapStats keeps the first paint and frame times for bench/map_browser.py.
 */
(function () {
  "use strict";
  var GRID = 128;
  var canvas = document.getElementById("topic-map");
  if (!canvas || !canvas.getContext) return;
  var tip = document.getElementById("map-tip");
  var ctx = canvas.getContext("2d");
  var started = performance.now();
  var stats = (window.mapStats = { firstPaint: null, frames: [], points: 0 });
  var data = null, titles = null, colours = [], visible = null, grid = null;
  var view = { scale: 1, dx: 0, dy: 0 }; // screen = (data / 10000 * size) * scale + d
  var size = 0, dpr = window.devicePixelRatio || 1, pending = false, hover = -1;

  function colour(topic) {
    // golden-angle hues: neighbouring topic ids get distant colours
    var h = (topic * 137.508) % 360, s = 0.62, l = 0.5;
    var a = s * Math.min(l, 1 - l);
    function f(n) {
      var k = (n + h / 30) % 12;
      return Math.round(255 * (l - a * Math.max(-1, Math.min(k - 3, 9 - k, 1))));
    }
    return [f(0), f(8), f(4)];
  }

  function resize() {
    var width = canvas.parentElement.clientWidth || 600;
    size = Math.max(200, Math.min(width, 900));
    canvas.style.width = size + "px";
    canvas.style.height = size + "px";
    canvas.width = Math.round(size * dpr);
    canvas.height = Math.round(size * dpr);
  }

  function filterMask() {
    var p = data.points, n = p.x.length, mask = new Uint8Array(n);
    var since = canvas.dataset.since, until = canvas.dataset.until, cat = (canvas.dataset.category || "").trim();
    var lo = 0, hi = data.days.length - 1, catIndex = {};
    if (since) { lo = data.days.length; for (var i = 0; i < data.days.length; i++) if (data.days[i] >= since) { lo = i; break; } }
    if (until) { hi = -1; for (var j = data.days.length - 1; j >= 0; j--) if (data.days[j] <= until) { hi = j; break; } }
    data.categories.forEach(function (c, k) { catIndex[k] = !cat || c === cat || c.indexOf(cat + ".") === 0; });
    for (var m = 0; m < n; m++) {
      var d = p.day[m];
      var dayOk = d < 0 ? !(since || until) : d >= lo && d <= hi;
      var catOk = cat ? p.category[m] >= 0 && catIndex[p.category[m]] : true;
      mask[m] = dayOk && catOk ? 1 : 0;
    }
    return mask;
  }

  function buildGrid() {
    var p = data.points, cells = new Array(GRID * GRID);
    for (var i = 0; i < p.x.length; i++) {
      if (!visible[i]) continue;
      var c = Math.min(GRID - 1, (p.x[i] * GRID / 10001) | 0) + GRID * Math.min(GRID - 1, (p.y[i] * GRID / 10001) | 0);
      (cells[c] || (cells[c] = [])).push(i);
    }
    return cells;
  }

  function toScreen(x, y) {
    return [(x / 10000 * size * view.scale + view.dx) * dpr, (y / 10000 * size * view.scale + view.dy) * dpr];
  }

  function draw() {
    pending = false;
    var t0 = performance.now();
    var w = canvas.width, h = canvas.height, image = ctx.createImageData(w, h);
    var buf = new Uint32Array(image.data.buffer), p = data.points, n = p.x.length;
    var k = size * view.scale * dpr / 10000, ox = view.dx * dpr, oy = view.dy * dpr;
    var dot = Math.round((n < 5000 ? 4 : 2) * Math.min(dpr, 2)); // small maps: bigger dots
    for (var i = 0; i < n; i++) {
      if (!visible[i]) continue;
      var sx = (p.x[i] * k + ox) | 0, sy = (p.y[i] * k + oy) | 0;
      if (sx < 0 || sy < 0 || sx >= w - dot || sy >= h - dot) continue;
      var c = colours[p.topic[i]] || 0xff888888;
      for (var yy = 0; yy < dot; yy++) for (var xx = 0; xx < dot; xx++) buf[(sy + yy) * w + sx + xx] = c;
    }
    ctx.putImageData(image, 0, 0);
    marks(data.search, "#111", 4);
    rings(data.mine);
    if (hover >= 0) marks([hover], "#000", 5);
    labels();
    var took = performance.now() - t0;
    stats.frames.push(took);
    if (stats.firstPaint === null) {
      stats.firstPaint = performance.now() - started;
      stats.firstPaintAt = performance.now(); // from navigation start
      canvas.dataset.ready = "1";
    }
  }

  function marks(list, fill, r) {
    ctx.fillStyle = fill;
    for (var i = 0; i < list.length; i++) {
      if (!visible[list[i]]) continue;
      var s = toScreen(data.points.x[list[i]], data.points.y[list[i]]);
      ctx.fillRect(s[0] - r * dpr / 2, s[1] - r * dpr / 2, r * dpr, r * dpr);
    }
  }

  function rings(list) {
    ctx.strokeStyle = "#d2691e";
    ctx.lineWidth = 2 * dpr;
    for (var i = 0; i < list.length; i++) {
      if (!visible[list[i]]) continue;
      var s = toScreen(data.points.x[list[i]], data.points.y[list[i]]);
      ctx.beginPath();
      ctx.arc(s[0], s[1], 5 * dpr, 0, 2 * Math.PI);
      ctx.stroke();
    }
  }

  function labels() {
    ctx.font = (12 * dpr) + "px system-ui, sans-serif";
    ctx.textAlign = "center";
    ctx.lineWidth = 3 * dpr;
    ctx.strokeStyle = "rgba(255,255,255,0.85)";
    ctx.fillStyle = "#222";
    data.topics.forEach(function (t) {
      var s = toScreen(t.x, t.y), text = t.terms.slice(0, 2).join(", ");
      ctx.strokeText(text, s[0], s[1]);
      ctx.fillText(text, s[0], s[1]);
    });
  }

  function redraw() {
    if (!pending) { pending = true; requestAnimationFrame(draw); }
  }

  function nearest(clientX, clientY) {
    var rect = canvas.getBoundingClientRect();
    var x = ((clientX - rect.left - view.dx) / (size * view.scale)) * 10000;
    var y = ((clientY - rect.top - view.dy) / (size * view.scale)) * 10000;
    var radius = 8 / (size * view.scale) * 10000, best = -1, bestD = radius * radius, p = data.points;
    var c0 = Math.floor((x - radius) * GRID / 10001), c1 = Math.floor((x + radius) * GRID / 10001);
    var r0 = Math.floor((y - radius) * GRID / 10001), r1 = Math.floor((y + radius) * GRID / 10001);
    for (var r = Math.max(0, r0); r <= Math.min(GRID - 1, r1); r++) {
      for (var c = Math.max(0, c0); c <= Math.min(GRID - 1, c1); c++) {
        var cell = grid[c + GRID * r];
        if (!cell) continue;
        for (var i = 0; i < cell.length; i++) {
          var dx = p.x[cell[i]] - x, dy = p.y[cell[i]] - y, d = dx * dx + dy * dy;
          if (d < bestD) { bestD = d; best = cell[i]; }
        }
      }
    }
    return best;
  }

  function showTip(i, clientX, clientY) {
    if (!tip) return;
    if (i < 0) { tip.hidden = true; return; }
    tip.textContent = titles ? titles[i] : data.points.id[i]; // textContent: a title is never parsed as HTML
    var rect = canvas.parentElement.getBoundingClientRect();
    tip.style.left = (clientX - rect.left + 12) + "px";
    tip.style.top = (clientY - rect.top + 12) + "px";
    tip.hidden = false;
  }

  function listen() {
    var drag = null, moved = false, touches = {};
    canvas.addEventListener("pointerdown", function (e) {
      drag = { x: e.clientX, y: e.clientY, dx: view.dx, dy: view.dy };
      moved = false;
      touches[e.pointerId] = [e.clientX, e.clientY];
      canvas.setPointerCapture(e.pointerId);
    });
    canvas.addEventListener("pointermove", function (e) {
      if (drag && Object.keys(touches).length < 2) {
        var mx = e.clientX - drag.x, my = e.clientY - drag.y;
        if (Math.abs(mx) + Math.abs(my) > 3) moved = true;
        if (moved) { view.dx = drag.dx + mx; view.dy = drag.dy + my; redraw(); }
        return;
      }
      var i = nearest(e.clientX, e.clientY);
      if (i !== hover) { hover = i; redraw(); }
      showTip(i, e.clientX, e.clientY);
    });
    canvas.addEventListener("pointerup", function (e) {
      delete touches[e.pointerId];
      if (drag && !moved) {
        var i = nearest(e.clientX, e.clientY);
        if (i >= 0) window.location.href = "/papers/" + encodeURIComponent(data.points.id[i]).replace(/%2F/g, "/");
      }
      drag = null;
    });
    canvas.addEventListener("pointerleave", function () { hover = -1; showTip(-1); redraw(); });
    canvas.addEventListener("wheel", function (e) {
      e.preventDefault();
      zoomAt(e.clientX, e.clientY, Math.exp(-e.deltaY * 0.0015));
    }, { passive: false });
    window.addEventListener("resize", function () { resize(); redraw(); });
  }

  function zoomAt(clientX, clientY, factor) {
    var rect = canvas.getBoundingClientRect(), px = clientX - rect.left, py = clientY - rect.top;
    var next = Math.max(0.5, Math.min(200, view.scale * factor));
    factor = next / view.scale;
    view.dx = px - (px - view.dx) * factor;
    view.dy = py - (py - view.dy) * factor;
    view.scale = next;
    redraw();
  }
  window.mapZoomAt = zoomAt; // for the benchmark's scripted zoom

  function start(body) {
    data = body;
    stats.points = data.points.x.length;
    data.topics.forEach(function (t) {
      var c = colour(t.id);
      colours[t.id] = (0xff << 24) | (c[2] << 16) | (c[1] << 8) | c[0]; // ImageData is RGBA, little-endian
    });
    resize();
    visible = filterMask();
    grid = buildGrid();
    listen();
    draw();
    fetch(data.titles_url, { credentials: "same-origin" })
      .then(function (r) { return r.json(); })
      .then(function (t) { if (t.generation === data.generation) titles = t.titles; canvas.dataset.titles = "1"; });
  }

  fetch(canvas.dataset.src, { credentials: "same-origin", headers: { Accept: "application/json" } })
    .then(function (r) { return r.json(); })
    .then(start);
})();
