"""Buttons on channels that cannot show them: the options as numbered text.

A channel declares whether it renders buttons (``renders_buttons``). One that does not
(a WeChat text reply, SMS, a plain REST client) gets "回复数字选择：1 解决了  2 还没有" after the
text, and the user's "1" or "解决了" is read back by the NLU's answer reader
(``bot.dialogue.reading``), which knows the buttons from the conversation.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, ClassVar

from rasa.core.channels.channel import CollectingOutputChannel, OutputChannel

from bot.dialogue.lexicon import load_lexicon


def numbered_options(text: str | None, buttons: Iterable[Any]) -> str:
    """The text followed by its options as numbered choices."""
    lexicon = load_lexicon()
    titles = [str(b.get("title")) for b in buttons if isinstance(b, dict) and b.get("title")]
    if not titles:
        return text or ""
    choices = lexicon.numbered_separator.join(f"{n} {title}" for n, title in enumerate(titles, start=1))
    return f"{text}\n{lexicon.numbered_prompt}{choices}" if text else f"{lexicon.numbered_prompt}{choices}"


class TextOptionsMixin(OutputChannel):
    """Sends buttons as numbered text unless the channel renders buttons."""

    renders_buttons: ClassVar[bool] = False

    async def send_text_with_buttons(
        self, recipient_id: str, text: str, buttons: list[dict[str, Any]], **kwargs: Any
    ) -> None:
        """Buttons as numbered text (a channel that renders them keeps Rasa's behaviour)."""
        if self.renders_buttons:
            await super().send_text_with_buttons(recipient_id, text, buttons, **kwargs)
            return
        await self.send_text_message(recipient_id, numbered_options(text, buttons), **kwargs)


class TextOnlyCollectingOutputChannel(TextOptionsMixin, CollectingOutputChannel):
    """Rasa's collecting channel (REST) for callers that show text only."""

    renders_buttons = False
