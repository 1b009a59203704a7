"""The custom menu, from ``menu.yml``: the JSON that ``cgi-bin/menu/create`` takes, and the
payload a CLICK event's key stands for. Validated against WeChat's limits when loaded."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

DEFAULT_PATH = Path(__file__).resolve().parent / "menu.yml"
MAX_TOP_LEVEL = 3
MAX_SUB_BUTTONS = 5
MAX_TOP_NAME_BYTES = 16
MAX_SUB_NAME_BYTES = 60
MAX_KEY_BYTES = 128
_KEY = re.compile(r"[A-Za-z0-9_\-]{1,128}")
_PAYLOAD = re.compile(r"/[a-z_]{1,64}")


class MenuError(ValueError):
    """The menu file breaks WeChat's limits or is malformed."""


@dataclass(frozen=True)
class MenuButton:
    """A click button: its title, its key (what the CLICK event carries) and the bot payload."""

    name: str
    key: str
    payload: str

    def to_wechat(self) -> dict[str, str]:
        """The button as cgi-bin/menu/create takes it."""
        return {"type": "click", "name": self.name, "key": self.key}


@dataclass(frozen=True)
class MenuGroup:
    """A top-level button that opens sub-buttons."""

    name: str
    buttons: tuple[MenuButton, ...]

    def to_wechat(self) -> dict[str, Any]:
        """The group as cgi-bin/menu/create takes it."""
        return {"name": self.name, "sub_button": [b.to_wechat() for b in self.buttons]}


@dataclass(frozen=True)
class Menu:
    """The whole custom menu."""

    items: tuple[MenuGroup | MenuButton, ...]

    def buttons(self) -> list[MenuButton]:
        """Every click button, top-level or inside a group."""
        found: list[MenuButton] = []
        for item in self.items:
            found.extend(item.buttons if isinstance(item, MenuGroup) else [item])
        return found

    def payload_for(self, key: str | None) -> str | None:
        """The bot payload of a CLICK event's key, None for an unknown key."""
        return next((b.payload for b in self.buttons() if b.key == key), None)

    def to_wechat(self) -> dict[str, Any]:
        """The body of ``POST cgi-bin/menu/create``."""
        return {"button": [item.to_wechat() for item in self.items]}


def _name(raw: Any, limit: int) -> str:
    name = raw.strip() if isinstance(raw, str) else ""
    if not name or len(name.encode("utf-8")) > limit:
        raise MenuError(f"a menu name must be 1 to {limit} bytes: {raw!r}")
    return name


def _button(raw: Any, name_limit: int) -> MenuButton:
    if not isinstance(raw, dict) or set(raw) != {"name", "key", "payload"}:
        raise MenuError("a menu button has exactly name, key and payload")
    key, payload = raw["key"], raw["payload"]
    if not isinstance(key, str) or not _KEY.fullmatch(key):
        raise MenuError(f"a menu key is 1 to {MAX_KEY_BYTES} of A-Z, a-z, 0-9, _ and -: {key!r}")
    if not isinstance(payload, str) or not _PAYLOAD.fullmatch(payload):
        raise MenuError(f"a menu payload is an intent such as /request_human: {payload!r}")
    return MenuButton(_name(raw["name"], name_limit), key, payload)


def _item(raw: Any) -> MenuGroup | MenuButton:
    if isinstance(raw, dict) and "buttons" in raw:
        if set(raw) != {"name", "buttons"} or not isinstance(raw["buttons"], list):
            raise MenuError("a menu group has exactly name and a list of buttons")
        if not 1 <= len(raw["buttons"]) <= MAX_SUB_BUTTONS:
            raise MenuError(f"a menu group has 1 to {MAX_SUB_BUTTONS} buttons")
        buttons = tuple(_button(b, MAX_SUB_NAME_BYTES) for b in raw["buttons"])
        return MenuGroup(_name(raw["name"], MAX_TOP_NAME_BYTES), buttons)
    return _button(raw, MAX_TOP_NAME_BYTES)


def parse_menu(data: Any) -> Menu:
    """The menu of a parsed ``menu.yml``.

    Raises:
        MenuError: malformed, over WeChat's limits, or a key used twice.
    """
    items = data.get("menu") if isinstance(data, dict) else None
    if not isinstance(items, list) or not 1 <= len(items) <= MAX_TOP_LEVEL:
        raise MenuError(f"the menu has 1 to {MAX_TOP_LEVEL} top-level buttons")
    menu = Menu(tuple(_item(raw) for raw in items))
    keys = [b.key for b in menu.buttons()]
    if len(keys) != len(set(keys)):
        raise MenuError("each menu key must be used once")
    return menu


@lru_cache(maxsize=4)
def load_menu(path: str = str(DEFAULT_PATH)) -> Menu:
    """The menu in ``path`` (read once).

    Raises:
        MenuError: see :func:`parse_menu`.
    """
    return parse_menu(yaml.safe_load(Path(path).read_text(encoding="utf-8")))
