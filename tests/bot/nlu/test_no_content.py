import pytest
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.resource import Resource
from rasa.shared.nlu.training_data.message import Message

from bot.nlu.no_content import NoContentFallback, has_content


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("你好", True),
        ("ok", True),
        ("123", True),
        ("😀😂", False),
        ("？？！！", False),
        ("", False),
        (None, False),
    ],
)
def test_has_content(text: str | None, expected: bool) -> None:
    assert has_content(text) is expected


def _run(text: str) -> Message:
    component = NoContentFallback.create({}, None, Resource("x"), ExecutionContext(GraphSchema({}), "t"))  # type: ignore[arg-type]
    message = Message(
        data={
            "text": text,
            "intent": {"name": "affirm", "confidence": 0.8},
            "intent_ranking": [{"name": "affirm"}],
        }
    )
    component.process([message])
    return message


def test_emoji_only_goes_to_fallback() -> None:
    message = _run("😀👍")
    assert message.get("intent") == {"name": "nlu_fallback", "confidence": 1.0}
    assert message.get("intent_ranking")[1]["name"] == "affirm"


@pytest.mark.parametrize("text", ["好的", "/affirm"])
def test_messages_with_content_are_untouched(text: str) -> None:
    assert _run(text).get("intent")["name"] == "affirm"
