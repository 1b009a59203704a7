// The review queue: list the messages for review, label each with an intent or "ignore".
import { api, errorText, me } from "./api.js";
import { $, clear, el, notice, supervisorPage } from "./dom.js";
import { CHANNELS, SOURCES, chinaTime, label } from "./format.js";

const state = { status: "open", intents: [], ignore: "ignore" };

function picker(item) {
  const select = el("select", { class: "uwa-input", "aria-label": "意图", dataset: { testid: "uwi-label-select" } },
    el("option", { value: "", text: "选择意图…" }),
    el("option", { value: state.ignore, text: "忽略（不作为训练数据）" }),
    ...state.intents.map((intent) => el("option", { value: intent, text: intent })));
  if (item.label) select.value = item.label;
  // a misread or fallback message is, by definition, not what the bot took it for
  else if (item.source !== "misread" && item.source !== "fallback" && state.intents.includes(item.intent)) select.value = item.intent;
  const button = el("button", { class: "uwa-btn uwa-btn--primary", type: "button", text: "保存", dataset: { testid: "uwi-label-save" } });
  button.addEventListener("click", async () => {
    if (!select.value) return notice("请先选择意图或“忽略”。", "error");
    button.disabled = true;
    try {
      const { item: saved } = await api("POST", `review/${item.id}/label`, { label: select.value });
      notice(`已标注为 ${saved.label}`, "ok");
      await refresh();
    } catch (err) {
      notice(errorText(err), "error");
      button.disabled = false;
    }
  });
  return el("td", { class: "uwi-label" }, select, button);
}

function row(item) {
  const guess = item.intent ? `${item.intent}${item.confidence === null ? "" : `（${item.confidence}）`}` : "—";
  return el("tr", { dataset: { testid: "uwi-item", source: item.source, id: String(item.id) } },
    el("td", { text: chinaTime(item.at) }),
    el("td", { text: label(CHANNELS, item.channel) }),
    el("td", { text: label(SOURCES, item.source) }),
    el("td", { class: "uwi-text", text: item.text, dataset: { testid: "uwi-item-text" } }),
    el("td", { text: item.label ? `${guess} → ${item.label}` : guess }),
    picker(item));
}

async function refresh() {
  try {
    const { items } = await api("GET", `review?status=${state.status}`);
    const body = clear($("uwi-items"));
    for (const item of items) body.append(row(item));
    if (!items.length) body.append(el("tr", {}, el("td", { colspan: 6, class: "uwi-empty", text: "没有消息" })));
    $("uwi-count").textContent = `${items.length} 条`;
    document.body.dataset.loaded = "true";
  } catch (err) {
    notice(errorText(err), "error");
  }
}

async function start() {
  if (!(await supervisorPage(me, "只有主管可以审核消息。"))) return;
  try {
    const found = await api("GET", "intents");
    state.intents = found.intents;
    state.ignore = found.ignore;
  } catch (err) {
    notice(errorText(err), "error");
    return;
  }
  for (const button of document.querySelectorAll(".uwi-filter button")) {
    button.addEventListener("click", () => {
      state.status = button.dataset.status;
      for (const other of document.querySelectorAll(".uwi-filter button")) other.setAttribute("aria-pressed", String(other === button));
      refresh();
    });
  }
  refresh();
}

start();
