"""Signatures and safe-mode encryption, as WeChat makes them and checks them.

``signature`` is sha1 of the sorted strings joined. Safe mode: AES-256-CBC with IV = key[:16]
over 16 random bytes ‖ 4-byte big-endian length ‖ XML ‖ AppID, PKCS#7-padded to 32-byte blocks
(wechatpy's ``PrpCrypto`` encrypts; opening is done here, so that a bad padding byte or another
AppID is refused, which wechatpy does not check).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
import string
import struct

from wechatpy.crypto import PrpCrypto
from wechatpy.crypto.cryptography import WeChatCipher

BLOCK = 32
_PREFIX_ALPHABET = string.ascii_letters + string.digits


class CryptoError(ValueError):
    """A ciphertext or signature that does not check out."""


def signature(*parts: str) -> str:
    """sha1 of the parts sorted and joined: the query ``signature`` (token, timestamp,
    nonce) and the ``msg_signature`` (the same and the Encrypt value)."""
    return hashlib.sha1("".join(sorted(parts)).encode("utf-8")).hexdigest()


def signature_matches(expected: str, *parts: str) -> bool:
    """Whether ``expected`` is the signature of ``parts`` (constant-time)."""
    return hmac.compare_digest(expected.encode("utf-8"), signature(*parts).encode("utf-8"))


class _FixedPrefix(PrpCrypto):  # type: ignore[misc]
    """PrpCrypto with the 16 random bytes given (known-answer tests, and secrets-made ones)."""

    def __init__(self, key: bytes, prefix: str) -> None:
        super().__init__(key)
        self._prefix = prefix

    def get_random_string(self) -> str:
        return self._prefix


def encrypt(key: bytes, app_id: str, xml: str, prefix: str | None = None) -> str:
    """The base64 Encrypt value of ``xml`` (``prefix``: the 16 random characters)."""
    prefix = prefix if prefix is not None else "".join(secrets.choice(_PREFIX_ALPHABET) for _ in range(16))
    if len(prefix.encode("utf-8")) != 16:
        raise ValueError("the random prefix is 16 bytes")
    return bytes(_FixedPrefix(key, prefix).encrypt(xml, app_id)).decode("ascii")


def decrypt(key: bytes, app_id: str, encrypted: str) -> str:
    """The XML inside an Encrypt value, refusing bad base64, padding or length, or another AppID.

    Raises:
        CryptoError: when the ciphertext is not a valid one for ``app_id``.
    """
    try:
        raw = base64.b64decode(encrypted, validate=True)
    except (binascii.Error, ValueError) as error:
        raise CryptoError("not base64") from error
    if not raw or len(raw) % 16:
        raise CryptoError("not whole AES blocks")
    plain = WeChatCipher(key).decrypt(raw)
    pad = plain[-1]
    if not 1 <= pad <= BLOCK or plain[-pad:] != bytes([pad]) * pad:
        raise CryptoError("bad padding")
    content = plain[16:-pad]
    if len(content) < 4:
        raise CryptoError("too short")
    (length,) = struct.unpack(">I", content[:4])
    if 4 + length > len(content):
        raise CryptoError("bad length")
    if not hmac.compare_digest(content[4 + length :], app_id.encode("utf-8")):
        raise CryptoError("another AppID")
    try:
        return content[4 : 4 + length].decode("utf-8")
    except UnicodeDecodeError as error:
        raise CryptoError("not UTF-8") from error
