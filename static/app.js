// Arbiter's only script: progressive enhancements on top of htmx. Every page works without it.
"use strict";

// With a script running, the page shows what only works with one (key badges, the keys list).
document.documentElement.classList.add("js");

// A menu marked data-autosubmit (the language) sends its form when changed.
document.addEventListener("change", function (event) {
  const target = event.target;
  if (target instanceof HTMLSelectElement && target.hasAttribute("data-autosubmit") && target.form) {
    target.form.requestSubmit();
  }
});

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
    if (document.querySelector("dialog[open]")) return; // the keys list is open: Esc closes it
    const key = event.key.length === 1 ? event.key.toLowerCase() : "";
    if (!key) return;
    const control = document.querySelector('[data-key="' + CSS.escape(key) + '"]');
    if (!control || control.disabled || control.closest("[aria-busy=true]")) return;
    event.preventDefault();
    // A choice's key pressed again takes the choice back ("not said", "no mark").
    if (control instanceof HTMLInputElement && control.type === "radio" && control.checked) {
      const none = control.form && control.form.querySelector(
        'input[type=radio][name="' + CSS.escape(control.name) + '"][value=""]');
      if (none) none.click();
      return;
    }
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


// The labelling page's helpers: the keys list, long answers shown whole, a strength turning
// tie and both-bad off (they take none), and the guidelines remembered open or closed.
(function () {
  function remembered(details) {
    const name = "arbiter:" + details.dataset.remember;
    try {
      const saved = window.localStorage.getItem(name);
      if (saved !== null) details.open = saved === "open";
      details.addEventListener("toggle", function () {
        window.localStorage.setItem(name, details.open ? "open" : "closed");
      });
    } catch (e) { /* storage off: the server's default stands */ }
  }

  function strengthRule(root) {
    const form = root.querySelector("#verdict-form");
    if (!form) return;
    const chosen = form.querySelector("input[name=strength]:checked");
    const off = Boolean(chosen && chosen.value);
    form.querySelectorAll("[data-undecisive]").forEach(function (button) {
      button.disabled = off;
    });
  }

  function expanders(root) {
    root.querySelectorAll("[data-expand]").forEach(function (button) {
      const body = document.getElementById(button.dataset.expand);
      if (body && body.scrollHeight > body.clientHeight + 4) button.hidden = false;
    });
  }

  function setUp(root) {
    strengthRule(root);
    expanders(root);
  }

  document.addEventListener("click", function (event) {
    const target = event.target instanceof Element ? event.target : null;
    const opener = target && target.closest("[data-open-dialog]");
    if (opener) {
      const dialog = document.getElementById(opener.dataset.openDialog);
      if (dialog && !dialog.open) {
        dialog.showModal();
        dialog.scrollTop = 0; // focus went to Close, at the foot: show the list from its title
      }
      return;
    }
    const expand = target && target.closest("[data-expand]");
    if (expand) {
      const body = document.getElementById(expand.dataset.expand);
      if (!body) return;
      const whole = body.classList.toggle("expanded");
      expand.setAttribute("aria-expanded", String(whole));
      expand.textContent = whole ? expand.dataset.less || "Show less" : expand.dataset.more || expand.textContent;
    }
  });
  document.addEventListener("change", function (event) {
    if (event.target instanceof HTMLInputElement && event.target.name === "strength") {
      strengthRule(document);
    }
  });
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("details[data-remember]").forEach(remembered);
    setUp(document);
  });
  document.addEventListener("htmx:afterSettle", function () { setUp(document); });
})();


