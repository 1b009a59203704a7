/** Hand back, transfer and resolve the open conversation (the last two through a dialog). */
import { ApiError, api } from "./api.js";
import { el, enc } from "./dom.js";
import { agentName, byDuty, byName, sameId } from "./format.js";
import { closeConversation, reportDelivery, syncOpen } from "./conversation.js";
import { notice, report } from "./notice.js";
import { loadAgents } from "./overview.js";
import { refreshLists } from "./queue.js";
import { state, ui } from "./state.js";

export async function act(path, body, done, fallback) {
  const id = state.openId;
  if (id === null || state.busy) return false;
  state.busy = true;
  syncOpen();
  try {
    const data = await api("POST", `conversations/${enc(id)}/${path}`, body);
    if (sameId(id, state.openId)) closeConversation();
    if (!reportDelivery(data, `${done}，但通知`)) notice(done, "info");
    refreshLists();
    if (state.tab === "overview") loadAgents();
    return true;
  } catch (err) {
    report(err, fallback);
    if (err instanceof ApiError && err.status === 409) refreshLists();
    return false;
  } finally {
    state.busy = false;
    syncOpen();
  }
}

export const handBack = () => act("handback", {}, "已转回智能客服", "转回智能客服失败");

export async function openTransfer() {
  if (state.openId === null) return;
  ui.transferAgent.replaceChildren(el("option", null, { value: "" }, "正在加载客服列表…"));
  ui.transferAgent.disabled = ui.transferConfirm.disabled = true;
  ui.transferHint.textContent = "";
  ui.transferDialog.showModal();
  const agents = await loadAgents();
  if (!ui.transferDialog.open) return;
  const assignee = state.open && state.open.assigned_agent;
  const supervisor = state.me.role === "supervisor"; // may move a conversation to themselves
  const targets = agents.filter((a) => a.active !== false && !sameId(a.id, assignee ? assignee.id : state.me.id) &&
    (supervisor || !sameId(a.id, state.me.id)))
    .sort((a, b) => byDuty(a, b) || (Number(a.load) || 0) - (Number(b.load) || 0) || byName(a, b));
  ui.transferAgent.replaceChildren(...targets.map((a) => {
    const load = typeof a.load === "number" ? `，当前 ${a.load} 个会话` : "";
    return el("option", null, { value: String(a.id) }, `${agentName(a)}（${a.on_duty ? "在岗" : "离岗"}${load}）`);
  }));
  ui.transferAgent.disabled = ui.transferConfirm.disabled = !targets.length;
  ui.transferHint.textContent = !targets.length ? "暂无可转接的客服。"
    : targets[0].on_duty ? "" : "当前没有在岗的客服，对方上岗后才能处理。";
  if (targets.length) ui.transferAgent.focus();
}

export async function confirmTransfer(event) {
  event.preventDefault();
  const target = state.agents.find((a) => sameId(a.id, ui.transferAgent.value));
  if (!target) return;
  ui.transferConfirm.disabled = true;
  const ok = await act("transfer", { agent_id: target.id }, `已转接给 ${agentName(target)}`, "转接失败");
  ui.transferConfirm.disabled = false;
  if (ok) ui.transferDialog.close();
}

export function openResolve() {
  if (state.openId === null) return;
  ui.resolveNote.value = "";
  ui.resolveDialog.showModal();
  ui.resolveNote.focus();
}

export async function confirmResolve(event) {
  event.preventDefault();
  ui.resolveConfirm.disabled = true;
  const ok = await act("resolve", { note: ui.resolveNote.value.trim() }, "会话已结束，已邀请用户评价", "结束会话失败");
  ui.resolveConfirm.disabled = false;
  if (ok) ui.resolveDialog.close();
}
