"""Sealed slot values: raw personal data a flow needs later, kept encrypted in the slot.

The tracker store masks every stored value, so a value a later turn still needs (the contact
a reset link is resent to, a new phone number awaiting confirmation) is sealed with Fernet
(AES-128-CBC + HMAC-SHA256) before it is put in a slot, and opened only where it is used.
A sealed value reads ``enc:v1:<Fernet token>``; the grammar of personal data (``bot.pii``)
knows that form, so masking leaves it alone.

The key comes from the action server's environment:

- ``SLOT_ENCRYPTION_KEY``: a Fernet key (``Fernet.generate_key()``: 32 url-safe base64-encoded
  bytes), or several separated by commas to rotate keys: the first seals, all open;
- else derived from ``IDENTITY_SECRET`` with HKDF-SHA256 (every action server that shares the
  secret opens what another sealed);
- else a random key for this process, with a warning: sealed values do not survive a
  restart, nor reach another action server.
"""

from __future__ import annotations

import base64
import logging
import os
from collections.abc import Mapping
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from bot.pii import SEALED_PREFIX, is_sealed

logger = logging.getLogger(__name__)

KEY_VARIABLE = "SLOT_ENCRYPTION_KEY"
SECRET_VARIABLE = "IDENTITY_SECRET"
_HKDF_SALT = b"united-wallet slot encryption"
_HKDF_INFO = b"slot-values v1"


class SealingKeyError(ValueError):
    """SLOT_ENCRYPTION_KEY is not a valid Fernet key (or list of keys)."""


def derive_key(secret: str) -> bytes:
    """The Fernet key HKDF-SHA256 derives from a secret (known answer in the tests)."""
    hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=_HKDF_SALT, info=_HKDF_INFO)
    return base64.urlsafe_b64encode(hkdf.derive(secret.encode("utf-8")))


def cipher_from_env(env: Mapping[str, str]) -> MultiFernet:
    """The cipher the environment configures (see the module docstring).

    Raises:
        SealingKeyError: SLOT_ENCRYPTION_KEY is set but is not Fernet keys.
    """
    configured = [key.strip() for key in env.get(KEY_VARIABLE, "").split(",") if key.strip()]
    if configured:
        try:
            return MultiFernet([Fernet(key) for key in configured])
        except (ValueError, TypeError) as error:
            raise SealingKeyError(
                f"{KEY_VARIABLE} must be Fernet keys (32 url-safe base64-encoded bytes), comma-separated"
            ) from error
    secret = env.get(SECRET_VARIABLE, "")
    if secret:
        return MultiFernet([Fernet(derive_key(secret))])
    logger.warning(
        "%s and %s are not set: slot values are sealed with a random key of this process, "
        "lost on restart and unknown to other action servers",
        KEY_VARIABLE,
        SECRET_VARIABLE,
    )
    return MultiFernet([Fernet(Fernet.generate_key())])


@lru_cache(maxsize=1)
def slot_cipher() -> MultiFernet:
    """The action server's cipher, made once from ``os.environ``."""
    return cipher_from_env(os.environ)


def seal(value: str, cipher: MultiFernet | None = None) -> str:
    """``enc:v1:<token>``: the value encrypted and authenticated."""
    token = (cipher or slot_cipher()).encrypt(value.encode("utf-8")).decode("ascii")
    return SEALED_PREFIX + token


def unseal(value: object, cipher: MultiFernet | None = None) -> str | None:
    """The value a sealed slot holds; None for anything else (a plain, masked or forged value,
    or one sealed with a key this server does not have)."""
    if not isinstance(value, str) or not is_sealed(value):
        return None
    try:
        data = (cipher or slot_cipher()).decrypt(value[len(SEALED_PREFIX) :].encode("ascii"))
    except InvalidToken:
        logger.warning("a sealed slot value could not be opened (another key?)")
        return None
    return data.decode("utf-8")


def opened(value: object) -> str:
    """A slot value as text: opened when it is sealed ("" when it cannot be), else as it is."""
    return (unseal(value) or "") if is_sealed(value) else str(value)
