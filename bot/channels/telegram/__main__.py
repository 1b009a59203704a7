"""``python -m bot.channels.telegram``: the webhook's deploy-time commands (see cli.py)."""

from bot.channels.telegram.cli import main

raise SystemExit(main())
