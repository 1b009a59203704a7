/** One message of a transcript (the open conversation's, a message left's), rendered as text. */
import { safeHttpUrl } from "./shared.js";
import { API } from "./api.js";
import { el, enc, str, timeEl } from "./dom.js";
import { ATTACHMENT_ID, ROLES } from "./labels.js";
import { scrollToBottom } from "./conversation.js";
import { ui } from "./state.js";

export function renderMessage(m) {
  const raw = m && typeof m === "object" ? m : {};
  const role = ROLES.includes(raw.role) ? raw.role : "bot";
  const who = { user: "用户", bot: "智能客服", system: "系统" }[role] || str(raw.agent_name) || "人工客服";
  const node = el("div", `uwa-msg uwa-msg--${role}`, { "data-testid": "uwa-msg", "data-role": role });
  const meta = el("div", "uwa-msg-meta");
  meta.append(el("span", "uwa-msg-who", null, who), timeEl("uwa-msg-time", raw.timestamp, true));
  const bubble = el("div", "uwa-bubble", null, str(raw.text));
  const image = safeHttpUrl(raw.image);
  if (image) {
    const link = el("a", "uwa-msg-image", { target: "_blank", rel: "noopener noreferrer" }, "［图片］在新窗口查看");
    link.href = image;
    bubble.append(link);
  }
  const attachment = raw.attachment && typeof raw.attachment === "object" ? raw.attachment : null;
  if (attachment && ATTACHMENT_ID.test(str(attachment.id))) bubble.append(imageEl(attachment.id));
  node.append(meta, bubble);
  const delivery = raw.delivery && typeof raw.delivery === "object" ? raw.delivery : null;
  if (delivery) node.append(deliveryEl(delivery));
  const buttons = (Array.isArray(raw.buttons) ? raw.buttons : []).map((b) => str(b && b.title)).filter(Boolean);
  if (buttons.length) {
    const group = el("div", "uwa-msg-buttons", { role: "group", "aria-label": "消息中的按钮" });
    group.append(el("span", "uwa-muted", null, "按钮："), ...buttons.map((t) => el("span", "uwa-chip", null, t)));
    node.append(group);
  }
  return node;
}

/** A user's image, served by the console's API to this agent only; opens full size in a new tab. */
function imageEl(id) {
  const src = API + "attachments/" + enc(id);
  const link = el("a", "uwa-attachment", { target: "_blank", rel: "noopener noreferrer", "data-testid": "uwa-image" });
  link.href = src;
  const img = el("img", "uwa-attachment-img", { alt: "用户发送的图片", loading: "lazy" });
  img.addEventListener("error", () => link.replaceChildren(el("span", "uwa-muted", null, "［图片无法加载］")), { once: true });
  img.addEventListener("load", () => {
    if (ui.transcript.scrollHeight - ui.transcript.scrollTop - ui.transcript.clientHeight < 400) scrollToBottom();
  }, { once: true });
  img.src = src;
  link.append(img);
  return link;
}

/** Whether an agent message or a notice reached the user: sent, or not with the reason. */
function deliveryEl(d) {
  if (d.delivered === true) return el("div", "uwa-delivery", { "data-testid": "uwa-delivery", "data-delivered": "true" }, "已发送");
  return el("div", "uwa-delivery uwa-delivery--failed", { "data-testid": "uwa-delivery", "data-delivered": "false",
    "data-reason": str(d.reason), role: "note" }, `未送达：${str(d.explanation) || "渠道暂时不可用"}`);
}
