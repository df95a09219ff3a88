/* The steward's console: a refused form (400) comes back with its message, so show it in place
   (htmx does not swap error responses by default). Every form also works without this file. */
document.addEventListener("htmx:beforeSwap", function (event) {
  if (event.detail.xhr.status === 400) {
    event.detail.shouldSwap = true;
    event.detail.isError = false;
  }
});
