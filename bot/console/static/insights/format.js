// How figures and names are shown.
export const CHANNELS = { widget: "网页", wechat: "微信", telegram: "Telegram", rest: "REST", other: "其他" };
export const REASONS = {
  user_request: "用户要求",
  not_understood: "机器人未理解",
  flow_unresolved: "流程未解决",
  security_urgent: "安全紧急",
};
export const FLOWS = {
  password_reset_form: "找回密码",
  transaction_form: "交易失败",
  update_form: "修改账户信息",
  security_form: "账户安全",
  complaint_form: "投诉",
};
export const STEPS = {
  start: "开始（未答第一问）",
  reset_contact: "注册手机号/邮箱",
  identity_contact: "验证：联系方式",
  identity_code: "验证：验证码",
  transaction_id: "选择交易",
  account_field: "要修改的信息",
  new_value: "新的值",
  confirm_update: "确认修改",
  freeze_confirm: "是否冻结",
  complaint_category: "投诉类别",
  complaint_description: "问题描述",
  complaint_time: "发生时间",
  complaint_evidence: "凭证",
};
export const SOURCES = { fallback: "兜底回复", low_confidence: "低置信度", misread: "答非所问（用户纠正）", handoff: "转人工首句" };

export const label = (map, key) => map[key] || key;

export function percent(value) {
  return value === null || value === undefined ? "—" : `${(value * 100).toFixed(1)}%`;
}

export function seconds(value) {
  if (value === null || value === undefined) return "—";
  if (value < 60) return `${Math.round(value)} 秒`;
  if (value < 3600) return `${(value / 60).toFixed(1)} 分钟`;
  return `${(value / 3600).toFixed(1)} 小时`;
}

export function number(value) {
  return value === null || value === undefined ? "—" : String(value);
}

/** A day as YYYY-MM-DD in China time. */
export function chinaDay(date) {
  const china = new Date(date.getTime() + 8 * 3600 * 1000);
  return china.toISOString().slice(0, 10);
}

export function chinaTime(unixSeconds) {
  const china = new Date(unixSeconds * 1000 + 8 * 3600 * 1000);
  return china.toISOString().slice(0, 16).replace("T", " ");
}
