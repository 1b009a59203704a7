"""A fake Telegram Bot API on 127.0.0.1, for tests of the Telegram channel.

It answers as Telegram does (``application/json``, ``{"ok": true, "result": …}``, or
``{"ok": false, "error_code", "description", "parameters"?}``), reads requests as aiogram
sends them (form data, ``reply_markup`` as a JSON string; JSON bodies too) at
``/bot<token>/<method>``, checks what Telegram checks (the token; an empty or over-long text;
callback_data of 1-64 bytes), and records every call, refused ones included. Tests can make
it answer 429 with ``retry_after``, 403 "bot was blocked by the user" for a chat, or any error.

It runs in a thread of the test process (a ``ThreadingHTTPServer``), so it serves a Rasa
server in another process as well as a channel in the test's own event loop.
"""

from __future__ import annotations

import email.parser
import email.policy
import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

TOKEN = "123456:ABCdefGhIJKlmNoPQRsTUVwxyZ0123456789"
BLOCKED = "Forbidden: bot was blocked by the user"


@dataclass
class Call:
    """One request the fake received."""

    method: str
    params: dict[str, Any]
    status: int
    at: float = field(default_factory=time.monotonic)

    @property
    def chat_id(self) -> int | None:
        """The chat the call addressed, if any."""
        raw = self.params.get("chat_id")
        try:
            return int(raw) if raw is not None else None
        except (TypeError, ValueError):
            return None

    @property
    def text(self) -> str:
        """The text sent (sendMessage) or shown (answerCallbackQuery)."""
        return str(self.params.get("text") or "")

    @property
    def buttons(self) -> list[dict[str, Any]]:
        """The inline keyboard's buttons, row after row."""
        markup = self.params.get("reply_markup")
        rows = markup.get("inline_keyboard", []) if isinstance(markup, dict) else []
        return [button for row in rows for button in row]


@dataclass
class _Failure:
    method: str
    status: int
    description: str
    times: int
    retry_after: int | None = None


