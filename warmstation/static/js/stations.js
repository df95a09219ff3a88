/* 附近驿站: the phone's position into the filter form, and the map above the list.
   The list works without this file; the map works without tiles. */
(function () {
  "use strict";
  var form = document.getElementById("station-filters");
  var button = document.getElementById("locate");
  var status = document.getElementById("locate-status");

  function setField(name, value) {
    var input = form.querySelector("input[name='" + name + "']");
    if (!input) {
      input = document.createElement("input");
      input.type = "hidden";
      input.name = name;
      form.appendChild(input);
    }
    input.value = value;
  }

  function locate() {
    if (!navigator.geolocation) { return; }
    status.textContent = button.dataset.waiting || "…";
    navigator.geolocation.getCurrentPosition(function (pos) {
      setField("lat", pos.coords.latitude.toFixed(6));   // WGS-84, as the server expects
      setField("lng", pos.coords.longitude.toFixed(6));
      form.submit();
    }, function () {
      status.textContent = "✕";
    }, { enableHighAccuracy: false, timeout: 10000, maximumAge: 120000 });
  }

  if (form && button && navigator.geolocation) {
    button.hidden = false;
    button.addEventListener("click", locate);
    var hasPosition = /[?&]lat=/.test(window.location.search);
    // Ask without a tap only when the phone already allowed it: no surprise prompt.
    if (!hasPosition && navigator.permissions && navigator.permissions.query) {
      navigator.permissions.query({ name: "geolocation" }).then(function (p) {
        if (p.state === "granted") { locate(); }
      }).catch(function () {});
    }
  }

  var box = document.getElementById("station-map");
  var dataNode = document.getElementById("stations-data");
  if (!box || !dataNode || typeof L === "undefined") { return; }
  var data = JSON.parse(dataNode.textContent);
  var map = L.map(box, { zoomControl: true, attributionControl: !!box.dataset.tiles });
  if (box.dataset.tiles) {
    L.tileLayer(box.dataset.tiles, { maxZoom: 18, attribution: box.dataset.attribution || "" })
      .addTo(map);
  } else {
    box.classList.add("no-tiles");
  }
  var points = [[data.origin.lat, data.origin.lng]];
  L.circleMarker(points[0], { radius: 6, color: "#1c7ed6", fillOpacity: 0.9 }).addTo(map);
  data.stations.forEach(function (s) {
    var marker = L.circleMarker([s.lat, s.lng], {
      radius: 9, weight: 2, color: s.open ? "#2b8a3e" : "#868e96",
      fillColor: s.open ? "#40c057" : "#ced4da", fillOpacity: 0.9
    }).addTo(map);
    var link = document.createElement("a");
    link.href = s.url;
    link.textContent = s.name + " · " + (s.distance < 1000 ? s.distance + " m" :
      (s.distance / 1000).toFixed(1) + " km");
    marker.bindPopup(link);
    points.push([s.lat, s.lng]);
  });
  if (points.length > 1) {
    map.fitBounds(L.latLngBounds(points), { padding: [24, 24], maxZoom: 16 });
  } else {
    map.setView(points[0], 14);
  }
})();
