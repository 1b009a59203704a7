"""The wallet backend the action server uses, built once from the settings."""

from __future__ import annotations

from functools import lru_cache

from actions.backend.interface import WalletBackend
from actions.settings import ActionSettings


def build_backend(settings: ActionSettings) -> WalletBackend:
    """The sandbox (seeded on first use) or the HTTP client, as configured."""
    if settings.backend == "http":
        from actions.backend.http_client import HttpBackend

        # Retries must fit in the action's own limit (call_timeout): a hung read costs
        # (retries + 1) × api_timeout at most.
        retries = max(0, min(2, int(settings.call_timeout // settings.api_timeout) - 1))
        return HttpBackend(settings.api_url, settings.api_key, timeout=settings.api_timeout, retries=retries)
    from actions.backend.sandbox import SandboxBackend

    settings.sandbox_db.parent.mkdir(parents=True, exist_ok=True)
    sandbox = SandboxBackend(settings.sandbox_db, fixed_code=settings.sandbox_fixed_code)
    if not sandbox.is_seeded():
        sandbox.reseed()
    return sandbox


@lru_cache(maxsize=1)
def get_settings() -> ActionSettings:
    """The process's settings (read on first use, not at import)."""
    return ActionSettings.from_env()


@lru_cache(maxsize=1)
def get_backend() -> WalletBackend:
    """The process's backend (built on first use, not at import)."""
    return build_backend(get_settings())
