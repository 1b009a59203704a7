"""Calls to the action server: a compiled response validator, and unavailability told apart.

Rasa validates every action-server response with ``jsonschema.validate``, which checks the
schema itself against its meta-schema before checking the response: at 20 conversations
that was 45% of the Rasa server's CPU (py-spy, issue 13). The validator here is built once
for the same schema (``RemoteAction.action_response_format_spec``) and raises the same
``ValidationError`` with the same message.

While a user's turn is handled, an action server that cannot be reached (connection
refused or reset, a timeout, a 5xx from it or from the load balancer in front of it)
abandons the turn (``bot.runtime.turns``). A rejection (400) or any other error keeps
Rasa's handling.
"""

from __future__ import annotations

import asyncio
import functools
import logging
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


def validate_action_result(self: RemoteAction, result: dict[str, Any]) -> bool:
    """``RemoteAction._validate_action_result`` with the compiled validator (same errors)."""
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
