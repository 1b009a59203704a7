"""The images users sent, served by the console to the agents who may read the conversation.

``GET /console/api/attachments/<id>``: a logged-in agent who serves (or served) the sender's
conversation, or a supervisor, gets the bytes with the type they were checked to be, shown
inline, never sniffed as anything else, under a content security policy that allows nothing
to run; everyone else gets 401 (no session) or 404 (an unknown id, or not theirs: whether an
id exists is not revealed).
"""

from __future__ import annotations

from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.handoff import errors
from bot.handoff.console_auth import agent_required
from bot.handoff.models import Agent, Attachment
from bot.handoff.service import HandoffService

SERVED_TYPES = frozenset({"image/jpeg", "image/png", "image/gif", "image/webp"})
HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; sandbox",
    "Cache-Control": "private, no-store",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Referrer-Policy": "no-referrer",
}


class AttachmentNotFound(errors.NotFound):
    """No image with that id that this agent may see."""

    code = "attachment_not_found"


def attachment_headers(attachment: Attachment) -> dict[str, str]:
    """The response headers of an image."""
    extension = attachment.content_type.split("/")[1]
    return {**HEADERS, "Content-Disposition": f'inline; filename="{attachment.id}.{extension}"'}


def register_media(bp: Blueprint, service: HandoffService) -> None:
    """The attachment route."""
    store, pool = service.store, service.workers.console
    login_required = agent_required(service)

    def readable(agent: Agent, attachment_id: str) -> tuple[Attachment, bytes]:
        try:
            found, data = store.attachments.get(attachment_id)
        except errors.NotFound as error:
            raise AttachmentNotFound("no such attachment") from error
        if found.content_type not in SERVED_TYPES:
            raise AttachmentNotFound("not an image")
        if not agent.is_supervisor and not store.attachments.served_by(found.sender_id, agent.id):
            raise AttachmentNotFound("not yours")
        return found, data

    @bp.route("/api/attachments/<attachment_id:str>", methods=["GET"])
    @login_required
    async def attachment(request: Request, agent: Agent, attachment_id: str) -> HTTPResponse:
        found, data = await pool.run(readable, agent, attachment_id)
        return response.raw(data, content_type=found.content_type, headers=attachment_headers(found))
