/*!
 * 联合钱包 (United Wallet) website chat widget. Plain JS, no build step; embed with one tag:
 *   <script src="https://HOST/widget/widget.js" data-title="联合钱包在线客服"></script>
 *
 * Configuration (data-* attributes of that script tag, all optional):
 *   data-server-url     the Rasa server (default: the origin this script was loaded from)
 *   data-title          panel title (default 联合钱包在线客服)
 *   data-primary-color  launcher, header and user-bubble colour (default #1677ff)
 *   data-greeting       first bot bubble of an empty conversation, shown locally only ("" = none)
 *   data-open-on-load   "true" opens the panel when the page loads
 *   data-max-length     longest message in characters; longer ones are refused locally (default 1000)
 * It loads {server}/widget/shared.js (an ES module it shares with the agent console, by import():
 * from another site only when that site's origin is configured in cors_allowed_origins, like the
 * widget's other requests), {server}/widget/widget.css and {server}/widget/vendor/socket.io.min.js.
 * widget.js itself stays a classic script (one tag, its data-* attributes): no build step.
 *
 * Protocol (socket.io, path {server path}/socket.io). Sessions are issued by the server: the
 * widget keeps only the session's proof "<session id>.<signature>" (localStorage uwc_session).
 *   -> session_request {session_token: stored proof | null}
 *   <- session_confirm {session_id, session_token, resumed}  a missing or refused proof gets a
 *      new session (the conversation on screen then starts over)
 *   POST {server}/widget/history, text/plain body: the proof (a simple request: no CORS
 *       preflight; after the first confirm, and after a reconnect to show what was sent while
 *       disconnected)
 *       -> {messages: [{role, text, buttons, image, agent_name, timestamp (s)}]}
 *   -> user_uttered {message, session_id, customData: {client_message_id, identity_token?}}
 *   <- message_ack {client_message_id}  unacked messages (localStorage uwc_outbox) are re-sent,
 *      in order and with the same id, after every session_confirm
 *   <- bot_uttered {text, quick_replies|buttons?, attachment?: {type: "image", payload: {src}},
 *                   role?: "agent"|"system", agent_name?}
 *   POST {server}/widget/upload, multipart/form-data {session: the proof, image: the file} (a simple
 *       request too): an image (button or paste; JPEG, PNG, GIF, WebP up to 2 MB, checked again
 *       by the server by its bytes) stored with the conversation for the agent -> 201 | {error, message}
 *   <- wallet_error {code, message, client_message_id?}  shown as a system notice;
 *      session_mismatch / session_required: the session is asked for again and the message
 *      re-sent; identity_changed: a new conversation is started and the message sent there
 *
 * API: window.UnitedWalletChat.open(), .close(), .setIdentityToken(token | null), .reset()
 * setIdentityToken with a token for another user than the conversation's (the token's "sub",
 * read without verification: the server verifies) starts a new conversation; the same user,
 * or null (signed out: call reset() to end the conversation too), keeps it.
 * Everything received or typed is rendered as text (createElement/textContent, never innerHTML).
 */
