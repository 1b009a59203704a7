"""Agent passwords, hashed with argon2id (argon2-cffi's default parameters)."""

from __future__ import annotations

from functools import lru_cache

from argon2 import PasswordHasher
from argon2.exceptions import Argon2Error

_HASHER = PasswordHasher()


def hash_password(password: str) -> str:
    """The encoded argon2id hash (salt and parameters included) of ``password``."""
    return _HASHER.hash(password)


def verify_password(encoded: str, password: str) -> bool:
    """Whether ``password`` matches ``encoded``; False (never an exception) for a malformed hash."""
    if not isinstance(encoded, str) or not isinstance(password, str):
        return False
    try:
        return _HASHER.verify(encoded, password)
    except (Argon2Error, ValueError, TypeError):
        return False


def needs_rehash(encoded: str) -> bool:
    """Whether ``encoded`` was made with other parameters than today's (or is malformed)."""
    if not isinstance(encoded, str):
        return True
    try:
        return _HASHER.check_needs_rehash(encoded)
    except (Argon2Error, ValueError, TypeError):
        return True


def burn_time(password: str) -> None:
    """Do the work of one verification, for a user that does not exist (similar timing)."""
    verify_password(_dummy_hash(), password)


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    return _HASHER.hash("not the password of anyone")
