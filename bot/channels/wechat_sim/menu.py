"""WeChat's rules for a custom menu (``menu/create``): 1 to 3 buttons, each either with 1 to 5
sub-buttons or with a type; names of at most 16 bytes (sub-buttons 60); ``click`` and the other
event types carry a key of at most 128 bytes, ``view`` a URL of at most 1024 bytes. The body
must carry Chinese as UTF-8: ``\\uXXXX`` escapes get 40033."""

from __future__ import annotations

import re
from typing import Any

from bot.channels.wechat_sim import errcodes
from bot.channels.wechat_sim.errcodes import ApiError

KEYED = frozenset(
    {
        "click",
        "scancode_push",
        "scancode_waitmsg",
        "pic_sysphoto",
        "pic_photo_or_album",
        "pic_weixin",
        "location_select",
    }
)
TYPES = KEYED | {"view", "miniprogram", "media_id", "article_id", "article_view_limited"}
_ESCAPE = re.compile(r"(?<!\\)\\u[0-9a-fA-F]{4}")


def has_escapes(raw: str) -> bool:
    """Whether the JSON text spells characters as ``\\uXXXX`` (WeChat refuses it)."""
    return bool(_ESCAPE.search(raw))


def _size(value: Any) -> int:
    return len(value.encode("utf-8")) if isinstance(value, str) else -1


def _check_button(button: Any, sub: bool) -> None:
    codes = (
        (
            errcodes.INVALID_SUB_BUTTON_TYPE,
            errcodes.INVALID_SUB_BUTTON_NAME_SIZE,
            errcodes.INVALID_SUB_BUTTON_KEY_SIZE,
        )
        if sub
        else (
            errcodes.INVALID_BUTTON_TYPE,
            errcodes.INVALID_BUTTON_NAME_SIZE,
            errcodes.INVALID_BUTTON_KEY_SIZE,
        )
    )
    type_error, name_error, key_error = codes
    if not isinstance(button, dict):
        raise ApiError(errcodes.DATA_FORMAT_ERROR)
    if not 1 <= _size(button.get("name")) <= (60 if sub else 16):
        raise ApiError(name_error)
    children = button.get("sub_button")
    if not sub and children:
        if not isinstance(children, list) or len(children) > 5:
            raise ApiError(errcodes.INVALID_SUB_BUTTON_SIZE)
        for child in children:
            _check_button(child, sub=True)
        return
    kind = button.get("type")
    if kind not in TYPES:
        raise ApiError(type_error)
    if kind in KEYED and not 1 <= _size(button.get("key")) <= 128:
        raise ApiError(key_error)
    if kind == "view" and not 1 <= _size(button.get("url")) <= 1024:
        raise ApiError(errcodes.INVALID_BUTTON_URL_SIZE)


def check_menu(body: dict[str, Any]) -> None:
    """Refuse a menu WeChat would refuse.

    Raises:
        ApiError: with WeChat's errcode.
    """
    buttons = body.get("button")
    if not isinstance(buttons, list) or not 1 <= len(buttons) <= 3:
        raise ApiError(errcodes.INVALID_BUTTON_SIZE)
    for button in buttons:
        _check_button(button, sub=False)


def click_buttons(menu: dict[str, Any] | None) -> list[dict[str, str]]:
    """The menu's click buttons, flattened: ``{"name", "key", "group"}`` (the simulator's bar)."""
    found: list[dict[str, str]] = []
    for button in (menu or {}).get("button", []):
        for child in button.get("sub_button") or [button]:
            if child.get("type") == "click":
                group = button["name"] if child is not button else ""
                found.append({"name": child["name"], "key": child["key"], "group": group})
    return found
