/** The waiting queue and the agent's own conversations, refreshed together. */
import { ApiError, api } from "./api.js";
import { badge, channelChip, el, enc, str, undeliveredEl, windowEl } from "./dom.js";
import { agentName, dueText, handoffs, priorityOf, refText, sameId, stable, statusText, topicText, waitText,
  windowLeft, windowText } from "./format.js";
import { toMs } from "./shared.js";
import { openConversation, reportDelivery, syncOpen } from "./conversation.js";
import { notice, report } from "./notice.js";
import { renderAll } from "./overview.js";
import { setTitle } from "./session.js";
import { state, ui } from "./state.js";

export async function refreshLists() {
  const seq = ++state.lSeq;
  const [queue, conversations] = await Promise.allSettled([api("GET", "queue"), api("GET", "conversations")]);
  if (seq !== state.lSeq || !state.me) return; // a newer refresh is on its way, or signed out
  const failed = [queue, conversations].find((r) => r.status === "rejected");
  if (failed) report(failed.reason, "刷新会话列表失败");
  if (queue.status === "fulfilled") {
    state.queue = handoffs(queue.value);
    const now = Date.now(); // waits tick from a local start, kept unless the server's is 2 s+ off
    state.waits = new Map(state.queue.map((h) => {
      const start = now - (Number(h.waiting_seconds) || 0) * 1000;
      const old = state.waits.get(String(h.id));
      return [String(h.id), old !== undefined && Math.abs(old - start) < 2000 ? old : start];
    }));
    renderQueue();
  }
  if (conversations.status === "fulfilled") {
    state.all = handoffs(conversations.value);
    const onlyMine = state.me.role === "supervisor"; // supervisors get everyone's
    const mine = state.all.filter((h) => !onlyMine || (h.assigned_agent && sameId(h.assigned_agent.id, state.me.id)));
    const arrived = state.known ? mine.filter((h) => !state.known.has(String(h.id)) && !sameId(h.id, state.openId)) : [];
    state.known = new Set(mine.map((h) => String(h.id)));
    arrived.forEach((h) => state.unread.add(String(h.id)));
    if (arrived.length) notice(`有新的会话分配给您：${arrived.map(refText).join("、")}`, "info");
    state.mine = mine;
    renderMine();
    if (state.tab === "overview") renderAll();
    syncOpen();
  }
  setTitle(state.queue.length);
}

/** Re-renders a list only when its content changed, keeping the keyboard focus in place. */
function renderList(container, key, items, build, extra) {
  const sig = JSON.stringify([items.map(stable), extra]);
  if (state.sigs[key] === sig) return false;
  state.sigs[key] = sig;
  const active = document.activeElement;
  const item = container.contains(active) ? active.closest("[data-id]") : null;
  container.replaceChildren(...items.map(build));
  if (item) {
    const selector = `[data-id="${CSS.escape(item.getAttribute("data-id"))}"] ` +
      `[data-key="${CSS.escape(active.getAttribute("data-key") || "")}"]`;
    const again = container.querySelector(selector);
    if (again) again.focus();
  }
  return true;
}

function renderQueue() {
  ui.queueCount.textContent = String(state.queue.length);
  ui.queueEmpty.hidden = state.queue.length > 0;
  renderList(ui.queue, "queue", state.queue, queueItem);
  tick();
}

