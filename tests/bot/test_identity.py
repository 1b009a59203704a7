"""Signed identity tokens: known answers, forgeries and expiry."""

from __future__ import annotations

import pytest

from bot.identity import InvalidToken, sign_identity, verify_identity

SECRET = "test-secret"
NOW = 1_800_000_000.0


def test_round_trip() -> None:
    token = sign_identity("U1001", SECRET, ttl_seconds=60, now=NOW)
    assert verify_identity(token, SECRET, now=NOW + 59) == "U1001"


def test_known_answer() -> None:
    token = sign_identity("U1001", SECRET, ttl_seconds=60, now=NOW)
    assert token == "eyJzdWIiOiJVMTAwMSIsImV4cCI6MTgwMDAwMDA2MH0.DaBvUYWuC-sgp5skwhTpfBVP68MSjsuxVWVS6FZjacU"


@pytest.mark.parametrize(
    "forge",
    [
        lambda t: t[:-2] + ("AA" if not t.endswith("AA") else "BB"),  # signature changed
        lambda t: sign_identity("U1002", "another-secret", now=NOW),  # other secret
        lambda t: "eyJzdWIiOiJVMTAwMiIsImV4cCI6MTgwMDAwMDA2MH0." + t.split(".")[1],  # payload swapped
        lambda t: t.split(".")[0],  # no signature
        lambda t: "",
        lambda t: "a.b.c",
        lambda t: "x" * 5000 + "." + "y",
        lambda t: "不是.令牌",
        lambda t: None,
        lambda t: 12345,
    ],
)
def test_forged_tokens_are_refused(forge) -> None:  # type: ignore[no-untyped-def]
    token = sign_identity("U1001", SECRET, ttl_seconds=60, now=NOW)
    with pytest.raises(InvalidToken):
        verify_identity(forge(token), SECRET, now=NOW)


def test_expired_token_is_refused() -> None:
    token = sign_identity("U1001", SECRET, ttl_seconds=60, now=NOW)
    with pytest.raises(InvalidToken, match="expired"):
        verify_identity(token, SECRET, now=NOW + 61)


def test_no_secret_configured() -> None:
    with pytest.raises(InvalidToken):
        verify_identity("a.b", "")
    with pytest.raises(ValueError):
        sign_identity("U1001", "")
