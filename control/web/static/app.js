// The dashboard: one page that calls the REST API with the key of this tab and follows /v1/stream.
// The server decides what a key may do; hiding controls from a viewer is only a courtesy.
"use strict";

const RANK = { viewer: 0, trader: 1, owner: 2 };
const $ = (id) => document.getElementById(id);
let key = sessionStorage.getItem("ie-key");
let health = null;
let pending = null;
let streaming = null;

async function call(path, options = {}) {
  const headers = { "X-API-Key": key, ...(options.headers || {}) };
  if (options.body !== undefined) headers["Content-Type"] = "application/json";
  const response = await fetch(path, { ...options, headers, body: options.body === undefined ? undefined : JSON.stringify(options.body) });
  const text = await response.text();
  const body = text ? JSON.parse(text) : null;
  if (!response.ok) throw new Error((body && body.detail) || response.statusText);
  return body;
}

function text(id, value) { $(id).textContent = value; }
function cell(row, value) {
  const td = document.createElement("td");
  td.textContent = value ?? "";
  if (td.textContent.length > 24 && !td.textContent.includes(" ")) td.className = "long"; // ids and addresses
  row.appendChild(td);
  return td;
}
function money(value) {
  // Dollars as the API sends them (decimal strings), to the cent half-up, in integer arithmetic: no floats.
  if (value === null || value === undefined) return "";
  const match = /^(-?)(\d+)(?:\.(\d*))?$/.exec(String(value));
  if (!match) return String(value);
  const [, sign, whole, fraction = ""] = match;
  let cents = BigInt(whole + fraction.padEnd(2, "0").slice(0, 2));
  if ((fraction[2] || "0") >= "5") cents += 1n;
  const text = cents.toString().padStart(3, "0");
  return `${sign && cents ? "-" : ""}$${text.slice(0, -2)}.${text.slice(-2)}`;
}

function allowed(role) { return health && RANK[health.role] >= RANK[role]; }
function applyRole() {
  document.querySelectorAll("[data-needs]").forEach((el) => { el.hidden = !allowed(el.dataset.needs); });
}

function showRisk(risk) {
  const kill = $("kill");
  kill.textContent = risk.kill_switch ? `ON — ${risk.kill_reason}` : "off";
  kill.className = risk.kill_switch ? "on" : "";
  const breaker = $("breaker");
  breaker.textContent = risk.breaker_open ? `OPEN — ${risk.breaker_reason}` : "closed";
  breaker.className = risk.breaker_open ? "on" : "";
  text("exposure", money(risk.exposure));
  text("open-sagas", String(risk.open_sagas.length));
  text("pnl-today", money(risk.net_pnl_today));
  $("kill-on").hidden = risk.kill_switch || !allowed("trader");
  $("kill-off").hidden = !risk.kill_switch || !allowed("owner");
}

function upsertRow(tbody, id, fill) {
  let row = tbody.querySelector(`tr[data-id="${CSS.escape(id)}"]`);
  const fresh = !row;
  if (fresh) { row = document.createElement("tr"); row.dataset.id = id; }
  row.replaceChildren();
  fill(row);
  if (fresh) tbody.prepend(row);
}

function showSaga(saga) {
  upsertRow($("sagas"), saga.workflow_id, (row) => {
    const td = cell(row, "");
    if (health && health.workflow_url) {
      const a = document.createElement("a");
      a.href = `${health.workflow_url}/${encodeURIComponent(saga.workflow_id)}`;
      a.textContent = saga.workflow_id;
      a.target = "_blank";
      td.appendChild(a);
    } else td.textContent = saga.workflow_id;
    td.className = "long";
    cell(row, saga.state).className = "state";
    cell(row, saga.net_exposure);
    cell(row, money(saga.realized_pnl));
    cell(row, new Date(saga.updated_at).toLocaleTimeString());
  });
}