function queueItem(h) {
  const id = String(h.id);
  const li = el("li", "uwa-item uwa-qitem" + (h.overdue ? " uwa-item--overdue" : ""),
    { "data-testid": "uwa-queue-item", "data-id": id, "data-priority": priorityOf(h) });
  const top = el("div", "uwa-item-top");
  top.append(badge(h), el("span", "uwa-item-ref", null, refText(h)), channelChip(h));
  const wait = el("div", "uwa-wait");
  wait.append(el("span", "uwa-wait-text", { "data-wait": id }));
  if (h.overdue) wait.append(el("span", "uwa-overdue-tag", null, "已超时"));
  li.append(top, el("div", "uwa-item-topic", null, topicText(h)), wait);
  const window_ = windowEl(h);
  if (window_) {
    const row = el("div", "uwa-item-window");
    row.append(window_);
    li.append(row);
  }
  const summary = str(h.summary).trim();
  if (summary) { // clamped to two lines; the full text when opened (a native disclosure)
    const details = el("details", "uwa-summary");
    details.open = state.expanded.has(id);
    details.append(el("summary", null, { "data-key": "summary", title: "展开/收起摘要" }, summary));
    details.addEventListener("toggle", () => state.expanded[details.open ? "add" : "delete"](id));
    li.append(details);
  }
  const foot = el("div", "uwa-item-foot");
  if (Number(h.position) > 0) foot.append(el("span", "uwa-muted", null, `第 ${Number(h.position)} 位`));
  if (h.assigned_agent) foot.append(el("span", "uwa-muted", null, `已由 ${agentName(h.assigned_agent)} 接入`));
  const take = el("button", "uwa-btn uwa-btn--primary uwa-btn--small", { type: "button", "data-testid": "uwa-take",
    "data-key": "take", "aria-label": `接入 ${refText(h)}` }, "接入");
  take.addEventListener("click", () => takeConversation(h, take));
  foot.append(take);
  li.append(foot);
  return li;
}

/** The ticking numbers: waits, SLA timers, WeChat's reply windows (every 500 ms). */
export function tick() {
  const now = Date.now();
  for (const node of ui.queue.querySelectorAll("[data-wait]")) {
    node.textContent = waitText((now - (state.waits.get(node.getAttribute("data-wait")) || now)) / 1000);
  }
  for (const node of document.querySelectorAll("[data-due]")) {
    const text = dueText(node.getAttribute("data-due"));
    if (node.textContent !== text) node.textContent = text;
    node.setAttribute("data-overdue", String(toMs(node.getAttribute("data-due")) < now));
  }
  for (const node of document.querySelectorAll(".uwa-window[data-closes]")) {
    const closes = node.getAttribute("data-closes");
    const text = windowText(closes);
    if (node.textContent !== text) node.textContent = text;
    node.setAttribute("data-open", String(windowLeft(closes) > 0));
  }
}

export function renderMine() {
  ui.mineCount.textContent = String(state.mine.length);
  ui.mineEmpty.hidden = state.mine.length > 0;
  renderList(ui.myConversations, "mine", state.mine, mineItem, [str(state.openId), [...state.unread]]);
}

function mineItem(h) {
  const id = String(h.id);
  const current = sameId(id, state.openId);
  const li = el("li", "uwa-item uwa-citem" + (current ? " uwa-item--current" : ""),
    { "data-testid": "uwa-conversation-item", "data-id": id, "data-priority": priorityOf(h) });
  const button = el("button", "uwa-item-open", { type: "button", "data-key": "open" });
  if (current) button.setAttribute("aria-current", "true");
  const top = el("span", "uwa-item-top");
  top.append(badge(h), el("span", "uwa-item-ref", null, refText(h)));
  if (state.unread.has(id)) top.append(el("span", "uwa-unread", null, "新消息"));
  const undelivered = undeliveredEl(h);
  if (undelivered) top.append(undelivered);
  const line = el("span", "uwa-item-line");
  line.append(channelChip(h), el("span", "uwa-muted", null, statusText(h)));
  const window_ = windowEl(h);
  if (window_) line.append(window_);
  button.append(top, el("span", "uwa-item-topic", null, topicText(h)), line);
  button.addEventListener("click", () => openConversation(h.id));
  li.append(button);
  return li;
}

async function takeConversation(h, button) {
  button.disabled = true;
  if (state.known) state.known.add(String(h.id)); // taken on purpose: no "new conversation" notice
  try {
    const data = await api("POST", `conversations/${enc(h.id)}/take`);
    await refreshLists();
    const taken = data.handoff && str(data.handoff.id) !== "" ? data.handoff : h;
    openConversation(taken.id, taken);
    if (!reportDelivery(data, `已接入会话 ${refText(h)}，但接入通知`)) notice(`已接入会话 ${refText(h)}`, "info");
  } catch (err) {
    report(err, "接入失败");
    if (err instanceof ApiError && err.status !== 401) refreshLists();
  } finally {
    button.disabled = false;
  }
}
