"""``python -m bot.channels.wechat menu``: the menu created through menu/create, with the
channel's settings; configuration errors and refusals end with a status, not a traceback."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from bot.channels.shared_state import SqlState
from bot.channels.wechat.cli import create_menu, main
from bot.channels.wechat.menu import load_menu
from tests.bot.channels.wechat.harness import APP_ID, APP_SECRET, TOKEN, FakePlatform, settings


def test_the_menu_is_created_from_menu_yml(tmp_path: Path) -> None:
    platform = FakePlatform()
    state = SqlState(f"sqlite:///{tmp_path / 'state.db'}")
    asyncio.run(create_menu(settings(), load_menu(), state, platform.transport()))
    assert platform.menus == [load_menu().to_wechat()]
    assert len(platform.token_fetches) == 1


def test_a_dry_run_prints_the_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["menu", "--dry-run"]) == 0
    assert json.loads(capsys.readouterr().out) == load_menu().to_wechat()


def test_without_settings_nothing_is_sent(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("WECHAT_TOKEN", raising=False)
    assert main(["menu"]) == 2
    assert "WECHAT_TOKEN" in capsys.readouterr().err
    monkeypatch.setenv("WECHAT_TOKEN", TOKEN)
    monkeypatch.delenv("WECHAT_APP_ID", raising=False)
    assert main(["menu"]) == 2


def test_an_unreachable_platform_is_reported(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    for name, value in {
        "WECHAT_TOKEN": TOKEN,
        "WECHAT_APP_ID": APP_ID,
        "WECHAT_APP_SECRET": APP_SECRET,
        "WECHAT_API_BASE": "http://127.0.0.1:1",
        "WECHAT_API_TIMEOUT_SECONDS": "1",
        "CHANNEL_STATE_URL": f"sqlite:///{tmp_path / 'state.db'}",
    }.items():
        monkeypatch.setenv(name, value)
    assert main(["menu"]) == 1
    err = capsys.readouterr().err
    assert "not created" in err and APP_SECRET not in err
