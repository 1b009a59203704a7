"""The widget channel's event validation and de-duplication (pure, no server)."""

from __future__ import annotations

from typing import Any

import pytest

from bot.channels.socket_events import EventError, SeenMessages, parse_user_event, session_id_of
from tests.bad_inputs import bad_messages

SESSION = "a1b2c3d4e5f6a7b8"


def _event(**overrides: Any) -> dict[str, Any]:
    return {
        "message": "我忘记密码了",
        "session_id": SESSION,
        "customData": {"client_message_id": "m-1"},
        **overrides,
    }


def test_a_good_event() -> None:
    event = parse_user_event(_event(), 1000)
    assert (event.session_id, event.text, event.client_message_id) == (SESSION, "我忘记密码了", "m-1")
    assert event.metadata == {}


def test_only_the_identity_token_is_passed_on() -> None:
    event = parse_user_event(_event(customData={"identity_token": "a.b", "is_admin": True}), 1000)
    assert event.metadata == {"identity_token": "a.b"}


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (None, "invalid_event"),
        ("我忘记密码了", "invalid_event"),
        ([1, 2], "invalid_event"),
        (_event(session_id=None), "invalid_event"),
        (_event(session_id="../../etc"), "invalid_event"),
        (_event(session_id="x" * 65), "invalid_event"),
        (_event(message=["a"]), "invalid_event"),
        (_event(message="长" * 1001), "message_too_long"),
        (_event(customData="not a dict"), "invalid_event"),
        (_event(customData={"client_message_id": "<script>"}), "invalid_event"),
        (_event(customData={"client_message_id": 5}), "invalid_event"),
    ],
)
def test_bad_events_are_refused_with_a_code(data: Any, code: str) -> None:
    with pytest.raises(EventError) as error:
        parse_user_event(data, 1000)
    assert error.value.code == code
    assert "script" not in error.value.message  # never echoes the input


@pytest.mark.parametrize("name", sorted(bad_messages()))
def test_odd_texts_within_the_limit_pass(name: str) -> None:
    text = bad_messages()[name]
    if len(text) <= 5000:
        assert parse_user_event(_event(message=text), 5000).text == text.replace("\x00", "")


def test_session_ids() -> None:
    assert session_id_of({"session_id": SESSION}) == SESSION
    assert session_id_of(SESSION) == SESSION
    assert session_id_of({"session_id": "短"}) is None
    assert session_id_of(None) is None
    assert session_id_of({"session_id": 123}) is None


def test_a_resent_message_counts_once() -> None:
    seen = SeenMessages(per_session=2, sessions=2)
    assert seen.first_time("s1", "m1")
    assert not seen.first_time("s1", "m1")
    assert seen.first_time("s2", "m1")  # ids are per session
    seen.first_time("s1", "m2")
    seen.first_time("s1", "m3")  # m1 falls out of the window of two
    assert seen.first_time("s1", "m1")
    seen.first_time("s3", "x")  # a third session evicts the least recent one
    assert seen.first_time("s2", "m1")
