/** The console's fixed labels: what the server's codes are called on screen. */

export const POLL_MS = 20000;
export const TIMEOUT_MS = 15000;
export const ROLES = ["user", "bot", "agent", "system"];
export const PRIORITY = { urgent: "紧急", high: "高", normal: "普通" };
export const CHANNEL = { socketio: "网页", rest: "REST", wechat: "微信", telegram: "Telegram" };
export const STATUS = { pending: "排队中", assigned: "处理中", returned: "已转回智能客服", resolved: "已结束",
  cancelled: "用户已取消", message_left: "已转留言" };
export const ACTION = { login: "登录", logout: "退出登录", take: "接入会话", reply: "发送消息", message: "发送消息",
  transfer: "转接", hand_back: "转回智能客服", handback: "转回智能客服", resolve: "结束会话", cancel: "用户取消排队",
  leave_message: "用户留言", expire: "排队超时转留言", agent_added: "添加客服", agent_enabled: "启用客服",
  agent_disabled: "停用客服", password_set: "设置密码", undelivered: "消息未送达",
  message_ticket: "留言已登记工单", message_answered: "在线回复留言", message_called_back: "留言已回访",
  message_unreachable: "留言回复未送达", assign: "自动分配", unanswered: "超时未回复，转回排队", status: "设置状态",
  note: "添加备注", tag_added: "添加标签", tag_removed: "移除标签" };
export const PRESENCE = { online: "在线", busy: "忙碌", away: "离开" };
export const ERRORS = { // by error code, then by status; a Chinese message from the server wins over these
  invalid_credentials: "用户名或密码错误。", rate_limited: "操作过于频繁，请稍后再试。",
  network: "网络异常，无法连接服务器，请稍后重试。", timeout: "服务器响应超时，请稍后重试。",
  403: "没有权限执行此操作。", 404: "会话不存在或已结束。", 409: "会话状态已变化，请刷新后重试。",
  413: "内容过长，请精简后再发送。", 429: "操作过于频繁，请稍后再试。", 500: "服务器暂时不可用，请稍后重试。",
};
export const FIXED = { already_taken: "已被其他客服接入" }; // always this text, whatever the server says
export const NO_CANNED = "选择一条常用回复…";
export const ATTACHMENT_ID = /^[a-z]{28}$/;
export const ACCOUNT_STATUS = { active: "正常", locked: "已锁定", frozen: "已冻结" };
export const TICKET_STATUS = { open: "处理中", pending: "待处理", closed: "已关闭" };
