// The admin console's enhancements on top of htmx. Every page works without this file.
"use strict";

// A refused form comes back as 422 with the page fragment that explains why: show it.
document.addEventListener("htmx:beforeSwap", (event) => {
  if (event.detail.xhr.status === 422) {
    event.detail.shouldSwap = true;
    event.detail.isError = false;
  }
});

// After htmx swaps in an answer, move focus to what it says (a message, an error list), so
// keyboard and screen reader users are not left on a button that no longer exists.
document.addEventListener("htmx:afterSettle", () => {
  const target = document.querySelector("[data-autofocus]");
  if (target) {
    target.removeAttribute("data-autofocus");
    target.focus();
  }
});

// Batch upload: the bytes sent (a real progress bar), then an honest "importing" state
// while the server validates and writes the file (that part has no percentage).
document.addEventListener("htmx:beforeSend", (event) => {
  const form = event.detail.elt;
  if (!(form instanceof HTMLFormElement) || !form.hasAttribute("data-upload-form")) return;
  const status = form.querySelector("[data-upload-status]");
  const bar = form.querySelector("[data-upload-bar]");
  const text = form.querySelector("[data-upload-text]");
  const button = form.querySelector("button[type=submit]");
  status.hidden = false;
  button.disabled = true;
  bar.value = 0;
  text.textContent = "Uploading… 0 %";
  const upload = event.detail.xhr.upload;
  upload.addEventListener("progress", (e) => {
    if (!e.lengthComputable) return;
    const percent = Math.floor((100 * e.loaded) / e.total);
    bar.value = percent;
    text.textContent = `Uploading… ${percent} %`;
  });
  upload.addEventListener("load", () => {
    bar.removeAttribute("value"); // indeterminate
    text.textContent = "Uploaded. Validating and importing every row…";
  });
});

document.addEventListener("htmx:afterRequest", (event) => {
  const form = event.detail.elt;
  if (!(form instanceof HTMLFormElement) || !form.hasAttribute("data-upload-form")) return;
  if (!document.body.contains(form)) return; // swapped away: the answer is on the page
  form.querySelector("button[type=submit]").disabled = false;
  if (event.detail.successful) {
    form.querySelector("[data-upload-status]").hidden = true;
    return;
  }
  const xhr = event.detail.xhr;
  const why = xhr && xhr.status ? `the server answered ${xhr.status}` : "the connection failed";
  form.querySelector("[data-upload-bar]").value = 0;
  form.querySelector("[data-upload-text]").textContent =
    `The upload did not go through (${why}); nothing was imported. Try again.`;
});
