"use strict";
// Call recordings (queues with record: true). Agent desktop: the recordings of the call on screen (the
// server only gives an agent the calls they answered). Wallboard (supervisors): the newest recordings.
const recordings = {
  shownCall: null,
  onCall() { return typeof currentCall === "undefined" ? null : currentCall; },
  async refresh() {
    const mine = document.getElementById("call-recordings");
    const all = document.getElementById("recordings");
    if (mine) {
      const call = recordings.onCall();
      recordings.shownCall = call;
      if (!call) { recordings.show(mine, [], "No call yet."); return; }
      try {
        const data = await desk.get(`/web/calls/${encodeURIComponent(call)}/recordings`);
        recordings.show(mine, data.recordings, "This call has no recording (yet: it is kept once the call ends).");
      } catch (error) { recordings.show(mine, [], error.message); }
    }
    if (all) {
      try {
        const data = await desk.get("/web/recordings");
        recordings.show(all, data.recordings, "No call recordings.");
      } catch (error) { recordings.show(all, [], error.message); }
    }
  },
  show(table, items, empty) {
    table.replaceChildren();
    if (!items.length) {
      table.append(desk.el("tr", {}, desk.el("td", { class: "muted" }, empty)));
      return;
    }
    table.append(desk.el("tr", {}, ...["Started", "Call", "Agent", "Queue", "Length", "Listen"].map((h) => desk.el("th", {}, h))));
    for (const r of items) {
      const player = desk.el("audio", { controls: "", preload: "none", src: r.audio, "data-recording": r.id });
      table.append(desk.el("tr", { "data-recording": r.id },
        desk.el("td", {}, new Date(r.started).toLocaleString()), desk.el("td", {}, r.call_id),
        desk.el("td", {}, r.agent_id), desk.el("td", {}, r.queue),
        desk.el("td", {}, `${r.duration.toFixed(1)} s`), desk.el("td", {}, player)));
    }
  },
  start() {
    if (!document.getElementById("call-recordings") && !document.getElementById("recordings")) { return; }
    recordings.refresh();
    setInterval(recordings.refresh, 10000);
    setInterval(() => { if (recordings.onCall() !== recordings.shownCall) { recordings.refresh(); } }, 1000);
  },
};
document.addEventListener("DOMContentLoaded", recordings.start);
