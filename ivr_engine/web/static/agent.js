"use strict";
// The agent desktop: state buttons drive the ACD; one EventSource brings state, calls and screen-pops.
// The server says which buttons the agent's state allows (agent.actions) and how long wrap-up has left.
const $ = (id) => document.getElementById(id);
const STATE_BUTTONS = { login: "btn-login", ready: "btn-ready", pause: "btn-pause", logout: "btn-logout" };
let me = null;
let stateSince = null;
let wrapUpEnds = null;
let currentCall = null;
let currentVisit = null;
let workOrders = [];

function showMessage(text, ok) {
  $("message").textContent = text;
  $("message").className = ok ? "message ok" : "message";
}

function showAgent(agent) {
  $("state").textContent = desk.label(agent.state);
  $("state").className = `state ${agent.state}`;
  stateSince = agent.in_state == null ? null : Date.now() - agent.in_state * 1000;
  wrapUpEnds = agent.wrap_up_left == null ? null : Date.now() + agent.wrap_up_left * 1000;
  const allowed = new Set(agent.actions || []);
  for (const [action, id] of Object.entries(STATE_BUTTONS)) {
    $(id).disabled = !allowed.has(action);
    $(id).classList.remove("primary");
  }
  $("pause-reason-select").disabled = !allowed.has("pause");
  const next = ["login", "ready"].find((action) => allowed.has(action));
  if (next) { $(STATE_BUTTONS[next]).classList.add("primary"); }
  document.body.dataset.state = agent.state;
  tick();
  $("pause-reason").textContent = agent.state === "paused" ? `Reason: ${agent.pause_reason}` : "";
  if (agent.state !== "ringing") { $("ringing").classList.add("hidden"); }
  callControls.show(agent);
}

function tick() {
  $("in-state").textContent = stateSince == null ? "–" : desk.duration((Date.now() - stateSince) / 1000);
  $("wrapup-left").classList.toggle("hidden", wrapUpEnds == null);
  if (wrapUpEnds != null) {
    $("wrapup-left").textContent = `Wrap-up: ready again in ${desk.duration(Math.ceil((wrapUpEnds - Date.now()) / 1000))}`;
  }
}

function callRef(ref, callId) {
  return desk.el("span", { class: "call-ref", title: `call id ${callId}` }, ref || callId);
}

async function act(action, body) {
  try {
    const agent = await desk.post(`/web/agents/${encodeURIComponent(me.agent_id)}/${action}`, body);
    showAgent(agent);
    showMessage(`Now ${desk.label(agent.state)}.`, true);
  } catch (error) {
    showMessage(error.message, false);
  }
}

function table(node, headings, rows) {
  node.replaceChildren();
  if (!rows.length) {
    node.append(desk.el("tr", {}, desk.el("td", { class: "muted" }, "none")));
    return;
  }
  node.append(desk.el("tr", {}, ...headings.map((h) => desk.el("th", {}, h))));
  for (const row of rows) { node.append(desk.el("tr", {}, ...row.map((c) => desk.el("td", {}, c)))); }
}

function showScreenPop(pop) {
  const c = pop.customer;
  currentCall = pop.call_id;
  $("screenpop-empty").classList.add("hidden");
  $("screenpop").classList.remove("hidden");
  $("customer-name").textContent = c.known ? c.name : `New caller ${c.phone || pop.caller}`;
  $("vip").textContent = `VIP ${c.vip_level}`;
  $("vip").classList.toggle("hidden", !c.vip);
  $("customer-phone").textContent = pop.reason === "callback"
    ? `Callback to ${pop.caller} · booked while waiting in queue ${pop.queue || "–"} (IVR path below)`
    : pop.visit
      ? `Return visit to ${pop.caller} · work order ${pop.visit.serial} · queue ${pop.queue || "–"}`
      : `Calling from ${pop.caller || "a withheld number"} · queue ${pop.queue || "–"}`;
  showVisit(pop.visit);
  $("customer-summary").replaceChildren(
    desk.el("span", {}, `${c.accounts.length} account(s)`),
    desk.el("span", {}, `· ${c.orders.length} order(s)`),
    desk.el("span", {}, `· points: ${c.points == null ? "no card" : c.points}`),
  );
  table($("accounts"), ["Account", "Balance"], c.accounts.map((a) => [a.number, a.balance]));
  table($("orders"), ["Order", "Status", "Expected"], c.orders.map((o) => [o.number, o.status, o.expected_delivery || "–"]));
  workOrders = c.work_orders || [];
  showWorkOrders();
  table($("ivr-path"), ["#", "Flow", "Node", "Input", "Outcome", "Seconds"],
    pop.path.map((p) => [p.seq, p.flow, p.node, p.input == null ? "" : p.input, p.outcome, p.seconds.toFixed(1)]));
  table($("last-calls"), ["Call", "Started", "Dialled", "Outcome", "Duration"], pop.last_calls.filter((l) => l.call_id !== pop.call_id).map((l) =>
    [callRef(l.call_ref, l.call_id), new Date(l.started).toLocaleString(), l.dialled, l.disposition, desk.duration(l.seconds)]));
  $("wrapup-card").classList.remove("hidden");
  $("wrapup-call").replaceChildren("call ", callRef(pop.call_ref, pop.call_id));
  $("wrapup-message").textContent = "";
  $("survey-card").classList.add("hidden");
  $("workorder-card").classList.remove("hidden");
  $("workorder-call").replaceChildren("from call ", callRef(pop.call_ref, pop.call_id));
  $("workorder-message").textContent = "";
}

