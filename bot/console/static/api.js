/**
 * The console's API client: JSON requests to ../api/ from this module (/console/api/).
 * Every POST sends Content-Type: application/json and X-Console-Request: 1. Errors are
 * {error, message} with a 4xx status; a 401 in the middle of work signs the agent out.
 */
import { ERRORS, FIXED, TIMEOUT_MS } from "./labels.js";
import { state } from "./state.js";
import { signedOut } from "./session.js";
import { ApiError, refusal, requestJson } from "./request.js";

export const API = new URL("../api/", import.meta.url).href;

let generation = 0; // bumped at sign-out: answers to older requests are dropped

/** Drops the answers of every request sent so far (at sign-out). */
export const newGeneration = () => (generation += 1);

export { ApiError };

/** One request: the JSON answer, or an ApiError (status 0 for network trouble and timeouts). */
export async function api(method, path, body) {
  const gen = generation;
  const { res, data } = await requestJson(API + path, method, body, TIMEOUT_MS);
  if (gen !== generation) throw new ApiError(0, "stale", ""); // signed out meanwhile
  if (res.ok) return data && typeof data === "object" ? data : {};
  const error = refusal(res, data);
  if (res.status === 401 && path !== "login" && state.me) signedOut(true);
  throw error;
}

/** What the agent is told about a failed request. */
export function errorText(err, fallback) {
  if (!(err instanceof ApiError)) return fallback || "操作失败，请稍后重试。";
  if (FIXED[err.code]) return FIXED[err.code];
  if (/[\u4e00-\u9fff]/.test(err.serverMessage)) return err.serverMessage;
  const text = ERRORS[err.code] || ERRORS[err.status] || (err.status >= 500 ? ERRORS[500] : err.serverMessage);
  return text || `${fallback || "操作失败"}（HTTP ${err.status}）`;
}
