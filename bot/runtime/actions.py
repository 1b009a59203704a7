"""Calls to the action server: a compiled response validator, and unavailability told apart.

Rasa validates every action-server response with ``jsonschema.validate``, which checks the
schema itself against its meta-schema before checking the response: at 20 conversations
that was 45% of the Rasa server's CPU (py-spy, issue 13), and even a validator built once
spends milliseconds per response trying each event against the events' ``oneOf`` of 22
alternatives (fastjsonschema's compiled code is no faster there). Every alternative of that
``oneOf`` names its event type (``"event": {"const": ...}``, one alternative per type), so
exactly one alternative can match an event: here each event is checked against the one
alternative its type names, with validators built once from Rasa's own schema
(``RemoteAction.action_response_format_spec``). A response refused that way is checked again
by jsonschema against the whole schema, which raises Rasa's ``ValidationError`` with Rasa's
message; a schema of another shape is checked by the whole-schema validator alone.

While a user's turn is handled, an action server that cannot be reached (connection
refused or reset, a timeout, a 5xx from it or from the load balancer in front of it)
abandons the turn (``bot.runtime.turns``). A rejection (400) or any other error keeps
Rasa's handling.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from dataclasses import dataclass
from typing import Any

import aiohttp
from jsonschema.exceptions import best_match
from jsonschema.protocols import Validator
from jsonschema.validators import validator_for
from rasa.core.actions.action import ActionExecutionRejection, RemoteAction
from rasa.shared.constants import DOCS_BASE_URL
from rasa.shared.exceptions import RasaException
from rasa.utils.endpoints import ClientResponseError

from bot.runtime.turns import TurnAbandoned, in_user_turn

logger = logging.getLogger(__name__)


@functools.lru_cache(maxsize=1)
def response_validator() -> Validator:
    """The validator of action-server responses, its schema checked once."""
    schema = RemoteAction.action_response_format_spec()
    cls = validator_for(schema)
    cls.check_schema(schema)
    validator: Validator = cls(schema)
    return validator


@dataclass(frozen=True)
class _Dispatch:
    """The schema split where its ``oneOf`` is decided by the event's type."""

    response: Validator  # the response with its events only required to be an array
    event: Validator  # what every event has (an object with a string ``event``)
    by_type: dict[str, Validator]  # the one alternative each event type can match


@functools.lru_cache(maxsize=1)
def dispatch() -> _Dispatch | None:
    """The split schema, or None when Rasa's schema is not of the shape it relies on."""
    schema = RemoteAction.action_response_format_spec()
    try:
        events = schema["properties"]["events"]
        item = events["items"]
        alternatives = item["oneOf"]
        names = [alternative["properties"]["event"]["const"] for alternative in alternatives]
    except (KeyError, TypeError):
        return None
    if len(set(names)) != len(names) or set(events) != {"type", "items"}:
        return None

    def built(part: dict[str, Any]) -> Validator:
        cls = validator_for(part)
        cls.check_schema(part)
        validator: Validator = cls(part)
        return validator

    response = {**schema, "properties": {**schema["properties"], "events": {"type": events["type"]}}}
    return _Dispatch(
        built(response),
        built({key: value for key, value in item.items() if key != "oneOf"}),
        {name: built(alternative) for name, alternative in zip(names, alternatives, strict=True)},
    )


def valid_fast(result: Any) -> bool:
    """Whether the response is valid, each event checked against its own type's schema."""
    split = dispatch()
    if split is None or not split.response.is_valid(result):
        return False
    for event in result.get("events") or []:
        if not split.event.is_valid(event):
            return False
        alternative = split.by_type.get(event["event"])
        if alternative is None or not alternative.is_valid(event):
            return False
    return True


def validate_action_result(self: RemoteAction, result: dict[str, Any]) -> bool:
    """``RemoteAction._validate_action_result``, fast; Rasa's error when it is invalid."""
    if valid_fast(result):
        return True
    error = best_match(response_validator().iter_errors(result))
    if error is None:
        return True
    error.message += (
        ". Failed to validate Action server response from API, "
        "make sure your response from the Action endpoint is valid. "
        f"For more information about the format visit {DOCS_BASE_URL}/custom-actions"
    )
    raise error


def unavailable(error: BaseException) -> bool:
    """Whether an action call failed because the action server could not answer at all."""
    if isinstance(error, ActionExecutionRejection):
        return False
    if isinstance(error, asyncio.TimeoutError | aiohttp.ClientConnectionError | ConnectionError):
        return True
    if isinstance(error, ClientResponseError):
        return error.status >= 500
    if isinstance(error, RasaException):
        cause = error.__cause__ or error.__context__
        return cause is not None and cause is not error and unavailable(cause)
    return False


def install() -> None:
    """Replace ``RemoteAction._validate_action_result`` and wrap ``RemoteAction.run``."""
    original_run = RemoteAction.run
    if getattr(original_run, "_wallet_actions", False):
        return

    async def run(self: RemoteAction, *args: Any, **kwargs: Any) -> Any:
        try:
            return await original_run(self, *args, **kwargs)
        except (RasaException, asyncio.TimeoutError, aiohttp.ClientError) as error:
            if in_user_turn() and unavailable(error):
                raise TurnAbandoned("action server", f"{self.name()}: {error}") from error
            raise

    run._wallet_actions = True  # type: ignore[attr-defined]
    RemoteAction.run = run  # type: ignore[method-assign]
    RemoteAction._validate_action_result = validate_action_result  # type: ignore[method-assign]
    # built now, before the server's event loop runs: building them takes tens of milliseconds
    # that the first action-server response would otherwise spend on the loop
    dispatch()
    response_validator()
