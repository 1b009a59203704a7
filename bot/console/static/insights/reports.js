// The reports page: a date range (China days), the figures of /api/report as cards, charts and
// tables, and links to the CSV exports of the same range.
import { api, errorText, me } from "./api.js";
import { bars, doughnut, stackedBars } from "./charts.js";
import { $, clear, el, notice, supervisorPage } from "./dom.js";
import { CHANNELS, FLOWS, REASONS, STEPS, chinaDay, label, number, percent, seconds } from "./format.js";

let report = null;

function query() {
  const params = new URLSearchParams({ from: $("uwi-from").value, to: $("uwi-to").value });
  if ($("uwi-channel").value) params.set("channel", $("uwi-channel").value);
  return params;
}

function setRange(days) {
  const today = new Date();
  $("uwi-to").value = chinaDay(today);
  $("uwi-from").value = chinaDay(new Date(today.getTime() - (days - 1) * 86400 * 1000));
}

function card(title, value, detail, id) {
  return el("div", { class: "uwi-card", dataset: { testid: `uwi-card-${id}` } },
    el("span", { class: "uwi-card-title", text: title }),
    el("strong", { class: "uwi-card-value", text: value }),
    el("span", { class: "uwi-card-detail", text: detail || "" }));
}

function renderCards(r) {
  const t = r.totals;
  clear($("uwi-cards")).append(
    card("会话数", number(t.conversations), `转人工 ${t.handoffs} 个会话`, "conversations"),
    card("机器人自助率", percent(t.containment_rate), `${t.contained} 个会话未转人工`, "containment"),
    card("真实自助率", percent(t.true_containment_rate), `${r.recontact_hours} 小时内未再来（任何渠道）`, "true-containment"),
    card("转人工率", percent(t.handoff_rate), `${t.handoff_requests} 次请求`, "handoff-rate"),
    card("排队等待 p50 / p90", `${seconds(t.wait.p50)} / ${seconds(t.wait.p90)}`, `${t.wait.count} 次接入`, "wait"),
    card("首次响应 p50 / p90", `${seconds(t.first_response.p50)} / ${seconds(t.first_response.p90)}`, "从请求到客服第一句", "first-response"),
    card("解决时长 p50 / p90", `${seconds(t.resolution.p50)} / ${seconds(t.resolution.p90)}`, `${t.resolution.count} 次已解决`, "resolution"),
    card("满意度", r.csat.average === null ? "—" : `${r.csat.average} 分`, `${r.csat.count} 个评分`, "csat"),
  );
}

function table(node, header, rows) {
  clear(node).append(el("thead", {}, el("tr", {}, ...header.map((h) => el("th", { scope: "col", text: h })))));
  const body = el("tbody");
  for (const row of rows) body.append(el("tr", {}, ...row.map((c) => el("td", { text: c }))));
  if (!rows.length) body.append(el("tr", {}, el("td", { colspan: header.length, class: "uwi-empty", text: "该时段没有数据" })));
  node.append(body);
}

function renderDaily(r) {
  const days = [...new Set(r.daily.map((d) => d.day))];
  const channels = [...new Set(r.daily.map((d) => d.channel))];
  const count = (day, ch) => (r.daily.find((d) => d.day === day && d.channel === ch) || { conversations: 0 }).conversations;
  const perDay = days.map((day) => r.daily.filter((d) => d.day === day));
  const sum = (rows, key) => rows.reduce((n, d) => n + d[key], 0);
  const pct = (rows, key) => (sum(rows, "conversations") ? (100 * sum(rows, key)) / sum(rows, "conversations") : null);
  stackedBars($("uwi-chart-daily"), days,
    channels.map((ch) => ({ label: label(CHANNELS, ch), data: days.map((day) => count(day, ch)) })),
    [{ label: "自助率 %", data: perDay.map((rows) => pct(rows, "contained")) },
     { label: "真实自助率 %", data: perDay.map((rows) => pct(rows, "true_contained")) }]);
  table($("uwi-daily"), ["日期", "渠道", "会话", "自助", "真实自助", "转人工", "留言", "等待 p50", "等待 p90", "首次响应 p50", "解决 p50", "满意度"],
    [...r.daily, { day: "合计", channel: "", ...r.totals }].map((d) => [
      d.day, d.channel ? label(CHANNELS, d.channel) : "全部", d.conversations, percent(d.containment_rate),
      percent(d.true_containment_rate), percent(d.handoff_rate), d.messages_left, seconds(d.wait.p50), seconds(d.wait.p90),
      seconds(d.first_response.p50), seconds(d.resolution.p50), d.csat_average === null ? "—" : d.csat_average,
    ]));
}

