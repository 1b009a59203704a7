"""The console's HTTP edge: request bodies, text fields, and errors mapped to responses.

Every error is ``{"error", "message"}`` with the status its exception carries; messages are
fixed texts and never contain what the client sent.
"""

from __future__ import annotations

import json
import logging
import unicodedata
from collections.abc import Awaitable, Callable
from functools import wraps
from typing import Any

from sanic import response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.handoff import errors

logger = logging.getLogger(__name__)
MAX_BODY_BYTES = 32 * 1024
MAX_TEXT = 2000
CSRF_HEADER = "x-console-request"
Handler = Callable[..., Awaitable[HTTPResponse | None]]

MESSAGES = {
    "unauthorized": "请先登录。",
    "invalid_credentials": "用户名或密码不正确。",
    "forbidden": "只有接待该会话的客服或主管可以操作。",
    "not_found": "会话不存在。",
    "attachment_not_found": "图片不存在，或您无权查看。",
    "rate_limited": "登录尝试过于频繁，请稍后再试。",
    "store_unavailable": "服务暂时不可用，请稍后重试。",
    "handoff_not_running": "服务暂时不可用，请稍后重试。",
    "payload_too_large": "请求内容过长。",
    "csrf": "Missing X-Console-Request header.",
}


class PayloadTooLarge(errors.HandoffError):
    """The request body is larger than the console accepts."""

    status = 413
    code = "payload_too_large"


class MissingCsrfHeader(errors.HandoffError):
    """A POST without the ``X-Console-Request: 1`` header (a cross-site form cannot send it)."""

    status = 403
    code = "csrf"


def error_response(error: errors.HandoffError) -> HTTPResponse:
    """The JSON response of a handoff error (its status, its code, a fixed message)."""
    if isinstance(error, errors.Conflict | errors.InvalidInput):
        message = str(error)[:200]  # the store's own fixed texts, never the input
    else:
        message = MESSAGES.get(error.code, "操作失败，请稍后重试。")
    headers = {}
    if isinstance(error, errors.Throttled):
        headers["Retry-After"] = str(error.retry_after)
    return response.json({"error": error.code, "message": message}, status=error.status, headers=headers)


def guarded(handler: Handler) -> Handler:
    """Map the handoff's errors to their responses; anything else is a logged 500."""

    @wraps(handler)
    async def wrapped(request: Request, *args: Any, **kwargs: Any) -> HTTPResponse | None:
        try:
            return await handler(request, *args, **kwargs)
        except errors.HandoffError as error:
            if isinstance(error, errors.StoreUnavailable):
                logger.warning("console: the handoff store is unavailable")
            return error_response(error)

    return wrapped


def check_csrf(request: Request) -> None:
    """MissingCsrfHeader unless a POST carries ``X-Console-Request: 1``."""
    if request.method == "POST" and request.headers.get(CSRF_HEADER) != "1":
        raise MissingCsrfHeader("missing header")


def json_body(request: Request) -> dict[str, Any]:
    """The body as a JSON object (an empty body is ``{}``).

    Raises:
        PayloadTooLarge: more than 32 KiB.
        InvalidInput: not JSON, not UTF-8, or not an object.
    """
    raw = request.body or b"{}"
    if len(raw) > MAX_BODY_BYTES:
        raise PayloadTooLarge("body too large")
    try:
        data = json.loads(raw.decode("utf-8"))
    except (ValueError, UnicodeDecodeError) as error:
        raise errors.InvalidInput("请求内容不是有效的 JSON。") from error
    if not isinstance(data, dict):
        raise errors.InvalidInput("请求内容必须是 JSON 对象。")
    return data


def _printable(value: str) -> bool:
    return not any(unicodedata.category(c) == "Cc" and c not in "\n\r\t" for c in value)


def text_field(data: dict[str, Any], key: str, required: bool = True) -> str:
    """A text of 1 (0 if not required) to 2000 characters without control characters, stripped."""
    value = data.get(key, "")
    if (
        not isinstance(value, str)
        or (required and not value.strip())
        or len(value) > MAX_TEXT
        or not _printable(value)
    ):
        raise errors.InvalidInput(f"{key} 必须是 1 到 {MAX_TEXT} 个字符的文本。")
    return value.strip()
