"use strict";
// The call controls: hold/resume, hang up, blind transfer, consult transfer (consult an agent, then
// complete or cancel) and more wrap-up time. The server says which the agent's state allows
// (agent.call_controls), whether the call is on hold (agent.held) and the consult under way (agent.consult).
const callControls = {
  call: null,
  show(agent) {
    const allowed = new Set(agent.call_controls || []);
    callControls.call = agent.current_call || callControls.call;
    $("btn-hold").disabled = !allowed.has("hold");
    $("btn-resume").disabled = !allowed.has("resume");
    $("btn-hold").classList.toggle("hidden", allowed.has("resume"));
    $("btn-resume").classList.toggle("hidden", !allowed.has("resume"));
    $("held-note").classList.toggle("hidden", !agent.held);
    $("btn-hangup").disabled = !allowed.has("hangup");
    for (const id of ["btn-transfer", "transfer-kind", "transfer-target"]) { $(id).disabled = !allowed.has("transfer"); }
    $("btn-consult").disabled = !allowed.has("consult");
    $("btn-consult-complete").disabled = !allowed.has("complete_consult");
    $("btn-consult-cancel").disabled = !allowed.has("cancel_consult");
    const consult = agent.consult;
    $("consult-note").textContent = !consult ? "" : consult.state === "talking"
      ? `Talking to agent ${consult.target} (caller on hold)` : `Ringing agent ${consult.target} (caller on hold)`;
    $("consult-note").classList.toggle("hidden", !consult);
    $("btn-more-wrapup").disabled = !allowed.has("extend_wrap_up");
    document.body.dataset.held = agent.held ? "yes" : "no";
    document.body.dataset.consult = consult ? consult.state : "none";
  },
  say(text, ok) {
    $("call-message").textContent = text;
    $("call-message").className = ok ? "message ok" : "message";
  },
  async send(control, body, done) {
    try {
      const answer = await desk.post(`/web/calls/${encodeURIComponent(callControls.call)}/${control}`, body);
      // A hang-up's answer may be older than the feed's wrap-up (the call ends after Asterisk hung the
      // caller up): the feed brings the new state, so the answer must not undo it.
      if (control !== "hangup") { showAgent(answer.agent); }
      callControls.say(done(answer), true);
    } catch (error) {
      callControls.say(error.message, false);
    }
  },
  start(queues) {
    for (const name of queues) { $("transfer-queues").append(desk.el("option", { value: name })); }
    $("btn-hold").addEventListener("click", () => callControls.send("hold", {}, () => "Caller on hold."));
    $("btn-resume").addEventListener("click", () => callControls.send("resume", {}, () => "Caller back on the line."));
    $("btn-hangup").addEventListener("click", () => callControls.send("hangup", {}, () => "Call hung up."));
    $("btn-transfer").addEventListener("click", () => {
      const target = $("transfer-target").value.trim();
      if (!target) { callControls.say("Name a queue or an agent to transfer to.", false); return; }
      callControls.send("transfer", { [$("transfer-kind").value]: target }, (a) => `Transferred to ${a.transferred_to}.`);
    });
    $("btn-consult").addEventListener("click", () => {
      const target = $("transfer-target").value.trim();
      if (!target) { callControls.say("Name the agent to consult.", false); return; }
      callControls.send("consult", { agent: target }, () => `Consulting agent ${target}: the caller is on hold.`);
    });
    $("btn-consult-complete").addEventListener("click", () =>
      callControls.send("consult/complete", {}, (a) => `Transferred to ${a.transferred_to}.`));
    $("btn-consult-cancel").addEventListener("click", () =>
      callControls.send("consult/cancel", {}, () => "Consult cancelled: the caller is back on the line."));
    $("btn-more-wrapup").addEventListener("click", () =>
      callControls.send("wrapup-time", { seconds: 60 }, (a) => `Wrap-up: ${desk.duration(a.wrap_up_left)} left.`));
  },
};
