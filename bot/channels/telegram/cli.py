"""Deploy-time commands: register, remove or inspect the webhook (never done at start-up).

    python -m bot.channels.telegram set-webhook --url https://chat.example/webhooks/telegram/webhook
    python -m bot.channels.telegram delete-webhook [--drop-pending-updates]
    python -m bot.channels.telegram info

Settings come from the same TELEGRAM_* variables as the server's (the secret is never a
command-line argument, so it stays out of shell histories and process lists). Exit status:
0 done, 1 Telegram refused or could not be reached, 2 bad settings or arguments.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from typing import Any
from urllib.parse import urlsplit

from bot.channels.telegram.notices import load_notices
from bot.channels.telegram.output import SendFailure, WalletTelegramOutput
from bot.channels.telegram.settings import TelegramSettings, TelegramSettingsError
from bot.channels.telegram.updates import ALLOWED_UPDATES

WEBHOOK_PATH = "/webhooks/telegram/webhook"
_INFO_FIELDS = (
    "url",
    "pending_update_count",
    "last_error_date",
    "last_error_message",
    "max_connections",
    "allowed_updates",
    "ip_address",
)


class UsageError(ValueError):
    """A bad argument (exit status 2)."""


def webhook_url(url: str) -> str:
    """The URL Telegram will post to: https, ending in the channel's webhook path.

    Raises:
        UsageError: anything else (Telegram only posts to https; the server serves one path).
    """
    parts = urlsplit(url.strip())
    if parts.scheme != "https" or not parts.hostname:
        raise UsageError("--url must be an https:// URL (Telegram only posts to https)")
    if not parts.path.endswith(WEBHOOK_PATH) or parts.query or parts.fragment:
        raise UsageError(f"--url must end with {WEBHOOK_PATH} (no query)")
    return url.strip()


def set_webhook_params(
    settings: TelegramSettings, url: str, drop_pending: bool, max_connections: int | None
) -> dict[str, str]:
    """The setWebhook call: the URL, the secret token and the update kinds the channel handles."""
    params = {
        "url": webhook_url(url),
        "secret_token": settings.webhook_secret,
        "allowed_updates": json.dumps(list(ALLOWED_UPDATES)),
        "drop_pending_updates": "true" if drop_pending else "false",
    }
    if max_connections is not None:
        if not 1 <= max_connections <= 100:
            raise UsageError("--max-connections must be between 1 and 100")
        params["max_connections"] = str(max_connections)
    return params


async def _run(args: argparse.Namespace, settings: TelegramSettings) -> dict[str, Any]:
    bot = WalletTelegramOutput(settings, load_notices())
    try:
        if args.command == "set-webhook":
            params = set_webhook_params(settings, args.url, args.drop_pending_updates, args.max_connections)
            await bot.call("setWebhook", params)
            return {"webhook": params["url"], "allowed_updates": list(ALLOWED_UPDATES)}
        if args.command == "delete-webhook":
            await bot.call("deleteWebhook", {"drop_pending_updates": str(args.drop_pending_updates).lower()})
            return {"webhook": None}
        info = await bot.call("getWebhookInfo", {})
        return {k: info.get(k) for k in _INFO_FIELDS if isinstance(info, dict) and k in info}
    finally:
        await bot.close()


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bot.channels.telegram", description=__doc__.split("\n")[0]
    )
    commands = parser.add_subparsers(dest="command", required=True)
    register = commands.add_parser("set-webhook", help="register the webhook with the secret token")
    register.add_argument("--url", required=True, help=f"https://<host>{WEBHOOK_PATH}")
    register.add_argument(
        "--drop-pending-updates", action="store_true", help="forget updates not yet delivered"
    )
    register.add_argument("--max-connections", type=int, default=None, help="1-100 (Telegram's default: 40)")
    remove = commands.add_parser("delete-webhook", help="stop Telegram posting updates")
    remove.add_argument(
        "--drop-pending-updates", action="store_true", help="forget updates not yet delivered"
    )
    commands.add_parser("info", help="the webhook as Telegram has it (URL, pending updates, last error)")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run one command; print its result as JSON (never the token or the secret)."""
    args = _parser().parse_args(argv)
    try:
        settings = TelegramSettings.from_env(os.environ)
        if settings is None:
            raise TelegramSettingsError("TELEGRAM_TOKEN is not set")
        if args.command == "set-webhook":
            webhook_url(args.url)
        result = asyncio.run(_run(args, settings))
    except (TelegramSettingsError, UsageError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except SendFailure as failure:
        print(
            f"error: Telegram did not accept the call ({failure.detail or failure.reason})", file=sys.stderr
        )
        return 1
    print(json.dumps(result, ensure_ascii=False, indent=2))
    return 0
