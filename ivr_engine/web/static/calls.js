"use strict";
// The call controls: hold/resume, hang up, blind transfer and more wrap-up time. The server says which
// the agent's state allows (agent.call_controls) and whether the call is on hold (agent.held).
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
    $("btn-more-wrapup").disabled = !allowed.has("extend_wrap_up");
    document.body.dataset.held = agent.held ? "yes" : "no";
  },
  say(text, ok) {
    $("call-message").textContent = text;
    $("call-message").className = ok ? "message ok" : "message";
  },
  async send(control, body, done) {
    try {
      const answer = await desk.post(`/web/calls/${encodeURIComponent(callControls.call)}/${control}`, body);
      showAgent(answer.agent);
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
    $("btn-more-wrapup").addEventListener("click", () =>
      callControls.send("wrapup-time", { seconds: 60 }, (a) => `Wrap-up: ${desk.duration(a.wrap_up_left)} left.`));
  },
};
