// Item page: outline the words read from the map in the viewer (OpenSeadragon overlays, boxes in
// full-resolution image pixels): the words the search matched always, every word with the toggle.
(function () {
  "use strict";
  const data = document.getElementById("map-words-data");
  const viewer = window.mapsearchViewer;
  if (!data || !viewer) return;
  const words = JSON.parse(data.textContent);
  const toggle = document.getElementById("show-all-words");
  let overlays = [];

  function outline(word) {
    const element = document.createElement("div");
    element.className = "map-word" + (word.matched ? " matched" : "");
    element.title = word.text + " (" + Math.round(word.score * 100) + "%)";
    element.dataset.text = word.text;
    const [x, y, w, h] = word.box;
    // boxes are full-resolution pixels; the tiled image's own pixel space is the same
    viewer.addOverlay({ element: element, location: viewer.viewport.imageToViewportRectangle(x, y, w, h) });
    overlays.push(element);
  }

  function draw() {
    overlays.forEach(function (element) { viewer.removeOverlay(element); });
    overlays = [];
    const all = toggle && toggle.checked;
    words.filter(function (word) { return all || word.matched; }).forEach(outline);
    document.getElementById("viewer").dataset.wordsShown = String(overlays.length);
  }

  if (viewer.world.getItemCount() > 0) draw();
  else viewer.addHandler("open", draw);
  if (toggle) toggle.addEventListener("change", draw);
})();
