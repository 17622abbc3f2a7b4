// hardmine live dashboard: MiningStats windows of one job (from /api/jobs/{id}/stats, then pushed by
// the /api/events stream), the service series (consumer lag, dead letters), the job's memory and its
// confusable identities (/api/jobs/{id}/neighbors).
"use strict";

const COLORS = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e"];
const $ = (id) => document.getElementById(id);

// The time-series charts: a title, the series (label and how to read it from a row), and the source:
// "stats" rows are windows of the chosen job, "service" rows are samples of the whole service.
const CHARTS = [
  { id: "losses", title: "Losses (mean per batch)", source: "stats", series: [
    ["batch-hard", (r) => r.mean_loss_batch_hard],
    ["semi-hard", (r) => r.mean_loss_semi_hard],
    ["weighted", (r) => r.mean_loss_weighted]] },
  { id: "hardness", title: "Hard / semi-hard / easy fraction of valid triplets", source: "stats", series: [
    ["hard", (r) => frac(r, r.hard)],
    ["semi-hard", (r) => frac(r, r.semi_hard)],
    ["easy", (r) => frac(r, r.easy)]] },
  { id: "distances", title: "Mean d_ap, d_an and their gap against the margin", source: "stats", series: [
    ["d_ap", (r) => r.mean_d_ap],
    ["d_an", (r) => r.mean_d_an],
    ["gap d_an − d_ap", (r) => r.mean_d_an - r.mean_d_ap],
    ["margin", (r) => r.margin, { dash: [6, 4] }]] },
  { id: "throughput", title: "Embeddings and triplets per second", source: "stats", series: [
    ["embeddings/s", (r) => perSecond(r, r.embeddings)],
    ["triplets/s", (r) => perSecond(r, r.triplets)]] },
  { id: "latency", title: "Publish → mined latency (ms)", source: "stats", series: [
    ["p50", (r) => r.latency_p50_ms],
    ["p99", (r) => r.latency_p99_ms]] },
  { id: "memory", title: "Memory: embeddings and identities", source: "stats", series: [
    ["embeddings", (r) => r.memory_size],
    ["identities", (r) => r.memory_identities, { scale: "right" }]] },
  { id: "staleness", title: "Staleness of chosen positives and negatives (steps)", source: "stats", series: [
    ["mean", (r) => r.staleness_mean],
    ["max", (r) => r.staleness_max]] },
  { id: "lag", title: "Consumer lag on the embeddings topic (records, all jobs)", source: "service", series: [
    ["lag", (r) => r.consumer_lag]] },
  { id: "deadletters", title: "Dead letters (total since start, all jobs)", source: "service", series: [
    ["dead letters", (r) => r.dead_letters]] },
];

const state = {
  token: tokenFromPage(),
  job: null,
  range: 300000,
  windows: new Map(), // window_start -> MiningStats of the chosen job
  service: [],        // service samples, oldest first
  reasons: {},
  charts: new Map(),  // id -> { plot, def, el }
  histogram: null,
  neighbors: null,    // the job's /api/jobs/{id}/neighbors answer
  pairs: null,        // the table of the most confusable pairs
  events: null,
  loads: 0,
  retry: 1000,
  dirty: false,
};

function frac(r, n) {
  const all = r.hard + r.semi_hard + r.easy;
  return all > 0 ? n / all : null;
}

function windowSeconds(r) {
  const end = Math.min(r.window_end, Date.now());
  return Math.max(0.5, (end - r.window_start) / 1000);
}

function perSecond(r, n) {
  return n / windowSeconds(r);
}

function tokenFromPage() {
  const fromHash = new URLSearchParams(location.hash.slice(1)).get("token");
  if (fromHash) {
    sessionStorage.setItem("hardmine.token", fromHash);
    history.replaceState(null, "", location.pathname + location.search);
    return fromHash;
  }
  return sessionStorage.getItem("hardmine.token");
}

