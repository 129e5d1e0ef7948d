// Tenantry jobs console: plain JavaScript, no build step. Polls the REST API every second.
"use strict";

const POLL_MS = 1000;
const $ = (id) => document.getElementById(id);

const state = {
  me: null,
  filters: { state: "", tenant: "", type: "", q: "" },
  offset: 0,
  limit: 50,
  page: null,
  rows: new Map(), // job id -> { tr, html }
  timer: null,
  failures: 0,
  inflight: false,
};

// ---------- helpers ----------

function esc(s) {
  return String(s ?? "").replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c]));
}

function fmtBytesRate(b) {
  const u = ["B/s", "KB/s", "MB/s", "GB/s"];
  let i = 0;
  while (b >= 1000 && i < u.length - 1) { b /= 1000; i++; }
  return `${b.toFixed(b < 10 ? 1 : 0)} ${u[i]}`;
}

function fmtDuration(s) {
  if (s == null || !isFinite(s)) return "—";
  s = Math.max(0, Math.round(s));
  if (s >= 86400) return `${Math.floor(s / 86400)}d ${Math.floor((s % 86400) / 3600)}h`;
  if (s >= 3600) return `${Math.floor(s / 3600)}h ${String(Math.floor((s % 3600) / 60)).padStart(2, "0")}m`;
  if (s >= 60) return `${Math.floor(s / 60)}m ${String(s % 60).padStart(2, "0")}s`;
  return `${s}s`;
}

function fmtTime(iso) {
  if (!iso) return "—";
  const d = new Date(iso);
  const now = new Date();
  const sameDay = d.toDateString() === now.toDateString();
  const t = d.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", second: "2-digit" });
  return sameDay ? t : `${d.toLocaleDateString([], { month: "short", day: "numeric" })} ${t}`;
}

function fmtAgo(iso, nowIso) {
  if (!iso) return "—";
  const s = (new Date(nowIso || Date.now()) - new Date(iso)) / 1000;
  if (s < 5) return "just now";
  return `${fmtDuration(s)} ago`;
}

function speedText(job) {
  const sp = job.speed || {};
  if (sp.bytes_per_second != null) return fmtBytesRate(sp.bytes_per_second);
  if (sp.fraction_per_second != null) return `${(sp.fraction_per_second * 100).toFixed(1)} %/s`;
  return "—";
}

function etaText(job) {
  const e = job.speed && job.speed.eta_seconds;
  return e == null ? "—" : fmtDuration(e);
}

function pct(f) {
  return `${(Math.max(0, Math.min(1, f || 0)) * 100).toFixed(1)}%`;
}

function toast(msg, isError) {
  const t = $("toast");
  t.textContent = msg;
  t.className = "toast" + (isError ? " error" : "");
  t.hidden = false;
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => { t.hidden = true; }, 4000);
}

class ApiError extends Error {
  constructor(status, code, message) { super(message); this.status = status; this.code = code; }
}

async function api(path, opts = {}) {
  let res;
  try {
    res = await fetch(path, {
      credentials: "same-origin",
      headers: opts.body ? { "Content-Type": "application/json" } : {},
      ...opts,
    });
  } catch (e) {
    throw new ApiError(0, "network", "The server cannot be reached.");
  }
  let body = null;
  try { body = await res.json(); } catch (e) { body = null; }
  if (!res.ok) {
    const err = (body && body.error) || {};
    throw new ApiError(res.status, err.code || "http_" + res.status, err.message || res.statusText);
  }
  return body;
}

// ---------- connection state ----------

function setLive(ok, text) {
  const live = $("live");
  live.hidden = !state.me;
  live.classList.toggle("lost", !ok);
  $("live-text").textContent = text || (ok ? "Live" : "Connection lost");
  $("jobs-table").classList.toggle("stale", !ok);
  const banner = $("banner");
  if (ok) {
    banner.hidden = true;
  } else {
    banner.hidden = false;
    banner.className = "banner error";
    banner.textContent = "Connection to the server lost — showing the last known state. Retrying every second…";
  }
}

function handleError(e) {
  if (e.status === 401) {
    showLogin(e.message);
    return;
  }
  if (e.status === 0) {
    state.failures++;
    setLive(false);
    return;
  }
  toast(e.message, true);
}

// ---------- views ----------

function show(view) {
  for (const v of ["login", "jobs", "job"]) $("view-" + v).hidden = v !== view;
  const authed = view !== "login";
  $("nav").hidden = !authed;
  $("who").hidden = !authed;
  $("live").hidden = !authed;
}