(function () {
  "use strict";

  if (window.UnitedWalletChat) return; // the tag was included twice

  const SESSION_KEY = "uwc_session"; // the server's proof of the session, "<id>.<signature>"
  const USER_KEY = "uwc_session_user"; // a hash of the signed-in user the conversation belongs to
  const LEGACY_SESSION_KEY = "uwc_session_id"; // a bare id from before sessions were proved
  const OUTBOX_KEY = "uwc_outbox";
  const TYPING_TIMEOUT_MS = 15000;
  const HISTORY_TIMEOUT_MS = 10000;
  const ROLES = ["user", "bot", "agent", "system"];
  const LIVE_ROLES = ["bot", "agent", "system"];
  const REFUSALS = ["message_too_long", "rate_limited", "invalid_event"];
  const SESSION_LOST = ["session_mismatch", "session_required"];
  const IMAGE_TYPES = ["image/jpeg", "image/png", "image/gif", "image/webp"]; // the server checks the bytes
  const IMAGE_MAX_BYTES = 2 * 1024 * 1024; // HANDOFF_ATTACHMENT_MAX_BYTES: the server decides
  const TEXT = {
    title: "联合钱包在线客服", greeting: "您好，我是联合钱包智能客服，请问有什么可以帮您？",
    open: "打开在线客服", close: "关闭", input: "输入消息", send: "发送", sendLabel: "发送消息",
    placeholder: "请输入您的问题，Enter 发送，Shift+Enter 换行", typing: "客服正在输入…",
    connecting: "正在连接客服…", reconnecting: "连接中断，正在重新连接…",
    loadFailed: "无法连接客服，请检查网络后重试。", sendFailed: "消息发送失败，请稍后重试。",
    agent: "人工客服", image: "图片", quickReplies: "快捷回复", failed: "未发送", unread: "条未读消息",
    attachLabel: "发送图片（JPG、PNG、GIF、WebP，2 MB 以内）",
    imageNotConnected: "连接尚未建立，请稍候片刻再发送图片。",
    imageBadType: "抱歉，目前只支持发送 JPG、PNG、GIF 或 WebP 格式的图片。",
    imageTooLarge: "图片太大了，请发送 2 MB 以内的图片。", imageFailed: "图片暂时无法发送，请稍后再试。",
    newUser: "登录账号已变化，已为您开始新的对话。", expired: "之前的会话已失效，已为您开始新的对话。",
    tooLong: (max, n) => `消息太长了，请控制在 ${max} 字以内（当前 ${n} 字）。`,
  };

  // --- configuration -----------------------------------------------------------
  const script = document.currentScript || document.querySelector('script[src*="/widget/widget.js"]');
  const attr = (name, fallback) => {
    const value = script ? script.getAttribute("data-" + name) : null;
    return value === null ? fallback : value;
  };

  function serverBase() {
    const scriptUrl = script && script.src ? script.src : location.href;
    const own = new URL(scriptUrl, location.href).origin;
    let url;
    try { url = new URL(attr("server-url", "") || own, scriptUrl); } catch (e) { url = new URL(own); }
    if (url.protocol !== "http:" && url.protocol !== "https:") url = new URL(own);
    return { origin: url.origin, path: url.pathname.replace(/\/+$/, "") };
  }

  const SERVER = serverBase();
  const SERVER_URL = SERVER.origin + SERVER.path;
  const TITLE = attr("title", "") || TEXT.title;
  const GREETING = attr("greeting", TEXT.greeting);
  const OPEN_ON_LOAD = attr("open-on-load", "false").trim().toLowerCase() === "true";
  const MAX_LENGTH = Math.min(Math.max(parseInt(attr("max-length", ""), 10) || 1000, 1), 100000);
  const PRIMARY = (() => {
    const colour = attr("primary-color", "").trim();
    const ok = colour && window.CSS && CSS.supports && CSS.supports("color", colour);
    return ok ? colour : "#1677ff";
  })();

  // --- small helpers -------------------------------------------------------------
  // el, clock and safeHttpUrl come from the module the console shares (/widget/shared.js),
  // loaded by import() before the widget is built; nothing calls them earlier.
  let el;
  let clock;
  let safeHttpUrl;

  const store = { // storage may be disabled or full: the conversation then lives in memory only
    get(key) {
      try { return window.localStorage.getItem(key); } catch (e) { return null; }
    },
    set(key, value) {
      try {
        if (value === null) window.localStorage.removeItem(key);
        else window.localStorage.setItem(key, value);
      } catch (e) { /* memory only */ }
    },
  };

  function uuid() {
    const c = window.crypto;
    if (c && typeof c.randomUUID === "function") return c.randomUUID(); // secure contexts only
    const b = new Uint8Array(16);
    if (c && c.getRandomValues) c.getRandomValues(b);
    else for (let i = 0; i < 16; i++) b[i] = Math.floor(Math.random() * 256);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    const h = Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
  }

  /** The session id of a proof "<id>.<signature>" the server issued, or null. */
  function proofSessionId(proof) {
    const match = typeof proof === "string" ? /^([0-9a-f]{32})\.[A-Za-z0-9_-]{43}$/.exec(proof) : null;
    return match ? match[1] : null;
  }

  /**
   * Who an identity token is for: a short hash of its "sub" (the payload is base64url JSON before
   * the signature; not verified here, the server does), or null for no token or an unreadable one.
   * Only the hash is kept in storage, never the token or the account id.
   */
  function tokenUser(token) {
    if (typeof token !== "string" || token.length > 1024) return null;
    const payload = token.split(".")[0].replace(/-/g, "+").replace(/_/g, "/");
    let sub;
    try {
      const binary = atob(payload + "=".repeat((4 - (payload.length % 4)) % 4));
      const bytes = Uint8Array.from(binary, (c) => c.charCodeAt(0));
      const claims = JSON.parse(new TextDecoder().decode(bytes));
      sub = claims && typeof claims === "object" ? claims.sub : null;
    } catch (e) { return null; }
    if (typeof sub !== "string" || !sub) return null;
    let hash = 0x811c9dc5; // FNV-1a, 32 bits: enough to tell two users apart
    for (const ch of sub) {
      hash ^= ch.codePointAt(0);
      hash = Math.imul(hash, 0x01000193) >>> 0;
    }
    return "u" + hash.toString(16).padStart(8, "0");
  }

  // URLs end at whitespace, quotes, angle brackets and CJK / full-width punctuation.
  const URL_RE = /https?:\/\/[^\s<>"'\u3000-\u303f\uff00-\uffef]+/g;

  /** Appends text as text nodes: http(s) URLs become links, newlines become <br>. */
  function appendText(parent, text) {
    String(text).split(/\r\n|\r|\n/).forEach((line, i) => {
      if (i) parent.appendChild(document.createElement("br"));
      let last = 0;
      for (const match of line.matchAll(URL_RE)) {
        let candidate = match[0].replace(/[.,;:!?]+$/, "");
        if (candidate.endsWith(")") && !candidate.includes("(")) candidate = candidate.slice(0, -1);
        const href = candidate.length > 8 ? safeHttpUrl(candidate) : null;
        if (!href) continue;
        if (match.index > last) parent.appendChild(document.createTextNode(line.slice(last, match.index)));
        const link = el("a", "uwc-link", { target: "_blank", rel: "noopener noreferrer" }, candidate);
        link.href = href;
        parent.appendChild(link);
        last = match.index + candidate.length;
      }
      if (last < line.length) parent.appendChild(document.createTextNode(line.slice(last)));
    });
  }

  /** A message from the server (live or history) in the widget's shape, or null to skip it. */
  function normalize(raw, roles) {
    if (!raw || typeof raw !== "object") return null;
    const role = roles.includes(raw.role) ? raw.role : "bot";
    const text = typeof raw.text === "string" ? raw.text : "";
    const list = Array.isArray(raw.quick_replies) ? raw.quick_replies : raw.buttons;
    const buttons = (Array.isArray(list) ? list : [])
      .filter((b) => b && typeof b.title === "string" && b.title.trim())
      .map((b) => ({
        title: b.title,
        payload: typeof b.payload === "string" && b.payload ? b.payload : b.title,
      }));
    const attachment = raw.attachment;
    const image = safeHttpUrl(
      attachment && attachment.type === "image" && attachment.payload
        ? attachment.payload.src
        : raw.image
    );
    const agentName = typeof raw.agent_name === "string" ? raw.agent_name.trim() : "";
    const ts =
      typeof raw.timestamp === "number" && isFinite(raw.timestamp) ? raw.timestamp * 1000 : Date.now();
    if (!text.trim() && !image && !buttons.length) return null;
    return { role, text, buttons, image, agentName, ts };
  }

  // --- state ------------------------------------------------------------------------
  store.set(LEGACY_SESSION_KEY, null); // an unproved id cannot be resumed any more
  let sessionToken = proofSessionId(store.get(SESSION_KEY)) ? store.get(SESSION_KEY) : null;
  let sessionId = proofSessionId(sessionToken);
  let sessionUser = sessionId ? store.get(USER_KEY) : null; // whose conversation this is
  let outbox = loadOutbox(); // [{id, message, display, ts}] sent or queued, not yet acknowledged
  let identityToken = null;
  let socket = null;
  let socketLoading = false;
  let everConnected = false;
  let confirmed = false; // connected and the current session confirmed
  let historyStarted = false;
  let historyDone = false;
  let seenFromServer = 0; // bot, agent and system messages received, to catch up after a reconnect
  let generation = 0; // bumped by reset(), so a late history answer is dropped
  let inflight = []; // ids emitted on the current connection and not yet acknowledged
  let greetingShown = false;
  let isOpen = false;
  let unread = 0;
  let typingTimer = null;
  let composing = false;
  const userNodes = new Map(); // client_message_id -> user bubble awaiting its ack
  const ui = {};
  const whenBuilt = [];

  function loadOutbox() {
    try {
      const list = JSON.parse(store.get(OUTBOX_KEY) || "[]");
      if (!Array.isArray(list)) return [];
      return list.filter((m) => m && typeof m.id === "string" && typeof m.message === "string").slice(-50);
    } catch (e) { return []; }
  }
  const saveOutbox = () => store.set(OUTBOX_KEY, outbox.length ? JSON.stringify(outbox) : null);

  // --- DOM ------------------------------------------------------------------------------
  function build() {
    const css = el("link", null, { rel: "stylesheet", href: SERVER_URL + "/widget/widget.css" });
    const root = el("div", "uwc-root", { "data-uwc-root": "" });
    root.style.setProperty("--uwc-primary", PRIMARY);
    root.style.visibility = "hidden"; // until the stylesheet arrives, to avoid a flash of raw markup
    const reveal = () => root.style.removeProperty("visibility");
    css.addEventListener("load", reveal);
    css.addEventListener("error", reveal);
    document.head.appendChild(css);

    const launcher = el("button", "uwc-launcher", { type: "button", "aria-label": TEXT.open,
      "aria-expanded": "false", "aria-controls": "uwc-panel", "data-testid": "uwc-launcher" });
    launcher.appendChild(chatIcon());
    const badge = el("span", "uwc-badge", { id: "uwc-badge", "data-testid": "uwc-badge" });
    badge.hidden = true;
    launcher.appendChild(badge);

    const panel = el("div", "uwc-panel",
      { id: "uwc-panel", role: "dialog", "aria-labelledby": "uwc-title", "data-testid": "uwc-panel" });
    panel.hidden = true;
    const header = el("div", "uwc-header");
    header.appendChild(el("div", "uwc-title", { id: "uwc-title", role: "heading", "aria-level": "2" }, TITLE));
    const closeButton = el("button", "uwc-close",
      { type: "button", "aria-label": TEXT.close, "data-testid": "uwc-close" }, "×");
    header.appendChild(closeButton);

    const status = el("div", "uwc-status", { role: "status", "data-testid": "uwc-status" });
    status.hidden = true;
    const messages = el("div", "uwc-messages", { role: "log", "aria-live": "polite",
      "aria-label": TITLE, tabindex: "0", "data-testid": "uwc-messages" });
    const typing = el("div", "uwc-typing", { "data-testid": "uwc-typing" });
    typing.hidden = true;
    const dots = el("span", "uwc-typing-dots", { "aria-hidden": "true" });
    for (let i = 0; i < 3; i++) dots.appendChild(el("span", "uwc-dot"));
    typing.appendChild(dots);
    typing.appendChild(el("span", "uwc-typing-text", null, TEXT.typing));

    const form = el("div", "uwc-composer");
    const input = el("textarea", "uwc-input",
      { rows: "1", "aria-label": TEXT.input, placeholder: TEXT.placeholder, "data-testid": "uwc-input" });
    const sendButton = el("button", "uwc-send",
      { type: "button", "aria-label": TEXT.sendLabel, "data-testid": "uwc-send" }, TEXT.send);
    const attachButton = el("button", "uwc-attach",
      { type: "button", "aria-label": TEXT.attachLabel, title: TEXT.attachLabel, "data-testid": "uwc-attach" });
    attachButton.appendChild(imageIcon());
    const fileInput = el("input", "uwc-file", { type: "file", accept: IMAGE_TYPES.join(","), tabindex: "-1",
      "aria-hidden": "true", "data-testid": "uwc-file" });
    fileInput.hidden = true;
    form.append(attachButton, fileInput, input, sendButton);
    panel.append(header, status, messages, typing, form);
    root.append(panel, launcher);
    document.body.appendChild(root);
    Object.assign(ui, { root, launcher, badge, panel, closeButton, status, messages, typing, input, sendButton,
      attachButton, fileInput });

    launcher.addEventListener("click", () => open());
    closeButton.addEventListener("click", () => close());
    panel.addEventListener("keydown", (event) => {
      if ((event.key === "Escape" || event.key === "Esc") && !event.isComposing && !composing) {
        event.preventDefault();
        close();
      }
    });
    sendButton.addEventListener("click", submitInput);
    input.addEventListener("compositionstart", () => (composing = true));
    input.addEventListener("compositionend", () => (composing = false));
    input.addEventListener("keydown", (event) => {
      if (event.key !== "Enter" || event.shiftKey) return;
      if (composing || event.isComposing || event.keyCode === 229) return; // IME is choosing
      event.preventDefault();
      submitInput();
    });
    input.addEventListener("input", autoGrow);
    attachButton.addEventListener("click", () => fileInput.click());
    fileInput.addEventListener("change", () => {
      const file = fileInput.files && fileInput.files[0];
      fileInput.value = ""; // the same file may be chosen again
      if (file) sendImage(file);
    });
    input.addEventListener("paste", (event) => {
      const items = event.clipboardData ? Array.from(event.clipboardData.items || []) : [];
      const item = items.find((i) => i.kind === "file" && i.type.startsWith("image/"));
      const file = item && item.getAsFile();
      if (!file) return; // text is pasted as usual
      event.preventDefault();
      sendImage(file);
    });

    if (!sessionId) showGreeting(); // a new visitor: nothing to restore
    for (const item of outbox) addMessage(userBubble(item)); // typed on an earlier page, unacked
    whenBuilt.splice(0).forEach((fn) => fn());
    if (OPEN_ON_LOAD) open({ focus: false });
    else if (sessionId || outbox.length) connect(); // an ongoing conversation: restore it now
  }

  function chatIcon() {
    const NS = "http://www.w3.org/2000/svg";
    const svg = document.createElementNS(NS, "svg");
    svg.setAttribute("class", "uwc-launcher-icon");
    svg.setAttribute("viewBox", "0 0 24 24");
    svg.setAttribute("aria-hidden", "true");
    svg.setAttribute("focusable", "false");
    const path = document.createElementNS(NS, "path");
    path.setAttribute("d", "M12 3C6.5 3 2 6.6 2 11c0 2.4 1.3 4.6 3.4 6.1L4.5 21l4.3-2.4c1 .3 2.1.4 3.2.4 5.5 0 10-3.6 10-8s-4.5-8-10-8zM7.5 12.3a1.3 1.3 0 110-2.6 1.3 1.3 0 010 2.6zm4.5 0a1.3 1.3 0 110-2.6 1.3 1.3 0 010 2.6zm4.5 0a1.3 1.3 0 110-2.6 1.3 1.3 0 010 2.6z");
    svg.appendChild(path);
    return svg;
  }

  function imageIcon() {
    const NS = "http://www.w3.org/2000/svg";
    const svg = document.createElementNS(NS, "svg");
    svg.setAttribute("class", "uwc-attach-icon");
    svg.setAttribute("viewBox", "0 0 24 24");
    svg.setAttribute("aria-hidden", "true");
    svg.setAttribute("focusable", "false");
    const path = document.createElementNS(NS, "path");
    path.setAttribute("d", "M19 4H5a2 2 0 00-2 2v12a2 2 0 002 2h14a2 2 0 002-2V6a2 2 0 00-2-2zm0 14H5V6h14v12zM8.5 11a1.5 1.5 0 100-3 1.5 1.5 0 000 3zM6 17l3.5-4.5 2.5 3 3.5-4.5L18 17H6z");
    svg.appendChild(path);
    return svg;
  }

  const onBuilt = (fn) => (ui.root ? fn() : whenBuilt.push(fn));

  function autoGrow() {
    const input = ui.input;
    input.style.height = "auto";
    input.style.height = Math.min(input.scrollHeight, 120) + "px";
  }

  function renderMessage(m, historic) {
    const node = el("div", `uwc-msg uwc-msg--${m.role}`, { "data-testid": "uwc-msg", "data-role": m.role });
    if (m.role === "agent") node.appendChild(el("div", "uwc-msg-name", null, m.agentName || TEXT.agent));
    const bubble = el("div", m.role === "system" ? "uwc-notice" : "uwc-bubble");
    if (m.text) appendText(bubble, m.text);
    if (m.localImage) { // an image this page just sent: a blob: URL of our own, shown until a reload
      const img = el("img", "uwc-image", { alt: TEXT.image, "data-testid": "uwc-sent-image" });
      img.addEventListener("load", () => URL.revokeObjectURL(m.localImage), { once: true }); // drawn: freed
      img.src = m.localImage;
      bubble.appendChild(img);
    }
    if (m.image) {
      const img = el("img", "uwc-image", { alt: TEXT.image, loading: "lazy", referrerpolicy: "no-referrer" });
      img.src = m.image;
      bubble.appendChild(img);
    }
    node.appendChild(bubble);
    if (m.buttons && m.buttons.length) node.appendChild(quickReplies(m.buttons, historic));
    const when = new Date(m.ts);
    const ms = isNaN(when.getTime()) ? Date.now() : when.getTime(); // a stored or sent value may be junk
    node.appendChild(el("time", "uwc-time", { datetime: new Date(ms).toISOString() }, clock(ms)));
    return node;
  }

  function quickReplies(buttons, disabled) {
    const group = el("div", "uwc-quick-replies", { role: "group", "aria-label": TEXT.quickReplies });
    for (const b of buttons) {
      const button = el("button", "uwc-quick-reply", { type: "button", "data-testid": "uwc-quick-reply" }, b.title);
      button.disabled = disabled;
      button.addEventListener("click", () => {
        if (!send(b.payload, b.title)) return;
        for (const other of group.querySelectorAll("button")) other.disabled = true;
        button.classList.add("uwc-quick-reply--chosen");
        ui.input.focus(); // the clicked button is disabled now and would drop the focus
      });
      group.appendChild(button);
    }
    return group;
  }

  function userBubble(item) {
    const node = renderMessage({ role: "user", text: item.display || item.message, ts: item.ts || Date.now() });
    node.setAttribute("data-status", "pending");
    userNodes.set(item.id, node);
    return node;
  }

  function addMessage(node, { prepend = false, stick = false } = {}) {
    const list = ui.messages;
    const nearBottom = list.scrollHeight - list.scrollTop - list.clientHeight < 80;
    if (prepend) list.insertBefore(node, list.firstChild);
    else list.appendChild(node);
    if (stick || nearBottom || prepend) list.scrollTop = list.scrollHeight;
  }

  const notice = (text) => addMessage(renderMessage({ role: "system", text, ts: Date.now() }), { stick: true });

  function showGreeting(target) {
    if (greetingShown || !GREETING.trim()) return;
    greetingShown = true;
    const node = renderMessage({ role: "bot", text: GREETING, ts: Date.now() });
    node.setAttribute("data-greeting", "true");
    if (target) target.appendChild(node);
    else addMessage(node);
  }

  function setStatus(text) {
    onBuilt(() => {
      ui.status.textContent = text || "";
      ui.status.hidden = !text;
    });
  }

  function setUnread(count) {
    unread = count;
    ui.badge.textContent = count > 99 ? "99+" : String(count);
    ui.badge.hidden = count === 0;
    if (count) ui.badge.setAttribute("aria-label", `${count} ${TEXT.unread}`);
    if (count) ui.launcher.setAttribute("aria-describedby", "uwc-badge");
    else ui.launcher.removeAttribute("aria-describedby");
  }

  function showTyping() {
    ui.typing.hidden = false;
    clearTimeout(typingTimer);
    typingTimer = setTimeout(hideTyping, TYPING_TIMEOUT_MS);
    const list = ui.messages;
    list.scrollTop = list.scrollHeight;
  }

  function hideTyping() {
    clearTimeout(typingTimer);
    if (ui.typing) ui.typing.hidden = true;
  }

  // --- sending ----------------------------------------------------------------------------
  function submitInput() {
    if (send(ui.input.value)) {
      ui.input.value = "";
      autoGrow();
    }
    ui.input.focus();
  }

  /** Queues a message (shown as `display`); false when it is empty or refused as too long.
   * `carried`: moved from a session the server refused for another user (moved once only). */
  function send(message, display, carried) {
    const text = String(message === null || message === undefined ? "" : message).trim();
    if (!text) return false;
    const length = Array.from(text).length; // code points, as the server counts them
    if (length > MAX_LENGTH) {
      notice(TEXT.tooLong(MAX_LENGTH, length));
      return false;
    }
    const item = { id: uuid(), message: text, display: display || text, ts: Date.now() };
    if (carried) item.carried = true;
    outbox.push(item);
    saveOutbox();
    addMessage(userBubble(item), { stick: true });
    if (canEmit()) emit(item);
    else connect();
    return true;
  }

  /** Uploads an image (the attach button, or a paste) with the session's proof; the server checks
   * its bytes and size again and stores it with the conversation, where the agent sees it. */
  async function sendImage(file) {
    if (!IMAGE_TYPES.includes(file.type)) return notice(TEXT.imageBadType);
    if (file.size > IMAGE_MAX_BYTES) return notice(TEXT.imageTooLarge);
    if (!sessionToken || !confirmed) {
      connect();
      return notice(TEXT.imageNotConnected);
    }
    const preview = URL.createObjectURL(file);
    const node = renderMessage({ role: "user", text: "", localImage: preview, ts: Date.now() });
    node.setAttribute("data-status", "pending");
    addMessage(node, { stick: true });
    const form = new FormData();
    form.append("session", sessionToken);
    form.append("image", file, "image");
    let message = "";
    try {
      const res = await fetch(`${SERVER_URL}/widget/upload`, { method: "POST", body: form, credentials: "omit" });
      if (!res.ok) {
        const body = await res.json().catch(() => null);
        message = body && typeof body.message === "string" && body.message.trim() ? body.message : TEXT.imageFailed;
      }
    } catch (e) {
      message = TEXT.imageFailed;
    }
    node.setAttribute("data-status", message ? "failed" : "sent");
    if (message) {
      node.appendChild(el("span", "uwc-msg-state", null, TEXT.failed));
      notice(message);
    }
  }

  const canEmit = () => Boolean(socket && socket.connected && confirmed && historyDone && sessionId);

  function emit(item) {
    const customData = { client_message_id: item.id };
    if (identityToken) customData.identity_token = identityToken;
    socket.emit("user_uttered", { message: item.message, session_id: sessionId, customData });
    if (!inflight.includes(item.id)) inflight.push(item.id);
    showTyping();
  }

  function flush() {
    if (canEmit()) outbox.slice().forEach(emit);
  }

  /** The server has the message ("sent"), or refused it ("failed"): it leaves the outbox. */
  function settle(id, status) {
    const index = outbox.findIndex((m) => m.id === id);
    if (index >= 0) {
      outbox.splice(index, 1);
      saveOutbox();
    }
    inflight = inflight.filter((x) => x !== id);
    const node = userNodes.get(id);
    if (!node) return;
    if (status === "sent") userNodes.delete(id); // an ack may still follow a guessed failure
    node.setAttribute("data-status", status);
    const label = node.querySelector(".uwc-msg-state");
    if (status === "failed" && !label) node.appendChild(el("span", "uwc-msg-state", null, TEXT.failed));
    if (status === "sent" && label) label.remove();
  }

  // --- connection ---------------------------------------------------------------------------
  function loadSocketIo() {
    return new Promise((resolve, reject) => {
      const previous = window.io; // the page may use another socket.io version: leave it theirs
      const tag = el("script", null, { src: SERVER_URL + "/widget/vendor/socket.io.min.js" });
      tag.async = true;
      tag.addEventListener("load", () => {
        const lib = window.io;
        if (previous !== undefined) window.io = previous;
        else delete window.io; // the widget keeps its own reference: no global left behind
        if (typeof lib === "function") resolve(lib);
        else reject(new Error("socket.io client missing"));
      });
      tag.addEventListener("error", () => reject(new Error("socket.io client failed to load")));
      document.head.appendChild(tag);
    });
  }

  function connect() {
    if (socket || socketLoading) return;
    socketLoading = true;
    setStatus(TEXT.connecting);
    loadSocketIo()
      .then((io) => {
        socketLoading = false;
        socket = io(SERVER.origin, { path: SERVER.path + "/socket.io" });
        wire(socket);
      })
      .catch(() => {
        socketLoading = false; // tried again on the next open, send or "online" event
        setStatus(TEXT.loadFailed);
      });
  }

  function wire(s) {
    s.on("connect", () => {
      everConnected = true;
      confirmed = false;
      inflight = [];
      setStatus("");
      requestSession(s);
    });
    s.on("disconnect", (reason) => {
      confirmed = false;
      hideTyping();
      if (reason === "io client disconnect") return; // reset() reconnects by itself
      setStatus(TEXT.reconnecting);
      if (reason === "io server disconnect") s.connect(); // the client does not retry this one
    });
    s.on("connect_error", () => {
      setStatus(everConnected ? TEXT.reconnecting : TEXT.connecting);
      if (!s.active) setTimeout(() => s.connect(), 5000); // refused by the server: no auto-retry
    });
    s.on("session_confirm", onSessionConfirm);
    s.on("message_ack", (data) => {
      if (data && typeof data.client_message_id === "string") settle(data.client_message_id, "sent");
    });
    s.on("bot_uttered", onBotMessage);
    s.on("wallet_error", onError);
  }

  /** Asks for the stored session (with its proof), or for a new one. */
  function requestSession(s) {
    confirmed = false;
    s.emit("session_request", { session_token: sessionToken || null });
  }

  function onSessionConfirm(data) {
    const proof = data && typeof data.session_token === "string" ? data.session_token : null;
    const id = proofSessionId(proof);
    if (!id || data.session_id !== id) return;
    const replaced = Boolean(sessionId) && id !== sessionId; // our proof was refused: a new session
    sessionId = id;
    sessionToken = proof;
    store.set(SESSION_KEY, proof);
    if (replaced) clearConversation({ keepOutbox: true, message: TEXT.expired });
    confirmed = true;
    if (!historyStarted) {
      historyStarted = true;
      const gen = generation;
      loadHistory(proof).then(() => {
        if (gen !== generation) return;
        historyDone = true;
        flush();
      });
    } else if (historyDone) {
      catchUp(proof).then(flush);
    }
  }

  /** After a reconnect: show what the server sent while this page was not connected. */
  async function catchUp(proof) {
    const gen = generation;
    const messages = await fetchHistory(proof);
    if (gen !== generation) return;
    const fromServer = messages.filter((raw) => raw && raw.role !== "user");
    for (const raw of fromServer.slice(seenFromServer)) {
      const m = normalize(raw, ROLES);
      if (m) addMessage(renderMessage(m, false));
    }
    seenFromServer = Math.max(seenFromServer, fromServer.length);
  }

  /** The session's messages from the server, for the holder of its proof; [] when the request
   * fails (history is a convenience). */
  async function fetchHistory(proof) {
    const controller = typeof AbortController === "function" ? new AbortController() : null;
    const timer = controller && setTimeout(() => controller.abort(), HISTORY_TIMEOUT_MS);
    try {
      const res = await fetch(`${SERVER_URL}/widget/history`, {
        method: "POST",
        body: proof,
        credentials: "omit",
        headers: { Accept: "application/json", "Content-Type": "text/plain;charset=UTF-8" },
        signal: controller ? controller.signal : undefined,
      });
      if (!res.ok) return [];
      const body = await res.json();
      return body && Array.isArray(body.messages) ? body.messages : [];
    } catch (e) {
      return [];
    } finally {
      clearTimeout(timer);
    }
  }

  async function loadHistory(proof) {
    const gen = generation;
    const messages = await fetchHistory(proof);
    if (gen !== generation) return;
    seenFromServer = messages.filter((raw) => raw && raw.role !== "user").length;
    const fragment = document.createDocumentFragment();
    for (const raw of messages) {
      const m = normalize(raw, ROLES);
      if (m) fragment.appendChild(renderMessage(m, true));
    }
    if (!fragment.childNodes.length) showGreeting(fragment);
    if (fragment.childNodes.length) addMessage(fragment, { prepend: true });
  }

  function onBotMessage(raw) {
    seenFromServer += 1;
    const m = normalize(raw, LIVE_ROLES);
    if (!m) return;
    if (!(raw && typeof raw.timestamp === "number")) m.ts = Date.now();
    if (m.role !== "system") hideTyping();
    addMessage(renderMessage(m, false));
    if (!isOpen && m.role !== "system") setUnread(unread + 1);
  }

  function onError(data) {
    hideTyping();
    const code = data && data.code;
    if (SESSION_LOST.includes(code)) {
      // Not this socket's session (nothing was processed): ask again; the outbox is re-sent.
      if (socket && socket.connected) requestSession(socket);
      return;
    }
    if (code === "identity_changed") {
      // The server keeps one user per session: continue in a new one, with what was unsent
      // (once; a refusal of a message this page no longer holds is old news).
      const refused = data && data.client_message_id;
      if (refused && !outbox.some((m) => m.id === refused)) return;
      const unsent = outbox.filter((m) => !m.carried);
      newConversation(TEXT.newUser);
      for (const m of unsent) send(m.message, m.display, true);
      return;
    }
    const message = data && typeof data.message === "string" && data.message.trim() ? data.message : TEXT.sendFailed;
    notice(message);
    let id = data && typeof data.client_message_id === "string" ? data.client_message_id : null;
    // Without an id, a refusal is about the oldest message sent on this connection and not acked.
    if (!id && REFUSALS.includes(code)) id = inflight[0] || null;
    if (id) settle(id, "failed");
  }

  // --- panel ---------------------------------------------------------------------------------
  function open(options) {
    const focus = !options || options.focus !== false;
    onBuilt(() => {
      isOpen = true;
      ui.panel.hidden = false;
      ui.launcher.hidden = true;
      ui.launcher.setAttribute("aria-expanded", "true");
      ui.root.classList.add("uwc-root--open");
      setUnread(0);
      ui.messages.scrollTop = ui.messages.scrollHeight;
      connect();
      if (focus) ui.input.focus();
    });
  }

  function close() {
    onBuilt(() => {
      if (!isOpen) return;
      isOpen = false;
      ui.panel.hidden = true;
      ui.launcher.hidden = false;
      ui.launcher.setAttribute("aria-expanded", "false");
      ui.root.classList.remove("uwc-root--open");
      ui.launcher.focus();
    });
  }

  /** The page's signed-in user (a token from its own server), or null when signed out. A token
   * for another user than the conversation's starts a new conversation; the same user keeps it. */
  function setIdentityToken(token) {
    if (token !== null && token !== undefined && typeof token !== "string") {
      throw new TypeError("UnitedWalletChat.setIdentityToken expects a string or null");
    }
    identityToken = token || null;
    const user = tokenUser(identityToken);
    if (!user) return; // signed out, or a token nobody can read: the server decides
    if (sessionUser && sessionUser !== user) {
      newConversation(TEXT.newUser); // one user's conversation is never shown to another
      return;
    }
    sessionUser = user;
    store.set(USER_KEY, user);
  }

  /** Forgets what is on screen and what the page knows of the old session's history. */
  function clearConversation({ keepOutbox = false, message = "" } = {}) {
    generation += 1; // a late history answer for the old session is dropped
    seenFromServer = 0;
    historyStarted = true; // a brand-new session has no history to fetch
    historyDone = true;
    if (!keepOutbox) {
      outbox = [];
      saveOutbox();
    }
    inflight = [];
    userNodes.clear();
    sessionUser = tokenUser(identityToken);
    store.set(USER_KEY, sessionUser);
    onBuilt(() => {
      hideTyping();
      ui.messages.replaceChildren();
      greetingShown = false;
      setUnread(0);
      showGreeting();
      if (message) notice(message);
      for (const item of outbox) addMessage(userBubble(item));
    });
  }

  /** A new server session: forgets the stored session, the outbox and what is on screen. */
  function newConversation(message) {
    sessionId = null;
    sessionToken = null;
    store.set(SESSION_KEY, null);
    clearConversation({ message });
    if (socket) {
      confirmed = false;
      socket.disconnect(); // leaves the old session's room on the server
      socket.connect(); // -> session_request {session_token: null} -> a new session
    }
  }

  /** A new conversation (the page's reset button, sign-out). */
  const reset = () => newConversation("");

  window.addEventListener("online", () => {
    if (ui.root && !socket && (isOpen || outbox.length)) connect();
  });

  window.UnitedWalletChat = Object.freeze({ open, close, setIdentityToken, reset });

  /** Loads the shared helpers, then builds the widget (again after "online" if loading failed). */
  let loading = false;
  function start() {
    if (loading || ui.root) return;
    loading = true;
    import(SERVER_URL + "/widget/shared.js")
      .then((shared) => {
        ({ el, clock, safeHttpUrl } = shared);
        if (document.body) build();
        else document.addEventListener("DOMContentLoaded", build, { once: true });
      })
      .catch((error) => {
        loading = false;
        console.error("联合钱包在线客服：组件加载失败", error); // e.g. this page's origin is not allowed (CORS)
      });
  }

  window.addEventListener("online", start);
  start();
})();
