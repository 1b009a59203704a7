"""Developer commands for the sandbox backend: reseed it, read its outbox and tickets.

python -m actions.backend.cli reseed
python -m actions.backend.cli outbox [--destination 13800138000] [--limit 10]
python -m actions.backend.cli tickets
python -m actions.backend.cli accounts
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from actions.backend.sandbox import SandboxBackend
from actions.settings import ActionSettings, SettingsError


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; returns the exit status."""
    parser = argparse.ArgumentParser(
        prog="python -m actions.backend.cli", description=__doc__.splitlines()[0]
    )
    parser.add_argument(
        "--db", help="the sandbox's SQLite file (default: $WALLET_SANDBOX_DB or var/wallet.db)"
    )
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("reseed", help="replace everything with DESIGN.md's seed data, dated from now")
    outbox = commands.add_parser("outbox", help="what the sandbox has 'sent' (codes, reset links)")
    outbox.add_argument("--destination", help="only messages to this phone number or e-mail")
    outbox.add_argument("--limit", type=int, default=10)
    commands.add_parser("tickets", help="every ticket, newest first")
    commands.add_parser("accounts", help="the accounts and their status")
    args = parser.parse_args(argv)
    try:
        settings = ActionSettings.from_env()
    except SettingsError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    path = args.db or settings.sandbox_db
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    sandbox = SandboxBackend(path)
    if args.command == "reseed":
        sandbox.reseed()
        print(f"sandbox {path} reseeded")
    elif args.command == "outbox":
        for row in sandbox.outbox(args.destination)[: max(1, args.limit)]:
            print(f"{row['created_at'][:19]}  {row['channel']:<5} {row['destination']:<24} {row['body']}")
    elif args.command == "tickets":
        for t in sandbox.tickets():
            print(f"{t.ticket_id}  {t.priority:<6} {t.kind:<11} {t.account_id or '-':<6} {t.summary}")
    else:
        for contact in ("13800138000", "13912345678", "13700001111"):
            a = sandbox.find_account(contact)
            if a:
                print(f"{a.account_id}  {a.name}  {a.phone}  {a.email}  {a.balance}  {a.status}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