function showLogin(message) {
  state.me = null;
  stopPolling();
  show("login");
  $("banner").hidden = true;
  const err = $("login-error");
  if (message && !/log in first/i.test(message)) {
    err.textContent = message;
    err.hidden = false;
  } else {
    err.hidden = true;
  }
  $("login-password").focus();
}

function setMe(me) {
  state.me = me;
  $("who-name").textContent = `${me.user}@${me.tenant}`;
  $("who-avatar").textContent = me.user.slice(0, 1);
}

async function login(ev) {
  ev.preventDefault();
  const btn = $("login-submit");
  btn.disabled = true;
  try {
    const me = await api("/api/login", {
      method: "POST",
      body: JSON.stringify({ user: $("login-user").value.trim(), password: $("login-password").value }),
    });
    $("login-password").value = "";
    setMe(me);
    route();
  } catch (e) {
    const err = $("login-error");
    err.textContent = e.status === 0 ? "The server cannot be reached." : e.message;
    err.hidden = false;
  } finally {
    btn.disabled = false;
  }
}

async function logout() {
  try { await api("/api/logout", { method: "POST" }); } catch (e) { /* gone anyway */ }
  state.rows.clear();
  $("jobs-body").innerHTML = "";
  showLogin();
}

// ---------- polling ----------

function stopPolling() {
  clearTimeout(state.timer);
  state.timer = null;
}

function schedule(fn) {
  stopPolling();
  state.timer = setTimeout(fn, POLL_MS);
}

// ---------- jobs list ----------

const STATE_CHIPS = [
  ["", "All"], ["active", "Active"], ["running", "Running"], ["paused", "Paused"],
  ["failed", "Failed"], ["canceled", "Canceled"], ["succeeded", "Succeeded"],
];
const ACTIVE = ["pending", "running", "pause-requested", "paused", "cancel-requested", "reverting"];

function renderChips(counts) {
  const total = Object.values(counts).reduce((a, b) => a + b, 0);
  const count = (s) => s === "" ? total : s === "active" ? ACTIVE.reduce((a, k) => a + (counts[k] || 0), 0) : (counts[s] || 0);
  $("state-chips").innerHTML = STATE_CHIPS.map(([s, label]) =>
    `<button class="chip${state.filters.state === s ? " active" : ""}" data-state="${s}" role="tab">${label}<span class="n">${count(s)}</span></button>`
  ).join("");
}

function fillSelect(sel, values, allLabel) {
  const cur = sel.value;
  const want = [""].concat(values);
  const have = Array.from(sel.options).map((o) => o.value);
  if (want.join("\u0000") === have.join("\u0000")) return;
  sel.innerHTML = want.map((v) => `<option value="${esc(v)}">${v ? esc(v) : allLabel}</option>`).join("");
  sel.value = want.includes(cur) ? cur : "";
}

function actionButtons(job, small) {
  const cls = small ? " small" : "";
  const b = [];
  if (job.actions.includes("pause")) b.push(`<button class="btn${cls}" data-action="pause" data-id="${job.id}">Pause</button>`);
  if (job.actions.includes("resume")) b.push(`<button class="btn${cls}" data-action="resume" data-id="${job.id}">Resume</button>`);
  if (job.actions.includes("cancel")) b.push(`<button class="btn danger${cls}" data-action="cancel" data-id="${job.id}">Cancel</button>`);
  return b.join("");
}

function rowHtml(job, now) {
  const desc = job.description || job.type;
  return `
    <td class="c-job"><div class="job-desc" title="${esc(desc)}">${esc(desc)}</div><div class="job-id">${esc(job.id)}</div></td>
    <td><span class="type">${esc(job.type)}</span></td>
    <td>${esc(job.tenant)}</td>
    <td>${esc(job.owner)}</td>
    <td><span class="pill ${esc(job.state)}" data-role="state">${esc(job.state)}</span></td>
    <td><div class="progress"><div class="bar ${esc(job.state)}"><div class="fill" style="width:${pct(job.fraction_completed)}"></div></div><span class="pct" data-role="pct">${pct(job.fraction_completed)}</span></div></td>
    <td class="num">${esc(speedText(job))}</td>
    <td class="num">${esc(etaText(job))}</td>
    <td title="${esc(job.created)}">${esc(fmtAgo(job.created, now))}</td>
    <td class="c-actions">${actionButtons(job, true)}</td>`;
}

