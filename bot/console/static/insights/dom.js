// DOM helpers: every piece of data goes in as text, never as HTML.
export const $ = (id) => document.getElementById(id);

export function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key === "class") node.className = value;
    else if (key === "text") node.textContent = String(value);
    else if (key === "dataset") Object.assign(node.dataset, value);
    else node.setAttribute(key, value === true ? "" : String(value));
  }
  for (const child of children) {
    if (child === null || child === undefined) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

export function clear(node) {
  while (node.firstChild) node.removeChild(node.firstChild);
  return node;
}

export function show(node, visible) {
  node.hidden = !visible;
}

/** Shows a message in the page's notice area. */
export function notice(text, kind) {
  const box = $("uwi-notice");
  box.textContent = text || "";
  box.dataset.kind = kind || "info";
  box.hidden = !text;
}

/** The signed-in supervisor, named in the header with the page shown; null for anyone else
 * (what they are told, `refused` for an agent, in the notice). */
export async function supervisorPage(me, refused) {
  const agent = await me();
  if (!agent || agent.role !== "supervisor") {
    notice(agent ? refused : "请先在工作台登录主管账号。", "error");
    return null;
  }
  $("uwi-me").textContent = agent.display_name || agent.username || "";
  show($("uwi-main"), true);
  return agent;
}
