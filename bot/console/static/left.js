/** 留言: messages left, their SLA timers and answers (on the user's channel, or called back). */
import { api } from "./api.js";
import { channelChip, el, enc, fillTable, str, timeEl } from "./dom.js";
import { dueText, refText, topicText } from "./format.js";
import { renderMessage } from "./messages.js";
import { load, notice, report } from "./notice.js";
import { state, ui } from "./state.js";

export async function loadLeft() {
  if (!state.me) return;
  const wanted = ui.leftState.value === "answered" ? "answered" : "open";
  const data = await load(`messages?state=${wanted}`, "留言");
  if (!data || !state.me) return;
  const messages = (Array.isArray(data.messages) ? data.messages : []).filter((m) => m && str(m.id) !== "");
  state.left = messages;
  if (wanted === "open") ui.leftCount.textContent = String(messages.length);
  const sig = JSON.stringify([wanted, messages.map((m) => Object.assign({}, m, { seconds_left: 0 }))]);
  if (state.sigs.left === sig) return;
  state.sigs.left = sig;
  fillTable(ui.leftRows, messages.map((m) => {
    const open = el("button", "uwa-btn uwa-btn--small", { type: "button", "data-testid": "uwa-left-open",
      "aria-label": `处理 ${refText(m)}` }, m.answered ? "查看" : "处理");
    open.addEventListener("click", () => openLeft(m.id));
    const due = m.answered
      ? el("span", "uwa-muted", null, `${m.answer_kind === "callback" ? "已回访" : "已在线回复"}（${str(m.answered_by) || "客服"}）`)
      : el("span", "uwa-due", { "data-due": str(m.due_at), "data-testid": "uwa-left-due" }, dueText(m.due_at));
    return { attrs: { "data-testid": "uwa-left-item", "data-id": String(m.id), "data-overdue": String(Boolean(m.overdue)) },
      cells: [refText(m), channelChip(m), topicText(m), str(m.contact) || "未留联系方式", str(m.ticket_id) || "—", due, open] };
  }), 7, wanted === "open" ? "暂无待处理的留言" : "暂无已处理的留言");
}

async function openLeft(id) {
  const data = await load(`messages/${enc(id)}`, "留言详情");
  if (!data || !data.message) return;
  const m = data.message;
  state.leftOpen = m;
  ui.leftDetail.hidden = false;
  ui.leftDetailTitle.textContent = `${refText(m)} · ${topicText(m)}`;
  const meta = ["渠道：", channelChip(m), `　联系方式：${str(m.contact) || "未留"}　工单：${str(m.ticket_id) || "—"}　留言于 `,
    timeEl(null, m.left_at)];
  if (!m.answered) meta.push("　", el("span", "uwa-due", { "data-due": str(m.due_at) }, dueText(m.due_at)));
  ui.leftMeta.replaceChildren(...meta);
  ui.leftSummary.textContent = str(m.summary);
  ui.leftTranscript.replaceChildren(...(Array.isArray(data.messages) ? data.messages : []).filter((x) => x && typeof x === "object").map(renderMessage));
  ui.leftBanner.textContent = m.answered ? `该留言已处理：${str(m.answer_note)}`
    : m.reachable ? "" : "该用户当前无法通过原渠道收到消息（例如微信 48 小时窗口已关闭），请电话或邮件回访后标记。";
  ui.leftBanner.hidden = !ui.leftBanner.textContent;
  ui.leftAnswer.hidden = Boolean(m.answered);
  ui.leftSend.disabled = !m.reachable;
  ui.leftTranscript.scrollTop = ui.leftTranscript.scrollHeight;
}

/** `step` "reply": answer on the user's channel; "callback": mark called back with a note. */
export async function answerLeft(step) {
  const m = state.leftOpen;
  const box = step === "reply" ? ui.leftReply : ui.leftNote;
  const text = box.value.trim();
  if (!m || !text) return notice(step === "reply" ? "请输入回复内容。" : "请填写回访说明。", "error");
  const button = step === "reply" ? ui.leftSend : ui.leftCallback;
  button.disabled = true;
  try {
    const data = await api("POST", `messages/${enc(m.id)}/${step}`, step === "reply" ? { text } : { note: text });
    box.value = "";
    if (step === "reply" && data.delivery && data.delivery.delivered === false) {
      notice(`回复未送达用户：${str(data.delivery.explanation) || "渠道暂时不可用"}。请电话或邮件回访后标记。`, "error");
    } else {
      notice(step === "reply" ? `已回复留言 ${refText(m)}` : `留言 ${refText(m)} 已标记为已回访`, "info");
    }
    await openLeft(m.id);
    loadLeft();
  } catch (err) {
    report(err, "处理留言失败");
  } finally {
    button.disabled = false;
  }
}
