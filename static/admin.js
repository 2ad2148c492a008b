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
// while the server validates and writes the file (that part has no percentage). The words
// come from the page (data-* on the status line), in its language; a file over the upload
// limit is refused here, before a byte is sent.
function uploadParts(form) {
  const status = form.querySelector("[data-upload-status]");
  return {
    status,
    words: status.dataset,
    bar: form.querySelector("[data-upload-bar]"),
    text: form.querySelector("[data-upload-text]"),
    button: form.querySelector("button[type=submit]"),
  };
}

function percentText(share) {
  return new Intl.NumberFormat(document.documentElement.lang || undefined, {
    style: "percent",
  }).format(share);
}

document.addEventListener("htmx:beforeRequest", (event) => {
  const form = event.detail.elt.closest && event.detail.elt.closest("form[data-upload-form]");
  if (!form) return;
  const { status, words, bar, text } = uploadParts(form);
  const file = form.querySelector("input[type=file]").files[0];
  if (file && file.size > Number(words.maxBytes)) {
    event.preventDefault();
    status.hidden = false;
    bar.value = 0;
    text.textContent = words.tooLarge;
  }
});

document.addEventListener("htmx:beforeSend", (event) => {
  const form = event.detail.elt;
  if (!(form instanceof HTMLFormElement) || !form.hasAttribute("data-upload-form")) return;
  const { status, words, bar, text, button } = uploadParts(form);
  status.hidden = false;
  button.disabled = true;
  bar.value = 0;
  text.textContent = words.uploading.replace("%(percent)s", percentText(0));
  const upload = event.detail.xhr.upload;
  upload.addEventListener("progress", (e) => {
    if (!e.lengthComputable) return;
    const percent = Math.floor((100 * e.loaded) / e.total);
    bar.value = percent;
    text.textContent = words.uploading.replace("%(percent)s", percentText(percent / 100));
  });
  upload.addEventListener("load", () => {
    bar.removeAttribute("value"); // indeterminate
    text.textContent = words.importing;
  });
});

document.addEventListener("htmx:afterRequest", (event) => {
  const form = event.detail.elt;
  if (!(form instanceof HTMLFormElement) || !form.hasAttribute("data-upload-form")) return;
  if (!document.body.contains(form)) return; // swapped away: the answer is on the page
  const { status, words, bar, text, button } = uploadParts(form);
  button.disabled = false;
  if (event.detail.successful) {
    status.hidden = true;
    return;
  }
  const xhr = event.detail.xhr;
  bar.value = 0;
  if (xhr && xhr.status === 413) text.textContent = words.tooLarge;
  else if (xhr && xhr.status) text.textContent = words.refused.replace("%(status)s", xhr.status);
  else text.textContent = words.unreached;
});
