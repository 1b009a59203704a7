"""Images users send: fetched from the platform by MediaId (never from PicUrl, an arbitrary
URL: fetching it would let anyone who can post a message make this server fetch any
address), checked by size and by their first bytes, then handed to the handoff's
attachment store (``bot.handoff.attachments``, for the console and the ticket).
"""

from __future__ import annotations

import importlib
import inspect
import logging
from typing import Any

from bot.channels.wechat.api import MediaTooLarge, WeChatApi
from bot.channels.wechat.errors import ApiError
from bot.channels.wechat.notices import notice
from bot.handoff.image_types import image_type

logger = logging.getLogger(__name__)


async def receive_image(app: Any, api: WeChatApi, sender_id: str, media_id: str, max_bytes: int) -> str:
    """Fetch, check and store one image; the notice the user gets."""
    max_mb = max(1, max_bytes // (1024 * 1024))
    try:  # written beside this channel; looked up when an image arrives
        attachments = importlib.import_module("bot.handoff.attachments")
    except ImportError:
        logger.warning("wechat channel: no attachment store (bot.handoff.attachments), image not kept")
        return notice("image_unavailable")
    try:
        media = await api.fetch_media(media_id, max_bytes)
    except MediaTooLarge:
        logger.info("wechat channel: an image over the size limit was refused")
        return notice("image_invalid", max_mb=max_mb)
    except ApiError as error:
        logger.warning("wechat channel: an image could not be fetched: %s", error)
        return notice("image_refused")
    content_type = image_type(media.data)
    if content_type is None:
        logger.info("wechat channel: a media file that is not an image was refused")
        return notice("image_invalid", max_mb=max_mb)
    try:
        stored = attachments.receive_attachment(app, sender_id, "wechat", content_type, media.data, media_id)
        if inspect.isawaitable(stored):
            await stored
    except attachments.AttachmentRefused as error:
        logger.info("wechat channel: the attachment store refused an image: %s", error)
        if getattr(error, "reason", None) in ("too_large", "bad_type"):
            return notice("image_invalid", max_mb=max_mb)
        return notice("image_refused")
    except Exception:
        logger.exception("wechat channel: storing an image failed")
        return notice("image_refused")
    return notice("image_received")
