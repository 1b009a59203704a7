"""Request signatures and safe-mode encryption (pure functions with known-answer tests).

wechatpy does the cipher (``wechatpy.crypto.PrpCrypto``: AES-256-CBC, IV = key[:16]); this
module mends what it gets wrong:

- signatures are compared in constant time (``hmac.compare_digest``; wechatpy uses ``!=``),
  and the request's timestamp must be within a window (wechatpy has no check);
- decryption validates the layout (base64, whole blocks, the PKCS#7 padding byte 1..32 and
  every padding byte, the length field) before the trailing app id is compared; wechatpy
  slices with whatever the last byte says;
- the 16 random bytes of an encrypted reply come from ``secrets`` (wechatpy's
  ``random_string`` uses ``random.sample``, not a cryptographic generator);
- a message that does not decrypt with the current key is tried with the previous one, and
  its reply is encrypted with the key it came with (key rotation in either order: the
  server first or WeChat's console first).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
import string

from wechatpy.crypto import PrpCrypto

from bot.channels.wechat.errors import RequestRefused, invalid_signature, stale_timestamp
from bot.channels.wechat.settings import aes_key_bytes

_RANDOM_ALPHABET = string.ascii_letters + string.digits
REPLY_TEMPLATE = """<xml>
<Encrypt><![CDATA[{encrypt}]]></Encrypt>
<MsgSignature><![CDATA[{signature}]]></MsgSignature>
<TimeStamp>{timestamp}</TimeStamp>
<Nonce><![CDATA[{nonce}]]></Nonce>
</xml>"""


def sign(*parts: str) -> str:
    """WeChat's signature: SHA-1 of the parts sorted and joined (token, timestamp, nonce[, Encrypt])."""
    return hashlib.sha1("".join(sorted(parts)).encode("utf-8")).hexdigest()


def check_signature(given: str, token: str, timestamp: str, nonce: str, *extra: str) -> None:
    """Compare a request's ``signature`` (or ``msg_signature`` with the Encrypt value as
    ``extra``) with the expected one, in constant time.

    Raises:
        RequestRefused: 403 ``invalid_signature``.
    """
    expected = sign(token, timestamp, nonce, *extra)
    if not hmac.compare_digest(given.lower().encode("ascii", "replace"), expected.encode("ascii")):
        raise invalid_signature()


def check_timestamp(timestamp: str, now: float, window_seconds: int) -> None:
    """The signature does not cover the body: refuse requests signed too long ago (or ahead).

    Raises:
        RequestRefused: 403 ``stale_timestamp``.
    """
    if not timestamp.isdigit() or abs(int(timestamp) - now) > window_seconds:
        raise stale_timestamp()


def random_text(length: int = 16) -> str:
    """The random prefix of an encrypted message, from a cryptographic generator."""
    return "".join(secrets.choice(_RANDOM_ALPHABET) for _ in range(length))


class _Prp(PrpCrypto):
    """wechatpy's cipher with the random prefix chosen by the caller."""

    def __init__(self, key: bytes, prefix: str) -> None:
        super().__init__(key)
        self._prefix = prefix

    def get_random_string(self) -> str:
        return self._prefix


class DecryptionFailed(Exception):
    """The Encrypt value is not a message of this app under any configured key."""

    def __init__(self, code: str) -> None:
        """``code``: ``decrypt_failed`` (not readable) or ``wrong_app`` (another app id)."""
        super().__init__(code)
        self.code = code

    def refusal(self) -> RequestRefused:
        """The request's refusal (403)."""
        return RequestRefused(403, self.code)


def _open(key: bytes, encrypted: str) -> tuple[str, str]:
    """(xml, app id) of one Encrypt value under one key; DecryptionFailed when the layout is wrong."""
    try:
        raw = base64.b64decode(encrypted, validate=True)
    except (binascii.Error, ValueError) as error:
        raise DecryptionFailed("decrypt_failed") from error
    if not raw or len(raw) % 16:
        raise DecryptionFailed("decrypt_failed")
    plain = PrpCrypto(key).cipher.decrypt(raw)
    padding = plain[-1]
    if not 1 <= padding <= 32 or plain[-padding:] != bytes([padding]) * padding:
        raise DecryptionFailed("decrypt_failed")
    content = plain[16:-padding]
    if len(content) < 4:
        raise DecryptionFailed("decrypt_failed")
    length = int.from_bytes(content[:4], "big")
    if length > len(content) - 4:
        raise DecryptionFailed("decrypt_failed")
    try:
        return content[4 : 4 + length].decode("utf-8"), content[4 + length :].decode("utf-8")
    except UnicodeDecodeError as error:
        raise DecryptionFailed("decrypt_failed") from error


class MessageCipher:
    """Safe-mode decryption of incoming messages and encryption of replies for one app."""

    def __init__(self, token: str, aes_key: str, app_id: str, previous_aes_key: str | None = None) -> None:
        """Keys are EncodingAESKeys (43 characters); replies always use the current one."""
        self._token = token
        self._app_id = app_id
        self._keys = [aes_key_bytes(aes_key)]
        if previous_aes_key:
            self._keys.append(aes_key_bytes(previous_aes_key))

    def decrypt(self, encrypted: str) -> str:
        """The XML inside an Encrypt value (see :meth:`open`).

        Raises:
            DecryptionFailed: see :meth:`open`.
        """
        return self.open(encrypted)[0]

    def open(self, encrypted: str) -> tuple[str, int]:
        """The XML inside an Encrypt value and which key opened it (0: the current one, 1:
        the previous one), tried in that order.

        Raises:
            DecryptionFailed: ``wrong_app`` when it decrypts for another app id, else
            ``decrypt_failed``.
        """
        outcome = "decrypt_failed"
        for index, key in enumerate(self._keys):
            try:
                xml, app_id = _open(key, encrypted)
            except DecryptionFailed:
                continue
            if hmac.compare_digest(app_id.encode("utf-8"), self._app_id.encode("utf-8")):
                return xml, index
            outcome = "wrong_app"
        raise DecryptionFailed(outcome)

    def encrypt(self, xml: str, prefix: str | None = None, key: int = 0) -> str:
        """The Encrypt value of a reply (``prefix``: the 16 random characters, for tests;
        ``key``: 0 the current key, 1 the previous one)."""
        encrypted = _Prp(self._keys[key], prefix or random_text()).encrypt(xml, self._app_id)
        return encrypted.decode("ascii") if isinstance(encrypted, bytes) else str(encrypted)

    def reply(self, xml: str, nonce: str, timestamp: str, prefix: str | None = None, key: int = 0) -> str:
        """The encrypted passive reply: ``<xml><Encrypt/><MsgSignature/><TimeStamp/><Nonce/></xml>``,
        with the key the request came with (``key``, from :meth:`open`)."""
        encrypt = self.encrypt(xml, prefix, key)
        signature = sign(self._token, timestamp, nonce, encrypt)
        return REPLY_TEMPLATE.format(encrypt=encrypt, signature=signature, timestamp=timestamp, nonce=nonce)
