/** Signing in and out, and the agent's presence (在线/忙碌/离开). */
import { api, errorText, newGeneration } from "./api.js";
import { el, str } from "./dom.js";
import { agentName } from "./format.js";
import { NO_CANNED, POLL_MS, PRESENCE } from "./labels.js";
import { loadLeft } from "./left.js";
import { openEvents, poll } from "./live.js";
import { hideNotice, notice, report } from "./notice.js";
import { loadAgents } from "./overview.js";
import { refreshLists, tick } from "./queue.js";
import { closeConversation } from "./conversation.js";
import { loadCanned } from "./reply.js";
import { state, ui } from "./state.js";
import { selectTab } from "./tabs.js";

const TITLE = document.title;

export function showLogin(message) {
  ui.app.hidden = true;
  ui.login.hidden = false;
  ui.loginError.textContent = message || "";
  ui.loginError.hidden = !message;
  document.title = TITLE;
  (ui.loginUsername.value ? ui.loginPassword : ui.loginUsername).focus();
}

/** The page's title, with the number of waiting users in front. */
export const setTitle = (waiting) => (document.title = waiting ? `(${waiting}) ${TITLE}` : TITLE);

export async function login(event) {
  event.preventDefault();
  const username = ui.loginUsername.value.trim();
  const password = ui.loginPassword.value;
  if (!username || !password) return showLogin("请输入用户名和密码。");
  ui.loginSubmit.disabled = true;
  ui.loginError.hidden = true;
  try {
    const data = await api("POST", "login", { username, password });
    ui.loginPassword.value = "";
    startSession(data.agent);
  } catch (err) {
    ui.loginPassword.value = "";
    showLogin(errorText(err, "登录失败"));
  } finally {
    ui.loginSubmit.disabled = false;
  }
}

export function startSession(agent) {
  if (!agent || typeof agent !== "object") return showLogin("登录信息无效，请重新登录。");
  state.me = agent;
  const supervisor = agent.role === "supervisor";
  ui.agentName.textContent = agentName(agent) || "客服";
  ui.agentRole.textContent = supervisor ? "主管" : "客服";
  ui.tabButtons.forEach((tab) => (tab.hidden = !["uwa-tab-work", "uwa-tab-left"].includes(tab.id) && !supervisor));
  ui.nav.hidden = !supervisor; // the supervisors' pages: reports and the review queue
  ui.status.value = PRESENCE[str(agent.status)] ? agent.status : "online";
  ui.login.hidden = true;
  ui.loginError.hidden = true;
  ui.app.hidden = false;
  selectTab("work");
  closeConversation();
  refreshLists();
  loadCanned();
  loadLeft();
  openEvents();
  state.timers.push(setInterval(poll, POLL_MS), setInterval(tick, 500));
}

/** Back to the login form; `expired` when the server said 401 in the middle of work. */
export function signedOut(expired) {
  newGeneration();
  if (state.es) state.es.close();
  state.timers.splice(0).forEach(clearInterval);
  clearTimeout(state.refreshTimer);
  for (const dialog of [ui.transferDialog, ui.resolveDialog]) if (dialog.open) dialog.close();
  ui.leftDetail.hidden = true;
  Object.assign(state, { me: null, queue: [], mine: [], all: [], agents: [], canned: [], sigs: {}, known: null, left: [], leftOpen: null,
    openId: null, open: null, keys: [], busy: false, sending: false, es: null });
  [state.unread, state.expanded, state.drafts, state.waits].forEach((set) => set.clear());
  [ui.queue, ui.myConversations, ui.transcript, ui.allRows, ui.agentRows, ui.auditRows, ui.leftRows, ui.leftTranscript].forEach((n) => n.replaceChildren());
  ui.canned.replaceChildren(el("option", null, { value: "" }, NO_CANNED));
  ui.reply.value = "";
  hideNotice();
  showLogin(expired ? "登录已过期，请重新登录。" : "");
}

export async function logout() {
  ui.logout.disabled = true;
  try {
    await api("POST", "logout");
    signedOut(false);
  } catch (err) {
    report(err, "退出登录失败");
  } finally {
    ui.logout.disabled = false;
  }
}

export async function setStatus() {
  const status = ui.status.value;
  try {
    await api("POST", "me/status", { status });
    notice(`状态已设为 ${PRESENCE[status]}`, "info");
    if (state.tab === "overview") loadAgents();
  } catch (err) {
    report(err, "设置状态失败");
  }
}