function showOpportunity(opportunity) {
  upsertRow($("opportunities"), opportunity.id, (row) => {
    cell(row, new Date(opportunity.detected_at).toLocaleTimeString());
    cell(row, opportunity.pair_id);
    cell(row, opportunity.direction);
    cell(row, opportunity.quantity);
    cell(row, money(opportunity.expected_profit));
    const outcome = opportunity.reason ? `${opportunity.outcome}: ${opportunity.reason}` : opportunity.outcome;
    cell(row, outcome).className = "state";
  });
}

function showCopy(copy) {
  upsertRow($("copies"), copy.fill_key, (row) => {
    [copy.leader, copy.venue, copy.market_id, copy.state, copy.filled, copy.reason].forEach((v) => cell(row, v));
  });
}

function showAlert(alert) {
  const li = document.createElement("li");
  li.textContent = `${new Date(alert.at).toLocaleTimeString()} ${alert.subject || ""}: ${alert.details.message || alert.action}`;
  $("alerts").prepend(li);
}

function showBook(top) {
  upsertRow($("books"), `${top.venue}:${top.market_id}`, (row) => {
    [top.venue, top.market_id, top.best_bid, top.best_ask].forEach((v) => cell(row, v));
  });
}

async function loadPairs() {
  const tbody = $("pairs");
  tbody.replaceChildren();
  for (const pair of await call("/v1/pairs?status=candidate")) {
    const row = document.createElement("tr");
    row.dataset.id = pair.pair_id;
    [pair.pair_id, pair.polymarket.title, `${pair.kalshi.market_id} ${pair.kalshi.title}`, pair.risk_flags.join(", ") || "none"].forEach((v) => cell(row, v));
    const actions = cell(row, "");
    if (allowed("trader")) {
      for (const [label, verb] of [["Confirm", "confirm"], ["Reject", "reject"]]) {
        const button = document.createElement("button");
        button.textContent = label;
        button.onclick = () => act(() => call(`/v1/pairs/${encodeURIComponent(pair.pair_id)}/${verb}`, { method: "POST" }).then(loadPairs));
        actions.appendChild(button);
      }
    }
    tbody.appendChild(row);
  }
}

async function loadPositions() {
  const book = await call("/v1/positions");
  const rows = [
    ...book.venues.map((v) => ["venue", v.venue, money(v.exposure), v.pnl ? money(v.pnl.total) : ""]),
    ...book.pairs.map((p) => ["pair", p.key, "", money(p.total)]),
    ...book.leaders.map((l) => ["leader", `${l.venue} ${l.leader}`, money(l.notional), money(l.realized_pnl)]),
    ...book.days.map((d) => ["day", d.key, "", money(d.total)]),
  ];
  const tbody = $("positions");
  tbody.replaceChildren();
  for (const values of rows) {
    const row = document.createElement("tr");
    values.forEach((v) => cell(row, v));
    tbody.appendChild(row);
  }
}

async function loadLimits() {
  const tbody = $("limits");
  tbody.replaceChildren();
  for (const [name, value] of Object.entries(await call("/v1/risk/limits"))) {
    const row = document.createElement("tr");
    row.dataset.id = name;
    cell(row, name);
    cell(row, value).className = "value";
    if (allowed("owner")) {
      const td = cell(row, "");
      const input = document.createElement("input");
      input.setAttribute("aria-label", `new ${name}`);
      input.size = 8;
      const button = document.createElement("button");
      button.textContent = "Set…";
      button.onclick = () => {
        const wanted = input.value.trim();
        ask(`Set ${name} from ${value} to ${wanted}?`, false, async () => {
          await call(`/v1/risk/limits/${encodeURIComponent(name)}`, { method: "PUT", body: { value: wanted } });
          await Promise.all([loadLimits(), loadAudit()]);
          return call("/v1/risk");
        });
      };
      td.append(input, button);
    }
    tbody.appendChild(row);
  }
}

