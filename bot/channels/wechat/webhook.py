"""What a webhook request must carry before anything of it is used: a well-formed query, a
valid signature made within the timestamp window, a body under the size cap, and (safe
mode) a valid msg_signature over a message that decrypts for this app.

The ``openid`` query value is not signed and is never read: the user comes only from the
verified (decrypted) XML.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterable, Mapping, Sequence
from dataclasses import dataclass

from bot.channels.wechat.crypto import DecryptionFailed, MessageCipher, check_signature, check_timestamp
from bot.channels.wechat.errors import RequestRefused, invalid_query
from bot.channels.wechat.inbound import Inbound, decode_body, envelope_encrypt, parse_fields, read_message
from bot.channels.wechat.settings import WeChatSettings

_SIGNATURE = re.compile(r"[0-9a-fA-F]{40}")
_TIMESTAMP = re.compile(r"[0-9]{1,12}")
_NONCE = re.compile(r"[A-Za-z0-9]{1,64}")
_ECHOSTR = re.compile(r"[A-Za-z0-9_\-]{1,128}")


@dataclass(frozen=True)
class Query:
    """The verified query of a request."""

    timestamp: str
    nonce: str
    encrypted: bool = False
    msg_signature: str | None = None
    echostr: str | None = None


def _one(args: Mapping[str, Sequence[str]], name: str, pattern: re.Pattern[str]) -> str | None:
    values = args.get(name) or []
    if len(values) > 1:
        raise invalid_query()
    if not values:
        return None
    if not pattern.fullmatch(values[0]):
        raise invalid_query()
    return values[0]


def _required(args: Mapping[str, Sequence[str]], name: str, pattern: re.Pattern[str]) -> str:
    value = _one(args, name, pattern)
    if value is None:
        raise invalid_query()
    return value


def check_query(
    args: Mapping[str, Sequence[str]], settings: WeChatSettings, now: float, handshake: bool = False
) -> Query:
    """The request's query, verified: signature (constant time) and timestamp window; for
    the handshake the ``echostr``; for a message the mode (safe mode needs ``encrypt_type=aes``
    and a ``msg_signature``, checked with the body).

    Raises:
        RequestRefused: 400 ``invalid_query`` (missing, repeated or malformed values),
        400 ``encryption_required`` (a plaintext message when an EncodingAESKey is set),
        400 ``encryption_not_configured`` (an encrypted message without one), 403
        ``invalid_signature``, 403 ``stale_timestamp``.
    """
    signature = _required(args, "signature", _SIGNATURE)
    timestamp = _required(args, "timestamp", _TIMESTAMP)
    nonce = _required(args, "nonce", _NONCE)
    check_signature(signature, settings.token, timestamp, nonce)
    check_timestamp(timestamp, now, settings.timestamp_window_seconds)
    if handshake:
        return Query(timestamp, nonce, echostr=_required(args, "echostr", _ECHOSTR))
    encrypt_type = (_one(args, "encrypt_type", re.compile(r"[a-z]{1,10}")) or "raw").lower()
    if encrypt_type not in ("aes", "raw"):
        raise invalid_query()
    encrypted = encrypt_type == "aes"
    if settings.safe_mode and not encrypted:
        raise RequestRefused(400, "encryption_required")
    if encrypted and not settings.safe_mode:
        raise RequestRefused(400, "encryption_not_configured")
    msg_signature = _required(args, "msg_signature", _SIGNATURE) if encrypted else None
    return Query(timestamp, nonce, encrypted, msg_signature)


async def read_body(chunks: AsyncIterable[bytes], declared_length: str | None, limit: int) -> bytes:
    """The body, read no further than ``limit`` bytes.

    Raises:
        RequestRefused: 413 ``body_too_large``; 400 ``empty_body``.
    """
    if declared_length and declared_length.strip().isdigit() and int(declared_length) > limit:
        raise RequestRefused(413, "body_too_large")
    body = bytearray()
    async for chunk in chunks:
        body += chunk
        if len(body) > limit:
            raise RequestRefused(413, "body_too_large")
    if not body.strip():
        raise RequestRefused(400, "empty_body")
    return bytes(body)


def read_inbound(
    query: Query, body: bytes, settings: WeChatSettings, cipher: MessageCipher | None
) -> tuple[Inbound, int]:
    """The message of a verified request, and the key it was encrypted with (0 in plaintext
    mode: see ``MessageCipher.open``). Safe and compatible mode use only the decrypted copy
    (the plaintext fields of compatible mode are ignored).

    Raises:
        RequestRefused: 400 ``invalid_encoding`` or ``invalid_xml``; 403 ``invalid_signature``
        (msg_signature), ``decrypt_failed`` or ``wrong_app``.
    """
    text = decode_body(body)
    fields = parse_fields(text)
    if not query.encrypted:
        return read_message(text), 0
    if cipher is None or query.msg_signature is None:
        raise RequestRefused(400, "encryption_not_configured")
    encrypt = envelope_encrypt(fields)
    check_signature(query.msg_signature, settings.token, query.timestamp, query.nonce, encrypt)
    try:
        xml, key = cipher.open(encrypt)
    except DecryptionFailed as error:
        raise error.refusal() from error
    return read_message(xml), key
