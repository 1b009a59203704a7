"""The widget's session proofs, settings, origins, identity bindings and demo token: pure
functions with known answers, no server. (They belong in tests/bot/channels/; kept here
beside the widget's server tests while that folder is someone else's.)"""

from __future__ import annotations

import logging

import pytest

from bot.channels.widget_cors import cors_headers, same_origins, socket_origin_check
from bot.channels.widget_identity import IdentityBindings, token_subject
from bot.channels.widget_routes import WidgetHttpError, demo_token, proof_of, session_from_proof
from bot.channels.widget_sessions import (
    InvalidSession,
    new_session_id,
    resume_or_issue,
    sender_of,
    session_of,
    session_secret,
    sign_session,
    verify_session,
)
from bot.channels.widget_settings import WidgetSettings, parse_flag, parse_origins
from bot.identity import sign_identity, verify_identity
from tests.bad_inputs import bad_messages

SECRET = b"widget-session-known-answer-secret-0001"
SESSION = "0123456789abcdef0123456789abcdef"
# HMAC-SHA256(SECRET, "uwc-session.v1." + SESSION), base64url without padding, computed with
# `printf 'uwc-session.v1.<id>' | openssl dgst -sha256 -hmac '<secret>' -binary | base64`.
KNOWN_PROOF = f"{SESSION}.RqNG-Zr11WHRWvetkpcexVwZxkgCAUM98aOYQ7nlFr0"


# --- proofs -------------------------------------------------------------------------------------
def test_known_answer() -> None:
    assert sign_session(SESSION, SECRET) == KNOWN_PROOF
    assert verify_session(KNOWN_PROOF, SECRET) == SESSION


def test_new_sessions_are_random_and_signable() -> None:
    ids = {new_session_id() for _ in range(100)}
    assert len(ids) == 100
    for session_id in ids:
        assert verify_session(sign_session(session_id, SECRET), SECRET) == session_id


@pytest.mark.parametrize(
    "proof",
    [
        None,
        42,
        "",
        SESSION,
        f"{SESSION}.",
        f"{SESSION}.{'A' * 43}",  # forged
        KNOWN_PROOF.replace("0123", "1123", 1),  # tampered id
        KNOWN_PROOF[:-1] + "A",  # tampered signature
        KNOWN_PROOF + "A",
        KNOWN_PROOF.upper(),
        f"{KNOWN_PROOF}.x",
        f"widget:{KNOWN_PROOF}",
        "../../etc/passwd.x",
        f"{SESSION}.{'é' * 43}",
        "x" * 5000,
    ],
)
def test_bad_proofs_are_refused(proof: object) -> None:
    with pytest.raises(InvalidSession):
        verify_session(proof, SECRET)


@pytest.mark.parametrize("name", sorted(bad_messages()))
def test_the_bad_input_corpus_is_no_proof(name: str) -> None:
    with pytest.raises(InvalidSession):
        verify_session(bad_messages()[name], SECRET)


def test_another_secret_does_not_verify() -> None:
    with pytest.raises(InvalidSession):
        verify_session(KNOWN_PROOF, b"another-secret-another-secret-00")
    with pytest.raises(InvalidSession):
        verify_session(KNOWN_PROOF, b"")


def test_only_issued_ids_are_signed() -> None:
    for bad in ("short", "widget:" + SESSION, SESSION.upper(), SESSION + "0"):
        with pytest.raises(ValueError):
            sign_session(bad, SECRET)
    with pytest.raises(ValueError):
        sign_session(SESSION, b"")


def test_a_session_request_resumes_only_with_a_valid_proof() -> None:
    assert resume_or_issue({"session_token": KNOWN_PROOF}, SECRET) == (SESSION, True)
    for request in (None, SESSION, {"session_id": SESSION}, {"session_token": SESSION}, [KNOWN_PROOF]):
        session_id, resumed = resume_or_issue(request, SECRET)
        assert not resumed and session_id != SESSION and len(session_id) == 32


def test_the_sender_namespace() -> None:
    assert sender_of(SESSION) == f"widget:{SESSION}"
    assert session_of(f"widget:{SESSION}") == SESSION
    for other in (SESSION, f"rest:{SESSION}", f"rest:widget:{SESSION}", "widget:../x", "widget:"):
        assert session_of(other) is None


def test_the_secret_comes_from_the_environment(caplog: pytest.LogCaptureFixture) -> None:
    assert session_secret({"WIDGET_SESSION_SECRET": "s" * 32}) == b"s" * 32
    with pytest.raises(ValueError):
        session_secret({"WIDGET_SESSION_SECRET": "too-short"})
    with caplog.at_level(logging.WARNING):
        first, second = session_secret({}), session_secret({"WIDGET_SESSION_SECRET": "  "})
    assert len(first) == 32 and first != second
    assert "WIDGET_SESSION_SECRET is not set" in caplog.text


# --- settings ------------------------------------------------------------------------------------
def test_origins_are_validated_and_normalized() -> None:
    assert parse_origins(None) == ()
    assert parse_origins([]) == ()
    assert parse_origins(
        ["https://WWW.Example.com/", "http://localhost:8080", "https://www.example.com"]
    ) == (
        "https://www.example.com",
        "http://localhost:8080",
    )
    for bad in (
        "*",
        ["*"],
        "https://a.example",
        ["https://a.example/path"],
        ["ftp://a.example"],
        [3],
        ["null"],
    ):
        with pytest.raises(ValueError):
            parse_origins(bad)


