"""Jieba over what the user meant to type: Traditional and full-width characters folded.

Users write 密碼 as often as 密码, and ２ as often as 2. The tokens are cut from the folded
text (``bot.dialogue.script.fold``: Simplified, half-width, same length), so the features
of both spellings are the same while token offsets still point into the user's own text.
"""

from __future__ import annotations

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.nlu.tokenizers.jieba_tokenizer import JiebaTokenizer
from rasa.nlu.tokenizers.tokenizer import Token
from rasa.shared.nlu.training_data.message import Message

from bot.dialogue.script import fold


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_TOKENIZER, is_trainable=True)
class FoldingJiebaTokenizer(JiebaTokenizer):
    """Rasa's JiebaTokenizer on folded text, with the user dictionary of ``dictionary_path``."""

    def tokenize(self, message: Message, attribute: str) -> list[Token]:
        """Tokens of the folded text, at the offsets of the original."""
        import jieba

        text = fold(str(message.get(attribute) or ""))
        tokens = [Token(word, start) for (word, start, _end) in jieba.tokenize(text)]
        return self._apply_token_pattern(tokens)
