"""The custom menu: within WeChat's limits, every topic and 转人工 on it, keys mapped to
intents the domain has."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.channels.wechat.menu import MenuError, load_menu, parse_menu

ROOT = Path(__file__).resolve().parents[4]
FIXED_INTENTS = {
    "forgot_password",
    "transaction_failed",
    "update_account_info",
    "contact_support",
    "account_security",
    "complaint",
    "request_human",
}


def test_the_menu_holds_the_six_topics_and_a_person() -> None:
    menu = load_menu()
    intents = {button.payload.removeprefix("/") for button in menu.buttons()}
    assert intents == FIXED_INTENTS
    domain = yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8"))
    assert intents <= set(domain["intents"])
    assert [b.name for b in menu.buttons()].count("转人工") == 1


def test_the_menu_json_is_what_menu_create_takes() -> None:
    body = load_menu().to_wechat()
    assert 1 <= len(body["button"]) <= 3
    for top in body["button"]:
        assert len(top["name"].encode()) <= 16
        for sub in top.get("sub_button", []):
            assert sub["type"] == "click" and len(sub["name"].encode()) <= 60
        assert len(top.get("sub_button", [])) <= 5


def test_keys_map_to_payloads() -> None:
    menu = load_menu()
    assert menu.payload_for("REQUEST_HUMAN") == "/request_human"
    assert menu.payload_for("NO_SUCH_KEY") is None
    assert menu.payload_for(None) is None


def _button(n: int) -> dict[str, Any]:
    return {"name": f"按钮{n}", "key": f"K{n}", "payload": "/greet"}


@pytest.mark.parametrize(
    "data",
    [
        {"menu": [_button(1), _button(2), _button(3), _button(4)]},  # four top-level buttons
        {"menu": [{"name": "组", "buttons": [_button(n) for n in range(6)]}]},  # six sub-buttons
        {"menu": [{"name": "一二三四五六", "buttons": [_button(1)]}]},  # top-level name over 16 bytes
        {"menu": [{**_button(1), "name": "长" * 21}]},
        {"menu": [_button(1), _button(1)]},  # a key used twice
        {"menu": [{**_button(1), "key": "has space"}]},
        {"menu": [{**_button(1), "payload": "request_human"}]},
        {"menu": [{**_button(1), "url": "https://x"}]},
        {"menu": []},
        {"buttons": []},
        [],
    ],
)
def test_menus_over_the_limits_are_refused(data: Any) -> None:
    with pytest.raises(MenuError):
        parse_menu(data)
