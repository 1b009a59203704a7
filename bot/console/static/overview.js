/** Supervisors: all conversations, the agents' presence and load, the audit log. */
import { el, fillTable, str, timeEl, badge } from "./dom.js";
import { agentName, byDuty, byName, refText, stable, statusText, topicText, channelText } from "./format.js";
import { ACTION, PRESENCE } from "./labels.js";
import { openConversation } from "./conversation.js";
import { load } from "./notice.js";
import { state, ui } from "./state.js";

export function renderAll() {
  ui.allCount.textContent = String(state.all.length);
  const sig = JSON.stringify(state.all.map(stable));
  if (state.sigs.all === sig) return; // unchanged: keep the rows (and the focus on them)
  state.sigs.all = sig;
  fillTable(ui.allRows, state.all.map((h) => {
    const view = el("button", "uwa-btn uwa-btn--small", { type: "button", "aria-label": `查看 ${refText(h)}` }, "查看");
    view.addEventListener("click", () => openConversation(h.id));
    return { attrs: { "data-testid": "uwa-all-item", "data-id": String(h.id) }, cells: [refText(h), badge(h),
      topicText(h), channelText(h), statusText(h), agentName(h.assigned_agent) || "—", timeEl(null, h.created_at), view] };
  }), 8, "暂无进行中的会话");
}

/** The agents (for the transfer dialog too); their table when the overview is shown. */
export async function loadAgents() {
  const data = await load("agents", "客服列表");
  if (data) state.agents = (Array.isArray(data.agents) ? data.agents : []).filter((a) => a && str(a.id) !== "");
  if (state.tab !== "overview") return state.agents;
  fillTable(ui.agentRows, state.agents.slice().sort((a, b) => byDuty(a, b) || byName(a, b)).map((a) => ({
    className: a.active === false ? "uwa-row--inactive" : null,
    attrs: { "data-testid": "uwa-agent-item", "data-id": String(a.id) },
    cells: [agentName(a), a.role === "supervisor" ? "主管" : "客服", a.active === false ? "已停用" : "正常",
      el("span", a.on_duty ? "uwa-duty uwa-duty--on" : "uwa-duty", null, a.on_duty ? "在岗" : "离岗"),
      el("span", `uwa-presence uwa-presence--${PRESENCE[str(a.status)] ? a.status : "online"}`,
        { "data-testid": "uwa-agent-status" }, PRESENCE[str(a.status)] || "在线"),
      (typeof a.load === "number" ? String(a.load) : "—") + (typeof a.capacity === "number" ? ` / ${a.capacity}` : "")],
  })), 6, "暂无客服");
  return state.agents;
}

export async function loadAudit() {
  const data = await load("audit", "操作记录");
  if (!data) return;
  const entries = (Array.isArray(data.entries) ? data.entries : []).filter((e) => e && typeof e === "object");
  fillTable(ui.auditRows, entries.map((e) => ({
    cells: [timeEl(null, e.at, true), str(e.agent_name) || "—", ACTION[str(e.action)] || str(e.action),
      str(e.reference) || "—", typeof e.detail === "string" ? e.detail : e.detail ? JSON.stringify(e.detail) : ""],
  })), 5, "暂无操作记录");
}
