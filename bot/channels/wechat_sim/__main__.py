"""``python -m bot.channels.wechat_sim``: the fake WeChat API and the simulator's page.

Start it, start the Rasa server with the WECHAT_* settings it prints, open the page and chat
as a WeChat user. The account's settings are kept in ``var/wechat_sim.json`` (made on first
use), so the Rasa server's settings stay the same between runs; ``var/wechat_sim.env`` holds
them as shell lines (``set -a; . var/wechat_sim.env; set +a`` before ``make run``).
"""

from __future__ import annotations

import argparse
import shlex
import signal
import sys
import threading
from pathlib import Path

from bot.channels.wechat_sim.account import Account, AccountError
from bot.channels.wechat_sim.background import BackgroundServer
from bot.channels.wechat_sim.platform import FakeWeChat
from bot.channels.wechat_sim.server import MODES, WeChatServer
from bot.channels.wechat_sim.simulator import Simulator

ROOT = Path(__file__).resolve().parents[3]
SETTINGS = ROOT / "var" / "wechat_sim.json"


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bot.channels.wechat_sim",
        description="A fake WeChat (API and users) for the channel, with a page to chat as a user.",
    )
    parser.add_argument(
        "--channel", default="http://127.0.0.1:5005", help="the Rasa server (default %(default)s)"
    )
    parser.add_argument(
        "--mode", choices=MODES, default="plain", help="message encryption (default %(default)s)"
    )
    parser.add_argument("--host", default="127.0.0.1", help="where to listen (default %(default)s)")
    parser.add_argument(
        "--api-port", type=int, default=8098, help="the fake WeChat API (default %(default)s)"
    )
    parser.add_argument("--port", type=int, default=8099, help="the simulator's page (default %(default)s)")
    parser.add_argument(
        "--settings", type=Path, default=SETTINGS, help="the account's settings (default var/)"
    )
    parser.add_argument("--new-account", action="store_true", help="make new settings (new Token, keys)")
    return parser.parse_args(argv)


def _account(path: Path, renew: bool) -> Account:
    if path.exists() and not renew:
        account = Account.load(path)
        if account.encoding_aes_key is not None:
            return account
    account = Account.generate(safe=True)
    account.save(path)
    return account


def _env_lines(env: dict[str, str], mode: str) -> list[str]:
    """Shell lines that configure the channel for this fake (plaintext: no EncodingAESKey)."""
    if mode == "plain":
        env = {name: value for name, value in env.items() if name != "WECHAT_ENCODING_AES_KEY"}
    lines = [f"export {name}={shlex.quote(value)}" for name, value in env.items()]
    return [*lines, "unset WECHAT_ENCODING_AES_KEY"] if mode == "plain" else lines


def main(argv: list[str] | None = None) -> int:
    """Run until Ctrl-C."""
    args = _arguments(argv)
    try:
        account = _account(args.settings, args.new_account)
    except (AccountError, ValueError, KeyError, OSError) as error:
        print(f"cannot read {args.settings}: {error} (use --new-account)")
        return 2
    wechat = FakeWeChat(account, args.host, args.api_port).start()
    server = WeChatServer(args.channel, account, args.mode, wechat.state)
    page = BackgroundServer(Simulator(wechat, server).app, args.host, args.port).start()
    lines = _env_lines(wechat.channel_env(), args.mode)
    env_file = args.settings.with_suffix(".env")
    env_file.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"假微信接口 (fake WeChat API): {wechat.url}")
    print(f"模拟器页面 (simulator page):  {page.url}/")
    print(f"渠道 (channel webhook):       {server.webhook}  ({args.mode} mode)")
    print(f"Start the Rasa server with these settings (also in {env_file}: set -a; . {env_file}; set +a):")
    for line in lines:
        print(f"  {line}")
    try:
        response = server.handshake("wechat-sim")
        ok = response.status_code == 200 and response.text == "wechat-sim"
        print("channel handshake:", "ok" if ok else f"refused (HTTP {response.status_code})")
    except Exception as error:  # the channel may not be up yet; the page can check later
        print(f"channel not reachable yet ({type(error).__name__}); the page's 检查连接 tries again")
    sys.stdout.flush()
    stopped = threading.Event()
    signal.signal(signal.SIGINT, lambda *_: stopped.set())
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    stopped.wait()
    page.stop()
    wechat.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
