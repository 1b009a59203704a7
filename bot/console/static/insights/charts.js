// Charts with Chart.js (npm, pinned in package-lock.json, served from ./vendor/ by the Rasa
// server). Without it the page still shows every figure in its tables.
const PALETTE = ["#1677ff", "#52c41a", "#faad14", "#f5222d", "#722ed1", "#13c2c2", "#eb2f96"];
const charts = new Map();

export const available = () => typeof window.Chart === "function";

function draw(canvas, config) {
  if (!available()) return null;
  const old = charts.get(canvas.id);
  if (old) old.destroy();
  const chart = new window.Chart(canvas, {
    ...config,
    options: { responsive: true, maintainAspectRatio: false, animation: false, ...(config.options || {}) },
  });
  charts.set(canvas.id, chart);
  return chart;
}

export function stackedBars(canvas, labels, series, lines) {
  const datasets = series.map((s, i) => ({ type: "bar", label: s.label, data: s.data, backgroundColor: PALETTE[i % PALETTE.length], stack: "c", yAxisID: "y" }));
  for (const [i, line] of (lines || []).entries()) {
    datasets.push({ type: "line", label: line.label, data: line.data, borderColor: PALETTE[(i + 3) % PALETTE.length], yAxisID: "rate", tension: 0.2 });
  }
  return draw(canvas, {
    data: { labels, datasets },
    options: {
      scales: {
        x: { stacked: true },
        y: { stacked: true, beginAtZero: true, ticks: { precision: 0 }, title: { display: true, text: "会话数" } },
        rate: { position: "right", min: 0, max: 100, grid: { drawOnChartArea: false }, title: { display: true, text: "%" } },
      },
    },
  });
}

export function bars(canvas, labels, data, title, horizontal) {
  return draw(canvas, {
    type: "bar",
    data: { labels, datasets: [{ label: title, data, backgroundColor: PALETTE[0] }] },
    options: {
      indexAxis: horizontal ? "y" : "x",
      plugins: { legend: { display: false } },
      scales: { [horizontal ? "x" : "y"]: { beginAtZero: true, ticks: { precision: 0 } } },
    },
  });
}

export function doughnut(canvas, labels, data) {
  return draw(canvas, {
    type: "doughnut",
    data: { labels, datasets: [{ data, backgroundColor: labels.map((_, i) => PALETTE[i % PALETTE.length]) }] },
    options: { plugins: { legend: { position: "right" } } },
  });
}
