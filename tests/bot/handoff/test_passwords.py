"""Agent password hashing (argon2id)."""

from __future__ import annotations

from typing import Any

import pytest
from argon2 import PasswordHasher

from bot.handoff.passwords import hash_password, needs_rehash, verify_password


def test_hash_and_verify() -> None:
    encoded = hash_password("correct horse")
    assert encoded.startswith("$argon2id$") and "correct horse" not in encoded
    assert verify_password(encoded, "correct horse")
    assert not verify_password(encoded, "correct horsE")
    assert not verify_password(encoded, "")
    assert hash_password("correct horse") != encoded  # salted
    assert not needs_rehash(encoded)


def test_chinese_passwords() -> None:
    assert verify_password(hash_password("我的密码很长很长"), "我的密码很长很长")


@pytest.mark.parametrize(
    "encoded",
    ["", "garbage", "$argon2id$v=19$m=65536,t=3,p=4$abc$def", "$argon2id$", "é", "\x00", None, 42],
)
def test_malformed_hashes_never_verify_and_never_raise(encoded: Any) -> None:
    assert verify_password(encoded, "correct horse") is False
    assert needs_rehash(encoded) is True


def test_weaker_parameters_need_a_rehash() -> None:
    weak = PasswordHasher(time_cost=1, memory_cost=8192).hash("correct horse")
    assert verify_password(weak, "correct horse") and needs_rehash(weak)