// The ranking screen: press the responses' numbers best to worst (each press gives the next
// place), Backspace takes the last place back, Enter saves; or drag a response before another.
// The places are the form's own selects, so a post without this script carries the same order.
(function () {
  function form() { return document.getElementById("ranking-form"); }

  function selects(f) {
    return Array.from(f.querySelectorAll("select[data-place]"));
  }

  function order(f) {
    // The responses that have a place, best first.
    return selects(f).filter(function (s) { return s.value; })
      .sort(function (a, b) { return Number(a.value) - Number(b.value); })
      .map(function (s) { return s.closest("[data-candidate]"); });
  }

  // The order built so far, in the page's language (the names come from the page), and the save
  // button shown off until every response has a place (the server refuses a partial order too).
  function show(f) {
    const built = document.getElementById("order-built");
    if (!built) return;
    const ranked = order(f);
    const names = ranked.map(function (c) { return c.dataset.name; });
    built.textContent = names.length ? names.join(" › ") : built.dataset.none;
    const save = document.getElementById("save-ranking");
    if (save) save.setAttribute("aria-disabled", String(ranked.length < Number(f.dataset.count)));
    f.querySelectorAll("[data-candidate]").forEach(function (c) {
      const s = c.querySelector("select[data-place]");
      c.dataset.place = s && s.value ? s.value : "";
    });
  }

  function renumber(f, cards) {
    selects(f).forEach(function (s) { s.value = ""; });
    cards.forEach(function (c, i) { c.querySelector("select[data-place]").value = String(i + 1); });
    show(f);
  }

  document.addEventListener("keydown", function (event) {
    const f = form();
    if (!f || event.ctrlKey || event.metaKey || event.altKey || event.repeat) return;
    const t = event.target;
    if (t instanceof HTMLTextAreaElement || t instanceof HTMLSelectElement ||
        (t instanceof HTMLInputElement && t.type === "text")) return;
    if (document.querySelector("dialog[open]") || document.querySelector("#work[aria-busy=true]")) return;
    const count = Number(f.dataset.count);
    const ranked = order(f);
    if (/^[1-9]$/.test(event.key) && Number(event.key) <= count) {
      const card = f.querySelector('[data-number="' + event.key + '"]');
      if (!card || ranked.includes(card)) return;
      event.preventDefault();
      renumber(f, ranked.concat([card]));
    } else if (event.key === "Backspace" && ranked.length) {
      event.preventDefault();
      renumber(f, ranked.slice(0, -1));
    } else if (event.key === "Enter" && !(t instanceof HTMLButtonElement) && !(t instanceof HTMLAnchorElement)) {
      event.preventDefault();
      const save = document.getElementById("save-ranking");
      if (save) save.click();
    }
  }, true);

  // A click on a button shown off does nothing (Enter clicks the save button too).
  document.addEventListener("click", function (event) {
    const off = event.target instanceof Element && event.target.closest("button[aria-disabled=true]");
    if (!off) return;
    event.preventDefault();
    event.stopImmediatePropagation();
  }, true);

  document.addEventListener("change", function (event) {
    const f = form();
    if (f && event.target instanceof HTMLSelectElement && event.target.dataset.place !== undefined) show(f);
  });

  // Drag and drop: a response dropped on another takes the place before it; the order on
  // screen becomes the ranking.
  let dragged = null;
  document.addEventListener("dragstart", function (event) {
    const card = event.target instanceof Element && event.target.closest("#ranking-form [data-candidate]");
    if (!card) return;
    dragged = card;
    card.classList.add("dragging");
    event.dataTransfer.effectAllowed = "move";
    event.dataTransfer.setData("text/plain", card.dataset.candidate);
  });
  document.addEventListener("dragover", function (event) {
    const card = event.target instanceof Element && event.target.closest("#ranking-form [data-candidate]");
    if (dragged && card && card !== dragged) event.preventDefault();
  });
  document.addEventListener("drop", function (event) {
    const f = form();
    const card = event.target instanceof Element && event.target.closest("#ranking-form [data-candidate]");
    if (!f || !dragged || !card || card === dragged) return;
    event.preventDefault();
    card.parentNode.insertBefore(dragged, card);
    renumber(f, Array.from(f.querySelectorAll("[data-candidate]")));
  });
  document.addEventListener("dragend", function () {
    if (dragged) dragged.classList.remove("dragging");
    dragged = null;
  });

  document.addEventListener("DOMContentLoaded", function () { const f = form(); if (f) show(f); });
  document.addEventListener("htmx:afterSettle", function () { const f = form(); if (f) show(f); });
})();
