"""Operator commands for the handoff store: agents and the queue.

python -m bot.handoff.cli add-agent --username xiaowang --name 小王 [--role supervisor] [--password-stdin]
python -m bot.handoff.cli disable-agent --username xiaowang
python -m bot.handoff.cli enable-agent --username xiaowang
python -m bot.handoff.cli set-password --username xiaowang [--password-stdin]
python -m bot.handoff.cli list-agents
python -m bot.handoff.cli queue
python -m bot.handoff.cli messages
python -m bot.handoff.cli demo-accounts      (development only: HANDOFF_DEMO_ACCOUNTS=1, SQLite)

Exit status: 0 done, 1 the store refused (or the database failed), 2 bad usage or settings.
"""

from __future__ import annotations

import argparse
import getpass
import os
import secrets
import sys
from collections.abc import Sequence

from sqlalchemy.exc import SQLAlchemyError

from bot.handoff.errors import Conflict, HandoffError, InvalidInput
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
    commands.add_parser("messages", help="the messages left that wait for an answer, the most overdue first")
    commands.add_parser(
        "demo-accounts",
        help="development only: make (or reset) a demo agent and a demo supervisor, print their passwords",
    )
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
    elif args.command == "messages":
        for m in store.messages.listed():
            due = m.due_at.isoformat(timespec="minutes")
            ticket, contact = m.ticket_id or "-", m.contact or "-"
            print(f"{m.handoff.reference}  due {due}  {m.handoff.channel:<10} {ticket:<16} {contact}")
    elif args.command == "demo-accounts":
        for username, name, role, password in demo_accounts(store):
            print(f"{role:<10} {username:<16} {password}  ({name})")
    else:
        for h in store.queue():
            waiting = h.created_at.isoformat(timespec="seconds")
            print(f"{h.reference}  {h.priority:<6} {h.channel:<10} since {waiting}  {h.topic}")


DEMO_ACCOUNTS = (("demo_agent", "演示客服", "agent"), ("demo_supervisor", "演示主管", "supervisor"))
DEMO_FLAG = "HANDOFF_DEMO_ACCOUNTS"


class NotDevelopment(HandoffError):
    """Demo accounts asked for outside a development configuration."""


def demo_accounts(store: HandoffStore) -> list[tuple[str, str, str, str]]:
    """Make the demo agent and supervisor, or give them new passwords: (username, name, role, password).

    Raises:
        NotDevelopment: ``HANDOFF_DEMO_ACCOUNTS`` is not on, or the store is not SQLite (a
            production configuration never gets accounts with printed passwords).
    """
    if os.environ.get(DEMO_FLAG, "").strip().lower() not in ("1", "true", "yes", "on"):
        raise NotDevelopment(f"demo accounts need {DEMO_FLAG}=1 (development only)")
    if store.engine.dialect.name != "sqlite":
        raise NotDevelopment("demo accounts are for the embedded SQLite store only")
    made = []
    for username, name, role in DEMO_ACCOUNTS:
        password = secrets.token_urlsafe(12)
        try:
            store.add_agent(username, name, password, role)
        except Conflict:
            store.set_password(username, password)
            store.set_agent_active(username, True)
        made.append((username, name, role, password))
    return made


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
