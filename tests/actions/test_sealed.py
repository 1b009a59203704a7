"""Sealed slot values: the key from the environment, sealing and opening, masking leaves them."""

from __future__ import annotations

import logging

import pytest
from cryptography.fernet import Fernet

from actions.sealed import SealingKeyError, cipher_from_env, derive_key, opened, seal, unseal
from bot.masking import mask_text
from bot.pii import is_sealed


def test_the_key_derived_from_the_identity_secret_is_known() -> None:
    assert derive_key("server-test-secret") == b"-2k3wwjrENVHLJxc6CphPxQZagZdQ3DsTcamB9rT0Zc="
    assert derive_key("another") != derive_key("server-test-secret")


def test_sealed_values_open_with_the_same_key_only() -> None:
    cipher = cipher_from_env({"IDENTITY_SECRET": "s1"})
    sealed = seal("sms:13912345678", cipher)
    assert sealed.startswith("enc:v1:") and is_sealed(sealed) and "13912345678" not in sealed
    assert unseal(sealed, cipher) == "sms:13912345678"
    assert unseal(sealed, cipher_from_env({"IDENTITY_SECRET": "s2"})) is None
    assert unseal(sealed, cipher_from_env({"SLOT_ENCRYPTION_KEY": Fernet.generate_key().decode()})) is None


def test_the_configured_key_wins_and_keys_rotate() -> None:
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    sealed_with_old = seal(
        "13900001234", cipher_from_env({"SLOT_ENCRYPTION_KEY": old, "IDENTITY_SECRET": "s"})
    )
    rotated = cipher_from_env({"SLOT_ENCRYPTION_KEY": f"{new}, {old}"})
    assert unseal(sealed_with_old, rotated) == "13900001234"
    assert unseal(seal("x", rotated), cipher_from_env({"SLOT_ENCRYPTION_KEY": new})) == "x"
    assert unseal(sealed_with_old, cipher_from_env({"IDENTITY_SECRET": "s"})) is None


@pytest.mark.parametrize("key", ["not-a-key", "c2hvcnQ=", f"{Fernet.generate_key().decode()},bad"])
def test_a_bad_key_fails_fast(key: str) -> None:
    with pytest.raises(SealingKeyError):
        cipher_from_env({"SLOT_ENCRYPTION_KEY": key})


def test_without_any_secret_a_random_key_is_used_with_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="actions.sealed"):
        first, second = cipher_from_env({}), cipher_from_env({})
    assert "SLOT_ENCRYPTION_KEY" in caplog.text
    assert unseal(seal("a", first), first) == "a" and unseal(seal("a", first), second) is None


@pytest.mark.parametrize("value", [None, 3, "", "sms:13800138000", "sms:138****8000", "enc:v1:gAAAAAforged"])
def test_anything_not_sealed_opens_to_nothing(value: object) -> None:
    assert unseal(value, cipher_from_env({"IDENTITY_SECRET": "s"})) is None


def test_opened_reads_a_sealed_or_a_plain_value() -> None:
    assert opened(seal("sms:13800138000")) == "sms:13800138000"
    assert opened("sms:13800138000") == "sms:13800138000"


@pytest.mark.parametrize(
    "value", ["13800138000", "zhangwei@example.com", "110101199003071234", "246810" * 40]
)
def test_masking_leaves_sealed_values_alone(value: str) -> None:
    for _ in range(20):  # random IVs: the ciphertext never looks like personal data
        sealed = seal(value, cipher_from_env({"IDENTITY_SECRET": "s"}))
        assert mask_text(f"slot: {sealed}") == f"slot: {sealed}"
