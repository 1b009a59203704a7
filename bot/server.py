"""The project's Rasa server: Rasa's own command line, with ``bot.runtime`` installed first.

    python -m bot.server run --model models/wallet.tar.gz --endpoints endpoints.yml ...

takes exactly the arguments of ``rasa`` (scripts/run.sh, the cluster and the tests start
the server this way); the adjustments it installs are described in ``bot/runtime``.
"""

from __future__ import annotations

from bot import runtime


def main() -> None:
    """Check the identity check's settings, install the runtime adjustments, then run Rasa's
    command line."""
    from actions.settings import SettingsError, identity_settings

    try:
        identity_settings()
    except SettingsError as error:
        raise SystemExit(f"bad setting: {error}") from error
    runtime.install()
    from rasa.__main__ import main as rasa_main

    rasa_main()


if __name__ == "__main__":
    main()
