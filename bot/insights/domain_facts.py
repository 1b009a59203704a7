"""What the insights need of the Rasa domain: the flows (forms and their steps) and the
intents a review item may be labelled with."""

from __future__ import annotations

from typing import Any

from rasa.shared.core.constants import DEFAULT_INTENTS

IGNORE = "ignore"
_NOT_LABELS = frozenset(DEFAULT_INTENTS) - {"out_of_scope"}


def flows_of(domain: Any) -> dict[str, list[str]]:
    """Form name → the slots it asks, in order (empty without a domain)."""
    forms = getattr(domain, "forms", None) or {}
    found = {}
    for name, spec in forms.items():
        slots = spec.get("required_slots") if isinstance(spec, dict) else spec
        found[str(name)] = [str(s) for s in slots or []]
    return found


def labels_of(domain: Any) -> list[str]:
    """The domain's own intents (Rasa's built-in ones left out), sorted."""
    intents = getattr(domain, "intents", None) or []
    return sorted(str(i) for i in intents if str(i) not in _NOT_LABELS)