def test_flags() -> None:
    assert parse_flag("F", "1") and parse_flag("F", " TRUE ")
    assert not parse_flag("F", None) and not parse_flag("F", "0") and not parse_flag("F", "")
    with pytest.raises(ValueError):
        parse_flag("F", "maybe")


def test_the_shipped_defaults_are_safe() -> None:
    settings = WidgetSettings.load(
        {"demo_identity_account": "U1001", "demo_identity_name": "张伟", "cors_allowed_origins": []},
        {"IDENTITY_SECRET": "identity", "WIDGET_SESSION_SECRET": "s" * 32},
    )
    assert settings.cors_allowed_origins == () and not settings.demo_token_available
    with pytest.raises(ValueError):
        WidgetSettings.load({"cors_allowed_origins": "*"}, {"WIDGET_SESSION_SECRET": "s" * 32})
    with pytest.raises(ValueError):
        WidgetSettings.load({"rate_limit_per_minute": 0}, {"WIDGET_SESSION_SECRET": "s" * 32})


# --- the demo sign-in and the history proof -------------------------------------------------------
def _settings(flag: str, account: str | None = "U1001", secret: str = "identity-secret") -> WidgetSettings:
    return WidgetSettings.load(
        {"demo_identity_account": account, "demo_identity_name": "张伟"},
        {"WIDGET_DEMO_IDENTITY": flag, "IDENTITY_SECRET": secret, "WIDGET_SESSION_SECRET": "s" * 32},
    )


def test_the_demo_token_only_on_purpose() -> None:
    for settings in (_settings("0"), _settings("1", account=None), _settings("1", secret="")):
        with pytest.raises(WidgetHttpError) as error:
            demo_token(settings)
        assert error.value.status == 404
    body = demo_token(_settings("1"), now=1_000_000)
    assert body["name"] == "张伟"
    assert verify_identity(body["token"], "identity-secret", now=1_000_000) == "U1001"


def test_the_history_proof() -> None:
    assert session_from_proof(f" {KNOWN_PROOF}\n", SECRET) == SESSION
    for value, status in ((None, 401), ("", 401), (SESSION, 403), ("<script>alert(1)</script>", 403)):
        with pytest.raises(WidgetHttpError) as error:
            session_from_proof(value, SECRET)
        assert error.value.status == status and "script" not in error.value.message


def test_the_proof_comes_from_the_header_or_the_body() -> None:
    assert proof_of("header", b"body") == "header"
    assert proof_of(None, KNOWN_PROOF.encode()) == KNOWN_PROOF
    assert proof_of(None, b"") is None and proof_of(None, None) is None
    assert proof_of(None, b"\xff\xfe") == "\ufffd\ufffd"
    with pytest.raises(WidgetHttpError):
        session_from_proof(proof_of(None, KNOWN_PROOF.encode() * 100), SECRET)


# --- origins -------------------------------------------------------------------------------------
ALLOWED = ("https://www.example.com",)


def test_cors_headers_only_for_configured_origins() -> None:
    assert cors_headers("https://evil.example", ()) == {}
    assert cors_headers(None, ALLOWED) == {"Vary": "Origin"}
    assert cors_headers("https://evil.example", ALLOWED) == {"Vary": "Origin"}
    assert cors_headers("https://www.example.com", ALLOWED) == {
        "Vary": "Origin",
        "Access-Control-Allow-Origin": "https://www.example.com",
    }


def test_the_socket_takes_its_own_origin_and_the_configured_ones() -> None:
    environ = {"HTTP_HOST": "chat.example:5005", "wsgi.url_scheme": "http", "HTTP_X_FORWARDED_PROTO": "https"}
    assert same_origins(environ) == {"http://chat.example:5005", "https://chat.example:5005"}
    check = socket_origin_check(ALLOWED)
    assert check("https://chat.example:5005", environ)
    assert check("https://www.example.com", environ)
    assert not check("https://evil.example", environ)
    assert not check(None, environ)
    assert not check("https://chat.example:5005", {})


# --- identity bindings ---------------------------------------------------------------------------
def test_a_session_keeps_its_first_user() -> None:
    bindings = IdentityBindings(sessions=2)
    assert bindings.accept("s1", None)  # anonymous: nothing bound
    assert bindings.accept("s1", "U1001")  # signs in: bound
    assert bindings.accept("s1", None) and bindings.accept("s1", "U1001")
    assert not bindings.accept("s1", "U1002")
    assert bindings.accept("s2", "U1002")
    bindings.accept("s3", "U1003")  # a third session evicts the least recent one
    assert bindings.accept("s1", "U1002")


def test_only_a_valid_token_names_a_user() -> None:
    token = sign_identity("U1001", "identity-secret")
    assert token_subject({"identity_token": token}, "identity-secret") == "U1001"
    assert token_subject({"identity_token": token}, "another") is None
    assert token_subject({"identity_token": token}, "") is None
    assert token_subject({}, "identity-secret") is None
    assert token_subject({"identity_token": "eyJzdWIiOiJVMTAwMSJ9.forged"}, "identity-secret") is None
