"""Images users send during a handoff: checked, stored in the handoff database, and put in
the conversation's transcript so that the agent sees them live in the console.

A channel that receives an image (WeChat, Telegram) downloads it and calls
``receive_attachment``; the image is refused (``AttachmentRefused``) when it is larger than
``HANDOFF_ATTACHMENT_MAX_BYTES`` (2 MB), when its bytes are not a JPEG, PNG, GIF or WebP image
(the type the sender declares is not trusted), or when the store cannot take it now. A stored
image becomes a user message ``[图片]`` whose metadata carries its id (``attachment_refs``);
the channel does not also pass the image to Rasa. The console serves it to agents only
(``console_media``). SQL runs in the handoff's users' pool, never on the event loop.
"""

from __future__ import annotations

import asyncio
import logging

from sanic import Sanic

from bot.handoff import transcript
from bot.handoff.errors import HandoffError
from bot.handoff.ids import new_id
from bot.handoff.image_types import image_type
from bot.handoff.models import Attachment
from bot.handoff.rows import MAX_CHANNEL, MAX_SENDER_ID
from bot.handoff.service import service_of

__all__ = ["REFUSALS", "Attachment", "AttachmentRefused", "image_type", "receive_attachment"]
logger = logging.getLogger(__name__)
REFUSALS = ("too_large", "bad_type", "unavailable")


class AttachmentRefused(Exception):
    """The image was not taken; ``reason`` is ``too_large``, ``bad_type`` or ``unavailable``."""

    def __init__(self, reason: str) -> None:
        """Refuse for one of ``REFUSALS``."""
        super().__init__(reason)
        self.reason = reason if reason in REFUSALS else "unavailable"


async def receive_attachment(
    app: Sanic, sender_id: str, channel: str, content_type: str, data: bytes, source: str
) -> Attachment:
    """Store an image the user sent and add it to the conversation's transcript.

    Args:
        app: the running Rasa server (its handoff service and tracker store).
        sender_id: the conversation's Rasa sender id (``wechat:…``).
        channel: the channel's name, as trackers record it (``wechat``).
        content_type: what the platform declared (logged if it disagrees; never trusted).
        data: the image's bytes.
        source: where it came from (a media id, a file id), kept masked for the record.

    Raises:
        AttachmentRefused: ``too_large``, ``bad_type`` or ``unavailable`` (no handoff service,
            a bad sender or channel, the store or the tracker store down).
    """
    service = service_of(app)
    if service is None:
        raise AttachmentRefused("unavailable")
    if not isinstance(data, bytes | bytearray | memoryview):
        raise AttachmentRefused("bad_type")
    size = len(data)
    if size > service.settings.attachment_max_bytes:
        raise AttachmentRefused("too_large")
    kind = image_type(bytes(data[:16]))
    if kind is None:
        raise AttachmentRefused("bad_type")
    if kind != (content_type or "").split(";")[0].strip().lower():
        logger.info("attachment declared as another type than its bytes are (%s)", kind)
    if not (isinstance(sender_id, str) and 0 < len(sender_id) <= MAX_SENDER_ID) or not (
        isinstance(channel, str) and 0 < len(channel) <= MAX_CHANNEL
    ):
        raise AttachmentRefused("unavailable")
    add = service.workers.users.run(
        service.store.attachments.add, new_id(), sender_id, channel, kind, bytes(data), str(source or "")
    )
    try:
        attachment = await asyncio.wait_for(add, timeout=service.settings.db_timeout_seconds)
    except (HandoffError, asyncio.TimeoutError) as error:
        logger.warning("attachment not stored: %s", type(error).__name__)
        raise AttachmentRefused("unavailable") from error
    try:
        await transcript.append(app.ctx.agent, sender_id, [transcript.image_message(attachment)])
    except Exception as error:
        logger.exception("attachment stored but not added to the transcript")
        raise AttachmentRefused("unavailable") from error
    return attachment
