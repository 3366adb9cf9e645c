// Item page: the zoomable viewer (OpenSeadragon, vendored; IIIF deep zoom or a simple image) and
// the copy-citation button. Without JavaScript the plain image stays in place.
(function () {
  "use strict";
  const viewer = document.getElementById("viewer");

  // A record whose image only its IIIF manifest names: ask the library for it, then open it.
  async function openFromManifest() {
    try {
      const image = await window.mapsearchManifests.resolve(viewer.dataset.manifest);
      if (!image.service && !image.thumbnail) throw new Error("no image in the manifest");
      openViewer(image.service ? image.service + "/info.json" : { type: "image", url: image.thumbnail }, null);
    } catch (error) {
      viewer.dataset.ready = "failed";
      viewer.classList.remove("viewer-remote");
    }
  }

  function openViewer(tileSources, fallback) {
    const osd = window.OpenSeadragon({
      element: viewer,
      prefixUrl: viewer.dataset.prefixUrl,
      tileSources: tileSources,
      showNavigator: true,
      navigatorPosition: "BOTTOM_RIGHT",
      crossOriginPolicy: "Anonymous",
      gestureSettingsMouse: { clickToZoom: true },
      maxZoomPixelRatio: 4,
    });
    osd.addHandler("open", function () {
      if (fallback) fallback.remove();
      viewer.dataset.ready = "true";
    });
    osd.addHandler("open-failed", function () {
      viewer.dataset.ready = "failed";
    });
    osd.addHandler("zoom", function (event) {
      viewer.dataset.zoom = String(event.zoom);
    });
    window.mapsearchViewer = osd;  // lets tests (and curious readers) drive the viewer
  }

  if (viewer && window.OpenSeadragon && viewer.dataset.tileSource) {
    const source = JSON.parse(viewer.dataset.tileSource);
    openViewer(source.kind === "iiif" ? source.url : { type: "image", url: source.url }, viewer.querySelector(".viewer-fallback"));
  } else if (viewer && window.OpenSeadragon && viewer.dataset.manifest && window.mapsearchManifests) {
    openFromManifest();
  }

  const copy = document.getElementById("copy-citation");
  if (copy) {
    copy.addEventListener("click", async function () {
      const text = document.getElementById("citation-text").textContent.trim();
      try {
        await navigator.clipboard.writeText(text);
        copy.textContent = "Copied";
      } catch (error) {
        window.prompt("Copy this citation", text);
      }
    });
  }
})();