function renderJobs(page) {
  state.page = page;
  renderChips(page.counts);
  fillSelect($("filter-tenant"), page.tenants, "All tenants");
  fillSelect($("filter-type"), page.types, "All types");
  const body = $("jobs-body");
  const seen = new Set();
  let prev = null;
  for (const job of page.jobs) {
    seen.add(job.id);
    const html = rowHtml(job, page.now);
    let row = state.rows.get(job.id);
    if (!row) {
      const tr = document.createElement("tr");
      tr.dataset.id = job.id;
      row = { tr, html: "" };
      state.rows.set(job.id, row);
    }
    if (row.html !== html) {
      // Only rows that changed are redrawn; the bar's width then animates to its new value.
      const fill = row.tr.querySelector(".fill");
      if (fill && row.tr.querySelector(".bar").className === `bar ${job.state}`) {
        fill.style.width = pct(job.fraction_completed);
        const cells = row.tr.children;
        const tmp = document.createElement("tr");
        tmp.innerHTML = html;
        for (let i = 0; i < cells.length; i++) {
          if (i === 5) { cells[i].querySelector("[data-role=pct]").textContent = pct(job.fraction_completed); continue; }
          if (cells[i].innerHTML !== tmp.children[i].innerHTML) cells[i].innerHTML = tmp.children[i].innerHTML;
        }
      } else {
        row.tr.innerHTML = html;
      }
      row.html = html;
    }
    const want = prev ? prev.nextSibling : body.firstChild;
    if (want !== row.tr) body.insertBefore(row.tr, want);
    prev = row.tr;
  }
  for (const [id, row] of state.rows) {
    if (!seen.has(id)) { row.tr.remove(); state.rows.delete(id); }
  }
  const empty = page.jobs.length === 0;
  $("jobs-empty").hidden = !empty;
  $("jobs-table").hidden = empty;
  const filtered = state.filters.state || state.filters.tenant || state.filters.type || state.filters.q;
  $("jobs-empty-title").textContent = filtered ? "No jobs match these filters" : "No jobs yet";
  $("jobs-empty-text").textContent = filtered
    ? "Try another state, tenant or type, or clear the search."
    : "Backups, schema changes and other long-running work show up here as soon as they start.";
  const from = page.total === 0 ? 0 : page.offset + 1;
  const to = page.offset + page.jobs.length;
  $("pager-text").textContent = `${from.toLocaleString()}–${to.toLocaleString()} of ${page.total.toLocaleString()}`;
  $("page-prev").disabled = page.offset === 0;
  $("page-next").disabled = to >= page.total;
  const running = page.counts.running || 0;
  const all = Object.values(page.counts).reduce((a, b) => a + b, 0);
  $("jobs-summary").textContent = `${all.toLocaleString()} job${all === 1 ? "" : "s"} · ${running} running · updated ${fmtTime(page.now)}`;
}

async function pollJobs() {
  if (location.hash.startsWith("#/jobs/")) return;
  const p = new URLSearchParams({ limit: state.limit, offset: state.offset });
  for (const [k, v] of Object.entries(state.filters)) if (v) p.set(k, v);
  try {
    const page = await api("/api/jobs?" + p);
    if (page.total > 0 && page.offset >= page.total) {
      state.offset = Math.max(0, Math.floor((page.total - 1) / state.limit) * state.limit);
    }
    state.failures = 0;
    setLive(true);
    renderJobs(page);
  } catch (e) {
    handleError(e);
    if (e.status === 401) return;
  }
  if (!location.hash.startsWith("#/jobs/") && state.me) schedule(pollJobs);
}

// ---------- one job ----------

function fact(k, v, title) {
  return `<div class="fact"><div class="k">${esc(k)}</div><div class="v" title="${esc(title || v)}">${esc(v)}</div></div>`;
}