async function api(path) {
  const headers = state.token ? { Authorization: "Bearer " + state.token } : {};
  const response = await fetch(path, { headers, cache: "no-store" });
  if (response.status === 401) {
    $("login").hidden = false;
    throw new Error("a token is required");
  }
  if (!response.ok) {
    const body = await response.json().catch(() => ({}));
    const error = new Error(body.error || "HTTP " + response.status);
    error.status = response.status;
    throw error;
  }
  return response.json();
}

function showError(e) {
  setStatus(e.message, "error");
}

function setStatus(text, kind) {
  const s = $("status");
  s.textContent = text;
  s.className = "status" + (kind ? " " + kind : "");
}

// ---------- charts ----------

function makeChart(def) {
  const card = document.createElement("section");
  card.className = "card";
  card.innerHTML = `<h2></h2><div class="chart" data-chart="${def.id}" data-points="0"></div><p class="note"></p>`;
  card.querySelector("h2").textContent = def.title;
  $("charts").appendChild(card);
  const el = card.querySelector(".chart");
  const hasRight = def.series.some((s) => s[2] && s[2].scale === "right");
  const opts = {
    width: Math.max(300, el.clientWidth), height: 190,
    legend: { live: false },
    scales: { x: { time: true }, right: { auto: true } },
    axes: [{}, { size: 60 }].concat(hasRight ? [{ scale: "right", side: 1, grid: { show: false }, size: 50 }] : []),
    series: [{}].concat(def.series.map(([label, , extra], i) => Object.assign({
      label, stroke: COLORS[i % COLORS.length], width: 1.6, spanGaps: true,
      points: { show: false },
    }, extra || {}))),
  };
  const plot = new uPlot(opts, [[]].concat(def.series.map(() => [])), el);
  state.charts.set(def.id, { plot, def, el, note: card.querySelector(".note") });
}

function makeHistogram() {
  const card = document.createElement("section");
  card.className = "card";
  card.innerHTML = `<h2>d_an − d_ap of the mined triplets, latest window (margin marked)</h2>
    <div class="chart" data-chart="gap-histogram" data-points="0"></div><p class="note"></p>`;
  $("charts").appendChild(card);
  const el = card.querySelector(".chart");
  const marks = {
    hooks: {
      draw: [(u) => {
        const m = state.histogramMargin;
        const ctx = u.ctx;
        ctx.save();
        for (const [x, color, label] of [[0, "#555", "0"], [m, "#d62728", "margin"]]) {
          if (x == null || u.scales.x.min == null) continue;
          const px = u.valToPos(x, "x", true);
          ctx.strokeStyle = color;
          ctx.lineWidth = 2 * devicePixelRatio;
          ctx.setLineDash(x === 0 ? [4 * devicePixelRatio, 4 * devicePixelRatio] : []);
          ctx.beginPath();
          ctx.moveTo(px, u.bbox.top);
          ctx.lineTo(px, u.bbox.top + u.bbox.height);
          ctx.stroke();
          ctx.fillStyle = color;
          ctx.font = `${11 * devicePixelRatio}px system-ui, sans-serif`;
          ctx.fillText(label, px + 4 * devicePixelRatio, u.bbox.top + 12 * devicePixelRatio);
        }
        ctx.restore();
      }],
    },
  };
  const opts = {
    width: Math.max(300, el.clientWidth), height: 190,
    legend: { live: false },
    scales: { x: { time: false } },
    axes: [{}, { size: 60 }],
    plugins: [marks],
    series: [{ label: "gap" }, {
      label: "triplets", fill: "rgba(31,119,180,.45)", stroke: COLORS[0],
      paths: uPlot.paths.bars({ size: [0.95, 100] }), points: { show: false },
    }],
  };
  state.histogram = { plot: new uPlot(opts, [[], []], el), el, note: card.querySelector(".note") };
}

function makePairs() {
  const card = document.createElement("section");
  card.className = "card";
  card.innerHTML = `<h2>Most confusable identity pairs (top 5 by score)</h2>
    <table class="pairs" data-table="confusable-pairs" data-rows="0"><thead><tr><th>identity</th>
    <th>confused with</th><th class="num">score</th><th class="num">events</th><th class="num">last step</th>
    </tr></thead><tbody></tbody></table><p class="note"></p>`;
  $("charts").appendChild(card);
  state.pairs = { table: card.querySelector("table"), note: card.querySelector(".note") };
}

