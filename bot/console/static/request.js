/**
 * One JSON request with the console's conventions, for the console and the insights pages:
 * same-origin (the session cookie), Content-Type and X-Console-Request on every POST, a time
 * limit. Answers {res, data}; network trouble and timeouts are an ApiError with status 0.
 */
export class ApiError extends Error {
  constructor(status, code, message) {
    super(message || code);
    Object.assign(this, { status, code, serverMessage: message || "" });
  }
}

export async function requestJson(url, method, body, timeoutMs) {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), timeoutMs);
  const init = { method, credentials: "same-origin", headers: { Accept: "application/json" }, signal: controller.signal };
  if (method === "POST") {
    Object.assign(init.headers, { "Content-Type": "application/json", "X-Console-Request": "1" });
    init.body = JSON.stringify(body || {});
  }
  try {
    const res = await fetch(url, init);
    const data = res.status === 204 ? null : await res.json().catch(() => null);
    return { res, data };
  } catch {
    throw new ApiError(0, controller.signal.aborted ? "timeout" : "network", "");
  } finally {
    clearTimeout(timer);
  }
}

/** The ApiError of a refused request ({error, message} in its body when the server said). */
export function refusal(res, data) {
  const code = data && typeof data.error === "string" ? data.error : `http_${res.status}`;
  return new ApiError(res.status, code, data && typeof data.message === "string" ? data.message : "");
}
