/*!
 * Helpers shared by the 联合钱包 chat widget (bot/widget/widget.js) and the agent console
 * (bot/console/static/*.js): one ES module, served by the Rasa server at /widget/shared.js.
 * The console imports it (same origin); the widget, a classic script embedded on other sites,
 * loads it with import() (cross-origin only for the origins configured for the widget's CORS).
 * Pure functions and DOM building by createElement/textContent: never innerHTML.
 */

/** An element with a class, attributes and text (set as text, never parsed as HTML). */
export function el(tag, className, attrs, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (attrs) for (const name of Object.keys(attrs)) node.setAttribute(name, attrs[name]);
  if (text !== undefined && text !== null) node.textContent = text;
  return node;
}

/** A string from a server value: strings as they are, numbers as digits, anything else "". */
export const str = (v) => (typeof v === "string" ? v : typeof v === "number" ? String(v) : "");

export const pad = (n) => String(n).padStart(2, "0");

/** Milliseconds from unix seconds, unix milliseconds or an ISO string; null when unusable. */
export function toMs(value) {
  if (typeof value === "number" && isFinite(value)) return value > 1e12 ? value : value * 1000;
  const ms = typeof value === "string" && value ? Date.parse(value) : NaN;
  return isNaN(ms) ? null : ms;
}

/** "HH:MM" (or "HH:MM:SS") of a time in milliseconds, in the browser's time zone. */
export function clock(ms, withSeconds) {
  const d = new Date(ms);
  return `${pad(d.getHours())}:${pad(d.getMinutes())}` + (withSeconds ? `:${pad(d.getSeconds())}` : "");
}

/** The URL when it is an absolute http(s) URL, else null (no javascript:, data: and the like). */
export function safeHttpUrl(value) {
  if (typeof value !== "string") return null;
  let url;
  try {
    url = new URL(value);
  } catch (e) {
    return null;
  }
  return url.protocol === "http:" || url.protocol === "https:" ? url.href : null;
}
