// The reference at /redoc: Redoc (vendored, static/vendor/) reading /openapi.json, with a dark
// theme when the browser asks for one. A file of its own: the page's policy runs no inline script.
"use strict";
(function () {
  var dark = window.matchMedia && window.matchMedia("(prefers-color-scheme: dark)").matches;
  var theme = dark ? {
    colors: {
      primary: { main: "#7aa7ff" },
      success: { main: "#6fd08c" },
      error: { main: "#ff8a80" },
      warning: { main: "#f2a900" },
      text: { primary: "#ececf1", secondary: "#a9aab3" },
      border: { dark: "#3a3b44", light: "#2c2d35" },
      gray: { 50: "#1e1f24", 100: "#272830" },
      http: { get: "#6fd08c", post: "#7aa7ff", put: "#f2a900", delete: "#ff8a80", patch: "#c084fc" },
    },
    schema: { nestedBackground: "#1e1f24", linesColor: "#3a3b44", typeNameColor: "#a9aab3" },
    sidebar: { backgroundColor: "#1e1f24", textColor: "#ececf1" },
    rightPanel: { backgroundColor: "#0f1013" },
    typography: { code: { color: "#ffb86b", backgroundColor: "#26272e" }, links: { color: "#7aa7ff" } },
  } : {};
  window.addEventListener("DOMContentLoaded", function () {
    window.Redoc.init("/openapi.json", { theme: theme }, document.getElementById("redoc"));
  });
})();
