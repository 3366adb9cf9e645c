// The API page: start Swagger UI (bundled, see webapi/ui/api_docs_views.py) on the OpenAPI
// document; an external file because the Content Security Policy allows no inline script.
// Deep links are off: they put a link inside each operation's expand button (nested interactive
// controls, and small targets). Swagger UI leaves some controls nameless and headings out of
// order; `mend` fixes them after each render (React keeps attributes it did not set).
(function () {
  "use strict";
  const host = document.getElementById("swagger-ui");
  if (!host || !window.SwaggerUIBundle) return;

  function name(element, label) {
    if (!element.hasAttribute("aria-label") && !element.hasAttribute("aria-labelledby")) {
      element.setAttribute("aria-label", label);
    }
  }

  function selectName(select) {
    const row = select.closest("tr[data-param-name]");
    if (row) return row.dataset.paramName;
    if (select.closest(".servers")) return "Server";
    if (select.closest(".response-control-media-type, .content-type-wrapper")) return "Media type";
    if (select.closest(".body-param-content-type")) return "Request body media type";
    return "Choose a value";
  }

  function mend() {
    host.querySelectorAll("select").forEach(function (select) {
      if (!select.labels || select.labels.length === 0) name(select, selectName(select));
    });
    host.querySelectorAll(".close-modal").forEach(function (button) { name(button, "Close"); });
    host.querySelectorAll(".copy-to-clipboard button").forEach(function (button) {
      name(button, "Copy to clipboard");
    });
    // our page's h1 comes first: Swagger UI's title sits below it, above its h3 sections
    host.querySelectorAll("h1.title").forEach(function (title) {
      title.setAttribute("aria-level", "2");
    });
    // code blocks scroll sideways: reachable by keyboard
    host.querySelectorAll("pre").forEach(function (pre) {
      if (!pre.hasAttribute("tabindex")) pre.setAttribute("tabindex", "0");
    });
  }

  window.SwaggerUIBundle({
    url: host.dataset.specUrl,
    dom_id: "#swagger-ui",
    deepLinking: false,
    presets: [window.SwaggerUIBundle.presets.apis],
    layout: "BaseLayout",
    defaultModelsExpandDepth: 0,
    onComplete: function () {
      mend();
      new MutationObserver(mend).observe(host, { childList: true, subtree: true });
      host.dataset.ready = "true";
    },
  });
})();
