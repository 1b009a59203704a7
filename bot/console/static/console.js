/*!
 * 联合钱包 人工客服工作台 (agent console): human agents take conversations over from the bot.
 * Plain JS, no framework, no build step. The Rasa server serves GET /console/ (console.html) and
 * /console/static/<file>; the API lives next to it, at ../api/ from this script (/console/api/).
 *
 * Endpoints used (JSON; every POST sends Content-Type: application/json and X-Console-Request: 1):
 *   GET  me                              -> {agent} | 401 (at load: skips the login form)
 *   POST login {username, password}      -> {agent} | 401 invalid_credentials | 429 rate_limited
 *   POST logout                          -> 204
 *   GET  queue                           -> {handoffs: [Handoff]}   waiting conversations
 *   GET  conversations                   -> {handoffs: [Handoff]}   own (supervisors: all open ones)
 *   POST conversations/{id}/take         -> {handoff, delivery} | 409 already_taken
 *   GET  conversations/{id}/transcript   -> {handoff, messages: [{role, text, agent_name, timestamp, buttons,
 *                                           attachment: {id, content_type, url}, delivery}]}
 *   POST conversations/{id}/messages {text}   -> 201 {message, delivery}
 *   POST conversations/{id}/handback | transfer {agent_id} | resolve {note}   -> {handoff, delivery}
 *   GET  attachments/{id}                -> the image a user sent (shown in the transcript)
 * A Handoff has {channel, window: {closes_at, open} | null (WeChat's 48 h), undelivered: n}; a delivery is
 * {delivered, reason, explanation}: what did not reach the user is marked, with the reason, and told at once.
 *   GET  agents -> {agents}   GET canned -> {replies}   GET audit -> {entries} (supervisors only)
 *   GET  events  Server-Sent Events, "changed" {version, conversations: [ids]}; plus a 20 s poll.
 *                "session_ended" (expired, logged out elsewhere, disabled) -> the login form;
 *                "unavailable" (the store is down) -> live updates off until the next poll.
 * Errors are {error, message} with a 4xx status: shown in the notice area; 401 -> the login form.
 * Everything from the server is rendered as text (createElement/textContent, never innerHTML).
 */
