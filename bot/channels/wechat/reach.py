"""Who can still be reached: a user who unsubscribed is marked in the shared channel state
(a push then reports ``unsubscribed`` without calling the platform) until they subscribe
again. Keys hold a hash of the app and the openid, never the openid."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable

from bot.channels.shared_state import SharedState

logger = logging.getLogger(__name__)

MARK_SECONDS = 400 * 24 * 3600.0


class Reachability:
    """The unsubscribed marks of one app's users."""

    def __init__(self, state: Callable[[], SharedState], app_id: str) -> None:
        """``state`` gives the shared store (opened on first use)."""
        self._state = state
        self._app_id = app_id

    def _key(self, openid: str) -> str:
        digest = hashlib.sha256(f"{self._app_id}|{openid}".encode()).hexdigest()[:40]
        return f"wechat:unreachable:{digest}"

    async def unreachable(self, openid: str) -> bool:
        """Whether the user unsubscribed (False when the store cannot tell)."""
        try:
            return await self._state().get(self._key(openid)) is not None
        except Exception:
            logger.exception("wechat channel: the shared state is unavailable (reachability unknown)")
            return False

    async def left(self, openid: str) -> None:
        """The user unsubscribed (or the platform says they no longer follow)."""
        try:
            await self._state().put(self._key(openid), "unsubscribed", MARK_SECONDS)
        except Exception:
            logger.exception("wechat channel: the shared state is unavailable (unsubscribe not recorded)")

    async def returned(self, openid: str) -> None:
        """The user subscribed (again)."""
        try:
            await self._state().delete(self._key(openid))
        except Exception:
            logger.exception("wechat channel: the shared state is unavailable (subscribe not recorded)")
