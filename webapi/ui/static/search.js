// Progressive enhancement of the search page. Without this file every control still works
// through the GET form, links and the upload form; with it, controls apply themselves at once,
// example images can be dropped or pasted, and the map area can be drawn.
(function () {
  "use strict";
  const form = document.getElementById("search-form");
  if (!form) return;

  // One example image at a time: a newly typed image URL replaces an uploaded or chosen map.
  const imageUrl = document.getElementById("image_url");
  const initialImageUrl = imageUrl ? imageUrl.value : "";

  // Keep permalinks short: controls still at their defaults are left out of the URL.
  function submitSearch() {
    if (imageUrl && imageUrl.value.trim() !== "" && imageUrl.value !== initialImageUrl) {
      for (const input of form.querySelectorAll("input[name=image_id], input[name=image_token]")) input.remove();
      const mixInput = document.getElementById("mix");
      if (mixInput) mixInput.disabled = true;
    }
    for (const control of form.querySelectorAll("[data-default]")) {
      if (control.value === control.dataset.default) control.disabled = true;
    }
    for (const control of form.querySelectorAll("input[type=text], input[type=search], input[type=url], input[type=number]")) {
      if (control.value.trim() === "") control.disabled = true;
    }
    form.submit();
  }
  // Coming back with the browser's Back button restores the page as it was left: enable again.
  window.addEventListener("pageshow", function () {
    for (const control of form.querySelectorAll("[disabled]")) {
      if (control.id !== "mix" || control.dataset.needsText !== "true") control.disabled = false;
    }
  });
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    submitSearch();
  });

  // Facets, sort, page size, mode and fusion apply as soon as they change.
  form.addEventListener("change", function (event) {
    const target = event.target;
    if (target.matches(".facet input[type=checkbox], select, input[name=collapse], input[name=has_image]")) submitSearch();
  });

  // Mix slider: show the value while sliding, search when released.
  const mix = document.getElementById("mix");
  const mixValue = document.getElementById("mix-value");
  if (mix && mixValue) {
    mix.addEventListener("input", function () { mixValue.textContent = Number(mix.value).toFixed(1); });
    mix.addEventListener("change", submitSearch);
  }

  // Typeahead filtering of long facet lists (places and subjects run to thousands).
  for (const filter of document.querySelectorAll(".facet-filter")) {
    const list = document.getElementById(filter.getAttribute("aria-controls"));
    filter.addEventListener("input", function () {
      const needle = filter.value.trim().toLowerCase();
      for (const item of list.children) {
        const text = item.querySelector(".facet-value").textContent.toLowerCase();
        item.hidden = needle !== "" && !text.includes(needle);
      }
    });
    // Enter in the filter box must not submit the whole search.
    filter.addEventListener("keydown", function (event) {
      if (event.key === "Enter") event.preventDefault();
    });
  }

  // Example image: drop, choose or paste a file -> POST /api/uploads -> search by its token.
  const dropzone = document.getElementById("dropzone");
  const fileInput = document.getElementById("image-file");
  const status = document.getElementById("upload-status");

  function showStatus(message, isError) {
    status.textContent = message;
    status.classList.toggle("error", Boolean(isError));
  }

  async function problemMessage(response) {
    try {
      const problem = await response.json();
      return (problem.title ? problem.title + ": " : "") + (problem.detail || response.statusText);
    } catch (error) {
      return "Upload failed (" + response.status + " " + response.statusText + ")";
    }
  }

  async function uploadAndSearch(file) {
    if (!file) return;
    showStatus("Uploading " + (file.name || "image") + "…");
    const body = new FormData();
    body.append("image", file, file.name || "pasted-image.png");
    let response;
    try {
      response = await fetch("/api/uploads", { method: "POST", body: body });
    } catch (error) {
      showStatus("Upload failed: " + error.message, true);
      return;
    }
    if (!response.ok) {
      showStatus(await problemMessage(response), true);
      return;
    }
    const upload = await response.json();
    for (const name of ["image_id", "image_token", "image_url"]) {
      for (const input of form.querySelectorAll("input[name=" + name + "]")) input.remove();
    }
    const token = document.createElement("input");
    token.type = "hidden";
    token.name = "image_token";
    token.value = upload.token;
    form.appendChild(token);
    showStatus("Searching with the uploaded map…");
    submitSearch();
  }

  if (fileInput) {
    fileInput.addEventListener("change", function () { uploadAndSearch(fileInput.files[0]); });
  }
  if (dropzone) {
    dropzone.addEventListener("dragover", function (event) {
      event.preventDefault();
      dropzone.classList.add("dragging");
    });
    dropzone.addEventListener("dragleave", function () { dropzone.classList.remove("dragging"); });
    dropzone.addEventListener("drop", function (event) {
      event.preventDefault();
      dropzone.classList.remove("dragging");
      const files = event.dataTransfer && event.dataTransfer.files;
      if (files && files.length) {
        uploadAndSearch(files[0]);
        return;
      }
      const url = event.dataTransfer && (event.dataTransfer.getData("text/uri-list") || event.dataTransfer.getData("text/plain"));
      if (url && /^https?:\/\//.test(url.trim())) {
        document.getElementById("image_url").value = url.trim();
        submitSearch();
      }
    });
  }
  document.addEventListener("paste", function (event) {
    const items = (event.clipboardData && event.clipboardData.files) || [];
    if (items.length && items[0].type.startsWith("image/")) {
      event.preventDefault();
      uploadAndSearch(items[0]);
    }
  });

  // Bounding box: drag on the world map (lon/lat = SVG user units, y flipped).
  const bboxMap = document.getElementById("bbox-map");
  const bboxInput = document.getElementById("bbox");
  const rect = document.getElementById("bbox-rect");
  if (bboxMap && bboxInput && rect) {
    const svg = bboxMap.querySelector("svg");
    let start = null;
    const clamp = (value, low, high) => Math.min(high, Math.max(low, value));
    function toLonLat(event) {
      const point = svg.createSVGPoint();
      point.x = event.clientX;
      point.y = event.clientY;
      const local = point.matrixTransform(svg.getScreenCTM().inverse());
      return [clamp(local.x, -180, 180), clamp(-local.y, -90, 90)];
    }
    function draw(a, b) {
      const west = Math.min(a[0], b[0]), east = Math.max(a[0], b[0]);
      const south = Math.min(a[1], b[1]), north = Math.max(a[1], b[1]);
      rect.setAttribute("x", west);
      rect.setAttribute("y", -north);
      rect.setAttribute("width", east - west);
      rect.setAttribute("height", north - south);
      rect.setAttribute("visibility", "visible");
      return [west, south, east, north].map((v) => Math.round(v * 10) / 10);
    }
    svg.addEventListener("pointerdown", function (event) {
      start = toLonLat(event);
      svg.setPointerCapture(event.pointerId);
      event.preventDefault();
    });
    svg.addEventListener("pointermove", function (event) {
      if (start) bboxInput.value = draw(start, toLonLat(event)).join(",");
    });
    svg.addEventListener("pointerup", function (event) {
      if (!start) return;
      const box = draw(start, toLonLat(event));
      start = null;
      // A click without a drag is not an area.
      if (box[2] - box[0] < 0.5 || box[3] - box[1] < 0.5) return;
      bboxInput.value = box.join(",");
      submitSearch();
    });
  }

  // Copy the permalink (the page URL is the whole query).
  const copy = document.getElementById("copy-permalink");
  const permalink = document.getElementById("permalink");
  if (copy && permalink) {
    copy.addEventListener("click", async function () {
      const url = new URL(permalink.getAttribute("href"), window.location.href).href;
      try {
        await navigator.clipboard.writeText(url);
        copy.textContent = "Copied";
      } catch (error) {
        window.prompt("Copy this link", url);
      }
    });
  }
})();