async function loadAudit() {
  if (!allowed("owner")) return;
  const tbody = $("audit");
  tbody.replaceChildren();
  for (const event of (await call("/v1/audit?limit=20")).items) {
    const row = document.createElement("tr");
    [new Date(event.at).toLocaleTimeString(), event.actor, event.action, event.subject, event.interface].forEach((v) => cell(row, v));
    tbody.appendChild(row);
  }
}

async function act(action) {
  text("action-error", "");
  try { await action(); } catch (error) { text("action-error", error.message); }
}

function ask(question, needsReason, action) {
  pending = { action, needsReason };
  text("confirm-text", question);
  $("confirm-reason").hidden = !needsReason;
  $("confirm-reason").value = "";
  $("confirm").hidden = false;
}

async function follow() {
  // Server-Sent Events over fetch, so the key travels in a header; a lost stream retries with backoff.
  let wait = 500;
  while (key) {
    try {
      const response = await fetch("/v1/stream", { headers: { "X-API-Key": key } });
      if (!response.ok) throw new Error(response.statusText);
      $("connection").hidden = true;
      wait = 500;
      const reader = response.body.getReader();
      const decoder = new TextDecoder();
      let buffer = "";
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += decoder.decode(value, { stream: true });
        let end;
        while ((end = buffer.indexOf("\n\n")) >= 0) {
          dispatch(buffer.slice(0, end));
          buffer = buffer.slice(end + 2);
        }
      }
    } catch (error) { /* shown below, then retried */ }
    if (!key) return;
    $("connection").hidden = false;
    await new Promise((resolve) => setTimeout(resolve, wait));
    wait = Math.min(wait * 2, 8000);
  }
}

function dispatch(block) {
  let event = "message", data = "";
  for (const line of block.split("\n")) {
    if (line.startsWith("event: ")) event = line.slice(7);
    else if (line.startsWith("data: ")) data += line.slice(6);
  }
  if (!data) return;
  const payload = JSON.parse(data);
  const show = { saga: showSaga, opportunity: showOpportunity, copy: showCopy, alert: showAlert, risk: showRisk,
    book: showBook }[event];
  if (show) show(payload);
}

async function start() {
  try {
    health = await call("/v1/health");
  } catch (error) {
    sessionStorage.removeItem("ie-key");
    key = null;
    $("login").hidden = false;
    text("login-error", error.message);
    return;
  }
  $("login").hidden = true;
  $("app").hidden = false;
  $("logout").hidden = false;
  const mode = $("mode");
  mode.textContent = health.mode.toUpperCase();
  mode.className = health.mode === "live" ? "badge live" : "badge";
  text("who", `tenant ${health.tenant_id} · ${health.role}`);
  text("temporal", health.temporal ? "up" : "DOWN");
  text("database", health.database ? "up" : "DOWN");
  applyRole();
  showRisk(await call("/v1/risk"));
  await Promise.all([loadPairs(), loadLimits(), loadAudit(), loadPositions()]);
  setInterval(() => loadPositions().catch(() => {}), 10000);
  if (!streaming) streaming = follow();
}

$("login-form").onsubmit = (event) => {
  event.preventDefault();
  key = $("key").value.trim();
  sessionStorage.setItem("ie-key", key);
  start();
};
$("logout").onclick = () => { sessionStorage.removeItem("ie-key"); key = null; location.reload(); };
$("kill-on").onclick = () => ask("Engage the kill switch? No new orders until it is lifted.", true, (reason) =>
  call("/v1/risk/kill", { method: "POST", body: { reason } }));
$("kill-off").onclick = () => ask("Lift the kill switch? New orders will be placed again.", false, () =>
  call("/v1/risk/unkill", { method: "POST" }));
$("confirm-no").onclick = () => { $("confirm").hidden = true; pending = null; };
$("confirm-yes").onclick = () => {
  const chosen = pending;
  $("confirm").hidden = true;
  pending = null;
  if (chosen) act(async () => { showRisk(await chosen.action($("confirm-reason").value.trim())); await loadAudit(); });
};

if (key) start();
