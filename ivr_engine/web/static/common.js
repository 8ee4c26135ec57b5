"use strict";
// Shared helpers: JSON POSTs (same-origin, JSON body: the CSRF checks), element building, durations.
const desk = {
  async post(url, body) {
    const response = await fetch(url, {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json" }, body: JSON.stringify(body || {}),
    });
    let data = {};
    try { data = await response.json(); } catch (e) { data = { error: response.statusText }; }
    if (!response.ok) { throw new Error(data.error || response.statusText); }
    return data;
  },
  async get(url) {
    const response = await fetch(url, { credentials: "same-origin" });
    const data = await response.json();
    if (response.status === 401) { window.location = "/login"; }
    if (!response.ok) { throw new Error(data.error || response.statusText); }
    return data;
  },
  el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (key === "class") { node.className = value; } else { node.setAttribute(key, value); }
    }
    for (const child of children) {
      node.append(child instanceof Node ? child : document.createTextNode(child == null ? "" : String(child)));
    }
    return node;
  },
  duration(seconds) {
    if (seconds == null || !isFinite(seconds)) { return "–"; }
    const s = Math.max(0, Math.floor(seconds));
    const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), r = s % 60;
    const pad = (n) => String(n).padStart(2, "0");
    return h ? `${h}:${pad(m)}:${pad(r)}` : `${m}:${pad(r)}`;
  },
  percent(fraction) { return fraction == null ? "–" : `${(fraction * 100).toFixed(1)} %`; },
  label(state) { return String(state).replace("_", " "); },
  async signOut() { await desk.post("/logout", {}); window.location = "/login"; },
};
