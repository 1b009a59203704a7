// The simulator page: a WeChat user's chat with the account, polled from the fake WeChat.
// Everything is rendered as text (textContent), never as HTML.

const VIA = { passive: "被动回复", custom: "客服消息", message: "", system: "" };
const POLL_MS = 800;

const $ = (id) => document.getElementById(id);
const state = { openid: "", after: 0, polling: false, menuKey: "" };

async function api(path, body) {
  const options = body === undefined
    ? {}
    : { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) };
  const response = await fetch(path, options);
  const data = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(data.error || `HTTP ${response.status}`);
  return data;
}

function newOpenid() {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-";
  const bytes = crypto.getRandomValues(new Uint8Array(27));
  return "o" + Array.from(bytes, (b) => alphabet[b % alphabet.length]).join("");
}

function setUser(openid) {
  state.openid = openid;
  state.after = 0;
  localStorage.setItem("wechat-sim-openid", openid);
  $("openid").value = openid;
  $("sender").textContent = `wechat:${openid}`;
  $("chat").replaceChildren();
  $("deliveries").replaceChildren();
}

function line(side, text, via, detail) {
  const item = document.createElement("li");
  item.dataset.side = side;
  item.dataset.testid = "sim-line";
  if (via && VIA[via]) {
    const label = document.createElement("span");
    label.className = "via";
    label.textContent = VIA[via];
    item.append(label);
  }
  item.append(document.createTextNode(text));
  if (detail) item.title = detail;
  return item;
}

function showEntries(entries) {
  const chat = $("chat");
  for (const entry of entries) {
    chat.append(line(entry.side, entry.text, entry.via, entry.detail));
    state.after = Math.max(state.after, entry.seq);
  }
  if (entries.length) chat.scrollTop = chat.scrollHeight;
}

function showDeliveries(deliveries) {
  const list = $("deliveries");
  for (const delivery of deliveries) {
    const item = document.createElement("li");
    item.dataset.ok = String(delivery.errcode === 0);
    const outcome = delivery.errcode === 0 ? "已送达" : `被拒绝 errcode ${delivery.errcode}`;
    item.textContent = `${delivery.msgtype}（${outcome}）${delivery.text ? "：" + delivery.text : ""}`;
    list.append(item);
  }
}

function showMenu(buttons) {
  const key = JSON.stringify(buttons);
  if (key === state.menuKey) return;
  state.menuKey = key;
  const menu = $("menu");
  menu.replaceChildren();
  menu.hidden = buttons.length === 0;
  for (const button of buttons) {
    const element = document.createElement("button");
    element.type = "button";
    element.textContent = button.group ? `${button.group}·${button.name}` : button.name;
    element.addEventListener("click", () => send({ kind: "click", key: button.key, label: button.name }));
    menu.append(element);
  }
}

async function poll() {
  if (state.polling || !state.openid) return;
  state.polling = true;
  const openid = state.openid;
  try {
    const data = await api(`/api/timeline?openid=${encodeURIComponent(openid)}&after=${state.after}`);
    if (openid === state.openid) {
      showDeliveries(data.deliveries);
      showEntries(data.entries);
      showMenu(data.menu);
    }
  } catch (error) {
    $("check-result").textContent = `模拟器无响应：${error.message}`;
  } finally {
    state.polling = false;
  }
}

async function send(message) {
  const buttons = document.querySelectorAll(".composer button, .tools button");
  buttons.forEach((b) => { b.disabled = true; });
  try {
    await api("/api/send", { openid: state.openid, ...message });
  } catch (error) {
    $("chat").append(line("notice", `发送失败：${error.message}`));
  } finally {
    buttons.forEach((b) => { b.disabled = false; });
    poll();
  }
}

function wire() {
  $("composer").addEventListener("submit", (event) => {
    event.preventDefault();
    const text = $("text").value;
    if (!text.trim()) return;
    $("text").value = "";
    send({ kind: "text", text });
  });
  $("send-image").addEventListener("click", () => send({ kind: "image" }));
  $("send-voice").addEventListener("click", () => {
    const text = $("text").value.trim();
    if (!text) { $("text").placeholder = "先在输入框写下语音的内容"; return; }
    $("text").value = "";
    send({ kind: "voice", recognition: text });
  });
  $("send-voice-raw").addEventListener("click", () => send({ kind: "voice" }));
  $("subscribe").addEventListener("click", () => send({ kind: "subscribe" }));
  $("unsubscribe").addEventListener("click", () => send({ kind: "unsubscribe" }));
  $("new-user").addEventListener("click", () => setUser(newOpenid()));
  $("openid").addEventListener("change", () => {
    const value = $("openid").value.trim();
    if (/^[A-Za-z0-9_-]{1,64}$/.test(value)) setUser(value);
  });
  $("check").addEventListener("click", async () => {
    $("check-result").textContent = "检查中…";
    try {
      const result = await api("/api/handshake", {});
      $("check-result").textContent = result.ok ? "渠道握手成功" : `渠道握手失败（${result.detail}）`;
    } catch (error) {
      $("check-result").textContent = `检查失败：${error.message}`;
    }
  });
  for (const button of document.querySelectorAll("[data-fault]")) {
    button.addEventListener("click", async () => {
      const body = { action: button.dataset.fault, openid: state.openid };
      if (body.action === "delay") body.seconds = Number($("delay").value || 0);
      try {
        $("fault-result").textContent = (await api("/api/fault", body)).done;
      } catch (error) {
        $("fault-result").textContent = error.message;
      }
    });
  }
}

async function start() {
  const config = await api("/api/config");
  $("channel").textContent = config.channel;
  $("mode").textContent = { plain: "明文模式", safe: "安全模式", compat: "兼容模式" }[config.mode] || config.mode;
  wire();
  setUser(localStorage.getItem("wechat-sim-openid") || newOpenid());
  setInterval(poll, POLL_MS);
  poll();
}

start();
