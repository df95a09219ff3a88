/* 随手拍: photos upload as soon as they are taken (the form sends their ids), the place comes
   from the phone or a tap on the map, the same-problem prompt appears once the category and the
   place are known, and a report made without network is kept on the phone (localStorage) with
   a key made here, then sent when the network is back: the server answers the same key with
   the same report, so it is never created twice. The form works without this file. */
(function () {
  "use strict";
  var QUEUE = "ws.reports.queue";
  var MAX_SIDE = 1600;  // photos kept offline are shrunk first: localStorage holds ~5 MB

  function csrf() {
    var input = document.querySelector("input[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }
  function newKey() {
    if (window.crypto && crypto.randomUUID) { return crypto.randomUUID(); }
    return "k" + Date.now().toString(36) + Math.random().toString(36).slice(2, 12);
  }
  function loadQueue() {
    try { return JSON.parse(localStorage.getItem(QUEUE) || "[]"); } catch (e) { return []; }
  }
  function saveQueue(q) {
    try { localStorage.setItem(QUEUE, JSON.stringify(q)); return true; } catch (e) { return false; }
  }

  function readAsDataUrl(file) {  // data: URLs, as the CSP allows (img-src 'self' data:)
    return new Promise(function (resolve, reject) {
      var reader = new FileReader();
      reader.onload = function () { resolve(reader.result); };
      reader.onerror = function () { reject(new Error("read")); };
      reader.readAsDataURL(file);
    });
  }
  function shrink(file) {  // → a JPEG data: URL at most MAX_SIDE px (previews, offline queue)
    return readAsDataUrl(file).then(function (url) {
      return new Promise(function (resolve, reject) {
        var img = new Image();
        img.onload = function () {
          var scale = Math.min(1, MAX_SIDE / Math.max(img.width, img.height));
          var c = document.createElement("canvas");
          c.width = Math.round(img.width * scale);
          c.height = Math.round(img.height * scale);
          c.getContext("2d").drawImage(img, 0, 0, c.width, c.height);
          resolve(c.toDataURL("image/jpeg", 0.8));
        };
        img.onerror = function () { reject(new Error("decode")); };  // HEIC: the server reads it
        img.src = url;
      });
    });
  }
  function dataUrlToBlob(dataUrl) {
    var parts = dataUrl.split(","), bytes = atob(parts[1]), arr = new Uint8Array(bytes.length);
    for (var i = 0; i < bytes.length; i++) { arr[i] = bytes.charCodeAt(i); }
    return new Blob([arr], { type: "image/jpeg" });
  }

  function upload(endpoint, blob, name) {
    var body = new FormData();
    body.append("image", blob, name || "photo.jpg");
    return fetch(endpoint, { method: "POST", body: body, credentials: "same-origin",
                             headers: { "X-CSRFToken": csrf(), "Accept": "application/json" } })
      .then(function (r) { return r.json().then(function (j) { j.status = r.status; return j; }); });
  }

  // Send one queued report: its photos first (again: unattached uploads are harmless), then
  // the report under its own key. Network errors leave it in the queue.
  function sendQueued(item, endpoint, action) {
    var ids = [];
    return item.photos.reduce(function (p, dataUrl) {
      return p.then(function () {
        return upload(endpoint, dataUrlToBlob(dataUrl)).then(function (j) {
          if (!j.ok) { throw { refused: j }; }
          ids.push(j.id);
        });
      });
    }, Promise.resolve()).then(function () {
      var body = new FormData();
      Object.keys(item.fields).forEach(function (k) { body.append(k, item.fields[k]); });
      body.append("client_key", item.key);
      ids.forEach(function (id) { body.append("photo_ids", id); });
      return fetch(action, { method: "POST", body: body, credentials: "same-origin",
                             headers: { "X-CSRFToken": csrf(), "Accept": "application/json" } })
        .then(function (r) { return r.json(); });
    });
  }

  function flush(endpoint, action, done) {
    var q = loadQueue();
    if (!q.length || !navigator.onLine) { if (done) { done(q.length); } return; }
    var item = q[0];
    sendQueued(item, endpoint, action).then(function (j) {
      if (j.ok || (j.code && j.code !== "network")) {  // sent, or refused for good: drop it
        saveQueue(loadQueue().filter(function (x) { return x.key !== item.key; }));
        flush(endpoint, action, done);
      } else if (done) { done(loadQueue().length); }
    }).catch(function (e) {
      if (e && e.refused) {
        saveQueue(loadQueue().filter(function (x) { return x.key !== item.key; }));
      }
      if (done) { done(loadQueue().length); }
    });
  }

  var queued = document.getElementById("queued");
  var form = document.getElementById("report-form");
  if (queued && !form) {
    var n = loadQueue().length;
    if (n) { queued.hidden = false; queued.textContent = "⏳ " + n; }
  }

  if (form) {
    var endpoint = form.dataset.upload, action = form.getAttribute("action") || location.pathname;
    var fileInput = form.querySelector("input[type=file][name=photos]");
    var previews = document.getElementById("photo-previews");
    var keyInput = form.querySelector("input[name=client_key]");
    if (!keyInput.value) { keyInput.value = newKey(); }
    var pending = [];   // {file, dataUrl, id}
    var status = document.getElementById("loc-status");
    var lat = form.querySelector("input[name=lat]"), lng = form.querySelector("input[name=lng]");
    var crs = form.querySelector("select[name=crs]");
    var category = document.getElementById("category");
    var candidates = document.getElementById("candidates");

    flush(endpoint, action);
    window.addEventListener("online", function () { flush(endpoint, action); });

    fileInput.addEventListener("change", function () {
      Array.prototype.slice.call(fileInput.files, 0, 3 - pending.length).forEach(function (file) {
        var entry = { file: file, id: null };
        pending.push(entry);
        var fig = document.createElement("figure");
        var img = document.createElement("img");
        img.width = 96; img.alt = "";
        var cap = document.createElement("figcaption");
        cap.textContent = form.dataset.msgUploading;
        fig.appendChild(img); fig.appendChild(cap); previews.appendChild(fig);
        shrink(file).then(function (d) { entry.dataUrl = d; img.src = d; }).catch(function () {});
        upload(endpoint, file, file.name).then(function (j) {
          if (j.ok) {
            entry.id = j.id; cap.textContent = "✓";
            var hidden = document.createElement("input");
            hidden.type = "hidden"; hidden.name = "photo_ids"; hidden.value = j.id;
            form.appendChild(hidden);
          } else { cap.textContent = j.message; pending.splice(pending.indexOf(entry), 1); }
        }).catch(function () { cap.textContent = "⏳"; });
      });
      fileInput.value = "";  // sent ahead (or kept for the queue): not again with the form
    });

    function showCandidates() {
      if (!category.value || !lat.value || !lng.value) { return; }
      var q = new URLSearchParams({ category: category.value, lat: lat.value, lng: lng.value,
                                    crs: crs.value });
      fetch(form.dataset.nearby + "?" + q.toString(), { credentials: "same-origin" })
        .then(function (r) { return r.text(); })
        .then(function (html) { candidates.innerHTML = html; })
        .catch(function () {});
    }
    category.addEventListener("change", showCandidates);

    function setPlace(la, ln, system) {
      lat.value = la.toFixed(6); lng.value = ln.toFixed(6); crs.value = system;
      showCandidates();
    }
    var locate = document.getElementById("locate");
    locate.addEventListener("click", function () {
      if (!navigator.geolocation) { status.textContent = form.dataset.msgNoloc; return; }
      status.textContent = "…";
      navigator.geolocation.getCurrentPosition(function (pos) {
        setPlace(pos.coords.latitude, pos.coords.longitude, "wgs84");  // GPS is WGS-84
        status.textContent = form.dataset.msgLocated + " ±" + Math.round(pos.coords.accuracy) + "m";
      }, function () { status.textContent = form.dataset.msgNoloc; showMap(); },
      { enableHighAccuracy: true, timeout: 10000, maximumAge: 60000 });
    });
    if (navigator.permissions && navigator.permissions.query && !lat.value) {
      navigator.permissions.query({ name: "geolocation" }).then(function (p) {
        if (p.state === "granted") { locate.click(); }
      }).catch(function () {});
    }

    function showMap() {
      var box = document.getElementById("report-map");
      if (!box || typeof L === "undefined" || !box.dataset.tiles || box.dataset.ready) { return; }
      box.hidden = false; box.dataset.ready = "1";
      var map = L.map(box).setView([parseFloat(lat.value) || 39.7476, parseFloat(lng.value) || 116.137], 15);
      L.tileLayer(box.dataset.tiles, { maxZoom: 19, attribution: box.dataset.attribution || "" }).addTo(map);
      var marker = null;
      map.on("click", function (e) {  // the map's own system (天地图 WGS-84, AMap GCJ-02 …)
        if (marker) { marker.setLatLng(e.latlng); } else { marker = L.marker(e.latlng).addTo(map); }
        setPlace(e.latlng.lat, e.latlng.lng, box.dataset.crs || "wgs84");
      });
    }
    showMap();

    form.addEventListener("submit", function (ev) {
      // "我也遇到" posts this form's place to the problem's follow URL: let the browser do it
      if (ev.submitter && ev.submitter.hasAttribute("formaction")) { return; }
      ev.preventDefault();
      var fields = {};
      ["category", "lat", "lng", "crs", "description", "address"].forEach(function (k) {
        var el = form.elements[k]; if (el) { fields[k] = el.value; }
      });
      var item = { key: keyInput.value, fields: fields,
                   photos: pending.map(function (p) { return p.dataUrl; }).filter(Boolean) };
      var allUploaded = pending.length && pending.every(function (p) { return p.id; });
      var send;
      if (allUploaded) {
        var body = new FormData(form);
        send = fetch(action, { method: "POST", body: body, credentials: "same-origin",
                               headers: { "X-CSRFToken": csrf(), "Accept": "application/json" } })
          .then(function (r) { return r.json(); });
      } else {
        send = Promise.reject(new Error("offline"));
      }
      send.then(function (j) {
        if (j.ok) { location.href = j.url; return; }
        var box = document.querySelector(".flash.error") || document.createElement("p");
        box.className = "flash error"; box.setAttribute("role", "alert"); box.textContent = j.message;
        form.parentNode.insertBefore(box, form);
      }).catch(function () {
        if (!item.photos.length && !pending.length) { form.submit(); return; }
        var q = loadQueue();
        if (!q.some(function (x) { return x.key === item.key; })) { q.push(item); }
        var box = document.createElement("p");
        box.className = "flash"; box.setAttribute("role", "status");
        box.textContent = saveQueue(q) ? form.dataset.msgOffline : "✕";
        form.parentNode.insertBefore(box, form);
      });
    });
  }

  // The queue's and the public page's map of what is listed.
  ["queue-map", "public-map"].forEach(function (id) {
    var box = document.getElementById(id), node = document.getElementById("queue-points");
    if (!box || !node || typeof L === "undefined" || !box.dataset.tiles) { return; }
    var points = JSON.parse(node.textContent);
    if (!points.length) { return; }
    box.hidden = false;
    var map = L.map(box);
    L.tileLayer(box.dataset.tiles, { maxZoom: 19, attribution: box.dataset.attribution || "" }).addTo(map);
    var bounds = [];
    points.forEach(function (p) {
      var m = L.circleMarker([p.lat, p.lng], { radius: 7, color: p.status === "submitted" ? "#e8590c" : "#1c7ed6" }).addTo(map);
      if (p.url) { m.on("click", function () { location.href = p.url; }); }
      bounds.push([p.lat, p.lng]);
    });
    map.fitBounds(bounds, { maxZoom: 16, padding: [20, 20] });
  });
})();

/* The staff blur tool: the photo at full size in a box; drag to mark a face or a plate (as many
   as needed); the marks go with the form as fractions of the picture ("x,y,w,h;…"). */
(function () {
  "use strict";
  Array.prototype.forEach.call(document.querySelectorAll("form.blur-tool"), function (form) {
    var wrap = document.createElement("div");
    wrap.className = "blur-canvas";
    wrap.style.position = "relative"; wrap.style.display = "inline-block"; wrap.style.touchAction = "none";
    var img = document.createElement("img");
    img.src = form.dataset.src; img.alt = ""; img.style.maxWidth = "100%"; img.draggable = false;
    wrap.appendChild(img);
    form.insertBefore(wrap, form.firstChild);
    var field = form.querySelector("input[name=boxes]"), boxes = [], start = null, mark = null;
    function point(ev) {
      var r = img.getBoundingClientRect();
      return { x: Math.min(1, Math.max(0, (ev.clientX - r.left) / r.width)),
               y: Math.min(1, Math.max(0, (ev.clientY - r.top) / r.height)) };
    }
    wrap.addEventListener("pointerdown", function (ev) {
      start = point(ev);
      mark = document.createElement("div");
      mark.style.position = "absolute"; mark.style.border = "2px solid #e03131";
      mark.style.background = "rgba(224,49,49,.25)";
      wrap.appendChild(mark);
      wrap.setPointerCapture(ev.pointerId);
    });
    wrap.addEventListener("pointermove", function (ev) {
      if (!start) { return; }
      var p = point(ev);
      mark.style.left = Math.min(start.x, p.x) * 100 + "%"; mark.style.top = Math.min(start.y, p.y) * 100 + "%";
      mark.style.width = Math.abs(p.x - start.x) * 100 + "%"; mark.style.height = Math.abs(p.y - start.y) * 100 + "%";
    });
    wrap.addEventListener("pointerup", function (ev) {
      if (!start) { return; }
      var p = point(ev), w = Math.abs(p.x - start.x), h = Math.abs(p.y - start.y);
      if (w > 0.01 && h > 0.01) {
        boxes.push([Math.min(start.x, p.x), Math.min(start.y, p.y), w, h].map(function (v) { return v.toFixed(4); }).join(","));
        field.value = boxes.join(";");
      } else { wrap.removeChild(mark); }
      start = null;
    });
  });
})();
