"""What the bot has just asked: the question a typed reply is read against.

A question is the bot's latest messages since the user last spoke: the response that asked
(``utter_action``), its buttons, and, when a form is active, the slot the form asked for.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

_PAYLOAD = re.compile(r"^/(?P<intent>[A-Za-z_][\w-]*)(?P<entities>\{.*\})?$", re.DOTALL)


@dataclass(frozen=True)
class Option:
    """One button: what it shows and what clicking it sends."""

    title: str
    payload: str

    @property
    def intent(self) -> str | None:
        """The intent the payload sends ("/affirm" → "affirm"); None for a text payload."""
        match = _PAYLOAD.match(self.payload.strip())
        return match["intent"] if match else None

    @property
    def entities(self) -> dict[str, Any]:
        """The entities of the payload (``/inform{"account_field":"email"}``)."""
        match = _PAYLOAD.match(self.payload.strip())
        if not match or not match["entities"]:
            return {}
        try:
            values = json.loads(match["entities"])
        except ValueError:
            return {}
        return values if isinstance(values, dict) else {}


@dataclass(frozen=True)
class Question:
    """The question pending when the user types."""

    response: str | None = None
    options: tuple[Option, ...] = ()
    form: str | None = None
    slot: str | None = None
    slots: Mapping[str, Any] = field(default_factory=dict)

    @property
    def asked(self) -> bool:
        """Whether anything is being asked at all."""
        return bool(self.options or self.slot)

    def option_with(self, payload: str | None) -> int | None:
        """The 1-based number of the option with this payload."""
        for number, option in enumerate(self.options, start=1):
            if option.payload == payload:
                return number
        return None


def options_of(buttons: Iterable[Any] | None) -> tuple[Option, ...]:
    """Options from Rasa button dicts, skipping malformed ones."""
    options = []
    for button in buttons or ():
        if isinstance(button, Mapping) and button.get("title") and button.get("payload"):
            options.append(Option(str(button["title"]), str(button["payload"])))
    return tuple(options)


def question_from_events(
    events: Sequence[Any], active_form: str | None, slots: Mapping[str, Any]
) -> Question:
    """The question of the bot's messages after the user's latest message.

    ``events`` are Rasa events (objects with ``type_name``, ``data`` and ``metadata`` for
    bot messages), oldest first; only those after the last user message count.
    """
    latest: Any = None
    with_buttons: Any = None
    for event in reversed(events):
        kind = getattr(event, "type_name", None)
        if kind == "user":
            break
        if kind != "bot":
            continue
        latest = latest or event
        if with_buttons is None and (getattr(event, "data", None) or {}).get("buttons"):
            with_buttons = event
    asking = with_buttons or latest
    response = ((getattr(asking, "metadata", None) or {}).get("utter_action")) if asking else None
    options = options_of((getattr(with_buttons, "data", None) or {}).get("buttons")) if with_buttons else ()
    slot = slots.get("requested_slot") if active_form else None
    return Question(
        response=str(response) if response else None,
        options=options,
        form=active_form,
        slot=str(slot) if slot else None,
        slots=dict(slots),
    )
