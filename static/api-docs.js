// The interactive API documentation at /docs: Swagger UI (vendored, static/vendor/) reading
// /openapi.json. A file of its own, since the page's security policy runs no inline script.
"use strict";
window.addEventListener("DOMContentLoaded", function () {
  window.SwaggerUIBundle({
    url: "/openapi.json",
    dom_id: "#swagger-ui",
    deepLinking: true,
    presets: [window.SwaggerUIBundle.presets.apis],
    layout: "BaseLayout",
  });
});
