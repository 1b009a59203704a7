"""The action server's settings, read once from the environment and validated at start."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path


class SettingsError(ValueError):
    """An environment variable has a bad value."""


@dataclass(frozen=True)
class ActionSettings:
    """Everything the action server is configured with.

    Attributes:
        backend: ``sandbox`` (embedded SQLite, the default) or ``http``.
        sandbox_db: the sandbox's SQLite file.
        sandbox_fixed_code: scripted conversation tests only: every code is this value.
        api_url: base URL of the production wallet backend (``http``).
        api_key: its API key.
        api_timeout: seconds per HTTP request to the backend.
        call_timeout: seconds an action waits for any backend call, well under
            Rasa's own timeout for the action server, so no conversation hangs.
        identity_secret: shared secret of the widget's signed identity tokens.
        code_idle_seconds: how long a verification by one-time code lasts without use.
    """

    backend: str = "sandbox"
    sandbox_db: Path = Path("var/wallet.db")
    sandbox_fixed_code: str | None = None
    api_url: str = ""
    api_key: str = ""
    api_timeout: float = 3.0
    call_timeout: float = 8.0
    identity_secret: str = ""
    code_idle_seconds: float = 900.0

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> ActionSettings:
        """Read WALLET_* variables; raises SettingsError on a bad value."""
        env = dict(os.environ if env is None else env)
        backend = env.get("WALLET_BACKEND", "sandbox").strip().lower()
        if backend not in ("sandbox", "http"):
            raise SettingsError("WALLET_BACKEND must be 'sandbox' or 'http'")
        identity_secret, code_idle_seconds = identity_settings(env)
        settings = cls(
            backend=backend,
            sandbox_db=Path(env.get("WALLET_SANDBOX_DB") or "var/wallet.db"),
            sandbox_fixed_code=env.get("WALLET_SANDBOX_FIXED_CODE") or None,
            api_url=env.get("WALLET_API_URL", "").strip(),
            api_key=env.get("WALLET_API_KEY", "").strip(),
            api_timeout=_seconds(env, "WALLET_API_TIMEOUT", 3.0),
            call_timeout=_seconds(env, "WALLET_CALL_TIMEOUT", 8.0),
            identity_secret=identity_secret,
            code_idle_seconds=code_idle_seconds,
        )
        _check_sealing_key(env)
        if backend == "http" and not (
            settings.api_url.startswith(("http://", "https://")) and settings.api_key
        ):
            raise SettingsError("WALLET_BACKEND=http needs WALLET_API_URL (http/https) and WALLET_API_KEY")
        return settings


def identity_settings(env: Mapping[str, str] | None = None) -> tuple[str, float]:
    """The identity check's settings: the token secret and how long a code verification
    lasts unused (the Rasa server runs the check too, and reads only these)."""
    env = os.environ if env is None else env
    return env.get("IDENTITY_SECRET", ""), _seconds(env, "IDENTITY_CODE_IDLE_SECONDS", 900.0, most=86_400)


def _seconds(env: Mapping[str, str], name: str, default: float, most: float = 60) -> float:
    raw = env.get(name)
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError as error:
        raise SettingsError(f"{name} must be a number of seconds") from error
    if not 0 < value <= most:
        raise SettingsError(f"{name} must be between 0 and {most:g} seconds")
    return value


def _check_sealing_key(env: dict[str, str]) -> None:
    """A bad SLOT_ENCRYPTION_KEY fails at start, not at the first encrypted slot."""
    from actions.sealed import SealingKeyError, cipher_from_env

    try:
        cipher_from_env(env)
    except SealingKeyError as error:
        raise SettingsError(str(error)) from error
