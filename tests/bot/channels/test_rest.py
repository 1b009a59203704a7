import pytest

from bot.channels.rest import GuardedRestInput, PayloadError, parse_payload
from tests.bad_inputs import bad_messages, bad_payloads

PAYLOADS = {k: v for k, v in bad_payloads().items() if "body" in v}


@pytest.mark.parametrize("name", sorted(PAYLOADS))
def test_bad_payloads_are_refused_without_echo(name: str) -> None:
    case = PAYLOADS[name]
    with pytest.raises(PayloadError) as info:
        parse_payload(case["body"], 5000)
    assert info.value.status == case["status"]
    assert info.value.code == case["error"]
    body = info.value.to_response().body.decode()
    if isinstance(case["body"], dict):
        for value in case["body"].values():
            if isinstance(value, str) and len(value) > 3:
                assert value not in body


@pytest.mark.parametrize("name", sorted(bad_messages()))
def test_odd_messages_are_accepted(name: str) -> None:
    sender, text, metadata = parse_payload({"sender": "u1", "message": bad_messages()[name]}, 5000)
    assert sender == "u1"
    assert metadata is None
    assert "\x00" not in text


def test_metadata_object_is_passed_on() -> None:
    _, _, metadata = parse_payload({"sender": "u1", "message": "hi", "metadata": {"a": 1}}, 5000)
    assert metadata == {"a": 1}


def test_channel_limits_come_from_credentials() -> None:
    channel = GuardedRestInput.from_credentials({"max_message_chars": 100, "rate_limit_per_minute": 5})
    assert channel.max_message_chars == 100
    assert GuardedRestInput.name() == "rest"
    with pytest.raises(ValueError):
        GuardedRestInput.from_credentials({"max_message_chars": 0})
