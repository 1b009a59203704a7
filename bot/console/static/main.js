/*!
 * 联合钱包 人工客服工作台 (agent console): human agents take conversations over from the bot.
 * ES modules, no framework, no build step; this one wires the page (console.html) to the others:
 *   api.js (requests), state.js (state and DOM references), labels.js, format.js, dom.js,
 *   notice.js, session.js, tabs.js, queue.js, conversation.js, messages.js, reply.js, steps.js,
 *   context.js, left.js, overview.js, live.js; and shared.js, the helpers the chat widget uses too
 *   (bot/widget/shared.js, served here by bot/handoff/console.py and at /widget/shared.js).
 * The Rasa server serves GET /console/ (console.html) and /console/static/<file>; the API lives
 * at ../api/ from these modules (/console/api/):
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
 *   GET  conversations/{id}/suggestions  -> {suggestions: [{text}]}
 *   GET  conversations/{id}/context      -> {notes, tags, tag_choices, bot, customer, previous} (context.js)
 *   POST conversations/{id}/notes {text} -> 201 {note, notes}; POST …/tags | …/tags/remove {tag} -> {tags}
 *   GET  attachments/{id}                -> the image a user sent (shown in the transcript)
 *   GET  messages[?state=answered], messages/{id}; POST messages/{id}/reply {text} | callback {note}
 *   POST me/status {status}
 * A Handoff has {channel, window: {closes_at, open} | null (WeChat's 48 h), undelivered: n}; a delivery is
 * {delivered, reason, explanation}: what did not reach the user is marked, with the reason, and told at once.
 *   GET  agents -> {agents}   GET canned -> {replies}   GET audit -> {entries} (supervisors only)
 *   GET  events  Server-Sent Events (live.js); plus a 20 s poll.
 * Errors are {error, message} with a 4xx status: shown in the notice area; 401 -> the login form.
 * Everything from the server is rendered as text (createElement/textContent, never innerHTML).
 */
import { ApiError, api, errorText } from "./api.js";
import { addNote, addTag } from "./context.js";
import { scrollToBottom, transcriptScrolled } from "./conversation.js";
import { answerLeft, loadLeft } from "./left.js";
import { scheduleRefresh } from "./live.js";
import { hideNotice } from "./notice.js";
import { loadAudit } from "./overview.js";
import { replyKeys, sendReply, useCanned } from "./reply.js";
import { login, logout, setStatus, showLogin, startSession } from "./session.js";
import { state, ui, grab } from "./state.js";
import { confirmResolve, confirmTransfer, handBack, openResolve, openTransfer } from "./steps.js";
import { selectTab, tabKeys } from "./tabs.js";

async function boot() {
  grab();
  const wiring = [
    [ui.loginForm, "submit", login], [ui.logout, "click", logout], [ui.noticeClose, "click", hideNotice],
    [ui.tabs, "keydown", tabKeys], [ui.send, "click", sendReply], [ui.reply, "keydown", replyKeys],
    [ui.reply, "compositionstart", () => (state.composing = true)],
    [ui.reply, "compositionend", () => (state.composing = false)],
    [ui.canned, "change", useCanned], [ui.transcript, "scroll", transcriptScrolled], [ui.jump, "click", scrollToBottom],
    [ui.handback, "click", handBack],
    [ui.transfer, "click", openTransfer], [ui.transferForm, "submit", confirmTransfer],
    [ui.transferCancel, "click", () => ui.transferDialog.close()], [ui.resolve, "click", openResolve],
    [ui.resolveForm, "submit", confirmResolve], [ui.resolveCancel, "click", () => ui.resolveDialog.close()],
    [ui.transferDialog, "close", () => state.canAct && ui.transfer.focus()],
    [ui.resolveDialog, "close", () => state.canAct && ui.resolve.focus()], [ui.auditRefresh, "click", loadAudit],
    [ui.leftState, "change", loadLeft], [ui.leftSend, "click", () => answerLeft("reply")],
    [ui.leftCallback, "click", () => answerLeft("callback")], [ui.status, "change", setStatus],
    [ui.ctxNoteForm, "submit", addNote], [ui.ctxTagForm, "submit", addTag],
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

// A module runs after the document is parsed (like a deferred script).
boot();
