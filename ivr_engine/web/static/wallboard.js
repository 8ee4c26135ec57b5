"use strict";
// The wallboard: one EventSource delivers full snapshots; a 1 s display timer only advances the clocks.
const $ = (id) => document.getElementById(id);
const SVG = "http://www.w3.org/2000/svg";
let snapshotAt = Date.now();
let board = null;

function svg(tag, attrs, text) {
  const node = document.createElementNS(SVG, tag);
  for (const [key, value] of Object.entries(attrs)) { node.setAttribute(key, value); }
  if (text != null) { node.textContent = text; }
  return node;
}

function elapsed() { return (Date.now() - snapshotAt) / 1000; }

function renderQueues() {
  $("queues").replaceChildren(...board.queues.map((q) => {
    const longest = q.waiting ? q.longest_wait + elapsed() : 0;
    return desk.el("div", { class: "card tile", "data-queue": q.name },
      desk.el("h3", {}, q.name),
      desk.el("div", { class: "big", "data-field": "waiting" }, `${q.waiting} waiting`),
      desk.el("dl", {},
        desk.el("dt", {}, "Longest wait"), desk.el("dd", { "data-field": "longest" }, desk.duration(longest)),
        desk.el("dt", {}, "Ready / staffed"), desk.el("dd", { "data-field": "agents" }, `${q.ready} / ${q.staffed}`),
        desk.el("dt", {}, `Service level (${board.sla_s} s)`),
        desk.el("dd", { "data-field": "sl", class: q.service_band ? `sl-${q.service_band}` : "",
          title: `target ${desk.percent(board.service_level_target)}, warning below ${desk.percent(board.service_level_warning)}` },
          desk.percent(q.service_level)),
        desk.el("dt", {}, "ASA"), desk.el("dd", { "data-field": "asa" }, desk.duration(q.asa_s)),
        desk.el("dt", {}, "AHT"), desk.el("dd", { "data-field": "aht" }, desk.duration(q.aht_s)),
        desk.el("dt", {}, "Abandon rate"), desk.el("dd", { "data-field": "abandon" }, desk.percent(q.abandon_rate)),
        desk.el("dt", {}, "Callbacks pending"), desk.el("dd", { "data-field": "callbacks" }, q.callbacks_pending),
        desk.el("dt", {}, "Offered"), desk.el("dd", { "data-field": "offered" }, q.offered),
        desk.el("dt", {}, "Answered"), desk.el("dd", { "data-field": "answered" }, q.answered),
        desk.el("dt", {}, "Abandoned"), desk.el("dd", { "data-field": "abandoned" }, q.abandoned)));
  }));
}

function renderAgents() {
  $("agent-counts").replaceChildren(...Object.entries(board.agents_by_state).map(([state, n]) =>
    desk.el("span", { class: `state ${state}`, "data-state": state }, `${desk.label(state)}: ${n}`)));
  const rows = board.agents.map((a) => desk.el("tr", { "data-agent": a.id },
    desk.el("td", {}, a.id), desk.el("td", {}, a.name),
    desk.el("td", {}, desk.el("span", { class: `state ${a.state}` }, desk.label(a.state))),
    desk.el("td", { class: "num" }, a.in_state == null ? "–" : desk.duration(a.in_state + elapsed())),
    desk.el("td", {}, a.state === "paused" ? a.pause_reason : ""),
    desk.el("td", { class: "num" }, a.calls_taken),
    desk.el("td", { class: "monitor" }, ...(a.state === "on_call" ? monitorButtons(a.id) : []))));
  $("agents").replaceChildren(desk.el("tr", {}, ...["Agent", "Name", "State", "In state", "Reason", "Calls", "Listen in"]
    .map((h) => desk.el("th", {}, h))), ...rows);
}

function monitorButtons(agentId) {
  return ["listen", "whisper", "barge"].map((mode) => desk.el("button",
    { type: "button", "data-monitor": mode, "data-monitor-agent": agentId }, mode[0].toUpperCase() + mode.slice(1)));
}

function renderFunnel() {
  const steps = board.funnel.steps;
  $("funnel-title").textContent = `IVR funnel: flow "${board.funnel.flow}" today`;
  if (!steps.length) { $("funnel").replaceChildren(desk.el("p", { class: "muted" }, "No calls through this flow today.")); return; }
  const max = Math.max(...steps.map((s) => s.reached), 1);
  const rowH = 30, labelW = 170, barW = 520, width = labelW + barW + 190;
  const chart = svg("svg", { width, height: steps.length * rowH + 24, role: "img", "aria-label": "IVR funnel" });
  chart.append(svg("text", { x: labelW, y: 12, fill: "#6b7785" }, "calls that reached the node; red: hung up / ended there"));
  steps.forEach((s, i) => {
    const y = 20 + i * rowH;
    const w = (s.reached / max) * barW;
    const ended = (s.ended_here / max) * barW;
    const g = svg("g", { "data-node": s.node });
    const name = s.flow === board.funnel.flow ? s.node : `${s.flow} › ${s.node}`;
    g.append(svg("text", { x: labelW - 8, y: y + 17, "text-anchor": "end" }, name));
    g.append(svg("rect", { x: labelW, y: y + 3, width: Math.max(w, 1), height: rowH - 8, fill: "#1f6feb", rx: 3 }));
    g.append(svg("rect", { x: labelW + w - ended, y: y + 3, width: ended, height: rowH - 8, fill: "#cf222e", rx: 3 }));
    g.append(svg("text", { x: labelW + w + 8, y: y + 17 }, `${s.reached} visit${s.reached === 1 ? "" : "s"} · ${s.ended_here} ended here`));
    chart.append(g);
  });
  $("funnel").replaceChildren(chart);
}

function render() {
  $("updated").textContent = `updated ${new Date(board.generated_at).toLocaleTimeString()}`;
  $("note").textContent = board.note;
  $("note").classList.toggle("hidden", !board.note);
  renderQueues();
  renderAgents();
  renderFunnel();
}

function start() {
  $("sign-out").addEventListener("click", desk.signOut);
  const events = new EventSource("/web/wallboard/events");
  events.addEventListener("wallboard", (e) => { board = JSON.parse(e.data); snapshotAt = Date.now(); render(); });
  events.addEventListener("error", () => {
    $("note").textContent = "connection lost; reconnecting…";
    $("note").classList.remove("hidden");
  });
  setInterval(() => { if (board) { renderQueues(); renderAgents(); } }, 1000);
}

document.addEventListener("DOMContentLoaded", start);  // after monitor.js and the others have run