function chartSvg(events) {
  const pts = events.filter((e) => e.fraction_completed != null);
  if (pts.length < 2) return `<div class="none">Not enough samples yet</div>`;
  const t0 = new Date(pts[0].at).getTime();
  const t1 = Math.max(new Date(pts[pts.length - 1].at).getTime(), t0 + 1);
  const W = 600, H = 160, P = 8;
  const xy = pts.map((e) => [P + (new Date(e.at).getTime() - t0) / (t1 - t0) * (W - 2 * P), H - P - e.fraction_completed * (H - 2 * P)]);
  const line = xy.map(([x, y], i) => `${i ? "L" : "M"}${x.toFixed(1)},${y.toFixed(1)}`).join(" ");
  const area = `${line} L${xy[xy.length - 1][0].toFixed(1)},${H - P} L${xy[0][0].toFixed(1)},${H - P} Z`;
  const grid = [0.25, 0.5, 0.75].map((f) => `<line x1="${P}" x2="${W - P}" y1="${H - P - f * (H - 2 * P)}" y2="${H - P - f * (H - 2 * P)}" stroke="#eef0f4"/>`).join("");
  return `<svg viewBox="0 0 ${W} ${H}" preserveAspectRatio="none" role="img" aria-label="progress over time">
    <defs><linearGradient id="ga" x1="0" y1="0" x2="0" y2="1"><stop offset="0" stop-color="#6366f1" stop-opacity=".28"/><stop offset="1" stop-color="#6366f1" stop-opacity="0"/></linearGradient></defs>
    ${grid}<path d="${area}" fill="url(#ga)"/><path d="${line}" fill="none" stroke="#6366f1" stroke-width="2" vector-effect="non-scaling-stroke"/></svg>
    <div class="muted" style="display:flex;justify-content:space-between;font-size:12px"><span>${esc(fmtTime(pts[0].at))}</span><span>${esc(fmtTime(pts[pts.length - 1].at))}</span></div>`;
}

function renderJob(job) {
  $("job-title").textContent = job.description || job.type;
  const pill = $("job-state");
  pill.className = `pill ${job.state}`;
  pill.textContent = job.state;
  $("job-id").textContent = `job ${job.id} · trace ${job.trace_id}`;
  $("job-actions").innerHTML = actionButtons(job, false);
  const bar = $("job-fill").parentElement;
  bar.className = `bar big ${job.state}`;
  $("job-fill").style.width = pct(job.fraction_completed);
  $("job-percent").textContent = pct(job.fraction_completed);
  $("job-status").textContent = job.running_status || (job.phase ? `phase ${job.phase}` : "");
  const runFor = job.started ? ((new Date(job.finished || job.now) - new Date(job.started)) / 1000) : null;
  $("job-facts").innerHTML = [
    fact("Type", job.type), fact("Tenant", job.tenant), fact("Owner", job.owner),
    fact("Created", fmtTime(job.created), job.created), fact("Started", fmtTime(job.started), job.started),
    fact(job.finished ? "Finished" : "Last change", fmtTime(job.finished || job.modified), job.finished || job.modified),
    fact(job.finished ? "Took" : "Running for", fmtDuration(runFor)),
    fact("Speed", speedText(job)), fact("ETA", etaText(job)),
    fact("Phase", job.phase || "—"), fact("Cancelable", job.cancelable ? "yes" : "no"),
    fact("Parent", job.parent_id || "—"),
  ].join("");
  const err = $("job-error");
  if (job.error) {
    err.hidden = false;
    err.innerHTML = `<strong>${job.state === "failed" ? "Failed" : "Error"}${job.error_code != null ? ` (code ${esc(job.error_code)})` : ""}</strong>${esc(job.error)}`;
  } else {
    err.hidden = true;
  }
  const phases = job.phases || [];
  $("job-phases").innerHTML = phases.length === 0
    ? `<li class="muted">This job reports no phases.</li>`
    : phases.map((p, i) => {
        const last = i === phases.length - 1;
        const cls = last && !job.finished ? (job.state === "running" ? "current" : "stopped") : "";
        const mark = cls ? "" : "✓";
        const took = p.ended ? `took ${fmtDuration((new Date(p.ended) - new Date(p.started)) / 1000)}` : (cls === "current" ? "in progress" : job.state);
        return `<li class="${cls}"><span class="mark">${mark}</span><div><div class="name">${esc(p.name)}</div><div class="when">${esc(fmtTime(p.started))} · ${esc(took)}</div></div></li>`;
      }).join("");
  const changes = [];
  let last = null;
  for (const ev of job.events || []) {
    if (last && last.state === ev.state && last.phase === ev.phase) continue;
    const what = !last || last.state !== ev.state ? ev.state : `phase ${ev.phase}`;
    changes.push(`<li class="${esc(ev.state)}"><div class="what">${esc(what)}</div><div class="t">${esc(fmtTime(ev.at))} · ${pct(ev.fraction_completed)}${ev.running_status ? " · " + esc(ev.running_status) : ""}</div></li>`);
    last = ev;
  }
  $("job-timeline").innerHTML = changes.reverse().join("") || `<li class="muted">No history recorded.</li>`;
  $("job-chart").innerHTML = chartSvg(job.events || []);
  $("job-statement").textContent = job.statement || "—";
  const figs = Object.entries(job.progress || {});
  $("job-figures").innerHTML = figs.length === 0
    ? `<tr><td colspan="2" class="muted">No figures reported.</td></tr>`
    : figs.map(([k, v]) => `<tr><td>${esc(k)}</td><td>${esc(typeof v === "number" ? v.toLocaleString() : JSON.stringify(v))}</td></tr>`).join("");
}

