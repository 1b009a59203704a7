/** The open conversation: its header, permissions and transcript. */
import { ApiError, api, errorText } from "./api.js";
import { channelChip, el, enc, str, timeEl, undeliveredEl, windowEl } from "./dom.js";
import { agentName, priorityOf, refText, sameId, statusText, topicText, windowLeft } from "./format.js";
import { PRIORITY } from "./labels.js";
import { clearContext, loadContext } from "./context.js";
import { renderMessage } from "./messages.js";
import { notice, report } from "./notice.js";
import { renderMine } from "./queue.js";
import { loadSuggestions } from "./reply.js";
import { state, ui } from "./state.js";
import { selectTab } from "./tabs.js";

const findHandoff = (id) => [state.all, state.queue].map((list) => list.find((h) => sameId(h.id, id))).find(Boolean);

export function openConversation(id, handoff) {
  if (!sameId(id, state.openId)) {
    if (state.openId !== null) state.drafts.set(String(state.openId), ui.reply.value);
    Object.assign(state, { openId: id, keys: [], tSeq: state.tSeq + 1 });
    ui.transcript.replaceChildren();
    ui.suggestions.replaceChildren();
    ui.suggestions.hidden = true;
    ui.suggestions.removeAttribute("data-sig");
    ui.reply.value = state.drafts.get(String(id)) || "";
  }
  state.open = findHandoff(id) || handoff || { id };
  state.unread.delete(String(id));
  ui.convEmpty.hidden = true;
  ui.convBody.hidden = false;
  if (state.tab !== "work") selectTab("work");
  syncOpen();
  renderMine();
  loadTranscript(true);
  loadContext();
  if (state.canAct) ui.reply.focus();
}

export function closeConversation() {
  if (state.openId !== null) state.drafts.delete(String(state.openId));
  Object.assign(state, { openId: null, open: null, keys: [], tSeq: state.tSeq + 1 });
  ui.transcript.replaceChildren();
  clearContext();
  ui.reply.value = "";
  ui.convBody.hidden = true;
  ui.convEmpty.hidden = false;
  if (state.me) renderMine();
}

/** Header and permissions of the open conversation, after every list refresh. */
export function syncOpen() {
  if (state.openId === null) return;
  const listed = state.all.find((h) => sameId(h.id, state.openId));
  const h = (state.open = listed || state.open);
  state.canAct = Boolean(listed && (state.me.role !== "supervisor" || listed.assigned_agent));
  ui.convTitle.textContent = `${refText(h)} · ${topicText(h)}`;
  const meta = [`优先级：${PRIORITY[priorityOf(h)]}`, `状态：${statusText(h)}`];
  if (h.assigned_agent) meta.push(`客服：${agentName(h.assigned_agent)}`);
  const parts = ["渠道：", channelChip(h), "　" + meta.join("　") + "　发起于 ", timeEl(null, h.created_at)];
  const window_ = windowEl(h);
  if (window_) parts.push("　", window_);
  const undelivered = undeliveredEl(h);
  if (undelivered) parts.push("　", undelivered);
  ui.convMeta.replaceChildren(...parts);
  ui.convSummaryText.textContent = str(h.summary);
  ui.convSummary.hidden = !str(h.summary).trim();
  const closed = Boolean(h.window && typeof h.window === "object" && windowLeft(h.window.closes_at) <= 0);
  ui.convBanner.textContent = !state.canAct ? (h.status === "pending"
    ? "该会话仍在排队中，接入后才能回复。" : "此会话当前不由您处理（可能已被转接、转回或结束），仅可查看记录。")
    : closed ? "微信 48 小时互动窗口已关闭：用户再次发消息之前，您的回复无法送达（仍会记入对话记录）。" : "";
  ui.convBanner.hidden = !ui.convBanner.textContent;
  for (const node of [ui.reply, ui.canned, ui.handback, ui.transfer, ui.resolve]) node.disabled = !state.canAct || state.busy;
  ui.send.disabled = !state.canAct || state.busy || state.sending;
}

export async function loadTranscript(stick) {
  const id = state.openId;
  if (id === null) return;
  const seq = ++state.tSeq;
  let data;
  try {
    data = await api("GET", `conversations/${enc(id)}/transcript`);
  } catch (err) {
    if (seq !== state.tSeq) return;
    if (!(err instanceof ApiError) || (err.status !== 403 && err.status !== 404)) return report(err, "加载会话记录失败");
    closeConversation();
    return notice(err.status === 403 ? "您无权查看该会话，它可能已转给其他客服。" : errorText(err), "error");
  }
  if (seq !== state.tSeq) return;
  renderTranscript(Array.isArray(data.messages) ? data.messages : [], stick);
  loadSuggestions();
}

const msgKey = (m) => JSON.stringify(m && [m.role, m.timestamp, m.agent_name, m.text,
  m.attachment && m.attachment.id, m.delivery ? [m.delivery.delivered, m.delivery.reason] : null]);

/** Appends what is new when the known messages are unchanged, else renders everything again. */
function renderTranscript(messages, stick) {
  const list = ui.transcript;
  const near = list.scrollHeight - list.scrollTop - list.clientHeight < 80;
  const keys = messages.map(msgKey);
  const old = state.keys;
  const appendOnly = old.length > 0 && old.length <= keys.length && old.every((k, i) => k === keys[i]);
  if (appendOnly && old.length === keys.length) return;
  const from = appendOnly ? old.length : 0;
  if (!from) list.replaceChildren();
  if (!messages.length) list.append(el("p", "uwa-empty", null, "暂无消息"));
  list.append(...messages.slice(from).map(renderMessage));
  state.keys = keys;
  if (stick || near || !from) scrollToBottom();
  else ui.jump.hidden = false;
}

/** Tells the agent at once when what a step sent did not reach the user. */
export function reportDelivery(data, what) {
  const d = data && data.delivery && typeof data.delivery === "object" ? data.delivery : null;
  if (d && d.delivered === false) notice(`${what}未送达用户：${str(d.explanation) || "渠道暂时不可用"}`, "error");
  return Boolean(d && d.delivered === false);
}

export function scrollToBottom() {
  ui.transcript.scrollTop = ui.transcript.scrollHeight;
  ui.jump.hidden = true;
}

/** The "有新消息 ↓" button goes once the agent scrolled down by hand. */
export function transcriptScrolled() {
  const t = ui.transcript;
  if (t.scrollHeight - t.scrollTop - t.clientHeight < 40) ui.jump.hidden = true;
}
