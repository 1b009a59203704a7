/** The open conversation's side panel: the bot's progress (flow, step, filled slots, masked),
 * the verified customer's masked profile and open tickets, tags, private notes and previous
 * conversations. Notes are for agents only: nothing here is ever sent to the user. */
import { ApiError, api } from "./api.js";
import { channelChip, el, enc, str, timeEl } from "./dom.js";
import { refText, sameId, statusText, topicText } from "./format.js";
import { ACCOUNT_STATUS, TICKET_STATUS } from "./labels.js";
import { notice, report } from "./notice.js";
import { state, ui } from "./state.js";

let seq = 0;

/** Loads the panel of the open conversation (after opening it, and after each change). */
export async function loadContext() {
  const id = state.openId;
  const mine = ++seq;
  if (id === null) return clearContext();
  let data;
  try {
    data = await api("GET", `conversations/${enc(id)}/context`);
  } catch (err) {
    if (mine !== seq || !sameId(id, state.openId)) return;
    ui.context.hidden = true;
    ui.panelWork.classList.remove("uwa-work--context");
    if (!(err instanceof ApiError) || (err.status !== 403 && err.status !== 404)) report(err, "加载会话信息失败");
    return;
  }
  if (mine !== seq || !sameId(id, state.openId)) return;
  renderContext(data);
}

export function clearContext() {
  seq += 1;
  ui.context.hidden = true;
  ui.panelWork.classList.remove("uwa-work--context");
  for (const node of [ui.ctxBot, ui.ctxCustomer, ui.ctxTags, ui.ctxNotes, ui.ctxPrevious, ui.ctxTagChoices]) {
    node.replaceChildren();
  }
  ui.ctxNoteInput.value = "";
  ui.ctxTagInput.value = "";
}

const list = (value) => (Array.isArray(value) ? value : []);

function fact(term, value) {
  return [el("dt", null, null, term), el("dd", null, null, value)];
}

function renderContext(data) {
  ui.context.hidden = false;
  ui.panelWork.classList.add("uwa-work--context");
  const bot = data.bot && typeof data.bot === "object" ? data.bot : {};
  const facts = [...fact("业务", str(bot.flow_label) || "未进入业务流程")];
  if (str(bot.step_label)) facts.push(...fact("停留步骤", str(bot.step_label)));
  for (const slot of list(bot.slots)) {
    if (slot && str(slot.label)) facts.push(...fact(str(slot.label), str(slot.value)));
  }
  ui.ctxBot.replaceChildren(...facts);
  renderCustomer(data.customer && typeof data.customer === "object" ? data.customer : {});
  renderTags(list(data.tags).map(str).filter(Boolean));
  ui.ctxTagChoices.replaceChildren(...list(data.tag_choices).map((t) => el("option", null, { value: str(t) })));
  renderNotes(list(data.notes));
  renderPrevious(list(data.previous));
}

function renderCustomer(c) {
  if (!c.verified) {
    return ui.ctxCustomer.replaceChildren(el("p", "uwa-muted", null, "用户尚未验证身份，暂无账户资料。"));
  }
  if (!c.profile) {
    return ui.ctxCustomer.replaceChildren(el("p", "uwa-muted", null, str(c.error) || "暂时无法获取客户资料。"));
  }
  const p = c.profile;
  const dl = el("dl", "uwa-ctx-facts", { "data-testid": "uwa-ctx-profile" });
  dl.append(...fact("账户", str(p.account_id)), ...fact("姓名", str(p.name)), ...fact("手机", str(p.phone) || "—"),
    ...fact("邮箱", str(p.email) || "—"), ...fact("状态", ACCOUNT_STATUS[str(p.status)] || str(p.status)),
    ...fact("双重验证", p.two_factor ? "已开启" : "未开启"));
  const tickets = list(c.tickets).filter((t) => t && str(t.ticket_id));
  const heading = el("h4", "uwa-ctx-subtitle", null, `未结工单（${tickets.length}）`);
  const items = tickets.map((t) => {
    const li = el("li", "uwa-ctx-ticket", { "data-testid": "uwa-ctx-ticket" });
    li.append(el("span", "uwa-item-ref", null, str(t.ticket_id)),
      el("span", "uwa-chip", null, TICKET_STATUS[str(t.status)] || str(t.status)),
      el("p", "uwa-ctx-summary", null, str(t.summary)));
    return li;
  });
  const ol = el("ol", "uwa-ctx-list");
  ol.append(...items);
  ui.ctxCustomer.replaceChildren(dl, heading, tickets.length ? ol : el("p", "uwa-muted", null, "暂无未结工单"));
}

