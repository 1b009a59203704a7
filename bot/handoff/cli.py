"""Operator commands for the handoff store: agents and the queue.

python -m bot.handoff.cli add-agent --username xiaowang --name 小王 [--role supervisor] [--password-stdin]
python -m bot.handoff.cli disable-agent --username xiaowang
python -m bot.handoff.cli enable-agent --username xiaowang
python -m bot.handoff.cli set-password --username xiaowang [--password-stdin]
python -m bot.handoff.cli list-agents
python -m bot.handoff.cli queue

Exit status: 0 done, 1 the store refused (or the database failed), 2 bad usage or settings.
"""

from __future__ import annotations

import argparse
import getpass
import sys
from collections.abc import Sequence

from sqlalchemy.exc import SQLAlchemyError

from bot.handoff.errors import HandoffError, InvalidInput
from bot.handoff.models import ROLES
from bot.handoff.settings import HandoffSettings, SettingsError
from bot.handoff.store import HandoffStore


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bot.handoff.cli", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    add = commands.add_parser("add-agent", help="create an agent account")
    add.add_argument("--username", required=True, help="3-32 characters of a-z 0-9 _ . -")
    add.add_argument("--name", required=True, help="the name users and colleagues see")
    add.add_argument("--role", choices=ROLES, default="agent")
    add.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
    for name, text in (
        ("disable-agent", "disable an agent (ends their sessions)"),
        ("enable-agent", "enable"),
    ):
        commands.add_parser(name, help=text).add_argument("--username", required=True)
    password = commands.add_parser("set-password", help="replace an agent's password (ends their sessions)")
    password.add_argument("--username", required=True)
    password.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
    commands.add_parser("list-agents", help="every agent and whether they are enabled")
    commands.add_parser("queue", help="the users waiting for an agent, in queue order")
    return parser


def _read_password(from_stdin: bool) -> str:
    """The new password, from one line of stdin or typed twice at a prompt."""
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    first = getpass.getpass("password: ")
    if getpass.getpass("again: ") != first:
        raise InvalidInput("the two passwords differ")
    return first


def _run(store: HandoffStore, args: argparse.Namespace) -> None:
    if args.command == "add-agent":
        agent = store.add_agent(args.username, args.name, _read_password(args.password_stdin), args.role)
        print(f"added {agent.role} {agent.username} (id {agent.id})")
    elif args.command in ("disable-agent", "enable-agent"):
        agent = store.set_agent_active(args.username, args.command == "enable-agent")
        print(f"{agent.username} {'enabled' if agent.active else 'disabled'}")
    elif args.command == "set-password":
        store.set_password(args.username, _read_password(args.password_stdin))
        print(f"password of {args.username} replaced")
    elif args.command == "list-agents":
        for a in store.list_agents():
            seen = a.last_seen.isoformat(timespec="seconds") if a.last_seen else "never"
            state = "enabled" if a.active else "disabled"
            print(f"{a.id:>4}  {a.username:<32} {a.role:<10} {state:<8} last seen {seen}  {a.display_name}")
    else:
        for h in store.queue():
            waiting = h.created_at.isoformat(timespec="seconds")
            print(f"{h.reference}  {h.priority:<6} {h.channel:<10} since {waiting}  {h.topic}")


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; returns the exit status."""
    try:
        args = _parser().parse_args(argv)
    except SystemExit as exit_:  # --help (0) or bad usage (2, message already printed)
        return int(exit_.code or 0)
    try:
        store = HandoffStore(HandoffSettings.from_env().db_url)
    except (SettingsError, InvalidInput) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    try:
        store.create_schema()
        _run(store, args)
    except HandoffError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    except SQLAlchemyError as error:
        print(f"error: database failure ({type(error).__name__})", file=sys.stderr)
        return 1
    finally:
        store.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
