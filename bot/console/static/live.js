/** Live updates: Server-Sent Events from events ("changed", "session_ended", "unavailable"),
 * coalesced into one round of requests, plus a poll every 20 s. */
import { API } from "./api.js";
import { sameId } from "./format.js";
import { loadTranscript } from "./conversation.js";
import { loadLeft } from "./left.js";
import { setLive } from "./notice.js";
import { loadAgents, loadAudit } from "./overview.js";
import { refreshLists } from "./queue.js";
import { signedOut } from "./session.js";
import { state } from "./state.js";

export function openEvents() {
  if (state.es) state.es.close();
  if (typeof EventSource !== "function") return setLive("off");
  const es = (state.es = new EventSource(API + "events"));
  let first = true; // the first event after (re)connecting may list every conversation: no unread marks
  setLive("connecting");
  es.addEventListener("open", () => {
    setLive("on");
    first = true;
    scheduleRefresh(true); // catch up on whatever happened while disconnected
  });
  es.addEventListener("error", () => setLive(es.readyState === EventSource.CLOSED ? "off" : "retry"));
  es.addEventListener("session_ended", () => {
    es.close();
    if (state.es === es && state.me) signedOut(true);
  });
  es.addEventListener("unavailable", () => {
    es.close();
    setLive("off");
  });
  es.addEventListener("changed", (event) => {
    let data = {};
    try {
      data = JSON.parse(event.data) || {};
    } catch (e) { /* no usable payload: refresh the lists anyway */ }
    for (const id of Array.isArray(data.conversations) ? data.conversations.map(String) : []) {
      if (sameId(id, state.openId)) state.transcriptDirty = true;
      else if (!first && state.mine.some((h) => sameId(h.id, id))) state.unread.add(id);
    }
    first = false;
    scheduleRefresh(false);
  });
}

/** Coalesces bursts of events into one round of requests. */
export function scheduleRefresh(transcript) {
  if (transcript) state.transcriptDirty = true;
  clearTimeout(state.refreshTimer);
  state.refreshTimer = setTimeout(() => {
    if (!state.me) return;
    refreshLists();
    if (state.transcriptDirty) loadTranscript(false);
    state.transcriptDirty = false;
    if (state.tab === "overview") loadAgents();
    if (state.tab === "audit") loadAudit();
    loadLeft();
  }, 200);
}

export function poll() {
  if (!state.me) return;
  if (!state.es || state.es.readyState === EventSource.CLOSED) openEvents(); // e.g. after a server restart
  scheduleRefresh(true);
}
