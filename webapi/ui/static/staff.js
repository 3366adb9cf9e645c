// Staff console: token sign-in (kept in sessionStorage), index status, start a reindex or a
// harvest, and jobs with live progress bars and ETA, polled from /api/admin.
(function () {
  "use strict";
  const TOKEN_KEY = "mapsearch.staffToken";
  const FINAL = new Set(["succeeded", "failed", "cancelled"]);
  const FAST_POLL_MS = 1000;
  const SLOW_POLL_MS = 5000;
  const $ = (id) => document.getElementById(id);
  let pollTimer = null;
  const knownStates = new Map();  // job id -> state, to announce changes (not every poll) to screen readers

  function token() { return sessionStorage.getItem(TOKEN_KEY); }

  class ProblemError extends Error {
    constructor(status, message) { super(message); this.status = status; }
  }

  async function api(path, options) {
    const init = Object.assign({ headers: {} }, options || {});
    init.headers = Object.assign({ Authorization: "Bearer " + token(), Accept: "application/json" }, init.headers);
    if (init.json !== undefined) {
      init.body = JSON.stringify(init.json);
      init.headers["Content-Type"] = "application/json";
      init.method = init.method || "POST";
    }
    const response = await fetch(path, init);
    if (!response.ok) {
      let message = response.status + " " + response.statusText;
      try {
        const problem = await response.json();
        message = (problem.title || message) + (problem.detail ? ": " + problem.detail : "");
      } catch (error) { /* not a problem body */ }
      throw new ProblemError(response.status, message);
    }
    return response.json();
  }

  function show(element, message) {
    element.textContent = message || "";
    element.hidden = !message;
  }

  function formatSeconds(seconds, counting) {
    if (seconds === null || seconds === undefined) return counting ? "ETA once counted" : "ETA after the first records";
    if (seconds < 1) return "ETA —";
    if (seconds < 90) return "ETA " + Math.round(seconds) + " s";
    if (seconds < 5400) return "ETA " + Math.round(seconds / 60) + " min";
    return "ETA " + (seconds / 3600).toFixed(1) + " h";
  }

  function renderJob(job, node) {
    node.dataset.jobId = job.id;
    node.dataset.state = job.state;
    node.querySelector(".job-kind").textContent = job.kind;
    node.querySelector(".job-id").textContent = job.id;
    const state = node.querySelector(".job-state");
    state.textContent = job.state;
    state.dataset.state = job.state;
    const processed = (job.done || 0) + (job.failed || 0);
    // The total grows batch by batch while a source is read: until it is final (or was counted
    // first) it is a lower bound, and the bar shows activity rather than a share that shrinks.
    const total = job.known_total;
    const known = total !== null && total !== undefined && total > 0;
    const percent = job.state === "succeeded" ? 100 : known ? Math.min(100, Math.floor((100 * processed) / total)) : 0;
    const bar = node.querySelector("progress");
    if (known || FINAL.has(job.state)) bar.value = percent; else bar.removeAttribute("value");  // indeterminate
    bar.setAttribute("aria-label", job.kind + " " + job.id + " progress");
    node.querySelector(".job-percent").textContent = known || FINAL.has(job.state) ? percent + "%" : "counting…";
    node.querySelector(".job-counts").textContent =
      processed + " / " + (known ? total : job.total > 0 ? "at least " + job.total : "counting…") +
      (job.failed ? " (" + job.failed + " failed)" : "");
    node.querySelector(".job-retries").textContent = job.retries ? job.retries + (job.retries === 1 ? " retry" : " retries") : "";
    node.querySelector(".job-rate").textContent = job.rate ? job.rate.toFixed(1) + " records/s" : "";
    node.querySelector(".job-eta").textContent = FINAL.has(job.state) ? "" : formatSeconds(job.eta_seconds, !known);
    node.querySelector(".job-message").textContent = job.message || "";
    const started = job.started_at ? new Date(job.started_at * 1000) : null;
    node.querySelector(".job-time").textContent = started
      ? "started " + started.toLocaleTimeString() +
        (job.finished_at ? ", took " + Math.max(0, job.finished_at - job.started_at).toFixed(1) + " s" : "")
      : "not started yet";
    const errors = node.querySelector(".job-errors");
    errors.hidden = !(job.errors && job.errors.length);
    const list = errors.querySelector("ul");
    list.replaceChildren(...(job.errors || []).map((text) => {
      const item = document.createElement("li");
      item.textContent = text;
      return item;
    }));
    const cancel = node.querySelector(".job-cancel");
    cancel.hidden = FINAL.has(job.state) || job.cancel_requested;
    cancel.setAttribute("aria-label", "Cancel " + job.kind + " " + job.id);
  }

  async function refreshJobs() {
    const list = $("jobs");
    let anyActive = false;
    try {
      const body = await api("/api/admin/jobs?limit=20");
      show($("jobs-error"), "");
      const existing = new Map(Array.from(list.children).map((node) => [node.dataset.jobId, node]));
      const nodes = body.jobs.map((job) => {
        const node = existing.get(job.id) || $("job-template").content.firstElementChild.cloneNode(true);
        renderJob(job, node);
        if (!FINAL.has(job.state)) anyActive = true;
        const previous = knownStates.get(job.id);
        if (previous !== undefined && previous !== job.state) $("jobs-announce").textContent = job.kind + " " + job.id + " " + job.state;
        knownStates.set(job.id, job.state);
        return node;
      });
      list.replaceChildren(...nodes);
      $("jobs-empty").hidden = body.jobs.length > 0;
      lockReindex(body.jobs.some((job) => job.kind === "reindex" && !FINAL.has(job.state)));
    } catch (error) {
      if (error.status === 401 || error.status === 403) return signOut(error.message);
      show($("jobs-error"), error.message);
    }
    schedule(anyActive ? FAST_POLL_MS : SLOW_POLL_MS);
  }

  // One reindex at a time (the server refuses a second): the button says so while one runs.
  function lockReindex(running) {
    const button = $("start-reindex");
    button.disabled = running;
    button.textContent = running ? "Reindex running…" : "Start reindex";
    $("reindex-lock").hidden = !running;
  }

  function schedule(delay) {
    clearTimeout(pollTimer);
    pollTimer = setTimeout(function () { refreshJobs(); refreshStatus(); }, delay);
  }

  async function refreshStatus() {
    try {
      const status = await api("/api/admin/status");
      const rows = [
        ["Backend", status.backend],
        ["Alias", status.alias],
        ["Physical index", status.physical_index || "—"],
        ["Documents", status.documents],
        ["With vectors", status.with_vectors],
        ["Model", status.model_id || "—"],
        ["Configured model", status.configured_model],
        ["Dimensions", status.dims || "—"],
        ["Mapping version", status.mapping_version || "—"],
        ["Pipeline", status.pipeline],
      ];
      $("index-status").tBodies[0].replaceChildren(...rows.map(([label, value]) => {
        const row = document.createElement("tr");
        const th = document.createElement("th");
        th.scope = "row";
        th.textContent = label;
        const td = document.createElement("td");
        td.textContent = String(value);
        td.dataset.field = label.toLowerCase().replace(/ /g, "_");
        row.append(th, td);
        return row;
      }));
    } catch (error) {
      if (error.status === 401 || error.status === 403) signOut(error.message);
    }
  }

  function signOut(message) {
    clearTimeout(pollTimer);
    sessionStorage.removeItem(TOKEN_KEY);
    $("console").hidden = true;
    $("signin-panel").hidden = false;
    show($("signin-error"), typeof message === "string" ? message : "");
    $("staff-token").focus();
  }

  function signedIn() {
    $("signin-panel").hidden = true;
    $("console").hidden = false;
    refreshStatus();
    refreshJobs();
  }

  $("signin-form").addEventListener("submit", async function (event) {
    event.preventDefault();
    sessionStorage.setItem(TOKEN_KEY, $("staff-token").value.trim());
    try {
      await api("/api/admin/status");
      $("staff-token").value = "";
      show($("signin-error"), "");
      signedIn();
      $("signed-in").focus();  // the sign-in form is gone: focus goes to what replaced it
    } catch (error) {
      signOut(error.message);
    }
  });
  $("signout").addEventListener("click", function () { signOut(""); });

  $("jobs").addEventListener("click", async function (event) {
    const button = event.target.closest(".job-cancel");
    if (!button) return;
    const id = button.closest(".job").dataset.jobId;
    button.disabled = true;
    try {
      await api("/api/admin/jobs/" + encodeURIComponent(id) + "/cancel", { method: "POST" });
    } catch (error) {
      show($("jobs-error"), error.message);
    }
    refreshJobs();
  });

  $("reindex-form").addEventListener("submit", async function (event) {
    event.preventDefault();
    const ids = $("reindex-ids").value.split(/\s+/).map((s) => s.trim()).filter(Boolean);
    try {
      await api("/api/admin/reindex", { json: ids.length ? { ids: ids } : {} });
      show($("jobs-error"), "");
    } catch (error) {
      show($("jobs-error"), error.message);
    }
    refreshJobs();
  });

  const harvestForm = $("harvest-form");
  $("harvest-source").addEventListener("change", function () {
    for (const label of harvestForm.querySelectorAll("[data-source]")) {
      label.hidden = label.dataset.source !== this.value;
    }
  });
  harvestForm.addEventListener("submit", async function (event) {
    event.preventDefault();
    const data = new FormData(harvestForm);
    const source = data.get("source");
    const body = { source: source, with_images: data.get("with_images") === "on" };
    for (const name of source === "iiif" ? ["url"] : ["collection", "query", "dates"]) {
      const value = String(data.get(name) || "").trim();
      if (value) body[name] = value;
    }
    if (data.get("limit")) body.limit = Number(data.get("limit"));
    try {
      await api("/api/admin/harvest", { json: body });
      show($("jobs-error"), "");
    } catch (error) {
      show($("jobs-error"), error.message);
    }
    refreshJobs();
  });

  if (token()) signedIn();
})();
