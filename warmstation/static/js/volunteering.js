/* 志愿服务: the phone's position for "tasks near me" and for the check-in form (the server
   checks the radius). Both pages work without this file: the QR code alone proves the place. */
(function () {
  "use strict";
  var button = document.getElementById("locate");
  var status = document.getElementById("locate-status");
  function position(ok, fail) {
    if (!navigator.geolocation) { fail(); return; }
    navigator.geolocation.getCurrentPosition(function (pos) {
      ok(pos.coords.latitude.toFixed(6), pos.coords.longitude.toFixed(6));  // WGS-84
    }, fail, { enableHighAccuracy: true, timeout: 8000, maximumAge: 60000 });
  }
  if (button && navigator.geolocation) {
    button.hidden = false;
    button.addEventListener("click", function () {
      if (status) { status.textContent = button.dataset.waiting || "…"; }
      position(function (lat, lng) {
        window.location.search = "?lat=" + lat + "&lng=" + lng;
      }, function () { if (status) { status.textContent = "✕"; } });
    });
  }
  var form = document.getElementById("scan-form");
  if (form && navigator.geolocation) {
    var sent = false;
    form.addEventListener("submit", function (e) {
      if (sent) { return; }
      e.preventDefault();
      sent = true;
      position(function (lat, lng) {
        form.querySelector("input[name='lat']").value = lat;
        form.querySelector("input[name='lng']").value = lng;
        form.submit();
      }, function () { form.submit(); });
    });
  }
}());
