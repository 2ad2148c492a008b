// Arbiter's only script: progressive enhancements on top of htmx. Every page works without it.
"use strict";

// Keyboard shortcuts. An element with data-key="k" is clicked when k is pressed, so a key does
// exactly what its button does (a form post, or an htmx request where htmx is loaded).
// Keys are ignored while typing in a field, with a modifier held, and while a key repeats.
(function () {
  function typing(target) {
    if (!(target instanceof Element)) return false;
    if (target.isContentEditable) return true;
    if (target instanceof HTMLTextAreaElement || target instanceof HTMLSelectElement) return true;
    if (target instanceof HTMLInputElement) {
      return !["radio", "checkbox", "button", "submit", "reset", "range", "color", "file"]
        .includes(target.type);
    }
    return false;
  }

  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape" && typing(event.target)) {
      event.target.blur();
      return;
    }
    if (event.defaultPrevented || event.repeat || event.ctrlKey || event.metaKey || event.altKey) return;
    if (typing(event.target)) return;
    const key = event.key.length === 1 ? event.key.toLowerCase() : "";
    if (!key) return;
    const control = document.querySelector('[data-key="' + CSS.escape(key) + '"]');
    if (!control || control.disabled || control.closest("[aria-busy=true]")) return;
    event.preventDefault();
    control.click();
  });

  // While a request from the labelling area is on its way, its buttons are busy: a second key
  // press is not a second verdict (the server is repeat-safe as well).
  document.addEventListener("htmx:beforeRequest", function (event) {
    const work = event.target.closest("#work");
    if (work) work.setAttribute("aria-busy", "true");
  });
  document.addEventListener("htmx:afterRequest", function (event) {
    const work = document.getElementById("work");
    if (work) work.removeAttribute("aria-busy");
  });
})();
