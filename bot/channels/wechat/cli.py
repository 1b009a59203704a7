"""``python -m bot.channels.wechat menu``: create the Official Account's custom menu from
``menu.yml`` through ``POST /cgi-bin/menu/create``, with the server's settings (the same
``WECHAT_*`` environment, the same shared access_token). ``--dry-run`` prints the JSON."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from collections.abc import Sequence

import httpx

from bot.channels.shared_state import SharedState
from bot.channels.wechat.api import WeChatApi
from bot.channels.wechat.errors import ApiError
from bot.channels.wechat.menu import Menu, MenuError, load_menu
from bot.channels.wechat.settings import WeChatSettings, WeChatSettingsError
from bot.masking import install_log_masking


async def create_menu(
    settings: WeChatSettings,
    menu: Menu,
    state: SharedState | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
) -> None:
    """Send the menu to the platform.

    Raises:
        ApiError: the platform refused it or could not be reached.
    """
    api = WeChatApi(settings, state, transport)
    try:
        await api.create_menu(menu.to_wechat())
    finally:
        await api.aclose()


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command; the exit status is 0 when done, 1 when the platform refused, 2 for
    a configuration error."""
    parser = argparse.ArgumentParser(prog="python -m bot.channels.wechat", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    menu_command = commands.add_parser("menu", help="create the custom menu from menu.yml")
    menu_command.add_argument("--dry-run", action="store_true", help="print the menu's JSON, send nothing")
    args = parser.parse_args(argv)
    install_log_masking()
    try:
        menu = load_menu()
    except MenuError as error:
        print(f"menu.yml: {error}", file=sys.stderr)
        return 2
    if args.dry_run:
        print(json.dumps(menu.to_wechat(), ensure_ascii=False, indent=2))
        return 0
    try:
        settings = WeChatSettings.load({}, os.environ)
    except WeChatSettingsError as error:
        print(f"WeChat settings: {error}", file=sys.stderr)
        return 2
    if settings is None:
        print("WECHAT_TOKEN is not set: the WeChat channel is not configured", file=sys.stderr)
        return 2
    try:
        asyncio.run(create_menu(settings, menu))
    except ApiError as error:
        print(f"the menu was not created: {error}", file=sys.stderr)
        return 1
    print(f"menu created: {len(menu.items)} top-level buttons, {len(menu.buttons())} actions")
    return 0
