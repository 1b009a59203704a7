"""The widget's image upload: ``POST /widget/upload``, a ``multipart/form-data`` body with the
session's proof (field ``session``) and the image (field ``image``).

A simple request (no custom header, so no CORS preflight, like the history request), answered
with CORS headers for the configured origins only. The body is read as a stream and refused
once it is larger than the handoff's image limit (``HANDOFF_ATTACHMENT_MAX_BYTES``) plus the
form's overhead; the proof must be one this server signed; each session may upload
``uploads_per_minute`` images. The image is then checked and stored like every image users send
(``bot.handoff.attachments``: its type by its bytes, never by its name or declared type) and
put in the conversation's transcript, where the agent sees it. Refusals are
``{error, message}``, the message a fixed text for the user (``attachments.yml``), never the input.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import yaml
from sanic import Blueprint, response
from sanic.headers import parse_content_header
from sanic.request import Request, parse_multipart_form
from sanic.response import HTTPResponse
from sanic_cors.core import SANIC_CORS_EVALUATED

from bot.channels.widget_cors import cors_headers
from bot.channels.widget_sessions import MAX_PROOF_CHARS, InvalidSession, sender_of, verify_session
from bot.channels.widget_settings import WidgetSettings
from bot.handoff.attachment_refs import TEXTS_PATH
from bot.handoff.attachments import AttachmentRefused, receive_attachment
from bot.handoff.service import service_of
from bot.ratelimit import rate_limiter

CHANNEL = "socketio"
FORM_OVERHEAD_BYTES = 16 * 1024  # the boundary lines, the proof and the part headers
DEFAULT_MAX_BYTES = 2 * 1024 * 1024
STATUS = {
    "session_required": 401,
    "invalid_session": 403,
    "too_large": 413,
    "bad_type": 415,
    "bad_request": 400,
    "rate_limited": 429,
    "unavailable": 503,
}


class UploadRefused(Exception):
    """An upload that is not taken, for one of ``STATUS``'s reasons."""

    def __init__(self, reason: str) -> None:
        """Refuse for ``reason``."""
        super().__init__(reason)
        self.reason = reason if reason in STATUS else "unavailable"
        self.status = STATUS[self.reason]


@lru_cache(maxsize=1)
def refusal_texts() -> dict[str, str]:
    """The user's texts of each refusal (``attachments.yml``, ``upload_refused``)."""
    data = yaml.safe_load(TEXTS_PATH.read_text(encoding="utf-8")) or {}
    texts = data.get("upload_refused") or {}
    missing = [reason for reason in STATUS if not isinstance(texts.get(reason), str) or not texts[reason]]
    if missing:
        raise ValueError(f"{TEXTS_PATH} lacks upload_refused texts: {', '.join(missing)}")
    return {reason: texts[reason] for reason in STATUS}


def upload_limit(app: Any) -> int:
    """The largest body taken: the handoff's image limit and the form around it."""
    service = service_of(app)
    image_bytes = service.settings.attachment_max_bytes if service is not None else DEFAULT_MAX_BYTES
    return image_bytes + FORM_OVERHEAD_BYTES


async def read_body(request: Request, limit: int) -> bytes:
    """The body, read as a stream; UploadRefused("too_large") past ``limit`` bytes."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise UploadRefused("too_large")
    body = bytearray()
    async for chunk in request.stream:  # type: ignore[union-attr]
        body += chunk
        if len(body) > limit:
            raise UploadRefused("too_large")
    return bytes(body)


def parse_form(content_type: str | None, body: bytes) -> tuple[str, bytes, str]:
    """The proof, the image's bytes and its declared type from a multipart body.

    Raises:
        UploadRefused: ``bad_request`` for anything but a form with both fields,
            ``session_required`` without a proof.
    """
    kind, options = parse_content_header(content_type or "")
    boundary = options.get("boundary")
    if kind != "multipart/form-data" or not isinstance(boundary, str) or not 0 < len(boundary) <= 200:
        raise UploadRefused("bad_request")
    try:
        fields, files = parse_multipart_form(body, boundary.encode("latin-1"))
    except Exception as error:  # a malformed form: what the parser raises is not specified
        raise UploadRefused("bad_request") from error
    proof = fields.get("session")
    if not isinstance(proof, str) or not proof.strip():
        raise UploadRefused("session_required")
    image = files.get("image")
    if image is None or not isinstance(image.body, bytes) or not image.body:
        raise UploadRefused("bad_request")
    return proof.strip(), image.body, str(image.type or "")


def register_upload(bp: Blueprint, settings: WidgetSettings) -> None:
    """Add ``POST /widget/upload`` to the widget channel's blueprint."""
    limiter = rate_limiter(settings.uploads_per_minute, 60.0, "widget-upload")

    def reply(request: Request, body: dict[str, Any], status: int) -> HTTPResponse:
        headers = cors_headers(request.headers.get("Origin"), settings.cors_allowed_origins)
        headers["Cache-Control"] = "no-store"
        setattr(request.ctx, SANIC_CORS_EVALUATED, "1")
        return response.json(body, status=status, headers=headers)

    @bp.route("/upload", methods=["POST"], stream=True)
    async def upload(request: Request) -> HTTPResponse:
        try:
            body = await read_body(request, upload_limit(request.app))
            proof, data, declared = parse_form(request.headers.get("content-type"), body)
            if len(proof) > MAX_PROOF_CHARS:
                raise UploadRefused("invalid_session")
            try:
                session_id = verify_session(proof, settings.session_secret)
            except InvalidSession as error:
                raise UploadRefused("invalid_session") from error
            if not await limiter.admit(session_id):
                raise UploadRefused("rate_limited")
            try:
                stored = await receive_attachment(
                    request.app, sender_of(session_id), CHANNEL, declared, data, "widget upload"
                )
            except AttachmentRefused as error:
                raise UploadRefused(error.reason) from error
        except UploadRefused as refused:
            return reply(
                request, {"error": refused.reason, "message": refusal_texts()[refused.reason]}, refused.status
            )
        return reply(request, {"stored": True, "content_type": stored.content_type, "size": stored.size}, 201)
