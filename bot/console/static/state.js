/** The console's one state object and its DOM references (ui.fooBar is #uwa-foo-bar). */

export const state = {
  me: null, queue: [], mine: [], all: [], agents: [], canned: [], waits: new Map(), sigs: {}, known: null,
  left: [], leftOpen: null,
  openId: null, open: null, canAct: false, keys: [], tSeq: 0, lSeq: 0, busy: false, sending: false,
  unread: new Set(), expanded: new Set(), drafts: new Map(), tab: "work", es: null, timers: [],
  refreshTimer: null, transcriptDirty: false, composing: false,
};

export const ui = {};

/** Fills `ui` from the page's elements with an id starting uwa-. */
export function grab() {
  for (const node of document.querySelectorAll("[id^='uwa-']")) {
    ui[node.id.slice(4).replace(/-(\w)/g, (_, c) => c.toUpperCase())] = node;
  }
  ui.loginSubmit = ui.loginForm.querySelector("[type=submit]");
  ui.tabButtons = Array.from(ui.tabs.querySelectorAll("[role=tab]"));
}
