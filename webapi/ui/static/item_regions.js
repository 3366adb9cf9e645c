// Item page regions (docs/regions.md): outline the regions a result linked here with and zoom the
// viewer to them one at a time; "Select a region to search with" lets the reader drag a rectangle
// on the map and search with that box (image_id + image_region, full-resolution pixels).
(function () {
  "use strict";
  const controls = document.getElementById("region-controls");
  const viewer = document.getElementById("viewer");
  const osd = window.mapsearchViewer;
  if (!controls || !viewer || !osd) return;
  const boxes = JSON.parse(controls.dataset.regions || "[]");
  const status = document.getElementById("region-status");
  let current = 0;

  function imageRect(box) {
    return osd.viewport.imageToViewportRectangle(box[0], box[1], box[2], box[3]);
  }

  function show(index) {
    current = (index + boxes.length) % boxes.length;
    const rect = imageRect(boxes[current]);
    const margin = Math.max(rect.width, rect.height) * 0.6;
    osd.viewport.fitBounds(
      new window.OpenSeadragon.Rect(rect.x - margin, rect.y - margin,
        rect.width + 2 * margin, rect.height + 2 * margin));
    if (status) status.textContent = "Matching region " + (current + 1) + " of " + boxes.length;
    viewer.querySelectorAll(".viewer-region").forEach(function (element) {
      element.classList.toggle("current", element.dataset.index === String(current + 1));
    });
    viewer.dataset.region = String(current + 1);
  }

  function outline() {
    boxes.forEach(function (box, index) {
      const element = document.createElement("div");
      element.className = "viewer-region";
      element.dataset.index = String(index + 1);
      osd.addOverlay({ element: element, location: imageRect(box) });
    });
    show(0);
  }

  function whenOpen(callback) {
    if (osd.world.getItemCount() > 0) callback();
    else osd.addOnceHandler("open", callback);
  }

  if (boxes.length) {
    whenOpen(outline);
    const next = document.getElementById("region-next");
    const prev = document.getElementById("region-prev");
    if (next) next.addEventListener("click", function () { show(current + 1); });
    if (prev) prev.addEventListener("click", function () { show(current - 1); });
    document.getElementById("region-whole").addEventListener("click", function () {
      osd.viewport.goHome();
    });
  }

  // ---- drag a rectangle, then search with it ----
  const select = document.getElementById("region-select");
  const form = document.getElementById("region-search");
  const boxInput = document.getElementById("region-box");
  const selected = document.getElementById("region-selected");
  let start = null;
  let frame = null;

  function point(event) {
    const bounds = viewer.getBoundingClientRect();
    return new window.OpenSeadragon.Point(event.clientX - bounds.left, event.clientY - bounds.top);
  }

  function setSelecting(on) {
    select.setAttribute("aria-pressed", on ? "true" : "false");
    viewer.classList.toggle("selecting", on);
    osd.setMouseNavEnabled(!on);
  }

  select.addEventListener("click", function () {
    setSelecting(select.getAttribute("aria-pressed") !== "true");
  });

  viewer.addEventListener("pointerdown", function (event) {
    if (select.getAttribute("aria-pressed") !== "true") return;
    event.preventDefault();
    start = point(event);
    if (!frame) {
      frame = document.createElement("div");
      frame.className = "viewer-selection";
      viewer.appendChild(frame);
    }
    frame.style.left = start.x + "px";
    frame.style.top = start.y + "px";
    frame.style.width = "0px";
    frame.style.height = "0px";
  }, true);

  viewer.addEventListener("pointermove", function (event) {
    if (!start || !frame) return;
    const here = point(event);
    frame.style.left = Math.min(start.x, here.x) + "px";
    frame.style.top = Math.min(start.y, here.y) + "px";
    frame.style.width = Math.abs(here.x - start.x) + "px";
    frame.style.height = Math.abs(here.y - start.y) + "px";
  }, true);

  viewer.addEventListener("pointerup", function (event) {
    if (!start) return;
    const end = point(event);
    const a = osd.viewport.viewerElementToImageCoordinates(start);
    const b = osd.viewport.viewerElementToImageCoordinates(end);
    start = null;
    const size = osd.world.getItemAt(0).getContentSize();
    const x0 = Math.max(0, Math.round(Math.min(a.x, b.x)));
    const y0 = Math.max(0, Math.round(Math.min(a.y, b.y)));
    const x1 = Math.min(size.x, Math.round(Math.max(a.x, b.x)));
    const y1 = Math.min(size.y, Math.round(Math.max(a.y, b.y)));
    if (x1 - x0 < 8 || y1 - y0 < 8) {
      selected.textContent = "Drag a larger rectangle (at least 8 pixels of the map).";
      form.hidden = false;
      boxInput.value = "";
      document.getElementById("region-search-button").disabled = true;
      return;
    }
    boxInput.value = [x0, y0, x1 - x0, y1 - y0].join(",");
    selected.textContent = "Selected " + (x1 - x0) + " × " + (y1 - y0) + " px at " + x0 + ", " + y0 + ".";
    document.getElementById("region-search-button").disabled = false;
    form.hidden = false;
    setSelecting(false);
  }, true);
})();