// The k highest-scoring pairs of the job's neighbour lists. A pair may be in both identities'
// lists (each one's anchors mined with the other's negatives): it is shown once, in the direction
// of its higher score. Scores are decayed to each identity's own newest step.
function topPairs(n, k) {
  const best = new Map();
  for (const entry of n.labels) {
    for (const x of entry.neighbors) {
      const key = JSON.stringify(entry.label < x.label ? [entry.label, x.label] : [x.label, entry.label]);
      const old = best.get(key);
      if (!old || x.score > old.score) best.set(key, Object.assign({ identity: entry.label }, x));
    }
  }
  return [...best.values()]
    .sort((a, b) => b.score - a.score || (a.identity < b.identity ? -1 : a.identity > b.identity ? 1 : 0))
    .slice(0, k);
}

function renderPairs() {
  const { table, note } = state.pairs;
  const n = state.neighbors;
  const pairs = n ? topPairs(n, 5) : [];
  const body = table.tBodies[0];
  body.replaceChildren(...pairs.map((p) => {
    const tr = document.createElement("tr");
    for (const [v, num] of [[p.identity], [p.label], [fmt(p.score), true], [fmt(p.count), true],
      [String(p.last_step), true]]) {
      const td = document.createElement("td");
      td.textContent = v; // labels are the trainers' strings: text, never markup
      if (num) td.className = "num";
      tr.appendChild(td);
    }
    return tr;
  }));
  table.dataset.rows = String(pairs.length);
  note.textContent = !n ? "" : pairs.length ? `scores decayed to each identity's newest step; `
    + `${n.identities} identities with neighbours` : "no neighbours for this job (neighbors.per-identity is 0?)";
}

function rowsFor(def) {
  const since = Date.now() - state.range;
  if (def.source === "service") {
    return state.service.filter((s) => s.at > since).map((s) => [s.at, s]);
  }
  return [...state.windows.values()]
    .filter((w) => w.window_end > since)
    .sort((a, b) => a.window_start - b.window_start)
    .map((w) => [w.window_start, w]);
}

function render() {
  state.dirty = false;
  for (const { plot, def, el, note } of state.charts.values()) {
    const rows = rowsFor(def);
    const data = [rows.map(([t]) => t / 1000)];
    let points = 0;
    for (const [, read] of def.series) {
      const ys = rows.map(([, r]) => {
        const v = read(r);
        return v == null || !isFinite(v) ? null : v;
      });
      points = Math.max(points, ys.filter((v) => v != null).length);
      data.push(ys);
    }
    plot.setData(data);
    el.dataset.points = String(points);
    if (def.id === "lag" && points === 0) {
      note.textContent = "no lag measured yet";
    } else if (def.id === "deadletters") {
      const reasons = Object.entries(state.reasons).map(([r, n]) => `${r}: ${n}`).join(", ");
      note.textContent = reasons ? "by reason — " + reasons : "none so far";
    } else {
      note.textContent = rows.length ? "" : "no data in this range yet";
    }
  }
  renderHistogram();
  renderPairs();
  renderTiles();
}

function latestWindow() {
  let latest = null;
  for (const w of state.windows.values()) {
    if (!latest || w.window_start > latest.window_start) latest = w;
  }
  return latest;
}

function renderHistogram() {
  const h = state.histogram;
  const w = latestWindow();
  const counts = w && w.gap_counts ? w.gap_counts : [];
  if (counts.length < 3) {
    h.plot.setData([[], []]);
    h.el.dataset.points = "0";
    h.note.textContent = "no triplets in the latest window";
    return;
  }
  const inner = counts.slice(1, counts.length - 1);
  const xs = inner.map((_, i) => w.gap_low + (i + 0.5) * w.gap_width);
  state.histogramMargin = w.margin;
  h.plot.setData([xs, inner]);
  h.el.dataset.points = String(inner.length);
  const below = counts[0];
  const above = counts[counts.length - 1];
  const total = counts.reduce((a, b) => a + b, 0);
  h.note.textContent = `${total} triplets; ${below} below ${fmt(w.gap_low)}, ${above} above `
    + `${fmt(w.gap_low + inner.length * w.gap_width)}; margin ${fmt(w.margin)}`;
}

