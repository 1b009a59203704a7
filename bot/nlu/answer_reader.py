"""The last step of NLU: read the message in the context of the conversation.

Rasa passes the conversation's tracker to NLU components that ask for it (a ``tracker``
argument of ``process``). This component reads the reply as the answer to the question the
bot has just asked (``bot.dialogue.reading``): a typed button title, an option number or a
yes/no word becomes the button's intent and entities, a value for the slot a form asked for
becomes ``inform``, a correction becomes ``wrong_topic``. The classifier's own prediction
stays in ``intent_ranking`` and under ``answer.nlu_intent``.

It also records the script the user writes (``script``: hans, hant or hk; sticky over
replies that tell nothing, such as "1"), so that replies come in the same script.
"""

from __future__ import annotations

from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.core.events import UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.nlu.constants import ENTITIES, INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message

from bot.dialogue.lexicon import DEFAULT_PATH, Lexicon, load_lexicon
from bot.dialogue.questions import Question, question_from_events
from bot.dialogue.reading import NOTHING, Nlu, Reading, read_reply
from bot.dialogue.script import SIMPLIFIED, detect_script

ANSWER_KEY = "answer"
SCRIPT_KEY = "script"
_EXTRACTOR = "AnswerReader"
_LOOKBACK = 200  # events searched for the script of earlier messages


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False)
class AnswerReader(GraphComponent):
    """Reads each message against the bot's pending question."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        """Where the answer words live."""
        return {"answers_path": str(DEFAULT_PATH)}

    def __init__(self, lexicon: Lexicon) -> None:
        """Keep the lexicon."""
        self._lexicon = lexicon

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> AnswerReader:
        """Load the answer words (``answers_path``)."""
        return cls(load_lexicon(str(config.get("answers_path") or DEFAULT_PATH)))

    def process(self, messages: list[Message], tracker: DialogueStateTracker) -> list[Message]:
        """Set the intent and entities an answer means, and the user's script."""
        question = self.question(tracker)
        for message in messages:
            text = str(message.get(TEXT) or "")
            if text.startswith("/"):  # a clicked button: its payload already says what it means
                message.set(SCRIPT_KEY, _script(text, tracker), add_to_output=True)
                continue
            reading = self.read(message, question)
            _apply(message, reading, question)
            message.set(SCRIPT_KEY, _script(text, tracker), add_to_output=True)
        return messages

    @staticmethod
    def question(tracker: DialogueStateTracker | None) -> Question:
        """The question pending in the conversation (none for an empty tracker)."""
        if tracker is None or not tracker.events:
            return Question()
        slots = {name: slot.value for name, slot in tracker.slots.items() if slot.value is not None}
        return question_from_events(tracker.events, tracker.active_loop_name, slots)

    def read(self, message: Message, question: Question) -> Reading:
        """The reading of one message against the question."""
        intent = (message.get(INTENT) or {}).get("name")
        nlu = Nlu(intent, tuple(message.get(ENTITIES) or ()))
        try:
            return read_reply(str(message.get(TEXT) or ""), question, nlu, self._lexicon)
        except (KeyError, ValueError, TypeError):  # a bad lexicon entry never breaks a turn
            return NOTHING


def _apply(message: Message, reading: Reading, question: Question) -> None:
    nlu_intent = (message.get(INTENT) or {}).get("name")
    if reading.kind != "none" and reading.intent and reading.intent != nlu_intent:
        chosen = {"name": reading.intent, "confidence": 1.0}
        ranking = [r for r in message.get(INTENT_RANKING_KEY) or [] if r.get("name") != reading.intent]
        message.set(INTENT, chosen, add_to_output=True)
        message.set(INTENT_RANKING_KEY, [chosen, *ranking], add_to_output=True)
    if reading.entities:
        text = str(message.get(TEXT) or "")
        kept = [e for e in message.get(ENTITIES) or [] if e.get("entity") not in reading.entities]
        added = [
            {"entity": name, "value": value, "start": 0, "end": len(text), "extractor": _EXTRACTOR}
            for name, value in reading.entities.items()
        ]
        message.set(ENTITIES, kept + added, add_to_output=True)
    if reading.kind == "none":
        return
    message.set(
        ANSWER_KEY,
        {
            "kind": reading.kind,
            "question": question.response,
            "slot": question.slot,
            "option": reading.option,
            "payload": reading.payload,
            "how": reading.how,
            "nlu_intent": nlu_intent,
        },
        add_to_output=True,
    )


def _script(text: str, tracker: DialogueStateTracker | None) -> str:
    """The script of this message, else of the user's latest message that tells, else Simplified."""
    script = detect_script(text)
    if script:
        return script
    if tracker is not None:
        for count, event in enumerate(reversed(tracker.events)):
            if count > _LOOKBACK:
                break
            if isinstance(event, UserUttered):
                earlier = (event.parse_data or {}).get(SCRIPT_KEY)
                if earlier:
                    return str(earlier)
    return SIMPLIFIED
