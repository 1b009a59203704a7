"""Send messages without any words (emoji, punctuation, blanks) to the fallback.

A statistical classifier gives such messages a confident but arbitrary intent,
because none of their characters is in its vocabulary. A message with no letter,
ideograph or digit has no content to classify.
"""

from __future__ import annotations

import re
from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.constants import DEFAULT_NLU_FALLBACK_INTENT_NAME
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message

_WORD = re.compile(r"[^\W_]", re.UNICODE)


def has_content(text: str | None) -> bool:
    """Whether a text holds at least one letter, ideograph or digit."""
    return bool(text and _WORD.search(text))


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False)
class NoContentFallback(GraphComponent):
    """Predicts ``nlu_fallback`` with full confidence for content-free messages."""

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> NoContentFallback:
        """Create the component; it has no state."""
        return cls()

    def process(self, messages: list[Message]) -> list[Message]:
        """Replace the intent of content-free messages by the fallback intent."""
        for message in messages:
            text = message.get(TEXT)
            if has_content(text) or (text or "").startswith("/"):
                continue
            fallback = {"name": DEFAULT_NLU_FALLBACK_INTENT_NAME, "confidence": 1.0}
            message.data[INTENT] = fallback
            message.data[INTENT_RANKING_KEY] = [fallback, *message.data.get(INTENT_RANKING_KEY, [])]
        return messages
