/** Pure text of the console: waits, timers, names and labels of conversations. */
import { str, toMs } from "./shared.js";
import { CHANNEL, PRIORITY, STATUS } from "./labels.js";

export const sameId = (a, b) => a !== null && a !== undefined && b !== null && b !== undefined && String(a) === String(b);

export function waitText(seconds) {
  const s = Math.max(0, Math.floor(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  if (h) return `等待 ${h} 小时 ${m} 分`;
  return m ? `等待 ${m} 分 ${s % 60} 秒` : `等待 ${s % 60} 秒`;
}

/** Seconds until WeChat's reply window closes (0: closed, or never opened). */
export function windowLeft(closesAt) {
  const closes = toMs(closesAt);
  return closes === null ? 0 : Math.max(0, Math.floor((closes - Date.now()) / 1000));
}

/** WeChat's reply window: "剩余 5 小时 12 分" from its closing time, or closed. */
export function windowText(closesAt) {
  const left = windowLeft(closesAt);
  if (left <= 0) return "48 小时窗口已关闭，回复无法送达";
  const h = Math.floor(left / 3600);
  const m = Math.floor((left % 3600) / 60);
  return h ? `48 小时窗口剩余 ${h} 小时 ${m} 分` : `48 小时窗口剩余 ${m} 分 ${left % 60} 秒`;
}

/** "剩余 3 小时 12 分" until a message is due, or how long it is overdue. */
export function dueText(due) {
  const ms = toMs(due);
  if (ms === null) return "—";
  const s = Math.floor(Math.abs(ms - Date.now()) / 1000);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const span = h ? `${h} 小时 ${m} 分` : `${m} 分 ${s % 60} 秒`;
  return ms >= Date.now() ? `剩余 ${span}` : `已超时 ${span}`;
}

export const priorityOf = (h) => (PRIORITY[h.priority] ? h.priority : "normal");
export const channelText = (h) => CHANNEL[str(h.channel)] || str(h.channel) || "未知渠道";
export const statusText = (h) => STATUS[str(h.status)] || str(h.status) || "—";
export const refText = (h) => str(h.reference) || `#${str(h.id)}`;
export const topicText = (h) => str(h.topic) || "未分类";
export const agentName = (a) => (a && (str(a.display_name) || str(a.username))) || "";
export const byDuty = (a, b) => (b.on_duty ? 1 : 0) - (a.on_duty ? 1 : 0);
export const byName = (a, b) => agentName(a).localeCompare(agentName(b), "zh-CN");

/** The handoffs of a list answer, without malformed entries. */
export const handoffs = (data) => (data && Array.isArray(data.handoffs) ? data.handoffs : [])
  .filter((h) => h && typeof h === "object" && str(h.id) !== "");

/** What a list compares to decide whether to render again: without the ticking numbers. */
export const stable = (h) => Object.assign({}, h, { waiting_seconds: 0,
  window: h.window && typeof h.window === "object" ? Object.assign({}, h.window, { seconds_left: 0 }) : h.window });