function fmt(v, digits = 3) {
  if (v == null || !isFinite(v)) return "–";
  const a = Math.abs(v);
  if (a >= 1e6) return (v / 1e6).toFixed(1) + "M";
  if (a >= 1e4) return (v / 1e3).toFixed(1) + "k";
  if (a >= 100 || Number.isInteger(v)) return String(Math.round(v));
  return v.toPrecision(digits);
}

function renderTiles() {
  const w = latestWindow();
  if (!w) {
    for (const id of ["kpi-batches", "kpi-hard", "kpi-loss", "kpi-latency", "kpi-window"]) $(id).textContent = "–";
    if (!state.memory) $("kpi-memory").textContent = "–";
  } else {
    $("kpi-batches").textContent = fmt(w.batches / windowSeconds(w));
    const hs = frac(w, w.hard + w.semi_hard);
    $("kpi-hard").textContent = hs == null ? "–" : (100 * hs).toFixed(1) + "%";
    $("kpi-loss").textContent = fmt(w.mean_loss_batch_hard);
    $("kpi-latency").textContent = fmt(w.latency_p99_ms) + " ms";
    $("kpi-window").textContent = `${w.batches} batches`;
    $("kpi-window").title = new Date(w.window_start).toLocaleTimeString();
    if (!state.memory) $("kpi-memory").textContent = fmt(w.memory_size);
  }
  if (!state.memory) {
    $("kpi-memory-steps").textContent = "";
  } else {
    const m = state.memory;
    $("kpi-memory").textContent = `${fmt(m.size)} / ${fmt(m.identities)} ids`;
    $("kpi-memory-steps").textContent = m.size > 0 ? `steps ${m.oldest_step}–${m.newest_step}` : "empty";
  }
  const n = state.neighbors;
  if (!n || n.concentration == null) {
    $("kpi-concentration").textContent = "–";
    $("kpi-concentration-identities").textContent = n ? "no neighbours" : "";
  } else {
    $("kpi-concentration").textContent = fmt(n.concentration);
    $("kpi-concentration-identities").textContent = `${fmt(n.identities)} identities`;
  }
  const s = state.service[state.service.length - 1];
  if (s) {
    $("kpi-lag").textContent = s.consumer_lag == null ? "–" : fmt(s.consumer_lag);
    $("kpi-dlq").textContent = fmt(s.dead_letters);
    const reasons = Object.entries(state.reasons).map(([r, n]) => `${r} ${n}`).join(", ");
    $("kpi-dlq-reasons").textContent = reasons;
  }
}

function scheduleRender() {
  if (!state.dirty) {
    state.dirty = true;
    requestAnimationFrame(render);
  }
}

// ---------- data ----------

async function loadJobs() {
  const jobs = await api("api/jobs");
  const select = $("job");
  const known = new Set([...select.options].map((o) => o.value));
  for (const j of jobs) {
    if (!known.has(j.job_id)) addJobOption(j.job_id);
  }
  if (!state.job && jobs.length) {
    const wanted = new URLSearchParams(location.search).get("job");
    await selectJob(jobs.some((j) => j.job_id === wanted) ? wanted : jobs[0].job_id);
  }
  return jobs.length;
}

function addJobOption(job) {
  const select = $("job");
  if ([...select.options].some((o) => o.value === job)) return;
  const option = document.createElement("option");
  option.value = option.textContent = job;
  const after = [...select.options].find((o) => o.value > job);
  select.insertBefore(option, after || null);
}

async function selectJob(job) {
  state.job = job;
  $("job").value = job;
  state.windows = new Map();
  state.memory = null;
  state.neighbors = null;
  $("kpi-memory-steps").textContent = "";
  await loadJob();
  loadMemory();
  loadNeighbors();
}