function renderTags(tags) {
  ui.ctxTags.replaceChildren(...(tags.length ? tags.map((tag) => {
    const chip = el("span", "uwa-chip uwa-ctx-tag", { "data-testid": "uwa-ctx-tag" }, tag);
    const remove = el("button", "uwa-ctx-tag-remove", { type: "button", "aria-label": `移除标签 ${tag}` }, "×");
    remove.addEventListener("click", () => changeTag("tags/remove", tag));
    chip.append(remove);
    return chip;
  }) : [el("span", "uwa-muted", null, "暂无标签")]));
}

function renderNotes(notes) {
  const items = notes.filter((n) => n && typeof n === "object").map((n) => {
    const li = el("li", "uwa-ctx-note", { "data-testid": "uwa-ctx-note" });
    const meta = el("div", "uwa-msg-meta");
    meta.append(el("span", "uwa-msg-who", null, str(n.agent_name) || "客服"), timeEl("uwa-msg-time", n.created_at));
    li.append(meta, el("p", "uwa-ctx-note-text", null, str(n.text)));
    return li;
  });
  ui.ctxNotes.replaceChildren(...(items.length ? items : [el("li", "uwa-muted", null, "暂无备注")]));
}

function renderPrevious(previous) {
  const items = previous.filter((h) => h && str(h.id)).map((h) => {
    const li = el("li", "uwa-ctx-prev", { "data-testid": "uwa-ctx-prev", "data-id": str(h.id) });
    const top = el("div", "uwa-item-top");
    top.append(el("span", "uwa-item-ref", null, refText(h)), channelChip(h), el("span", "uwa-muted", null, statusText(h)),
      timeEl("uwa-msg-time", h.created_at));
    li.append(top, el("div", "uwa-item-topic", null, topicText(h)));
    if (str(h.summary)) li.append(el("p", "uwa-ctx-summary", null, str(h.summary)));
    const tags = list(h.tags).map(str).filter(Boolean);
    if (tags.length) {
      const row = el("div", "uwa-ctx-tags");
      row.append(...tags.map((t) => el("span", "uwa-chip", null, t)));
      li.append(row);
    }
    return li;
  });
  ui.ctxPrevious.replaceChildren(...(items.length ? items : [el("li", "uwa-muted", null, "暂无历史会话")]));
}

async function changeTag(path, tag) {
  const id = state.openId;
  if (id === null || !tag) return;
  try {
    const data = await api("POST", `conversations/${enc(id)}/${path}`, { tag });
    if (sameId(id, state.openId)) renderTags(list(data.tags).map(str).filter(Boolean));
  } catch (err) {
    report(err, path === "tags" ? "添加标签失败" : "移除标签失败");
  }
}

export async function addTag(event) {
  event.preventDefault();
  const tag = ui.ctxTagInput.value.trim();
  if (!tag) return notice("请选择或输入标签。", "error");
  await changeTag("tags", tag);
  ui.ctxTagInput.value = "";
}

export async function addNote(event) {
  event.preventDefault();
  const id = state.openId;
  const text = ui.ctxNoteInput.value.trim();
  if (id === null) return;
  if (!text) return notice("请输入备注内容。", "error");
  const button = ui.ctxNoteForm.querySelector("[type=submit]");
  button.disabled = true;
  try {
    const data = await api("POST", `conversations/${enc(id)}/notes`, { text });
    ui.ctxNoteInput.value = "";
    if (sameId(id, state.openId)) renderNotes(list(data.notes));
    notice("备注已保存（仅客服可见）", "info");
  } catch (err) {
    report(err, "保存备注失败");
  } finally {
    button.disabled = false;
  }
}
