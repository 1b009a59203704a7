"""WeChat Official Account channel (being written: off until it is)."""

from __future__ import annotations

from typing import Any

from rasa.core.channels.channel import InputChannel
from sanic import Blueprint


class WeChatInput(InputChannel):
    """Placeholder: no routes yet."""

    @classmethod
    def name(cls) -> str:
        return "wechat"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> InputChannel:
        return cls()

    def blueprint(self, on_new_message: Any) -> Blueprint:
        return Blueprint("wechat_webhook", __name__)
