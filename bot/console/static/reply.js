/** The reply box: sending, canned replies and the suggested replies (never sent by themselves). */
import { api } from "./api.js";
import { el, enc, str } from "./dom.js";
import { sameId } from "./format.js";
import { NO_CANNED } from "./labels.js";
import { loadTranscript, reportDelivery, syncOpen } from "./conversation.js";
import { load, report } from "./notice.js";
import { refreshLists } from "./queue.js";
import { state, ui } from "./state.js";

export async function sendReply() {
  const id = state.openId;
  const text = ui.reply.value.trim();
  if (id === null || !text || state.sending || !state.canAct) return;
  state.sending = true;
  ui.send.disabled = true;
  ui.reply.value = ""; // at once, so a second Enter cannot send it twice
  try {
    const sent = await api("POST", `conversations/${enc(id)}/messages`, { text });
    reportDelivery(sent, "消息");
    if (sameId(id, state.openId)) await loadTranscript(true);
    refreshLists(); // the conversation's count of undelivered messages
  } catch (err) {
    if (sameId(id, state.openId) && !ui.reply.value) ui.reply.value = text; // nothing typed is lost
    report(err, "消息发送失败");
  } finally {
    state.sending = false;
    syncOpen();
    if (state.canAct && sameId(id, state.openId)) ui.reply.focus();
  }
}

export function replyKeys(event) {
  if (event.key !== "Enter" || event.shiftKey) return;
  if (state.composing || event.isComposing || event.keyCode === 229) return; // the IME is choosing
  event.preventDefault();
  sendReply();
}

export async function loadCanned() {
  const data = await load("canned", "常用回复");
  if (!data) return;
  state.canned = (Array.isArray(data.replies) ? data.replies : []).map(str).filter((t) => t.trim());
  ui.canned.replaceChildren(el("option", null, { value: "" }, NO_CANNED), ...state.canned.map((text, i) => {
    const option = el("option", null, { value: String(i) }, text.length > 36 ? text.slice(0, 36) + "…" : text);
    option.title = text;
    return option;
  }));
}

/** Up to three replies for the user's latest message; a click puts one in the reply box. */
export async function loadSuggestions() {
  const id = state.openId;
  if (id === null || !state.canAct) return ui.suggestions.replaceChildren(), (ui.suggestions.hidden = true);
  let data;
  try {
    data = await api("GET", `conversations/${enc(id)}/suggestions`);
  } catch (err) {
    return; // suggestions are a help, never an error to show
  }
  if (!sameId(id, state.openId)) return;
  const texts = (Array.isArray(data.suggestions) ? data.suggestions : []).map((x) => str(x && x.text)).filter(Boolean);
  const sig = JSON.stringify(texts);
  if (ui.suggestions.getAttribute("data-sig") === sig) return;
  ui.suggestions.setAttribute("data-sig", sig);
  ui.suggestions.replaceChildren(el("span", "uwa-muted", null, "推荐回复："), ...texts.map((text) => {
    const chip = el("button", "uwa-chip uwa-suggestion", { type: "button", "data-testid": "uwa-suggestion", title: text },
      text.length > 28 ? text.slice(0, 28) + "…" : text);
    chip.addEventListener("click", () => insertReply(text));
    return chip;
  }));
  ui.suggestions.hidden = !texts.length;
}

function insertReply(text) {
  const box = ui.reply;
  if (!box.value.trim()) box.value = text;
  else box.setRangeText(text, box.selectionStart, box.selectionEnd, "end");
  box.focus();
}

export function useCanned() {
  const text = state.canned[Number(ui.canned.value)];
  ui.canned.selectedIndex = 0;
  if (text) insertReply(text);
}
