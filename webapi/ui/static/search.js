// Progressive enhancement of the search page. Without this file every control still works
// through the GET form, links and the upload form. With it, searches update the page in place:
// the new page is fetched, its [data-live] regions replace the old ones, the URL is pushed to the
// history (so it stays a permalink and Back works), focus stays on the control the reader used,
// and the new count is announced politely. Example images can be dropped or pasted, the map area
// drawn, and the year range dragged on the histogram.
(function () {
  "use strict";
  if (!document.getElementById("search-form")) return;
  const root = document.documentElement;
  let updates = 0;  // completed in-place updates (tests wait on data-search-updates)
  let inFlight = null;
  let debounceTimer = null;
  const withoutHash = (url) => url.split("#")[0];
  let shownUrl = withoutHash(window.location.href);  // the search the page shows now

  const form = () => document.getElementById("search-form");

  // ---- the search's URL, from the form (controls at their defaults stay out of it) ----------

  function searchUrl() {
    const params = new URLSearchParams();
    const imageUrl = document.getElementById("image_url");
    // One example image at a time: a newly typed image URL replaces an uploaded or chosen map.
    const newImageUrl = imageUrl && imageUrl.value.trim() !== "" && imageUrl.value !== imageUrl.defaultValue;
    for (const control of form().elements) {
      if (!control.name || control.disabled) continue;
      if (["file", "submit", "button", "reset"].includes(control.type)) continue;
      if ((control.type === "checkbox" || control.type === "radio") && !control.checked) continue;
      const value = control.value.trim();
      if (value === "") continue;
      if (control.dataset.default !== undefined && value === control.dataset.default) continue;
      if (newImageUrl && ["image_id", "image_token", "mix"].includes(control.name)) continue;
      params.append(control.name, value);
    }
    const query = params.toString();
    return new URL(form().getAttribute("action") + (query ? "?" + query : ""), window.location.href).href;
  }

  // ---- focus: find "the same control" in the new page ------------------------------------

  function focusSelector(element) {
    if (!element || element === document.body || !element.closest("main")) return null;
    if (element.dataset.focusKey) return '[data-focus-key="' + CSS.escape(element.dataset.focusKey) + '"]';
    if (element.id) return "#" + CSS.escape(element.id);
    if (element.name) {
      const named = '[name="' + CSS.escape(element.name) + '"]';
      return element.type === "checkbox" || element.type === "radio"
        ? named + '[value="' + CSS.escape(element.value) + '"]'
        : named;
    }
    return null;
  }

  function restoreFocus(selector, fallback) {
    const target = (selector && document.querySelector(selector)) || null;
    if (target && target.getClientRects().length) {
      target.focus({ preventScroll: true });
      return;
    }
    const heading = (fallback && document.querySelector(fallback)) || document.getElementById("results-heading");
    if (heading) heading.focus();
  }

  // What readers typed into the facet filter boxes, and where long lists were scrolled to.
  function sidebarState() {
    const state = { filters: {}, scroll: {} };
    for (const box of document.querySelectorAll(".facet-filter")) state.filters[box.getAttribute("aria-controls")] = box.value;
    for (const list of document.querySelectorAll(".facet-values.long")) state.scroll[list.id] = list.scrollTop;
    return state;
  }

  function restoreSidebar(state) {
    for (const box of document.querySelectorAll(".facet-filter")) {
      const value = state.filters[box.getAttribute("aria-controls")];
      if (value) {
        box.value = value;
        filterFacet(box);
      }
    }
    for (const list of document.querySelectorAll(".facet-values.long")) {
      if (state.scroll[list.id]) list.scrollTop = state.scroll[list.id];
    }
  }

  function announce() {
    const announcer = document.getElementById("search-announcer");
    if (!announcer) return;
    const source = document.querySelector(".problem-title") || document.getElementById("results-heading");
    announcer.textContent = source ? source.textContent.replace(/\s+/g, " ").trim() : "";
  }

  // ---- in-place update -----------------------------------------------------------------

  async function update(url, options) {
    const opts = Object.assign({ push: true, wholePage: false, fallback: null }, options || {});
    const selector = focusSelector(document.activeElement);
    const sidebar = sidebarState();
    if (inFlight) inFlight.abort();
    const controller = new AbortController();
    inFlight = controller;
    const results = document.getElementById("results-region");
    if (results) {
      results.setAttribute("aria-busy", "true");
      results.classList.add("updating");
    }
    let page;
    try {
      const response = await fetch(url, { signal: controller.signal, headers: { Accept: "text/html" } });
      const text = await response.text();
      page = new DOMParser().parseFromString(text, "text/html");
    } catch (error) {
      if (error.name === "AbortError") return;
      window.location.assign(url);  // the network failed: let the browser show what it can
      return;
    }
    if (inFlight !== controller) return;
    inFlight = null;
    const newMain = page.querySelector("main");
    if (!newMain || !page.getElementById("results-region")) {
      window.location.assign(url);
      return;
    }
    if (opts.wholePage) {
      document.querySelector("main").replaceWith(document.adoptNode(newMain));
    } else {
      for (const region of document.querySelectorAll("[data-live][id]")) {
        const replacement = page.getElementById(region.id);
        if (replacement) region.replaceWith(document.adoptNode(replacement));
      }
    }
    document.title = page.title;
    if (opts.push) window.history.pushState({ mapsearch: true }, "", url);
    shownUrl = withoutHash(url);
    enhance();
    if (window.mapsearchManifests) window.mapsearchManifests.showAll(document);
    restoreSidebar(sidebar);
    if (!opts.wholePage) restoreFocus(selector, opts.fallback);
    announce();
    updates += 1;
    root.dataset.searchUpdates = String(updates);
  }

  function updateSoon(delay) {
    window.clearTimeout(debounceTimer);
    debounceTimer = window.setTimeout(function () { update(searchUrl()); }, delay);
  }

  // Back and Forward show the search of that URL (a skip link's #fragment is no other search).
  window.addEventListener("popstate", function () {
    if (withoutHash(window.location.href) === shownUrl) return;
    update(window.location.href, { push: false, wholePage: true });
  });

  // ---- controls ------------------------------------------------------------------------

  document.addEventListener("submit", function (event) {
    if (event.target.id !== "search-form") return;
    event.preventDefault();
    update(searchUrl());
  });

  // Facets, sort, page size, mode, fusion and flags apply as soon as they change; the mix slider
  // and the decade sliders wait for a pause (each arrow key press is a change).
  document.addEventListener("change", function (event) {
    const target = event.target;
    if (!target.closest || !target.closest("#search-form")) return;
    if (target.id === "mix") {
      updateSoon(300);
    } else if (target.classList.contains("decade-slider")) {
      applyDecades();
    } else if (target.matches(".facet input[type=checkbox], select, input[name=collapse], input[name=has_image]")) {
      update(searchUrl());
    }
  });

  document.addEventListener("input", function (event) {
    const target = event.target;
    if (target.id === "mix") {
      const output = document.getElementById("mix-value");
      if (output) output.textContent = Number(target.value).toFixed(1);
    } else if (target.classList.contains("facet-filter")) {
      filterFacet(target);
    } else if (target.classList.contains("decade-slider")) {
      showDecades(target);
    }
  });

  // Enter in a facet filter box must not submit the whole search.
  document.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && event.target.classList && event.target.classList.contains("facet-filter")) {
      event.preventDefault();
    }
  });

  // Links that change the search (modifier chips, filter chips, pages, "clear", suggestions) update
  // in place; links to maps, exports and other pages are left alone.
  document.addEventListener("click", function (event) {
    const link = event.target.closest && event.target.closest("a[href]");
    if (!link || !link.closest("[data-live]") || link.closest(".card")) return;
    if (event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
    const url = new URL(link.href, window.location.href);
    if (url.origin !== window.location.origin || url.pathname !== "/" || link.id === "permalink") return;
    event.preventDefault();
    update(url.href, { fallback: link.dataset.focusFallback || null });
  });

  // ---- facet filter boxes (places and subjects run to thousands) -------------------------

  function filterFacet(box) {
    const list = document.getElementById(box.getAttribute("aria-controls"));
    if (!list) return;
    const needle = box.value.trim().toLowerCase();
    for (const item of list.children) {
      const text = item.querySelector(".facet-value").textContent.toLowerCase();
      item.hidden = needle !== "" && !text.includes(needle);
    }
  }

  // ---- the year histogram: two decade sliders, or drag across the bars --------------------

  function histogramParts() {
    const box = document.getElementById("year-histogram");
    if (!box) return null;
    return {
      box: box,
      from: document.getElementById("decade-from"),
      to: document.getElementById("decade-to"),
      first: Number(box.dataset.first),
      last: Number(box.dataset.last),
      counts: JSON.parse(box.dataset.counts || "{}"),
    };
  }

  function valueText(parts, decade) {
    const count = parts.counts[String(decade)] || 0;
    return decade + "s: " + count + (count === 1 ? " map" : " maps");
  }

  function showRange(parts, low, high) {
    for (const bar of parts.box.querySelectorAll(".bar")) {
      const decade = Number(bar.dataset.decade);
      bar.classList.toggle("outside", decade < low || decade > high);
    }
  }

  // Keep from <= to while a slider moves, and say each end's decade and count.
  function showDecades(moved) {
    const parts = histogramParts();
    if (!parts) return;
    if (Number(parts.from.value) > Number(parts.to.value)) {
      (moved === parts.from ? parts.to : parts.from).value = moved.value;
    }
    for (const slider of [parts.from, parts.to]) slider.setAttribute("aria-valuetext", valueText(parts, Number(slider.value)));
    showRange(parts, Number(parts.from.value), Number(parts.to.value));
  }

  function setYears(parts, low, high) {
    const whole = low <= parts.first && high >= parts.last;
    document.getElementById("year_from").value = whole ? "" : String(low);
    document.getElementById("year_to").value = whole ? "" : String(high + 9);
  }

  function applyDecades() {
    const parts = histogramParts();
    if (!parts) return;
    setYears(parts, Number(parts.from.value), Number(parts.to.value));
    updateSoon(400);
  }

  function enhanceHistogram() {
    const parts = histogramParts();
    if (!parts) return;
    const bars = parts.box.querySelector(".histogram");
    let start = null;
    function decadeAt(event) {
      const rect = bars.getBoundingClientRect();
      const count = (parts.last - parts.first) / 10 + 1;
      const index = Math.floor(((event.clientX - rect.left) / rect.width) * count);
      return parts.first + 10 * Math.max(0, Math.min(count - 1, index));
    }
    function range(event) {
      const here = decadeAt(event);
      return [Math.min(start, here), Math.max(start, here)];
    }
    bars.addEventListener("pointerdown", function (event) {
      start = decadeAt(event);
      bars.setPointerCapture(event.pointerId);
      showRange(parts, start, start);
      event.preventDefault();
    });
    bars.addEventListener("pointermove", function (event) {
      if (start === null) return;
      const [low, high] = range(event);
      parts.from.value = String(low);
      parts.to.value = String(high);
      showRange(parts, low, high);
    });
    bars.addEventListener("pointerup", function (event) {
      if (start === null) return;
      const [low, high] = range(event);
      start = null;
      parts.from.value = String(low);
      parts.to.value = String(high);
      showDecades(parts.from);
      setYears(parts, low, high);
      update(searchUrl());
    });
  }

  // ---- bounding box: drag on the world map (lon/lat = SVG user units, y flipped) ---------

  function enhanceBbox() {
    const bboxMap = document.getElementById("bbox-map");
    const bboxInput = document.getElementById("bbox");
    const rect = document.getElementById("bbox-rect");
    if (!bboxMap || !bboxInput || !rect) return;
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
      update(searchUrl());
    });
  }

  // ---- example image: drop, choose or paste a file -> POST /api/uploads -> a new page ----

  function showStatus(message, isError) {
    const status = document.getElementById("upload-status");
    if (!status) return;
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

  // A new example map starts a new search page (a navigation, so its preview and mix slider load).
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
    const url = new URL(searchUrl());
    for (const name of ["image_id", "image_token", "image_url", "mix", "page"]) url.searchParams.delete(name);
    url.searchParams.append("image_token", upload.token);
    showStatus("Searching with the uploaded map…");
    window.location.assign(url.href);
  }

  document.addEventListener("change", function (event) {
    if (event.target.id === "image-file") uploadAndSearch(event.target.files[0]);
  });
  document.addEventListener("dragover", function (event) {
    const dropzone = event.target.closest && event.target.closest("#dropzone");
    if (!dropzone) return;
    event.preventDefault();
    dropzone.classList.add("dragging");
  });
  document.addEventListener("dragleave", function (event) {
    const dropzone = event.target.closest && event.target.closest("#dropzone");
    if (dropzone) dropzone.classList.remove("dragging");
  });
  document.addEventListener("drop", function (event) {
    const dropzone = event.target.closest && event.target.closest("#dropzone");
    if (!dropzone) return;
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
      update(searchUrl());
    }
  });
  document.addEventListener("paste", function (event) {
    const items = (event.clipboardData && event.clipboardData.files) || [];
    if (items.length && items[0].type.startsWith("image/")) {
      event.preventDefault();
      uploadAndSearch(items[0]);
    }
  });

  // ---- copy the permalink (the page URL is the whole query) ------------------------------

  document.addEventListener("click", async function (event) {
    const copy = event.target.closest && event.target.closest("#copy-permalink");
    const permalink = document.getElementById("permalink");
    if (!copy || !permalink) return;
    const url = new URL(permalink.getAttribute("href"), window.location.href).href;
    try {
      await navigator.clipboard.writeText(url);
      copy.textContent = "Copied";
    } catch (error) {
      window.prompt("Copy this link", url);
    }
  });

  function enhance() {
    enhanceHistogram();
    enhanceBbox();
  }
  enhance();
})();
