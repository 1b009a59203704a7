"""Rasa's RegexFeaturizer matched against the folded text, as the tokens are cut.

``FoldingJiebaTokenizer`` cuts its tokens from the folded text (Traditional → Simplified,
full-width → half-width, same length), but Rasa's RegexFeaturizer matches its patterns and
lookup tables against the user's own text: ``１３９１２３４５６７８`` never matched the phone
pattern, ``手機號`` never matched the lookup of account fields, and the classifier saw a
full-width phone number as the bare number of "88" (goodbye). Here the patterns see what the
tokens see. Folding keeps every character's offset, so the token spans still line up.
"""

from __future__ import annotations

from typing import Any

import scipy.sparse
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.nlu.featurizers.sparse_featurizer.regex_featurizer import RegexFeaturizer
from rasa.shared.nlu.training_data.message import Message

from bot.dialogue.script import fold


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER, is_trainable=True)
class FoldingRegexFeaturizer(RegexFeaturizer):
    """RegexFeaturizer whose patterns match the folded text of the attribute."""

    def _features_for_patterns(
        self, message: Message, attribute: str
    ) -> tuple[scipy.sparse.coo_matrix | None, scipy.sparse.coo_matrix | None]:
        text: Any = message.get(attribute)
        folded = fold(text) if isinstance(text, str) else text
        if folded == text:
            return super()._features_for_patterns(message, attribute)
        # Rasa's method reads the attribute from the message: it reads the folded text for the
        # length of the call, and the user's own text is put back whatever happens
        message.data[attribute] = folded
        try:
            return super()._features_for_patterns(message, attribute)
        finally:
            message.data[attribute] = text
