"""The handoff settings fail fast on bad values; agent hours in China time."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from bot.handoff.models import CHINA_TZ
from bot.handoff.settings import HandoffSettings, LoginLimits, SettingsError, parse_hours, within_hours


def test_defaults(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    settings = HandoffSettings.from_env({})
    assert settings == HandoffSettings("sqlite:///var/handoff.db", 600, "09:00-21:00", 28800, 3)
    assert (tmp_path / "var").is_dir()
    assert settings.cookie_secure is True and settings.login == LoginLimits(900, 5, 20, 60, 30, 2, 1000)
    assert (settings.db_threads, settings.db_timeout_seconds, settings.retry_seconds) == (4, 5, 30)
    assert settings.retry_dir == "var/handoff_retry"  # beside the SQLite file
    assert not (tmp_path / "var" / "handoff_retry").exists()  # created when first used
    assert settings.attachment_max_bytes == 2 * 1024 * 1024


def test_the_largest_image_a_user_may_send() -> None:
    env = {"HANDOFF_DB_URL": "sqlite://", "HANDOFF_ATTACHMENT_MAX_BYTES": "524288"}
    assert HandoffSettings.from_env(env).attachment_max_bytes == 524288


def test_throttle_cookie_pool_and_retry_settings(tmp_path: Path) -> None:
    env = {
        "HANDOFF_DB_URL": f"sqlite:///{tmp_path}/db/h.db",
        "HANDOFF_COOKIE_SECURE": "false",
        "HANDOFF_LOGIN_WINDOW_SECONDS": "600",
        "HANDOFF_LOGIN_MAX_PER_USERNAME": "3",
        "HANDOFF_LOGIN_MAX_PER_ADDRESS": "10",
        "HANDOFF_LOGIN_GLOBAL_WINDOW_SECONDS": "30",
        "HANDOFF_LOGIN_MAX_GLOBAL": "50",
        "HANDOFF_LOGIN_MAX_CONCURRENT": "1",
        "HANDOFF_LOGIN_REFUSAL_DELAY_MS": "0",
        "HANDOFF_DB_THREADS": "2",
        "HANDOFF_DB_TIMEOUT_SECONDS": "3",
        "HANDOFF_RETRY_SECONDS": "10",
    }
    settings = HandoffSettings.from_env(env)
    assert settings.cookie_secure is False and settings.login == LoginLimits(600, 3, 10, 30, 50, 1, 0)
    assert (settings.db_threads, settings.db_timeout_seconds, settings.retry_seconds) == (2, 3, 10)
    assert settings.retry_dir == f"{tmp_path}/db/handoff_retry"
    pg = HandoffSettings.from_env(
        {"HANDOFF_DB_URL": "postgresql://u@h/db", "HANDOFF_RETRY_DIR": str(tmp_path)}
    )
    assert (
        pg.retry_dir == str(tmp_path)
        and HandoffSettings.from_env({"HANDOFF_COOKIE_SECURE": "1"}).cookie_secure
    )


def test_a_retry_directory_that_is_a_file_fails_fast(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x")
    with pytest.raises(SettingsError) as raised:
        HandoffSettings.from_env({"HANDOFF_DB_URL": "sqlite://", "HANDOFF_RETRY_DIR": str(tmp_path / "file")})
    assert "HANDOFF_RETRY_DIR" in str(raised.value) and str(tmp_path) not in str(raised.value)


def test_values_from_the_environment(tmp_path: Path) -> None:
    env = {
        "HANDOFF_DB_URL": f"sqlite:///{tmp_path}/deep/dir/h.db",
        "HANDOFF_MAX_WAIT_SECONDS": "300",
        "HANDOFF_AGENT_HOURS": "22:00-06:00",
        "HANDOFF_SESSION_TTL": "3600",
        "HANDOFF_EXPECTED_MINUTES_PER_POSITION": " 5 ",
    }
    settings = HandoffSettings.from_env(env)
    assert (settings.max_wait_seconds, settings.agent_hours, settings.session_ttl) == (
        300,
        "22:00-06:00",
        3600,
    )
    assert settings.expected_minutes_per_position == 5 and (tmp_path / "deep" / "dir").is_dir()
    pg = HandoffSettings.from_env({"HANDOFF_DB_URL": "postgresql://postgres@127.0.0.1:5432/test"})
    assert pg.db_url.startswith("postgresql://")


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("HANDOFF_DB_URL", "mysql://root@localhost/handoff"),
        ("HANDOFF_DB_URL", "not a url"),
        ("HANDOFF_DB_URL", "redis://localhost:6379"),
        ("HANDOFF_MAX_WAIT_SECONDS", "ten minutes"),
        ("HANDOFF_MAX_WAIT_SECONDS", "0"),
        ("HANDOFF_MAX_WAIT_SECONDS", "-5"),
        ("HANDOFF_MAX_WAIT_SECONDS", "1e3"),
        ("HANDOFF_MAX_WAIT_SECONDS", "600.5"),
        ("HANDOFF_MAX_WAIT_SECONDS", "99999999999"),
        ("HANDOFF_MAX_WAIT_SECONDS", "６００"),
        ("HANDOFF_AGENT_HOURS", "9-21"),
        ("HANDOFF_AGENT_HOURS", "9:00-21:00"),
        ("HANDOFF_AGENT_HOURS", "09:00 - 21:00"),
        ("HANDOFF_AGENT_HOURS", "25:00-26:00"),
        ("HANDOFF_AGENT_HOURS", "09:60-21:00"),
        ("HANDOFF_AGENT_HOURS", "24:00-08:00"),
        ("HANDOFF_AGENT_HOURS", "09:00-24:01"),
        ("HANDOFF_AGENT_HOURS", "09:00-09:00"),
        ("HANDOFF_AGENT_HOURS", "always"),
        ("HANDOFF_SESSION_TTL", "0"),
        ("HANDOFF_SESSION_TTL", "forever"),
        ("HANDOFF_EXPECTED_MINUTES_PER_POSITION", "0"),
        ("HANDOFF_EXPECTED_MINUTES_PER_POSITION", "three"),
        ("HANDOFF_COOKIE_SECURE", "maybe"),
        ("HANDOFF_COOKIE_SECURE", "ture"),
        ("HANDOFF_LOGIN_WINDOW_SECONDS", "0"),
        ("HANDOFF_LOGIN_MAX_PER_USERNAME", "0"),
        ("HANDOFF_LOGIN_MAX_PER_USERNAME", "five"),
        ("HANDOFF_LOGIN_MAX_PER_ADDRESS", "-1"),
        ("HANDOFF_LOGIN_MAX_GLOBAL", "0"),
        ("HANDOFF_LOGIN_GLOBAL_WINDOW_SECONDS", "1.5"),
        ("HANDOFF_LOGIN_MAX_CONCURRENT", "0"),
        ("HANDOFF_LOGIN_MAX_CONCURRENT", "65"),
        ("HANDOFF_LOGIN_REFUSAL_DELAY_MS", "10001"),
        ("HANDOFF_LOGIN_REFUSAL_DELAY_MS", "1s"),
        ("HANDOFF_DB_THREADS", "0"),
        ("HANDOFF_DB_TIMEOUT_SECONDS", "0"),
        ("HANDOFF_RETRY_SECONDS", "0"),
        ("HANDOFF_RETRY_DIR", "var/\x00retry"),
        ("HANDOFF_ATTACHMENT_MAX_BYTES", "100"),
        ("HANDOFF_ATTACHMENT_MAX_BYTES", "2MB"),
        ("HANDOFF_ATTACHMENT_MAX_BYTES", "20971521"),
    ],
)
def test_bad_values_fail_fast(name: str, value: str, tmp_path: Path) -> None:
    env = {"HANDOFF_DB_URL": f"sqlite:///{tmp_path}/h.db", name: value}
    with pytest.raises(SettingsError) as raised:
        HandoffSettings.from_env(env)
    assert name in str(raised.value)


def china(hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, 25, hour, minute, tzinfo=CHINA_TZ)


@pytest.mark.parametrize(
    ("hours", "hour", "minute", "open_"),
    [
        ("09:00-21:00", 9, 0, True),
        ("09:00-21:00", 20, 59, True),
        ("09:00-21:00", 21, 0, False),
        ("09:00-21:00", 8, 59, False),
        ("22:00-06:00", 22, 0, True),
        ("22:00-06:00", 23, 30, True),
        ("22:00-06:00", 0, 0, True),
        ("22:00-06:00", 5, 59, True),
        ("22:00-06:00", 6, 0, False),
        ("22:00-06:00", 12, 0, False),
        ("22:00-06:00", 21, 59, False),
        ("00:00-24:00", 0, 0, True),
        ("00:00-24:00", 23, 59, True),
    ],
)
def test_within_hours(hours: str, hour: int, minute: int, open_: bool) -> None:
    assert within_hours(hours, china(hour, minute)) is open_


def test_within_hours_uses_china_time() -> None:
    utc = datetime(2026, 11, 25, 14, 30, tzinfo=timezone.utc)  # 22:30 in China
    assert within_hours("22:00-06:00", utc) and not within_hours("09:00-21:00", utc)
    assert within_hours("09:00-21:00", utc.astimezone(timezone(timedelta(hours=-5))) - timedelta(hours=10))
    with pytest.raises(ValueError):
        within_hours("09:00-21:00", datetime(2026, 11, 25, 12, 0))
    with pytest.raises(ValueError):
        within_hours("9-21", utc)


def test_parse_hours() -> None:
    assert parse_hours("09:30-21:00") == (570, 1260) and parse_hours("22:00-06:00") == (1320, 360)