async function loadJob() {
  const job = state.job;
  if (!job) return;
  const load = ++state.loads; // a later load (another job or range) wins over this one
  const since = Date.now() - state.range;
  const [stats, service] = await Promise.all([
    api(`api/jobs/${encodeURIComponent(job)}/stats?since=${since}`),
    api(`api/service?since=${since}`),
  ]);
  if (load !== state.loads) return;
  state.windows = new Map(stats.map((w) => [w.window_start, w]));
  state.service = service.samples;
  state.reasons = service.dead_letters_by_reason;
  document.body.dataset.job = job;
  scheduleRender();
}

async function loadMemory() {
  const job = state.job;
  if (!job) return;
  try {
    const m = await api(`api/jobs/${encodeURIComponent(job)}/memory`);
    if (job === state.job) state.memory = m;
  } catch (e) {
    if (job === state.job && e.status === 404) state.memory = { size: 0, identities: 0 };
  }
  scheduleRender();
}

async function loadNeighbors() {
  const job = state.job;
  if (!job) return;
  try {
    const n = await api(`api/jobs/${encodeURIComponent(job)}/neighbors`);
    if (job === state.job) state.neighbors = n;
  } catch (e) {
    // kept as it was: the next poll tries again (a 401 shows the token form)
  }
  scheduleRender();
}

function connect() {
  if (state.events) state.events.close();
  const url = "api/events" + (state.token ? "?access_token=" + encodeURIComponent(state.token) : "");
  const events = new EventSource(url);
  state.events = events;
  events.onopen = () => {
    setStatus("live", "live");
    state.retry = 1000;
    // Catch up on whatever happened while the stream was down.
    loadJobs().then(() => loadJob()).catch(showError);
  };
  events.onerror = () => {
    setStatus("reconnecting…", "error");
    if (events.readyState !== EventSource.CLOSED) return; // the browser retries by itself
    // Refused (401 without a valid token, 503 with too many streams): EventSource gives up, so ask
    // the API why (a 401 shows the token form), then try again a little later.
    api("api/jobs").catch(showError);
    if ($("login").hidden) {
      setTimeout(connect, state.retry);
      state.retry = Math.min(30000, state.retry * 2);
    }
  };
  events.addEventListener("stats", (e) => {
    const w = JSON.parse(e.data);
    addJobOption(w.job_id);
    if (!state.job) {
      selectJob(w.job_id).catch(showError);
    } else if (w.job_id === state.job) {
      state.windows.set(w.window_start, w);
      const cutoff = Date.now() - 3600000;
      for (const [start, old] of state.windows) {
        if (old.window_end < cutoff) state.windows.delete(start);
      }
      scheduleRender();
    }
  });
  events.addEventListener("service", (e) => {
    const s = JSON.parse(e.data);
    state.service.push(s);
    while (state.service.length && state.service[0].at < Date.now() - 3600000) state.service.shift();
    state.reasons = s.dead_letters_by_reason || {};
    scheduleRender();
  });
}

function start() {
  CHARTS.forEach(makeChart);
  makeHistogram();
  makePairs();
  $("job").addEventListener("change", (e) => selectJob(e.target.value).catch(showError));
  $("range").addEventListener("change", (e) => {
    state.range = Number(e.target.value);
    loadJob().catch(showError);
  });
  $("login").addEventListener("submit", (e) => {
    e.preventDefault();
    state.token = $("token").value;
    sessionStorage.setItem("hardmine.token", state.token);
    $("login").hidden = true;
    connect();
  });
  window.addEventListener("resize", () => {
    for (const c of [...state.charts.values(), state.histogram]) {
      c.plot.setSize({ width: Math.max(300, c.el.clientWidth), height: 190 });
    }
  });
  setInterval(() => {
    loadMemory();
    loadNeighbors();
  }, 5000);
  setInterval(scheduleRender, 2000); // the rates of the window in progress change with the clock
  connect();
  loadJobs().catch(showError); // also shows the token form at once when the API asks for one
}

start();
