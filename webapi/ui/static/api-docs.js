// The API page: start Swagger UI (bundled, see webapi/ui/api_docs_views.py) on the OpenAPI
// document; an external file because the Content Security Policy allows no inline script.
(function () {
  "use strict";
  const host = document.getElementById("swagger-ui");
  if (!host || !window.SwaggerUIBundle) return;
  window.SwaggerUIBundle({
    url: host.dataset.specUrl,
    dom_id: "#swagger-ui",
    deepLinking: true,
    presets: [window.SwaggerUIBundle.presets.apis],
    layout: "BaseLayout",
    defaultModelsExpandDepth: 0,
    onComplete: function () { host.dataset.ready = "true"; },
  });
})();
