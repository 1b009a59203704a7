"""``python -m bot.channels.wechat menu`` (see cli.py)."""

from bot.channels.wechat.cli import main

raise SystemExit(main())
