"use strict";
// The voicemail inbox card (agent desktop and wallboard): open messages with a player and a Close button.
const inbox = {
  async refresh() {
    const list = document.getElementById("voicemails");
    if (!list) { return; }
    let data;
    try { data = await desk.get("/web/voicemails"); } catch (error) { inbox.say(error.message, false); return; }
    list.replaceChildren();
    if (!data.voicemails.length) {
      list.append(desk.el("tr", {}, desk.el("td", { class: "muted" }, "No open voicemails.")));
      return;
    }
    list.append(desk.el("tr", {}, ...["Left", "Caller", "Flow", "Length", "State", "Listen", ""].map((h) => desk.el("th", {}, h))));
    for (const v of data.voicemails) {
      const player = desk.el("audio", { controls: "", preload: "none", src: v.audio, "data-voicemail": v.id });
      const close = desk.el("button", { type: "button", "data-close": v.id }, "Close");
      close.addEventListener("click", () => inbox.close(v.id));
      const caller = v.customer ? `${v.customer} (${v.caller || "withheld"})` : (v.caller || "withheld");
      list.append(desk.el("tr", { "data-voicemail": v.id },
        desk.el("td", {}, new Date(v.created).toLocaleString()), desk.el("td", {}, caller),
        desk.el("td", {}, v.flow || "–"), desk.el("td", {}, `${v.duration.toFixed(1)} s`),
        desk.el("td", {}, v.state), desk.el("td", {}, player), desk.el("td", {}, close)));
    }
  },
  async close(id) {
    try {
      await desk.post(`/web/voicemails/${id}/close`, {});
      inbox.say(`Voicemail ${id} closed.`, true);
    } catch (error) { inbox.say(error.message, false); }
    await inbox.refresh();
  },
  say(text, ok) {
    const node = document.getElementById("voicemail-message");
    if (node) { node.textContent = text; node.className = ok ? "message ok" : "message"; }
  },
  start() {
    if (!document.getElementById("voicemails")) { return; }
    inbox.refresh();
    setInterval(inbox.refresh, 30000);
  },
};
document.addEventListener("DOMContentLoaded", inbox.start);
