// The department desk's bulk form: 执行 stays disabled until a case is ticked and an action
// chosen (the server refuses an empty one too, for browsers without JavaScript).
(function () {
  var form = document.querySelector("fieldset#bulk") && document.querySelector("fieldset#bulk").form;
  if (!form) return;
  var button = form.querySelector("[data-needs-ticks]");
  var action = form.querySelector("select[name=action]");
  var count = document.getElementById("ticked");
  var label = count ? (document.documentElement.lang === "en" ? " selected" : " 条已选") : "";
  function update() {
    var n = form.querySelectorAll("input[name=ids]:checked").length;
    button.disabled = n === 0 || !action.value;
    if (count) count.textContent = n ? n + label : "";
  }
  form.addEventListener("change", update);
  document.body.addEventListener("htmx:afterSwap", update);
  update();
})();
