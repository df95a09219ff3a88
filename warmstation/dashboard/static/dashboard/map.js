/* 底数图 and 覆盖缺口: Leaflet with the page's JSON (#map-data). Positions are already in the
   tiles' coordinate system (the server converts to MAP_TILE_CRS). Without tiles the map still
   draws the cells, points and boundaries on a plain background; the lists beside it hold the
   same information without JavaScript. */
(function () {
  "use strict";
  var box = document.getElementById("district-map");
  var node = document.getElementById("map-data");
  if (!box || !node || typeof L === "undefined") { return; }
  var data = JSON.parse(node.textContent);
  var map = L.map(box, { zoomControl: true, attributionControl: !!box.dataset.tiles, preferCanvas: true });
  if (box.dataset.tiles) {
    L.tileLayer(box.dataset.tiles, { maxZoom: 18, attribution: box.dataset.attribution || "" }).addTo(map);
  } else {
    box.classList.add("no-tiles");
  }
  var bounds = [];
  function remember(latlng) { bounds.push(latlng); }
  function dot(at, colour, radius) {
    remember(at);
    return L.circleMarker(at, { radius: radius || 6, weight: 1, color: "#fff", fillColor: colour, fillOpacity: 0.95 });
  }
  function text(s) { var span = document.createElement("span"); span.textContent = s; return span; }
  var overlays = {};

  if (box.dataset.kind === "base") {
    var layers = data.layers || {};
    if (layers.boundaries) {
      var b = L.layerGroup();
      layers.boundaries.items.forEach(function (item) {
        item.rings.forEach(function (poly) { poly.forEach(function (ring) { ring.forEach(remember); }); });
        L.polygon(item.rings, { color: "#495057", weight: 1.5, fill: false }).bindTooltip(item.name).addTo(b);
      });
      overlays.boundaries = b;
    }
    if (layers.density) {
      var d = L.layerGroup(), max = Math.max(layers.density.max, 1);
      layers.density.items.forEach(function (cell) {
        cell.shape.forEach(remember);
        L.polygon(cell.shape, { weight: 0.5, color: "#d9480f", fillColor: "#f08c00",
                                fillOpacity: 0.15 + 0.65 * Math.sqrt(cell.n / max) })
          .bindTooltip(text(String(cell.n))).addTo(d);
      });
      overlays.density = d;
    }
    [["stations", "#2b8a3e"], ["meals", "#e8590c"], ["flats", "#7048e8"], ["groups", "#1c7ed6"]]
      .forEach(function (pair) {
        var layer = layers[pair[0]];
        if (!layer) { return; }
        var g = L.layerGroup();
        layer.items.forEach(function (item) {
          var label = item.name + (item.groups ? " · " + item.groups : "");
          dot(item.at, item.closed ? "#868e96" : pair[1], pair[0] === "groups" ? 8 : 6)
            .bindTooltip(text(label)).addTo(g);
        });
        overlays[pair[0]] = g;
      });
  } else {
    var cov = L.layerGroup(), gaps = L.layerGroup(), st = L.layerGroup(), cand = L.layerGroup();
    data.covered.forEach(function (c) {
      c.shape.forEach(remember);
      L.polygon(c.shape, { weight: 0.3, color: "#2b8a3e", fillColor: "#8ce99a", fillOpacity: 0.35 }).addTo(cov);
    });
    data.gaps.forEach(function (c) {
      c.shape.forEach(remember);
      L.polygon(c.shape, { weight: 0.5, color: "#c92a2a", fillColor: "#e03131", fillOpacity: 0.45 })
        .bindTooltip(text(c.n === null ? "<5" : String(c.n))).addTo(gaps);
    });
    data.stations.forEach(function (s) {
      if (data.stations.length < 500) { remember(s.at); }
      L.circleMarker(s.at, { radius: 4, weight: 1, color: "#fff", fillColor: "#2b8a3e", fillOpacity: 0.9 })
        .bindTooltip(text(s.name)).addTo(st);
    });
    data.candidates.forEach(function (c) {
      remember(c.at);
      L.circle(c.at, { radius: data.distance, weight: 1, color: "#1c7ed6", fill: false, dashArray: "4 4" }).addTo(cand);
      L.marker(c.at, { icon: L.divIcon({ className: "cand-label", html: "", iconSize: [22, 22] }), keyboard: false })
        .on("add", function (e) { e.target.getElement().textContent = String(c.rank); })
        .bindTooltip(text("#" + c.rank + (c.n === null ? "" : " · +" + c.n))).addTo(cand);
    });
    overlays = { covered: cov, gaps: gaps, stations: st, candidates: cand };
  }
  Object.keys(overlays).forEach(function (k) { overlays[k].addTo(map); });
  if (bounds.length) {
    map.fitBounds(L.latLngBounds(bounds), { padding: [16, 16], maxZoom: 15 });
  } else {
    map.setView([39.73, 115.99], 10);  // 房山区
  }
})();