function showVisit(visit) {
  currentVisit = visit ? visit.serial : null;
  $("visit-card").classList.toggle("hidden", !visit);
  if (!visit) { return; }
  $("visit-serial").textContent = visit.serial;
  $("visit-order").textContent = `${desk.label(visit.type)}: ${visit.description}`;
  $("visit-resolution").textContent = `Resolution: ${visit.resolution}`;
  $("visit-message").textContent = "";
}

async function recordVisit(event) {
  const outcome = event.target.dataset.outcome;
  if (!outcome || !currentVisit) { return; }
  try {
    const order = await desk.post(`/web/workorders/${encodeURIComponent(currentVisit)}/visit`, { outcome });
    $("visit-message").textContent = `Recorded: ${order.visit_outcome}.`;
    $("visit-message").className = "message ok";
  } catch (error) {
    $("visit-message").textContent = error.message;
    $("visit-message").className = "message";
  }
}

function showWorkOrders() {
  table($("work-orders"), ["Serial", "Type", "Urgency", "State", "Due"], workOrders.map((w) =>
    [w.serial + (w.repeat_of ? ` (repeat of ${w.repeat_of})` : ""), desk.label(w.type), w.urgency, w.state,
      (w.overdue ? "OVERDUE " : "") + new Date(w.deadline).toLocaleString()]));
}

async function logWorkOrder(event) {
  event.preventDefault();
  const body = { type: $("wo-type").value, urgency: $("wo-urgency").value, description: $("wo-description").value };
  if ($("wo-department").value) { body.department = $("wo-department").value; }
  try {
    const order = await desk.post(`/web/calls/${encodeURIComponent(currentCall)}/workorders`, body);
    workOrders = [order, ...workOrders];
    showWorkOrders();
    $("wo-description").value = "";
    $("workorder-message").textContent = `Logged ${order.serial}` + (order.repeat_of ? ` (a repeat of ${order.repeat_of})` : "") + ".";
    $("workorder-message").className = "message ok";
  } catch (error) {
    $("workorder-message").textContent = error.message;
    $("workorder-message").className = "message";
  }
}

function showSurvey(result) {
  if (result.call_id !== currentCall) { return; }
  $("survey-card").classList.remove("hidden");
  $("survey").replaceChildren(
    desk.el("div", { class: "customer" }, `${result.average.toFixed(1)} / 5`),
    ...result.answers.map((a) => desk.el("div", {}, `${a.question}: ${a.score}`)),
  );
}

function connect() {
  const events = new EventSource(`/web/agents/${encodeURIComponent(me.agent_id)}/events`);
  const on = (name, handler) => events.addEventListener(name, (e) => handler(JSON.parse(e.data)));
  on("agent", (agent) => { showAgent(agent); document.body.dataset.live = "yes"; });
  on("offered", (e) => {
    $("ringing").textContent = (e.call_id || "").startsWith("callback:")
      ? `Callback to ${e.caller} (${e.queue || "queue"}): the customer is dialled when you answer`
      : `Incoming call from ${e.caller || "a withheld number"} (${e.queue || "queue"})`;
    $("ringing").classList.remove("hidden");
  });
  on("answered", () => $("ringing").classList.add("hidden"));
  on("screenpop", showScreenPop);
  on("ended", (e) => { if (e.call_id === currentCall) { $("wrapup-message").textContent = "Call ended: please wrap up."; } });
  on("survey", showSurvey);
}

async function start() {
  me = await desk.get("/web/me");
  $("who").textContent = `${me.user} · agent ${me.agent_id}`;
  for (const reason of me.pause_reasons) { $("pause-reason-select").append(desk.el("option", { value: reason }, desk.label(reason))); }
  for (const code of me.dispositions) { $("disposition").append(desk.el("option", { value: code }, desk.label(code))); }
  callControls.start(me.queues || []);
  // The state buttons work from the moment they show (before the work-order options come): a click
  // in between did nothing before, and the page showed no answer.
  $("btn-ready").addEventListener("click", () => act("ready"));
  $("btn-pause").addEventListener("click", () => act("pause", { reason: $("pause-reason-select").value }));
  $("btn-login").addEventListener("click", () => act("login"));
  $("btn-logout").addEventListener("click", () => act("logout"));
  $("sign-out").addEventListener("click", desk.signOut);
  if (me.agent) { showAgent(me.agent); }
  const options = await desk.get("/web/workorders/options");
  for (const kind of options.types) { $("wo-type").append(desk.el("option", { value: kind }, desk.label(kind))); }
  for (const level of options.urgencies) {
    const option = desk.el("option", { value: level }, desk.label(level));
    if (level === options.default_urgency) { option.selected = true; }
    $("wo-urgency").append(option);
  }
  for (const name of options.departments) { $("wo-department").append(desk.el("option", { value: name }, desk.label(name))); }
  $("workorder-form").addEventListener("submit", logWorkOrder);
  $("visit-card").addEventListener("click", recordVisit);
  $("wrapup-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      await desk.post(`/web/calls/${encodeURIComponent(currentCall)}/wrapup`,
        { disposition: $("disposition").value, note: $("note").value });
      $("wrapup-message").textContent = "Wrap-up saved.";
      $("wrapup-message").className = "message ok";
    } catch (error) {
      $("wrapup-message").textContent = error.message;
      $("wrapup-message").className = "message";
    }
  });
  setInterval(tick, 1000);
  connect();
}

// After every deferred script has run: start() awaits /web/me, and its answer can come back before
// calls.js (callControls) is loaded, which left the desk on "…" with no live feed.
document.addEventListener("DOMContentLoaded", () => start().catch((error) => showMessage(error.message, false)));
