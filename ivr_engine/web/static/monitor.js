"use strict";
// Listen-in on the wallboard: the Listen / Whisper / Barge buttons of an agent on a call ring the
// supervisor's phone (remembered in this browser once it worked) into that call. The agents table is redrawn every
// second, so the clicks are caught on the table, not on each button.
const listenIn = {
  key: "ivr.monitor.phone",
  say(text, ok) {
    const node = document.getElementById("monitor-message");
    node.textContent = text;
    node.className = ok ? "message ok" : "message";
  },
  async start(agentId, mode) {
    const phone = document.getElementById("monitor-phone").value.trim();
    if (!phone) { listenIn.say("Enter your phone (e.g. 1001 or PJSIP/1001) first.", false); return; }
    listenIn.say(`Ringing ${phone} to ${mode} on agent ${agentId}…`, true);
    try {
      const s = await desk.post(`/web/agents/${encodeURIComponent(agentId)}/monitor`, { supervisor: phone, mode });
      try { localStorage.setItem(listenIn.key, phone); } catch (e) { /* private mode: not remembered */ }
      listenIn.say(`${s.supervisor} rings: ${s.mode} on agent ${s.agent_id}'s call ${s.call_id}. Hang up to stop.`, true);
    } catch (error) { listenIn.say(error.message, false); }
  },
  setUp() {
    const field = document.getElementById("monitor-phone");
    if (!field) { return; }
    try { field.value = localStorage.getItem(listenIn.key) || ""; } catch (e) { /* not available */ }
    document.getElementById("agents").addEventListener("click", (event) => {
      const button = event.target.closest("button[data-monitor]");
      if (button) { listenIn.start(button.dataset.monitorAgent, button.dataset.monitor); }
    });
  },
};
document.addEventListener("DOMContentLoaded", listenIn.setUp);
