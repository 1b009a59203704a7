"""Responses of domain.yml, filled with the company facts, in the user's script."""

from __future__ import annotations

from typing import Any

from rasa.core.nlg.response import TemplatedNaturalLanguageGenerator
from rasa.shared.core.domain import Domain
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.utils.endpoints import EndpointConfig

from bot.company import load_company_facts
from bot.dialogue.script import SIMPLIFIED, in_script

SCRIPT_KEY = "script"


def localize(message: dict[str, Any], script: str | None) -> dict[str, Any]:
    """Text and button titles in the user's script (payloads, digits and masked values unchanged)."""
    if not script or script == SIMPLIFIED:
        return message
    if isinstance(message.get("text"), str):
        message["text"] = in_script(message["text"], script)
    for button in message.get("buttons") or []:
        if isinstance(button, dict) and isinstance(button.get("title"), str):
            button["title"] = in_script(button["title"], script)
    return message


def user_script(tracker: DialogueStateTracker | None) -> str | None:
    """The script of the user's latest message (set by the NLU's answer reader)."""
    if tracker is None or not tracker.latest_message:
        return None
    return (tracker.latest_message.parse_data or {}).get(SCRIPT_KEY)


class CompanyResponseGenerator(TemplatedNaturalLanguageGenerator):
    """Templated responses whose variables include the company facts, in the user's script.

    Slot values and variables passed by an action take precedence over facts of the same
    name. Configured in endpoints.yml as ``nlg: type: bot.nlg.CompanyResponseGenerator``.
    """

    def __init__(self, endpoint_config: EndpointConfig | None = None, domain: Domain | None = None) -> None:
        """Load the company facts once; fails fast on a bad configuration file."""
        super().__init__((domain or Domain.empty()).responses)
        self._facts = load_company_facts().as_template_vars()

    async def generate(
        self,
        utter_action: str,
        tracker: DialogueStateTracker,
        output_channel: str,
        **kwargs: Any,
    ) -> dict[str, Any] | None:
        """A response in the user's script.

        Buttons an action adds to a response (``kwargs["buttons"]``) are appended by Rasa
        after generation, so their titles are converted here, in place.
        """
        script = user_script(tracker)
        localize({"buttons": kwargs.get("buttons")}, script)
        message = await super().generate(utter_action, tracker, output_channel, **kwargs)
        return localize(message, script) if message else message

    def generate_from_slots(
        self,
        utter_action: str,
        filled_slots: dict[str, Any],
        output_channel: str,
        **kwargs: Any,
    ) -> dict[str, Any] | None:
        """Generate a response, with the facts available as variables."""
        variables = {**self._facts, **kwargs}
        return super().generate_from_slots(utter_action, filled_slots, output_channel, **variables)
