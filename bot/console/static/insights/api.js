// The insights' API client: same-origin requests with the console's session cookie, the
// console's POST header, a time limit, and errors as ApiError with the server's fixed message.
import { ApiError, refusal, requestJson } from "/console/static/request.js";

export const BASE = "/console/insights/api/";
const TIMEOUT_MS = 30000;

export { ApiError };

export async function api(method, path, body) {
  const { res, data } = await requestJson(BASE + path, method, body, TIMEOUT_MS);
  if (res.ok) return data && typeof data === "object" ? data : {};
  throw refusal(res, data);
}

/** The text to show for a failed request. */
export function errorText(err) {
  if (!(err instanceof ApiError)) return "操作失败，请稍后重试。";
  if (err.status === 401) return "请先在工作台登录主管账号。";
  if (err.status === 403) return "只有主管可以查看报表和待审核消息。";
  if (err.status === 0) return "网络连接失败，请稍后重试。";
  if (/[\u4e00-\u9fff]/.test(err.serverMessage)) return err.serverMessage;
  return `操作失败（HTTP ${err.status}）`;
}

/** Who is signed in (null when nobody is). */
export async function me() {
  try {
    const res = await fetch("/console/api/me", { credentials: "same-origin", headers: { Accept: "application/json" } });
    if (!res.ok) return null;
    const data = await res.json();
    return data && data.agent ? data.agent : null;
  } catch (e) {
    return null;
  }
}