(function () {
  "use strict";

  const script = document.currentScript;
  const API = new URL("../api/", script && script.src ? script.src : location.origin + "/console/static/").href;
  const POLL_MS = 20000;
  const TIMEOUT_MS = 15000;
  const TITLE = document.title;
  const ROLES = ["user", "bot", "agent", "system"];
  const PRIORITY = { urgent: "紧急", high: "高", normal: "普通" };
  const CHANNEL = { socketio: "网页", rest: "REST", wechat: "微信", telegram: "Telegram" };
  const STATUS = { pending: "排队中", assigned: "处理中", returned: "已转回智能客服", resolved: "已结束",
    cancelled: "用户已取消", message_left: "已转留言" };
  const ACTION = { login: "登录", logout: "退出登录", take: "接入会话", reply: "发送消息", message: "发送消息",
    transfer: "转接", hand_back: "转回智能客服", handback: "转回智能客服", resolve: "结束会话", cancel: "用户取消排队",
    leave_message: "用户留言", expire: "排队超时转留言", agent_added: "添加客服", agent_enabled: "启用客服",
    agent_disabled: "停用客服", password_set: "设置密码", undelivered: "消息未送达",
    message_ticket: "留言已登记工单", message_answered: "在线回复留言", message_called_back: "留言已回访",
    message_unreachable: "留言回复未送达", assign: "自动分配", unanswered: "超时未回复，转回排队", status: "设置状态" };
  const PRESENCE = { online: "在线", busy: "忙碌", away: "离开" };
  const ERRORS = { // by error code, then by status; a Chinese message from the server wins over these
    invalid_credentials: "用户名或密码错误。", rate_limited: "操作过于频繁，请稍后再试。",
    network: "网络异常，无法连接服务器，请稍后重试。", timeout: "服务器响应超时，请稍后重试。",
    403: "没有权限执行此操作。", 404: "会话不存在或已结束。", 409: "会话状态已变化，请刷新后重试。",
    413: "内容过长，请精简后再发送。", 429: "操作过于频繁，请稍后再试。", 500: "服务器暂时不可用，请稍后重试。",
  };
  const FIXED = { already_taken: "已被其他客服接入" }; // always this text, whatever the server says
  const NO_CANNED = "选择一条常用回复…";

  // --- helpers -------------------------------------------------------------------------
  const $ = (id) => document.getElementById(id);
  const sameId = (a, b) => a !== null && a !== undefined && b !== null && b !== undefined && String(a) === String(b);
  const str = (v) => (typeof v === "string" ? v : typeof v === "number" ? String(v) : "");
  const pad = (n) => String(n).padStart(2, "0");
  const enc = encodeURIComponent;

  function el(tag, className, attrs, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (attrs) for (const name of Object.keys(attrs)) node.setAttribute(name, attrs[name]);
    if (text !== undefined && text !== null) node.textContent = text;
    return node;
  }

  /** Milliseconds from unix seconds, unix milliseconds or an ISO string; null when unusable. */
  function toMs(value) {
    if (typeof value === "number" && isFinite(value)) return value > 1e12 ? value : value * 1000;
    const ms = typeof value === "string" && value ? Date.parse(value) : NaN;
    return isNaN(ms) ? null : ms;
  }

  /** A <time>: HH:MM(:SS) today, MM-DD HH:MM earlier this year, else with the year. */
  function timeEl(className, value, withSeconds) {
    const ms = toMs(value);
    if (ms === null) return el("span", className, null, "—");
    const d = new Date(ms);
    const now = new Date();
    let text = `${pad(d.getHours())}:${pad(d.getMinutes())}` + (withSeconds ? `:${pad(d.getSeconds())}` : "");
    if (d.toDateString() !== now.toDateString()) text = `${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${text}`;
    if (d.getFullYear() !== now.getFullYear()) text = `${d.getFullYear()}-${text}`;
    const node = el("time", className, { datetime: d.toISOString() }, text);
    node.title = d.toLocaleString("zh-CN");
    return node;
  }

  function waitText(seconds) {
    const s = Math.max(0, Math.floor(seconds));
    const h = Math.floor(s / 3600);
    const m = Math.floor((s % 3600) / 60);
    if (h) return `等待 ${h} 小时 ${m} 分`;
    return m ? `等待 ${m} 分 ${s % 60} 秒` : `等待 ${s % 60} 秒`;
  }

  const priorityOf = (h) => (PRIORITY[h.priority] ? h.priority : "normal");
  const badge = (h) => el("span", `uwa-prio uwa-prio--${priorityOf(h)}`, null, PRIORITY[priorityOf(h)]);
  const channelText = (h) => CHANNEL[str(h.channel)] || str(h.channel) || "未知渠道";
  const channelChip = (h) => el("span", "uwa-chip uwa-channel",
    { "data-testid": "uwa-channel", "data-channel": str(h.channel) }, channelText(h));
  const ATTACHMENT_ID = /^[a-z]{28}$/;

  /** Seconds until WeChat's reply window closes (0: closed, or never opened). */
  function windowLeft(closesAt) {
    const closes = toMs(closesAt);
    return closes === null ? 0 : Math.max(0, Math.floor((closes - Date.now()) / 1000));
  }

  /** WeChat's reply window: "剩余 5 小时 12 分" from its closing time, or closed. */
  function windowText(closesAt) {
    const left = windowLeft(closesAt);
    if (left <= 0) return "48 小时窗口已关闭，回复无法送达";
    const h = Math.floor(left / 3600);
    const m = Math.floor((left % 3600) / 60);
    return h ? `48 小时窗口剩余 ${h} 小时 ${m} 分` : `48 小时窗口剩余 ${m} 分 ${left % 60} 秒`;
  }

  /** A live label of the reply window (updated by tick()), or null for a channel without one. */
  function windowEl(h) {
    const w = h && h.window && typeof h.window === "object" ? h.window : null;
    if (!w) return null;
    return el("span", "uwa-window", { "data-testid": "uwa-window", "data-closes": str(w.closes_at),
      "data-open": String(windowLeft(w.closes_at) > 0) }, windowText(w.closes_at));
  }

  const undeliveredEl = (h) => Number(h.undelivered) > 0
    ? el("span", "uwa-undelivered", { "data-testid": "uwa-undelivered" }, `${Number(h.undelivered)} 条未送达`) : null;
  /** What a list compares to decide whether to render again: without the ticking numbers. */
  const stable = (h) => Object.assign({}, h, { waiting_seconds: 0,
    window: h.window && typeof h.window === "object" ? Object.assign({}, h.window, { seconds_left: 0 }) : h.window });
  const statusText = (h) => STATUS[str(h.status)] || str(h.status) || "—";
  const refText = (h) => str(h.reference) || `#${str(h.id)}`;
  const topicText = (h) => str(h.topic) || "未分类";
  const agentName = (a) => (a && (str(a.display_name) || str(a.username))) || "";
  const handoffs = (data) => (data && Array.isArray(data.handoffs) ? data.handoffs : [])
    .filter((h) => h && typeof h === "object" && str(h.id) !== "");
  const byDuty = (a, b) => (b.on_duty ? 1 : 0) - (a.on_duty ? 1 : 0);
  const byName = (a, b) => agentName(a).localeCompare(agentName(b), "zh-CN");

  // --- API -------------------------------------------------------------------------------
  class ApiError extends Error {
    constructor(status, code, message) {
      super(message || code);
      Object.assign(this, { status, code, serverMessage: message || "" });
    }
  }

  async function api(method, path, body) {
    const gen = generation;
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), TIMEOUT_MS);
    const init = { method, credentials: "same-origin", headers: { Accept: "application/json" }, signal: controller.signal };
    if (method === "POST") {
      Object.assign(init.headers, { "Content-Type": "application/json", "X-Console-Request": "1" });
      init.body = JSON.stringify(body || {});
    }
    let res;
    let data = null;
    try {
      res = await fetch(API + path, init);
      if (res.status !== 204) data = await res.json().catch(() => null);
    } catch (e) {
      throw new ApiError(0, controller.signal.aborted ? "timeout" : "network", "");
    } finally {
      clearTimeout(timer);
    }
    if (gen !== generation) throw new ApiError(0, "stale", ""); // signed out meanwhile
    if (res.ok) return data && typeof data === "object" ? data : {};
    const code = data && typeof data.error === "string" ? data.error : `http_${res.status}`;
    const error = new ApiError(res.status, code, data && typeof data.message === "string" ? data.message : "");
    if (res.status === 401 && path !== "login" && state.me) signedOut(true);
    throw error;
  }

  function errorText(err, fallback) {
    if (!(err instanceof ApiError)) return fallback || "操作失败，请稍后重试。";
    if (FIXED[err.code]) return FIXED[err.code];
    if (/[\u4e00-\u9fff]/.test(err.serverMessage)) return err.serverMessage;
    const text = ERRORS[err.code] || ERRORS[err.status] || (err.status >= 500 ? ERRORS[500] : err.serverMessage);
    return text || `${fallback || "操作失败"}（HTTP ${err.status}）`;
  }

  /** Shows a failed request in the notice area (sign-outs and stale answers stay silent). */
  function report(err, fallback) {
    if (err instanceof ApiError && (err.code === "stale" || err.status === 401)) return;
    if (!(err instanceof ApiError)) console.error(err); // a bug of ours: keep it visible to developers
    notice(errorText(err, fallback), "error");
  }

  /** GET with the failure reported; null when it failed. */
  const load = (path, what) => api("GET", path).catch((err) => (report(err, `加载${what}失败`), null));

  // --- state and DOM references ------------------------------------------------------------
  let generation = 0; // bumped at sign-out: answers to older requests are dropped
  const state = {
    me: null, queue: [], mine: [], all: [], agents: [], canned: [], waits: new Map(), sigs: {}, known: null,
    left: [], leftOpen: null,
    openId: null, open: null, canAct: false, keys: [], tSeq: 0, lSeq: 0, busy: false, sending: false,
    unread: new Set(), expanded: new Set(), drafts: new Map(), tab: "work", es: null, timers: [],
    refreshTimer: null, transcriptDirty: false,
  };
  const ui = {};
  let composing = false;
  let noticeTimer = null;

  /** ui.fooBar is the element #uwa-foo-bar. */
  function grab() {
    for (const node of document.querySelectorAll("[id^='uwa-']")) {
      ui[node.id.slice(4).replace(/-(\w)/g, (_, c) => c.toUpperCase())] = node;
    }
    ui.loginSubmit = ui.loginForm.querySelector("[type=submit]");
    ui.tabButtons = Array.from(ui.tabs.querySelectorAll("[role=tab]"));
  }

  function notice(text, kind) {
    ui.noticeText.textContent = text;
    ui.notice.setAttribute("data-kind", kind || "info");
    ui.notice.hidden = false;
    clearTimeout(noticeTimer);
    noticeTimer = setTimeout(hideNotice, kind === "error" ? 15000 : 6000);
  }

  function hideNotice() {
    clearTimeout(noticeTimer);
    ui.notice.hidden = true;
    ui.noticeText.textContent = "";
  }

  function setLive(mode) {
    const text = { on: "实时更新中", retry: "实时连接中断，正在重连…", off: "实时连接不可用，每 20 秒自动刷新" };
    ui.live.textContent = text[mode] || "正在连接…";
    ui.live.setAttribute("data-state", mode);
  }

  // --- sign-in and sign-out ---------------------------------------------------------------------
  function showLogin(message) {
    ui.app.hidden = true;
    ui.login.hidden = false;
    ui.loginError.textContent = message || "";
    ui.loginError.hidden = !message;
    document.title = TITLE;
    (ui.loginUsername.value ? ui.loginPassword : ui.loginUsername).focus();
  }

  async function login(event) {
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

  function startSession(agent) {
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
  function signedOut(expired) {
    generation += 1;
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

  async function logout() {
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

  // --- tabs (supervisors) -------------------------------------------------------------------------
  function selectTab(name, focus) {
    state.tab = name;
    for (const tab of ui.tabButtons) {
      const on = tab.id === "uwa-tab-" + name;
      tab.setAttribute("aria-selected", String(on));
      tab.tabIndex = on ? 0 : -1;
      $(tab.getAttribute("aria-controls")).hidden = !on;
      if (on && focus) tab.focus();
    }
    if (name === "overview") {
      renderAll();
      loadAgents();
    }
    if (name === "audit") loadAudit();
    if (name === "left") loadLeft();
  }

  function tabKeys(event) {
    const tabs = ui.tabButtons.filter((t) => !t.hidden);
    const i = tabs.indexOf(document.activeElement);
    const next = { ArrowRight: i + 1, ArrowLeft: i - 1, Home: 0, End: tabs.length - 1 }[event.key];
    if (i < 0 || next === undefined) return;
    event.preventDefault();
    selectTab(tabs[(next + tabs.length) % tabs.length].id.slice("uwa-tab-".length), true);
  }

  // --- queue and conversation lists -------------------------------------------------------------------
  async function refreshLists() {
    const seq = ++state.lSeq;
    const [queue, conversations] = await Promise.allSettled([api("GET", "queue"), api("GET", "conversations")]);
    if (seq !== state.lSeq || !state.me) return; // a newer refresh is on its way, or signed out
    const failed = [queue, conversations].find((r) => r.status === "rejected");
    if (failed) report(failed.reason, "刷新会话列表失败");
    if (queue.status === "fulfilled") {
      state.queue = handoffs(queue.value);
      const now = Date.now(); // waits tick from a local start, kept unless the server's is 2 s+ off
      state.waits = new Map(state.queue.map((h) => {
        const start = now - (Number(h.waiting_seconds) || 0) * 1000;
        const old = state.waits.get(String(h.id));
        return [String(h.id), old !== undefined && Math.abs(old - start) < 2000 ? old : start];
      }));
      renderQueue();
    }
    if (conversations.status === "fulfilled") {
      state.all = handoffs(conversations.value);
      const onlyMine = state.me.role === "supervisor"; // supervisors get everyone's
      const mine = state.all.filter((h) => !onlyMine || (h.assigned_agent && sameId(h.assigned_agent.id, state.me.id)));
      const arrived = state.known ? mine.filter((h) => !state.known.has(String(h.id)) && !sameId(h.id, state.openId)) : [];
      state.known = new Set(mine.map((h) => String(h.id)));
      arrived.forEach((h) => state.unread.add(String(h.id)));
      if (arrived.length) notice(`有新的会话分配给您：${arrived.map(refText).join("、")}`, "info");
      state.mine = mine;
      renderMine();
      if (state.tab === "overview") renderAll();
      syncOpen();
    }
    document.title = state.queue.length ? `(${state.queue.length}) ${TITLE}` : TITLE;
  }

  /** Re-renders a list only when its content changed, keeping the keyboard focus in place. */
  function renderList(container, key, items, build, extra) {
    const sig = JSON.stringify([items.map(stable), extra]);
    if (state.sigs[key] === sig) return false;
    state.sigs[key] = sig;
    const active = document.activeElement;
    const item = container.contains(active) ? active.closest("[data-id]") : null;
    container.replaceChildren(...items.map(build));
    if (item) {
      const selector = `[data-id="${CSS.escape(item.getAttribute("data-id"))}"] ` +
        `[data-key="${CSS.escape(active.getAttribute("data-key") || "")}"]`;
      const again = container.querySelector(selector);
      if (again) again.focus();
    }
    return true;
  }

  function renderQueue() {
    ui.queueCount.textContent = String(state.queue.length);
    ui.queueEmpty.hidden = state.queue.length > 0;
    renderList(ui.queue, "queue", state.queue, queueItem);
    tick();
  }

  function queueItem(h) {
    const id = String(h.id);
    const li = el("li", "uwa-item uwa-qitem" + (h.overdue ? " uwa-item--overdue" : ""),
      { "data-testid": "uwa-queue-item", "data-id": id, "data-priority": priorityOf(h) });
    const top = el("div", "uwa-item-top");
    top.append(badge(h), el("span", "uwa-item-ref", null, refText(h)), channelChip(h));
    const wait = el("div", "uwa-wait");
    wait.append(el("span", "uwa-wait-text", { "data-wait": id }));
    if (h.overdue) wait.append(el("span", "uwa-overdue-tag", null, "已超时"));
    li.append(top, el("div", "uwa-item-topic", null, topicText(h)), wait);
    const window_ = windowEl(h);
    if (window_) {
      const row = el("div", "uwa-item-window");
      row.append(window_);
      li.append(row);
    }
    const summary = str(h.summary).trim();
    if (summary) { // clamped to two lines; the full text when opened (a native disclosure)
      const details = el("details", "uwa-summary");
      details.open = state.expanded.has(id);
      details.append(el("summary", null, { "data-key": "summary", title: "展开/收起摘要" }, summary));
      details.addEventListener("toggle", () => state.expanded[details.open ? "add" : "delete"](id));
      li.append(details);
    }
    const foot = el("div", "uwa-item-foot");
    if (Number(h.position) > 0) foot.append(el("span", "uwa-muted", null, `第 ${Number(h.position)} 位`));
    if (h.assigned_agent) foot.append(el("span", "uwa-muted", null, `已由 ${agentName(h.assigned_agent)} 接入`));
    const take = el("button", "uwa-btn uwa-btn--primary uwa-btn--small", { type: "button", "data-testid": "uwa-take",
      "data-key": "take", "aria-label": `接入 ${refText(h)}` }, "接入");
    take.addEventListener("click", () => takeConversation(h, take));
    foot.append(take);
    li.append(foot);
    return li;
  }

  function tick() {
    const now = Date.now();
    for (const node of ui.queue.querySelectorAll("[data-wait]")) {
      node.textContent = waitText((now - (state.waits.get(node.getAttribute("data-wait")) || now)) / 1000);
    }
    for (const node of document.querySelectorAll("[data-due]")) {
      const text = dueText(node.getAttribute("data-due"));
      if (node.textContent !== text) node.textContent = text;
      node.setAttribute("data-overdue", String(toMs(node.getAttribute("data-due")) < now));
    }
    for (const node of document.querySelectorAll(".uwa-window[data-closes]")) {
      const closes = node.getAttribute("data-closes");
      const text = windowText(closes);
      if (node.textContent !== text) node.textContent = text;
      node.setAttribute("data-open", String(windowLeft(closes) > 0));
    }
  }

  function renderMine() {
    ui.mineCount.textContent = String(state.mine.length);
    ui.mineEmpty.hidden = state.mine.length > 0;
    renderList(ui.myConversations, "mine", state.mine, mineItem, [str(state.openId), [...state.unread]]);
  }

  function mineItem(h) {
    const id = String(h.id);
    const current = sameId(id, state.openId);
    const li = el("li", "uwa-item uwa-citem" + (current ? " uwa-item--current" : ""),
      { "data-testid": "uwa-conversation-item", "data-id": id, "data-priority": priorityOf(h) });
    const button = el("button", "uwa-item-open", { type: "button", "data-key": "open" });
    if (current) button.setAttribute("aria-current", "true");
    const top = el("span", "uwa-item-top");
    top.append(badge(h), el("span", "uwa-item-ref", null, refText(h)));
    if (state.unread.has(id)) top.append(el("span", "uwa-unread", null, "新消息"));
    const undelivered = undeliveredEl(h);
    if (undelivered) top.append(undelivered);
    const line = el("span", "uwa-item-line");
    line.append(channelChip(h), el("span", "uwa-muted", null, statusText(h)));
    const window_ = windowEl(h);
    if (window_) line.append(window_);
    button.append(top, el("span", "uwa-item-topic", null, topicText(h)), line);
    button.addEventListener("click", () => openConversation(h.id));
    li.append(button);
    return li;
  }

  async function takeConversation(h, button) {
    button.disabled = true;
    if (state.known) state.known.add(String(h.id)); // taken on purpose: no "new conversation" notice
    try {
      const data = await api("POST", `conversations/${enc(h.id)}/take`);
      await refreshLists();
      const taken = data.handoff && str(data.handoff.id) !== "" ? data.handoff : h;
      openConversation(taken.id, taken);
      if (!reportDelivery(data, `已接入会话 ${refText(h)}，但接入通知`)) notice(`已接入会话 ${refText(h)}`, "info");
    } catch (err) {
      report(err, "接入失败");
      if (err instanceof ApiError && err.status !== 401) refreshLists();
    } finally {
      button.disabled = false;
    }
  }

  // --- the open conversation --------------------------------------------------------------------------
  const findHandoff = (id) => [state.all, state.queue].map((list) => list.find((h) => sameId(h.id, id))).find(Boolean);

  function openConversation(id, handoff) {
    if (!sameId(id, state.openId)) {
      if (state.openId !== null) state.drafts.set(String(state.openId), ui.reply.value);
      Object.assign(state, { openId: id, keys: [], tSeq: state.tSeq + 1 });
      ui.transcript.replaceChildren();
      ui.suggestions.replaceChildren();
      ui.suggestions.hidden = true;
      ui.suggestions.removeAttribute("data-sig");
      ui.reply.value = state.drafts.get(String(id)) || "";
    }
    state.open = findHandoff(id) || handoff || { id };
    state.unread.delete(String(id));
    ui.convEmpty.hidden = true;
    ui.convBody.hidden = false;
    if (state.tab !== "work") selectTab("work");
    syncOpen();
    renderMine();
    loadTranscript(true);
    if (state.canAct) ui.reply.focus();
  }

  function closeConversation() {
    if (state.openId !== null) state.drafts.delete(String(state.openId));
    Object.assign(state, { openId: null, open: null, keys: [], tSeq: state.tSeq + 1 });
    ui.transcript.replaceChildren();
    ui.reply.value = "";
    ui.convBody.hidden = true;
    ui.convEmpty.hidden = false;
    if (state.me) renderMine();
  }

  /** Header and permissions of the open conversation, after every list refresh. */
  function syncOpen() {
    if (state.openId === null) return;
    const listed = state.all.find((h) => sameId(h.id, state.openId));
    const h = (state.open = listed || state.open);
    state.canAct = Boolean(listed && (state.me.role !== "supervisor" || listed.assigned_agent));
    ui.convTitle.textContent = `${refText(h)} · ${topicText(h)}`;
    const meta = [`优先级：${PRIORITY[priorityOf(h)]}`, `状态：${statusText(h)}`];
    if (h.assigned_agent) meta.push(`客服：${agentName(h.assigned_agent)}`);
    const parts = ["渠道：", channelChip(h), "　" + meta.join("　") + "　发起于 ", timeEl(null, h.created_at)];
    const window_ = windowEl(h);
    if (window_) parts.push("　", window_);
    const undelivered = undeliveredEl(h);
    if (undelivered) parts.push("　", undelivered);
    ui.convMeta.replaceChildren(...parts);
    ui.convSummaryText.textContent = str(h.summary);
    ui.convSummary.hidden = !str(h.summary).trim();
    const closed = Boolean(h.window && typeof h.window === "object" && windowLeft(h.window.closes_at) <= 0);
    ui.convBanner.textContent = !state.canAct ? (h.status === "pending"
      ? "该会话仍在排队中，接入后才能回复。" : "此会话当前不由您处理（可能已被转接、转回或结束），仅可查看记录。")
      : closed ? "微信 48 小时互动窗口已关闭：用户再次发消息之前，您的回复无法送达（仍会记入对话记录）。" : "";
    ui.convBanner.hidden = !ui.convBanner.textContent;
    for (const node of [ui.reply, ui.canned, ui.handback, ui.transfer, ui.resolve]) node.disabled = !state.canAct || state.busy;
    ui.send.disabled = !state.canAct || state.busy || state.sending;
  }

  async function loadTranscript(stick) {
    const id = state.openId;
    if (id === null) return;
    const seq = ++state.tSeq;
    let data;
    try {
      data = await api("GET", `conversations/${enc(id)}/transcript`);
    } catch (err) {
      if (seq !== state.tSeq) return;
      if (!(err instanceof ApiError) || (err.status !== 403 && err.status !== 404)) return report(err, "加载会话记录失败");
      closeConversation();
      return notice(err.status === 403 ? "您无权查看该会话，它可能已转给其他客服。" : errorText(err), "error");
    }
    if (seq !== state.tSeq) return;
    renderTranscript(Array.isArray(data.messages) ? data.messages : [], stick);
    loadSuggestions();
  }

  const msgKey = (m) => JSON.stringify(m && [m.role, m.timestamp, m.agent_name, m.text,
    m.attachment && m.attachment.id, m.delivery ? [m.delivery.delivered, m.delivery.reason] : null]);

  /** Appends what is new when the known messages are unchanged, else renders everything again. */
  function renderTranscript(messages, stick) {
    const list = ui.transcript;
    const near = list.scrollHeight - list.scrollTop - list.clientHeight < 80;
    const keys = messages.map(msgKey);
    const old = state.keys;
    const appendOnly = old.length > 0 && old.length <= keys.length && old.every((k, i) => k === keys[i]);
    if (appendOnly && old.length === keys.length) return;
    const from = appendOnly ? old.length : 0;
    if (!from) list.replaceChildren();
    if (!messages.length) list.append(el("p", "uwa-empty", null, "暂无消息"));
    list.append(...messages.slice(from).map(renderMessage));
    state.keys = keys;
    if (stick || near || !from) scrollToBottom();
    else ui.jump.hidden = false;
  }

  function renderMessage(m) {
    const raw = m && typeof m === "object" ? m : {};
    const role = ROLES.includes(raw.role) ? raw.role : "bot";
    const who = { user: "用户", bot: "智能客服", system: "系统" }[role] || str(raw.agent_name) || "人工客服";
    const node = el("div", `uwa-msg uwa-msg--${role}`, { "data-testid": "uwa-msg", "data-role": role });
    const meta = el("div", "uwa-msg-meta");
    meta.append(el("span", "uwa-msg-who", null, who), timeEl("uwa-msg-time", raw.timestamp, true));
    const bubble = el("div", "uwa-bubble", null, str(raw.text));
    if (/^https?:\/\//i.test(str(raw.image))) {
      const link = el("a", "uwa-msg-image", { target: "_blank", rel: "noopener noreferrer" }, "［图片］在新窗口查看");
      link.href = raw.image;
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
    const node = el("div", "uwa-delivery uwa-delivery--failed", { "data-testid": "uwa-delivery", "data-delivered": "false",
      "data-reason": str(d.reason), role: "note" }, `未送达：${str(d.explanation) || "渠道暂时不可用"}`);
    return node;
  }

  /** Tells the agent at once when what a step sent did not reach the user. */
  function reportDelivery(data, what) {
    const d = data && data.delivery && typeof data.delivery === "object" ? data.delivery : null;
    if (d && d.delivered === false) notice(`${what}未送达用户：${str(d.explanation) || "渠道暂时不可用"}`, "error");
    return Boolean(d && d.delivered === false);
  }

  function scrollToBottom() {
    ui.transcript.scrollTop = ui.transcript.scrollHeight;
    ui.jump.hidden = true;
  }

  // --- replying ------------------------------------------------------------------------------------------
  async function sendReply() {
    const id = state.openId;
    const text = ui.reply.value.trim();
    if (id === null || !text || state.sending || !state.canAct) return;
    state.sending = true;
    ui.send.disabled = true;
    ui.reply.value = ""; // at once, so a second Enter cannot send it twice
    try {
      const sent = await api("POST", `conversations/${enc(id)}/messages`, { text });
      reportDelivery(sent, "消息");
      if (sameId(id, state.openId)) await loadTranscript(true);
      refreshLists(); // the conversation's count of undelivered messages
    } catch (err) {
      if (sameId(id, state.openId) && !ui.reply.value) ui.reply.value = text; // nothing typed is lost
      report(err, "消息发送失败");
    } finally {
      state.sending = false;
      syncOpen();
      if (state.canAct && sameId(id, state.openId)) ui.reply.focus();
    }
  }

  function replyKeys(event) {
    if (event.key !== "Enter" || event.shiftKey) return;
    if (composing || event.isComposing || event.keyCode === 229) return; // the IME is choosing
    event.preventDefault();
    sendReply();
  }

  async function loadCanned() {
    const data = await load("canned", "常用回复");
    if (!data) return;
    state.canned = (Array.isArray(data.replies) ? data.replies : []).map(str).filter((t) => t.trim());
    ui.canned.replaceChildren(el("option", null, { value: "" }, NO_CANNED), ...state.canned.map((text, i) => {
      const option = el("option", null, { value: String(i) }, text.length > 36 ? text.slice(0, 36) + "…" : text);
      option.title = text;
      return option;
    }));
  }

  /** Up to three replies for the user's latest message; a click puts one in the reply box. */
  async function loadSuggestions() {
    const id = state.openId;
    if (id === null || !state.canAct) return ui.suggestions.replaceChildren(), (ui.suggestions.hidden = true);
    let data = null;
    try {
      data = await api("GET", `conversations/${enc(id)}/suggestions`);
    } catch (err) {
      return; // suggestions are a help, never an error to show
    }
    if (!sameId(id, state.openId)) return;
    const texts = (Array.isArray(data.suggestions) ? data.suggestions : []).map((x) => str(x && x.text)).filter(Boolean);
    const sig = JSON.stringify(texts);
    if (ui.suggestions.getAttribute("data-sig") === sig) return;
    ui.suggestions.setAttribute("data-sig", sig);
    ui.suggestions.replaceChildren(el("span", "uwa-muted", null, "推荐回复："), ...texts.map((text) => {
      const chip = el("button", "uwa-chip uwa-suggestion", { type: "button", "data-testid": "uwa-suggestion", title: text },
        text.length > 28 ? text.slice(0, 28) + "…" : text);
      chip.addEventListener("click", () => insertReply(text));
      return chip;
    }));
    ui.suggestions.hidden = !texts.length;
  }

  function insertReply(text) {
    const box = ui.reply;
    if (!box.value.trim()) box.value = text;
    else box.setRangeText(text, box.selectionStart, box.selectionEnd, "end");
    box.focus();
  }

  function useCanned() {
    const text = state.canned[Number(ui.canned.value)];
    ui.canned.selectedIndex = 0;
    if (text) insertReply(text);
  }

  // --- hand back, transfer, resolve ------------------------------------------------------------------------
  async function act(path, body, done, fallback) {
    const id = state.openId;
    if (id === null || state.busy) return false;
    state.busy = true;
    syncOpen();
    try {
      const data = await api("POST", `conversations/${enc(id)}/${path}`, body);
      if (sameId(id, state.openId)) closeConversation();
      if (!reportDelivery(data, `${done}，但通知`)) notice(done, "info");
      refreshLists();
      if (state.tab === "overview") loadAgents();
      return true;
    } catch (err) {
      report(err, fallback);
      if (err instanceof ApiError && err.status === 409) refreshLists();
      return false;
    } finally {
      state.busy = false;
      syncOpen();
    }
  }

  async function openTransfer() {
    if (state.openId === null) return;
    ui.transferAgent.replaceChildren(el("option", null, { value: "" }, "正在加载客服列表…"));
    ui.transferAgent.disabled = ui.transferConfirm.disabled = true;
    ui.transferHint.textContent = "";
    ui.transferDialog.showModal();
    const agents = await loadAgents();
    if (!ui.transferDialog.open) return;
    const assignee = state.open && state.open.assigned_agent;
    const supervisor = state.me.role === "supervisor"; // may move a conversation to themselves
    const targets = agents.filter((a) => a.active !== false && !sameId(a.id, assignee ? assignee.id : state.me.id) &&
      (supervisor || !sameId(a.id, state.me.id)))
      .sort((a, b) => byDuty(a, b) || (Number(a.load) || 0) - (Number(b.load) || 0) || byName(a, b));
    ui.transferAgent.replaceChildren(...targets.map((a) => {
      const load = typeof a.load === "number" ? `，当前 ${a.load} 个会话` : "";
      return el("option", null, { value: String(a.id) }, `${agentName(a)}（${a.on_duty ? "在岗" : "离岗"}${load}）`);
    }));
    ui.transferAgent.disabled = ui.transferConfirm.disabled = !targets.length;
    ui.transferHint.textContent = !targets.length ? "暂无可转接的客服。"
      : targets[0].on_duty ? "" : "当前没有在岗的客服，对方上岗后才能处理。";
    if (targets.length) ui.transferAgent.focus();
  }

  async function confirmTransfer(event) {
    event.preventDefault();
    const target = state.agents.find((a) => sameId(a.id, ui.transferAgent.value));
    if (!target) return;
    ui.transferConfirm.disabled = true;
    const ok = await act("transfer", { agent_id: target.id }, `已转接给 ${agentName(target)}`, "转接失败");
    ui.transferConfirm.disabled = false;
    if (ok) ui.transferDialog.close();
  }

  function openResolve() {
    if (state.openId === null) return;
    ui.resolveNote.value = "";
    ui.resolveDialog.showModal();
    ui.resolveNote.focus();
  }

  async function confirmResolve(event) {
    event.preventDefault();
    ui.resolveConfirm.disabled = true;
    const ok = await act("resolve", { note: ui.resolveNote.value.trim() }, "会话已结束，已邀请用户评价", "结束会话失败");
    ui.resolveConfirm.disabled = false;
    if (ok) ui.resolveDialog.close();
  }

  // --- supervisors: all conversations, agents' load, audit log ------------------------------------------------
  /** Table rows from cells (text or nodes), or one row saying it is empty. */
  function fillTable(body, rows, columns, emptyText) {
    if (!rows.length) rows = [{ cells: [emptyText], className: "uwa-row--empty", span: columns }];
    body.replaceChildren(...rows.map(({ cells, attrs, className, span }) => {
      const row = el("tr", className, attrs);
      for (const content of cells) row.appendChild(el("td", null, span && { colspan: String(span) })).append(content);
      return row;
    }));
  }

  function renderAll() {
    ui.allCount.textContent = String(state.all.length);
    const sig = JSON.stringify(state.all.map(stable));
    if (state.sigs.all === sig) return; // unchanged: keep the rows (and the focus on them)
    state.sigs.all = sig;
    fillTable(ui.allRows, state.all.map((h) => {
      const view = el("button", "uwa-btn uwa-btn--small", { type: "button", "aria-label": `查看 ${refText(h)}` }, "查看");
      view.addEventListener("click", () => openConversation(h.id));
      return { attrs: { "data-testid": "uwa-all-item", "data-id": String(h.id) }, cells: [refText(h), badge(h),
        topicText(h), channelText(h), statusText(h), agentName(h.assigned_agent) || "—", timeEl(null, h.created_at), view] };
    }), 8, "暂无进行中的会话");
  }

  async function loadAgents() {
    const data = await load("agents", "客服列表");
    if (data) state.agents = (Array.isArray(data.agents) ? data.agents : []).filter((a) => a && str(a.id) !== "");
    if (state.tab !== "overview") return state.agents;
    fillTable(ui.agentRows, state.agents.slice().sort((a, b) => byDuty(a, b) || byName(a, b)).map((a) => ({
      className: a.active === false ? "uwa-row--inactive" : null,
      attrs: { "data-testid": "uwa-agent-item", "data-id": String(a.id) },
      cells: [agentName(a), a.role === "supervisor" ? "主管" : "客服", a.active === false ? "已停用" : "正常",
        el("span", a.on_duty ? "uwa-duty uwa-duty--on" : "uwa-duty", null, a.on_duty ? "在岗" : "离岗"),
        el("span", `uwa-presence uwa-presence--${PRESENCE[str(a.status)] ? a.status : "online"}`,
          { "data-testid": "uwa-agent-status" }, PRESENCE[str(a.status)] || "在线"),
        (typeof a.load === "number" ? String(a.load) : "—") + (typeof a.capacity === "number" ? ` / ${a.capacity}` : "")],
    })), 6, "暂无客服");
    return state.agents;
  }

  async function loadAudit() {
    const data = await load("audit", "操作记录");
    if (!data) return;
    const entries = (Array.isArray(data.entries) ? data.entries : []).filter((e) => e && typeof e === "object");
    fillTable(ui.auditRows, entries.map((e) => ({
      cells: [timeEl(null, e.at, true), str(e.agent_name) || "—", ACTION[str(e.action)] || str(e.action),
        str(e.reference) || "—", typeof e.detail === "string" ? e.detail : e.detail ? JSON.stringify(e.detail) : ""],
    })), 5, "暂无操作记录");
  }

  // --- 留言: messages left, their SLA timers and answers ------------------------------------------------------------------
  /** "剩余 3 小时 12 分" until a message is due, or how long it is overdue. */
  function dueText(due) {
    const ms = toMs(due);
    if (ms === null) return "—";
    const s = Math.floor(Math.abs(ms - Date.now()) / 1000);
    const h = Math.floor(s / 3600);
    const m = Math.floor((s % 3600) / 60);
    const span = h ? `${h} 小时 ${m} 分` : `${m} 分 ${s % 60} 秒`;
    return ms >= Date.now() ? `剩余 ${span}` : `已超时 ${span}`;
  }

  async function loadLeft() {
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

  async function answerLeft(step) {
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

  async function setStatus() {
    const status = ui.status.value;
    try {
      await api("POST", "me/status", { status });
      notice(`状态已设为 ${PRESENCE[status]}`, "info");
      if (state.tab === "overview") loadAgents();
    } catch (err) {
      report(err, "设置状态失败");
    }
  }

  // --- live updates ------------------------------------------------------------------------------------------------
  function openEvents() {
    if (state.es) state.es.close();
    if (typeof EventSource !== "function") return setLive("off");
    const es = (state.es = new EventSource(API + "events"));
    let first = true; // the first event after (re)connecting may list every conversation: no unread marks
    setLive("connecting");
    es.addEventListener("open", () => {
      setLive("on");
      first = true;
      scheduleRefresh(true); // catch up on whatever happened while disconnected
    });
    es.addEventListener("error", () => setLive(es.readyState === EventSource.CLOSED ? "off" : "retry"));
    es.addEventListener("session_ended", () => {
      es.close();
      if (state.es === es && state.me) signedOut(true);
    });
    es.addEventListener("unavailable", () => {
      es.close();
      setLive("off");
    });
    es.addEventListener("changed", (event) => {
      let data = {};
      try {
        data = JSON.parse(event.data) || {};
      } catch (e) { /* no usable payload: refresh the lists anyway */ }
      for (const id of Array.isArray(data.conversations) ? data.conversations.map(String) : []) {
        if (sameId(id, state.openId)) state.transcriptDirty = true;
        else if (!first && state.mine.some((h) => sameId(h.id, id))) state.unread.add(id);
      }
      first = false;
      scheduleRefresh(false);
    });
  }

  /** Coalesces bursts of events into one round of requests. */
  function scheduleRefresh(transcript) {
    if (transcript) state.transcriptDirty = true;
    clearTimeout(state.refreshTimer);
    state.refreshTimer = setTimeout(() => {
      if (!state.me) return;
      refreshLists();
      if (state.transcriptDirty) loadTranscript(false);
      state.transcriptDirty = false;
      if (state.tab === "overview") loadAgents();
      if (state.tab === "audit") loadAudit();
      loadLeft();
    }, 200);
  }

  function poll() {
    if (!state.me) return;
    if (!state.es || state.es.readyState === EventSource.CLOSED) openEvents(); // e.g. after a server restart
    scheduleRefresh(true);
  }

  // --- wiring ------------------------------------------------------------------------------------------------------
  async function boot() {
    grab();
    const scrolled = () => {
      const t = ui.transcript;
      if (t.scrollHeight - t.scrollTop - t.clientHeight < 40) ui.jump.hidden = true;
    };
    const wiring = [
      [ui.loginForm, "submit", login], [ui.logout, "click", logout], [ui.noticeClose, "click", hideNotice],
      [ui.tabs, "keydown", tabKeys], [ui.send, "click", sendReply], [ui.reply, "keydown", replyKeys],
      [ui.reply, "compositionstart", () => (composing = true)], [ui.reply, "compositionend", () => (composing = false)],
      [ui.canned, "change", useCanned], [ui.transcript, "scroll", scrolled], [ui.jump, "click", scrollToBottom],
      [ui.handback, "click", () => act("handback", {}, "已转回智能客服", "转回智能客服失败")],
      [ui.transfer, "click", openTransfer], [ui.transferForm, "submit", confirmTransfer],
      [ui.transferCancel, "click", () => ui.transferDialog.close()], [ui.resolve, "click", openResolve],
      [ui.resolveForm, "submit", confirmResolve], [ui.resolveCancel, "click", () => ui.resolveDialog.close()],
      [ui.transferDialog, "close", () => state.canAct && ui.transfer.focus()],
      [ui.resolveDialog, "close", () => state.canAct && ui.resolve.focus()], [ui.auditRefresh, "click", loadAudit],
      [ui.leftState, "change", loadLeft], [ui.leftSend, "click", () => answerLeft("reply")],
      [ui.leftCallback, "click", () => answerLeft("callback")], [ui.status, "change", setStatus],
      [document, "visibilitychange", () => !document.hidden && state.me && scheduleRefresh(true)],
      ...ui.tabButtons.map((tab) => [tab, "click", () => selectTab(tab.id.slice("uwa-tab-".length))]),
    ];
    for (const [node, type, fn] of wiring) node.addEventListener(type, fn);
    try {
      startSession((await api("GET", "me")).agent);
    } catch (err) {
      showLogin(err instanceof ApiError && err.status === 401 ? "" : errorText(err, "无法连接服务器"));
    }
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", boot, { once: true });
  else boot();
})();