def _utf16_units(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


class FakeBotApi:
    """The fake server; use as a context manager or call start() and stop()."""

    def __init__(self, token: str = TOKEN) -> None:
        """Prepare the fake for ``token`` (requests for another token get 401)."""
        self.token = token
        self.calls: list[Call] = []
        self.webhook: dict[str, Any] | None = None
        self._blocked: set[int] = set()
        self._failures: list[_Failure] = []
        self._lock = threading.Condition()
        self._message_ids = 0
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # --- running --------------------------------------------------------------------
    @property
    def base_url(self) -> str:
        """What TELEGRAM_API_BASE is set to."""
        assert self._server is not None, "the fake is not running"
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def start(self) -> FakeBotApi:
        """Serve on a free port of 127.0.0.1."""
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="fake-bot-api", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> FakeBotApi:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- behaviour ------------------------------------------------------------------
    def block(self, chat_id: int) -> None:
        """The user of ``chat_id`` blocks the bot: every send to it gets 403."""
        with self._lock:
            self._blocked.add(chat_id)

    def unblock(self, chat_id: int) -> None:
        """The user unblocks the bot."""
        with self._lock:
            self._blocked.discard(chat_id)

    def throttle(self, method: str, times: int = 1, retry_after: int = 1) -> None:
        """Answer the next ``times`` calls of ``method`` with 429 and ``retry_after``."""
        self.fail(method, 429, f"Too Many Requests: retry after {retry_after}", times, retry_after)

    def fail(
        self, method: str, status: int, description: str, times: int = 1, retry_after: int | None = None
    ) -> None:
        """Answer the next ``times`` calls of ``method`` with this error."""
        with self._lock:
            self._failures.append(_Failure(method, status, description, times, retry_after))

    def reset(self) -> None:
        """Forget calls, failures and blocks."""
        with self._lock:
            self.calls.clear()
            self._failures.clear()
            self._blocked.clear()

    # --- what it received -----------------------------------------------------------
    def calls_to(self, method: str, chat_id: int | None = None, ok: bool | None = None) -> list[Call]:
        """The calls of ``method`` (to ``chat_id``; only answered, or only refused, ones)."""
        with self._lock:
            found = [c for c in self.calls if c.method == method]
        if chat_id is not None:
            found = [c for c in found if c.chat_id == chat_id]
        if ok is not None:
            found = [c for c in found if (c.status == 200) is ok]
        return found

    def wait_for(
        self,
        method: str,
        chat_id: int | None = None,
        count: int = 1,
        timeout: float = 30.0,
        where: Callable[[Call], bool] | None = None,
    ) -> list[Call]:
        """Wait until at least ``count`` answered calls match; they are returned.

        Raises:
            AssertionError: not within ``timeout`` seconds (with what did arrive).
        """
        deadline = time.monotonic() + timeout
        with self._lock:
            while True:
                found = [
                    c
                    for c in self.calls
                    if c.method == method
                    and c.status == 200
                    and (chat_id is None or c.chat_id == chat_id)
                    and (where is None or where(c))
                ]
                if len(found) >= count:
                    return found
                left = deadline - time.monotonic()
                if left <= 0:
                    seen = [(c.method, c.chat_id, c.status, c.text[:60]) for c in self.calls[-10:]]
                    raise AssertionError(f"{count} × {method} not received in {timeout}s; last calls: {seen}")
                self._lock.wait(min(left, 0.2))

    # --- answering ------------------------------------------------------------------
    def answer(self, token: str, method: str, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        """The status and JSON body for one call (and its record)."""
        status, body = self._answer(token, method, params)
        with self._lock:
            self.calls.append(Call(method, params, status))
            self._lock.notify_all()
        return status, body

    def _answer(self, token: str, method: str, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        if token != self.token:
            return _error(401, "Unauthorized")
        with self._lock:
            for failure in self._failures:
                if failure.method == method and failure.times > 0:
                    failure.times -= 1
                    extra = {"retry_after": failure.retry_after} if failure.retry_after is not None else None
                    return _error(failure.status, failure.description, extra)
            chat = Call(method, params, 0).chat_id
            if chat is not None and chat in self._blocked and method.startswith("send"):
                return _error(403, BLOCKED)
        return self._result(method, params)

    def _result(self, method: str, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        if method in ("sendMessage", "sendPhoto"):
            if Call(method, params, 0).chat_id is None:
                return _error(400, "Bad Request: chat not found")
            problem = _message_problem(method, params)
            if problem:
                return _error(400, problem)
            with self._lock:
                self._message_ids += 1
                message_id = self._message_ids
            message = {
                "message_id": message_id,
                "date": int(time.time()),
                "chat": {"id": int(params["chat_id"]), "type": "private"},
            }
            if method == "sendMessage":
                message["text"] = params["text"]
            return _ok(message)
        if method == "setWebhook":
            self.webhook = dict(params)
            return _ok(True)
        if method == "deleteWebhook":
            self.webhook = None
            return _ok(True)
        if method == "getWebhookInfo":
            hook = self.webhook or {}
            info = {"url": hook.get("url", ""), "has_custom_certificate": False, "pending_update_count": 0}
            if hook:
                info["allowed_updates"] = hook.get("allowed_updates")
                info["max_connections"] = int(hook.get("max_connections") or 40)
            return _ok(info)
        if method == "getMe":
            bot_id = int(self.token.split(":")[0])
            return _ok(
                {"id": bot_id, "is_bot": True, "first_name": "联合钱包客服", "username": "uw_test_bot"}
            )
        if method in ("answerCallbackQuery", "editMessageReplyMarkup", "sendChatAction"):
            return _ok(True)
        return _error(404, "Not Found: method not found")


def _message_problem(method: str, params: dict[str, Any]) -> str | None:
    if method == "sendMessage":
        text = params.get("text")
        if not isinstance(text, str) or not text.strip():
            return "Bad Request: message text is empty"
        if _utf16_units(text) > 4096:
            return "Bad Request: message is too long"
    markup = params.get("reply_markup")
    if markup is not None:
        rows = markup.get("inline_keyboard") if isinstance(markup, dict) else None
        if not isinstance(rows, list):
            return "Bad Request: can't parse reply keyboard markup JSON object"
        for button in (b for row in rows for b in row):
            data = button.get("callback_data")
            if data is not None and not 1 <= len(str(data).encode("utf-8")) <= 64:
                return "Bad Request: BUTTON_DATA_INVALID"
            if not str(button.get("text") or "").strip():
                return "Bad Request: text buttons are unallowed in the inline keyboard"
    return None


def _ok(result: Any) -> tuple[int, dict[str, Any]]:
    return 200, {"ok": True, "result": result}


def _error(
    status: int, description: str, parameters: dict[str, Any] | None = None
) -> tuple[int, dict[str, Any]]:
    body: dict[str, Any] = {"ok": False, "error_code": status, "description": description}
    if parameters:
        body["parameters"] = parameters
    return status, body


def parse_form(content_type: str, body: bytes) -> dict[str, Any]:
    """The parameters of a Bot API request: urlencoded, multipart or JSON; ``reply_markup``
    and ``allowed_updates`` decoded from their JSON strings."""
    if content_type.startswith("application/json"):
        params: dict[str, Any] = json.loads(body or b"{}")
    elif content_type.startswith("multipart/form-data"):
        message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
            b"Content-Type: " + content_type.encode() + b"\r\n\r\n" + body
        )
        params = {}
        for part in message.iter_parts():
            name = part.get_param("name", header="content-disposition")
            if name:
                params[str(name)] = part.get_payload(decode=True).decode("utf-8")
    else:
        params = {k: v[-1] for k, v in parse_qs(body.decode("utf-8"), keep_blank_values=True).items()}
    for key in ("reply_markup", "allowed_updates"):
        if isinstance(params.get(key), str):
            params[key] = json.loads(params[key])
    return params


def _handler_for(fake: FakeBotApi) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:  # quiet: no token in test output
            return

        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            path = self.path.split("?", 1)[0]
            prefix, _, method = path.rpartition("/")
            token = prefix[len("/bot") :] if prefix.startswith("/bot") else ""
            try:
                params = parse_form(self.headers.get("Content-Type") or "", body)
            except (ValueError, UnicodeDecodeError):
                status, answer = _error(400, "Bad Request: can't parse request")
            else:
                status, answer = fake.answer(token, method, params)
            data = json.dumps(answer, ensure_ascii=False).encode("utf-8")
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_POST = _serve
        do_GET = _serve

    return Handler


@contextmanager
def fake_bot_api(token: str = TOKEN) -> Iterator[FakeBotApi]:
    """A running fake, stopped afterwards."""
    fake = FakeBotApi(token).start()
    try:
        yield fake
    finally:
        fake.stop()