function renderFunnel() {
  const funnel = report.funnels.find((f) => f.flow === $("uwi-flow").value) || report.funnels[0];
  if (!funnel) return;
  const names = ["开始", ...funnel.steps.map((s) => label(STEPS, s.step)), "完成"];
  const values = [funnel.started, ...funnel.steps.map((s) => s.reached), funnel.completed];
  bars($("uwi-chart-funnel"), names, values, "会话数", true);
  table($("uwi-funnel"), ["步骤", "到达", "在此离开"], [
    ["开始", funnel.started, funnel.left.start || 0],
    ...funnel.steps.map((s) => [label(STEPS, s.step), s.reached, funnel.left[s.step] || 0]),
    ["完成", funnel.completed, "—"],
  ]);
}

function render(r) {
  report = r;
  renderCards(r);
  renderDaily(r);
  const reasons = Object.entries(r.reasons);
  doughnut($("uwi-chart-reasons"), reasons.map(([k]) => label(REASONS, k)), reasons.map(([, v]) => v));
  bars($("uwi-chart-csat"), Object.keys(r.csat.distribution).map((s) => `${s} 分`), Object.values(r.csat.distribution), "评分数");
  const flow = $("uwi-flow");
  const chosen = flow.value;
  clear(flow).append(...r.funnels.map((f) => el("option", { value: f.flow, text: `${label(FLOWS, f.flow)}（${f.started}）` })));
  if (chosen) flow.value = chosen;
  renderFunnel();
  table($("uwi-agents"), ["客服", "评分数", "平均", "1 分", "2 分", "3 分", "4 分", "5 分"],
    [{ agent: "全部", ...r.csat }, ...r.csat.agents].map((a) => [a.agent, a.count, a.average === null ? "—" : a.average, ...Object.values(a.distribution)]));
  const left = r.messages_left;
  $("uwi-sla").textContent = String(left.sla_hours);
  table($("uwi-left"), ["留言", "时效内回复", "超时回复", "未回复（时效内）", "已超时未回复", "回复用时 p50"],
    [[left.count, left.answered_within_sla, left.answered_late, left.open_within_sla, left.overdue, seconds(left.answer_time.p50)]]);
  for (const link of document.querySelectorAll(".uwi-exports a")) {
    const params = query();
    params.set("table", link.dataset.table);
    link.href = `/console/insights/api/report.csv?${params}`;
  }
}

async function load() {
  notice("正在计算…", "info");
  try {
    render(await api("GET", `report?${query()}`));
    notice("", "info");
    document.body.dataset.loaded = "true";
  } catch (err) {
    notice(errorText(err), "error");
  }
}

async function start() {
  if (!(await supervisorPage(me, "只有主管可以查看报表。"))) return;
  const params = new URLSearchParams(location.search);
  if (params.get("from") && params.get("to")) {
    $("uwi-from").value = params.get("from");
    $("uwi-to").value = params.get("to");
  } else setRange(7);
  $("uwi-range").addEventListener("submit", (event) => {
    event.preventDefault();
    load();
  });
  for (const button of document.querySelectorAll(".uwi-quick button")) {
    button.addEventListener("click", () => {
      setRange(Number(button.dataset.days));
      load();
    });
  }
  $("uwi-flow").addEventListener("change", renderFunnel);
  load();
}

start();
