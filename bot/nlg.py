"""Responses of domain.yml, filled with the company facts."""

from __future__ import annotations

from typing import Any

from rasa.core.nlg.response import TemplatedNaturalLanguageGenerator
from rasa.shared.core.domain import Domain
from rasa.utils.endpoints import EndpointConfig

from bot.company import load_company_facts


class CompanyResponseGenerator(TemplatedNaturalLanguageGenerator):
    """Templated responses whose variables include the company facts.

    Slot values and variables passed by an action take precedence over facts of
    the same name. Configured in endpoints.yml as ``nlg: type: bot.nlg.CompanyResponseGenerator``.
    """

    def __init__(self, endpoint_config: EndpointConfig | None = None, domain: Domain | None = None) -> None:
        """Load the company facts once; fails fast on a bad configuration file."""
        super().__init__((domain or Domain.empty()).responses)
        self._facts = load_company_facts().as_template_vars()

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
