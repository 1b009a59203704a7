"""What a user does in the widget during a browser test: type a message, wait to see a reply."""

from __future__ import annotations

from typing import Any


def say(page: Any, text: str) -> None:
    """Type ``text`` into the widget and press Enter, as a user does."""
    page.get_by_test_id("uwc-input").fill(text)
    page.get_by_test_id("uwc-input").press("Enter")


def user_sees(page: Any, role: str, text: str) -> None:
    """Wait until the widget shows a message of ``role`` ("bot", "agent", …) with ``text``."""
    page.locator(f'[data-testid="uwc-msg"][data-role="{role}"]').filter(has_text=text).last.wait_for()