async function pollJob(id) {
  if (location.hash !== `#/jobs/${id}`) return;
  try {
    const job = await api(`/api/jobs/${encodeURIComponent(id)}`);
    setLive(true);
    renderJob(job);
  } catch (e) {
    if (e.status === 404 || e.status === 403) {
      $("job-title").textContent = e.status === 404 ? "Job not found" : "Not allowed";
      $("job-state").className = "pill";
      $("job-state").textContent = e.code;
      $("job-error").hidden = false;
      $("job-error").innerHTML = `<strong>${esc(e.code)}</strong>${esc(e.message)}`;
      return;
    }
    handleError(e);
    if (e.status === 401) return;
  }
  if (location.hash === `#/jobs/${id}` && state.me) schedule(() => pollJob(id));
}

// ---------- actions ----------

const VERBS = {
  cancel: { title: "Cancel this job?", yes: "Cancel job", text: "The work stops and everything it did is undone. This cannot be resumed.", danger: true },
  pause: { title: "Pause this job?", yes: "Pause job", text: "The work stops at its next checkpoint; Resume continues from there.", danger: false },
  resume: { title: "Resume this job?", yes: "Resume job", text: "The job continues from its last checkpoint.", danger: false },
};

function confirmAction(action, id) {
  const v = VERBS[action];
  const dlg = $("confirm");
  $("confirm-title").textContent = v.title;
  $("confirm-text").textContent = `Job ${id}: ${v.text}`;
  const yes = $("confirm-yes");
  yes.textContent = v.yes;
  yes.className = "btn " + (v.danger ? "danger" : "primary");
  return new Promise((resolve) => {
    dlg.addEventListener("close", () => resolve(dlg.returnValue === "yes"), { once: true });
    dlg.returnValue = "";
    dlg.showModal();
    $("confirm-no").focus();
  });
}

async function doAction(action, id) {
  if (!(await confirmAction(action, id))) return;
  try {
    const job = await api(`/api/jobs/${encodeURIComponent(id)}/${action}`, { method: "POST" });
    toast(`Job ${id}: ${job.state}`);
  } catch (e) {
    handleError(e);
  }
  route();
}

// ---------- routing and events ----------

function route() {
  if (!state.me) return;
  stopPolling();
  const m = location.hash.match(/^#\/jobs\/(\d+)$/);
  if (m) {
    show("job");
    pollJob(m[1]);
  } else {
    show("jobs");
    pollJobs();
  }
}

function debounce(fn, ms) {
  let t;
  return (...a) => { clearTimeout(t); t = setTimeout(() => fn(...a), ms); };
}

document.addEventListener("click", (ev) => {
  const btn = ev.target.closest("button[data-action]");
  if (btn) {
    ev.stopPropagation();
    doAction(btn.dataset.action, btn.dataset.id);
    return;
  }
  const chip = ev.target.closest("button.chip");
  if (chip) {
    state.filters.state = chip.dataset.state;
    state.offset = 0;
    pollJobs();
    return;
  }
  const tr = ev.target.closest("#jobs-body tr");
  if (tr) location.hash = `#/jobs/${tr.dataset.id}`;
});

$("login-form").addEventListener("submit", login);
$("logout").addEventListener("click", logout);
$("filter-tenant").addEventListener("change", (e) => { state.filters.tenant = e.target.value; state.offset = 0; pollJobs(); });
$("filter-type").addEventListener("change", (e) => { state.filters.type = e.target.value; state.offset = 0; pollJobs(); });
$("filter-q").addEventListener("input", debounce((e) => { state.filters.q = e.target.value.trim(); state.offset = 0; pollJobs(); }, 250));
$("page-size").addEventListener("change", (e) => { state.limit = Number(e.target.value); state.offset = 0; pollJobs(); });
$("page-prev").addEventListener("click", () => { state.offset = Math.max(0, state.offset - state.limit); pollJobs(); });
$("page-next").addEventListener("click", () => { state.offset += state.limit; pollJobs(); });
window.addEventListener("hashchange", route);

(async function start() {
  try {
    setMe(await api("/api/me"));
    route();
  } catch (e) {
    if (e.status === 0) {
      show("login");
      const err = $("login-error");
      err.textContent = "The server cannot be reached.";
      err.hidden = false;
    } else {
      showLogin();
    }
  }
})();
