/** The console's small DOM pieces: times, badges, chips, tables. All text set as text. */
import { clock, el, pad, str, toMs } from "./shared.js";
import { PRIORITY } from "./labels.js";
import { channelText, priorityOf, windowLeft, windowText } from "./format.js";

export { el, str };
export const $ = (id) => document.getElementById(id);
export const enc = encodeURIComponent;

/** A <time>: HH:MM(:SS) today, MM-DD HH:MM earlier this year, else with the year. */
export function timeEl(className, value, withSeconds) {
  const ms = toMs(value);
  if (ms === null) return el("span", className, null, "—");
  const d = new Date(ms);
  const now = new Date();
  let text = clock(ms, withSeconds);
  if (d.toDateString() !== now.toDateString()) text = `${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${text}`;
  if (d.getFullYear() !== now.getFullYear()) text = `${d.getFullYear()}-${text}`;
  const node = el("time", className, { datetime: d.toISOString() }, text);
  node.title = d.toLocaleString("zh-CN");
  return node;
}

export const badge = (h) => el("span", `uwa-prio uwa-prio--${priorityOf(h)}`, null, PRIORITY[priorityOf(h)]);
export const channelChip = (h) => el("span", "uwa-chip uwa-channel",
  { "data-testid": "uwa-channel", "data-channel": str(h.channel) }, channelText(h));

/** A live label of the reply window (updated by tick()), or null for a channel without one. */
export function windowEl(h) {
  const w = h && h.window && typeof h.window === "object" ? h.window : null;
  if (!w) return null;
  return el("span", "uwa-window", { "data-testid": "uwa-window", "data-closes": str(w.closes_at),
    "data-open": String(windowLeft(w.closes_at) > 0) }, windowText(w.closes_at));
}

export const undeliveredEl = (h) => Number(h.undelivered) > 0
  ? el("span", "uwa-undelivered", { "data-testid": "uwa-undelivered" }, `${Number(h.undelivered)} 条未送达`) : null;

/** Table rows from cells (text or nodes), or one row saying it is empty. */
export function fillTable(body, rows, columns, emptyText) {
  if (!rows.length) rows = [{ cells: [emptyText], className: "uwa-row--empty", span: columns }];
  body.replaceChildren(...rows.map(({ cells, attrs, className, span }) => {
    const row = el("tr", className, attrs);
    for (const content of cells) row.appendChild(el("td", null, span && { colspan: String(span) })).append(content);
    return row;
  }));
}
