"""The action server's settings fail fast on bad values."""

from __future__ import annotations

import pytest

from actions.backend.factory import build_backend
from actions.backend.http_client import HttpBackend
from actions.backend.sandbox import SandboxBackend
from actions.settings import ActionSettings, SettingsError


def test_defaults_are_the_embedded_sandbox() -> None:
    settings = ActionSettings.from_env({})
    assert settings.backend == "sandbox" and str(settings.sandbox_db) == "var/wallet.db"
    assert settings.call_timeout < 10  # well under Rasa's own timeout for the action server


@pytest.mark.parametrize(
    "env",
    [
        {"WALLET_BACKEND": "mysql"},
        {"WALLET_BACKEND": "http"},
        {"WALLET_BACKEND": "http", "WALLET_API_URL": "ftp://x", "WALLET_API_KEY": "k"},
        {"WALLET_BACKEND": "http", "WALLET_API_URL": "https://wallet.example"},
        {"WALLET_API_TIMEOUT": "fast"},
        {"WALLET_CALL_TIMEOUT": "0"},
        {"WALLET_CALL_TIMEOUT": "600"},
    ],
)
def test_bad_settings_fail_fast(env: dict[str, str]) -> None:
    with pytest.raises(SettingsError):
        ActionSettings.from_env(env)


def test_factory_builds_what_is_configured(tmp_path) -> None:  # type: ignore[no-untyped-def]
    sandbox = build_backend(ActionSettings.from_env({"WALLET_SANDBOX_DB": str(tmp_path / "w.db")}))
    assert isinstance(sandbox, SandboxBackend) and sandbox.is_seeded()
    http = build_backend(
        ActionSettings.from_env(
            {"WALLET_BACKEND": "http", "WALLET_API_URL": "https://wallet.example", "WALLET_API_KEY": "k"}
        )
    )
    assert isinstance(http, HttpBackend)
