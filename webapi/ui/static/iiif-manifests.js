// Records whose image is only named in their IIIF manifest (metadata-only imports): the browser
// reads the manifest from the library and shows the first canvas's image, through its IIIF
// Image service at card size, or the manifest's own thumbnail. A manifest that cannot be read
// leaves an honest "Image not available here". Exposes mapsearchManifests for pages that update
// in place and for the item page's viewer.
(function () {
  "use strict";
  const cache = new Map();  // manifest URL -> Promise of {service, thumbnail}

  function first(value) { return Array.isArray(value) ? value[0] : value; }
  function idOf(value) { const item = first(value); return item && (item.id || item["@id"]); }

  // IIIF Presentation 3 (items/items/items/body) and 2 (sequences/canvases/images/resource).
  function imageOf(manifest) {
    let body = null;
    try {
      body = manifest.items ? first(first(first(manifest.items).items).items).body
        : first(first(first(manifest.sequences).canvases).images).resource;
    } catch (error) { body = null; }
    body = first(body);
    const service = body && idOf(body.service);
    const thumbnail = idOf(manifest.thumbnail) || (body && (body.id || body["@id"]));
    return { service: service ? service.replace(/\/$/, "") : null, thumbnail: thumbnail || null };
  }

  function resolve(url) {
    if (!cache.has(url)) {
      cache.set(url, fetch(url, { headers: { Accept: "application/json" } })
        .then((response) => { if (!response.ok) throw new Error(response.status); return response.json(); })
        .then(imageOf));
    }
    return cache.get(url);
  }

  function sizeUrl(image, width) {
    return image.service ? image.service + "/full/!" + width + "," + width + "/0/default.jpg" : image.thumbnail;
  }

  async function showThumbnail(placeholder) {
    placeholder.dataset.state = "loading";
    try {
      const image = await resolve(placeholder.dataset.manifest);
      const src = sizeUrl(image, 300);
      if (!src) throw new Error("no image in the manifest");
      const img = document.createElement("img");
      img.src = src;
      if (image.service) img.srcset = sizeUrl(image, 300) + " 300w, " + sizeUrl(image, 600) + " 600w";
      img.sizes = "(max-width: 480px) 45vw, 220px";
      img.alt = placeholder.dataset.alt || "";
      img.width = 220;
      img.height = 220;
      img.decoding = "async";
      img.dataset.fromManifest = "true";
      placeholder.replaceWith(img);
    } catch (error) {
      placeholder.dataset.state = "failed";
      placeholder.textContent = "Image not available here";
    }
  }

  function showAll(root) {
    for (const placeholder of (root || document).querySelectorAll(".no-image[data-manifest]:not([data-state])")) {
      showThumbnail(placeholder);
    }
  }

  window.mapsearchManifests = { resolve: resolve, showAll: showAll };
  showAll(document);
})();
