"""The WeChat Official Account (公众号) channel, ``bot.channels.wechat.WeChatInput`` in
credentials.yml (docs/wechat.md).

channel.py   the input channel: routes, what each message does, the handoff's push
webhook.py   what a request must carry (query, signature, timestamp, body cap, decryption)
crypto.py    signatures and safe-mode encryption (over wechatpy, mended)
inbound.py   safe XML reading; outbound.py: texts and passive replies
turns.py     one turn per message, the five-second budget, 客服消息 after it
api.py, tokens.py   the platform API (httpx) and the one shared access_token
media.py     images users send; menu.py with menu.yml; notices.py with notices.yml
settings.py  the WECHAT_* environment; cli.py: ``python -m bot.channels.wechat menu``

The class is imported when first asked for, so the menu command starts without Rasa.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bot.channels.wechat.channel import WeChatInput

__all__ = ["WeChatInput"]


def __getattr__(name: str) -> Any:
    """``WeChatInput``, imported on first use."""
    if name == "WeChatInput":
        from bot.channels.wechat.channel import WeChatInput

        return WeChatInput
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
