/** The notice area, the live-updates label, and failed requests shown to the agent. */
import { ApiError, api, errorText } from "./api.js";
import { ui } from "./state.js";

let noticeTimer = null;

export function notice(text, kind) {
  ui.noticeText.textContent = text;
  ui.notice.setAttribute("data-kind", kind || "info");
  ui.notice.hidden = false;
  clearTimeout(noticeTimer);
  noticeTimer = setTimeout(hideNotice, kind === "error" ? 15000 : 6000);
}

export function hideNotice() {
  clearTimeout(noticeTimer);
  ui.notice.hidden = true;
  ui.noticeText.textContent = "";
}

export function setLive(mode) {
  const text = { on: "实时更新中", retry: "实时连接中断，正在重连…", off: "实时连接不可用，每 20 秒自动刷新" };
  ui.live.textContent = text[mode] || "正在连接…";
  ui.live.setAttribute("data-state", mode);
}

/** Shows a failed request in the notice area (sign-outs and stale answers stay silent). */
export function report(err, fallback) {
  if (err instanceof ApiError && (err.code === "stale" || err.status === 401)) return;
  if (!(err instanceof ApiError)) console.error(err); // a bug of ours: keep it visible to developers
  notice(errorText(err, fallback), "error");
}

/** GET with the failure reported; null when it failed. */
export const load = (path, what) => api("GET", path).catch((err) => (report(err, `加载${what}失败`), null));
