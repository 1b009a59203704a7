"""The deploy-time webhook commands against the fake Bot API."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator

import pytest

from bot.channels.telegram.cli import main
from tests.fakes.telegram_api import TOKEN, FakeBotApi, fake_bot_api
from tests.fakes.telegram_updates import SECRET

URL = "https://chat.example.com/webhooks/telegram/webhook"


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeBotApi]:
    with fake_bot_api() as api:
        monkeypatch.setenv("TELEGRAM_TOKEN", TOKEN)
        monkeypatch.setenv("TELEGRAM_WEBHOOK_SECRET", SECRET)
        monkeypatch.setenv("TELEGRAM_API_BASE", api.base_url)
        yield api


def test_set_webhook_registers_the_secret_and_the_update_kinds(
    fake: FakeBotApi, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["set-webhook", "--url", URL, "--max-connections", "20"]) == 0
    (call,) = fake.calls_to("setWebhook")
    assert call.params == {
        "url": URL,
        "secret_token": SECRET,
        "allowed_updates": ["message", "callback_query"],
        "drop_pending_updates": "false",
        "max_connections": "20",
    }
    out = capsys.readouterr()
    assert URL in out.out
    assert SECRET not in out.out + out.err and TOKEN not in out.out + out.err


def test_info_and_delete_webhook(fake: FakeBotApi, capsys: pytest.CaptureFixture[str]) -> None:
    main(["set-webhook", "--url", URL])
    capsys.readouterr()
    assert main(["info"]) == 0
    shown = capsys.readouterr().out
    assert URL in shown and '"pending_update_count": 0' in shown and SECRET not in shown
    assert main(["delete-webhook", "--drop-pending-updates"]) == 0
    assert fake.calls_to("deleteWebhook")[0].params == {"drop_pending_updates": "true"}
    assert fake.webhook is None


@pytest.mark.parametrize(
    "url",
    [
        "http://chat.example.com/webhooks/telegram/webhook",
        "https://chat.example.com/webhooks/rest/webhook",
        "https://chat.example.com/webhooks/telegram/webhook?x=1",
        "chat.example.com/webhooks/telegram/webhook",
    ],
)
def test_bad_urls_are_refused_before_calling_telegram(
    fake: FakeBotApi, url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["set-webhook", "--url", url]) == 2
    assert fake.calls == []
    assert "--url" in capsys.readouterr().err


def test_missing_settings_are_refused(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("TELEGRAM_TOKEN", raising=False)
    assert main(["info"]) == 2
    monkeypatch.setenv("TELEGRAM_TOKEN", TOKEN)
    monkeypatch.delenv("TELEGRAM_WEBHOOK_SECRET", raising=False)
    assert main(["set-webhook", "--url", URL]) == 2
    assert "TELEGRAM_WEBHOOK_SECRET" in capsys.readouterr().err


def test_telegram_refusing_is_exit_status_1_without_the_token(
    fake: FakeBotApi, capsys: pytest.CaptureFixture[str]
) -> None:
    fake.fail(
        "setWebhook", 400, "Bad Request: bad webhook: Failed to resolve host: Name or service not known"
    )
    assert main(["set-webhook", "--url", URL]) == 1
    err = capsys.readouterr().err
    assert "bad webhook" in err.lower() and TOKEN not in err
    fake.fail("getWebhookInfo", 401, "Unauthorized")
    assert main(["info"]) == 1


def test_it_runs_as_a_module(fake: FakeBotApi) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "bot.channels.telegram", "set-webhook", "--url", URL],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"},
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert fake.calls_to("setWebhook")[0].params["secret_token"] == SECRET
    assert TOKEN not in done.stdout + done.stderr and SECRET not in done.stdout + done.stderr
