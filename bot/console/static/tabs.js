/** The workspace's tabs: 工作台, 留言, and the supervisors' overview and audit log. */
import { $ } from "./dom.js";
import { loadLeft } from "./left.js";
import { loadAgents, loadAudit, renderAll } from "./overview.js";
import { state, ui } from "./state.js";

export function selectTab(name, focus) {
  state.tab = name;
  for (const tab of ui.tabButtons) {
    const on = tab.id === "uwa-tab-" + name;
    tab.setAttribute("aria-selected", String(on));
    tab.tabIndex = on ? 0 : -1;
    $(tab.getAttribute("aria-controls")).hidden = !on;
    if (on && focus) tab.focus();
  }
  if (name === "overview") {
    renderAll();
    loadAgents();
  }
  if (name === "audit") loadAudit();
  if (name === "left") loadLeft();
}

export function tabKeys(event) {
  const tabs = ui.tabButtons.filter((t) => !t.hidden);
  const i = tabs.indexOf(document.activeElement);
  const next = { ArrowRight: i + 1, ArrowLeft: i - 1, Home: 0, End: tabs.length - 1 }[event.key];
  if (i < 0 || next === undefined) return;
  event.preventDefault();
  selectTab(tabs[(next + tabs.length) % tabs.length].id.slice("uwa-tab-".length), true);
}
