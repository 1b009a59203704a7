"""The compiled validator judges action-server responses as jsonschema.validate does, and an
unreachable action server abandons only a user's turn."""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp
import jsonschema
import pytest
from rasa.core.actions.action import ActionExecutionRejection, RemoteAction
from rasa.shared.exceptions import RasaException
from rasa.utils.endpoints import ClientResponseError

from bot import runtime
from bot.runtime.actions import dispatch, unavailable, valid_fast, validate_action_result
from bot.runtime.turns import TurnAbandoned, user_turn

RESPONSES: list[dict[str, Any]] = [
    {"events": [], "responses": []},
    {"events": [{"event": "slot", "name": "amount", "value": "500"}], "responses": [{"text": "好的"}]},
    {"events": [{"event": "bot", "text": "您好"}, {"event": "action", "name": "action_listen"}]},
    {
        "events": [{"event": "followup", "name": "utter_ask_phone"}],
        "responses": [{"response": "utter_greet"}],
    },
    {},
    {"events": [{"event": "no_such_event"}]},
    {"events": [{"event": "slot"}]},
    {"events": "not a list"},
    {"responses": [1, 2]},
    {"events": [{"event": "user", "text": 5}]},
    {"events": [{"event": "slot", "name": "amount", "value": None, "timestamp": "soon"}]},
    {"events": [{"event": 7}]},
    {"events": [{"name": "amount"}]},
    {"events": [{"event": "active_loop", "name": "complaint_form"}, {"event": "restart"}], "responses": []},
    {"events": [{"event": "slot", "name": "amount", "value": "1", "metadata": "not an object"}]},
    {"events": [{"event": "action", "name": "utter_x", "policy": None, "confidence": 0.9}]},
    [],
    "text",
]


@pytest.mark.parametrize("response", RESPONSES)
def test_the_verdicts_are_jsonschema_s(response: Any) -> None:
    action = RemoteAction("action_x", None)
    try:
        jsonschema.validate(response, RemoteAction.action_response_format_spec())
        expected = None
    except jsonschema.ValidationError as error:
        expected = error
    assert dispatch() is not None  # Rasa 3.6.21's schema has the shape the split relies on
    assert valid_fast(response) == (expected is None)  # the split agrees with jsonschema
    if expected is None:
        assert validate_action_result(action, response) is True
    else:
        with pytest.raises(jsonschema.ValidationError) as raised:
            validate_action_result(action, response)
        assert raised.value.message.startswith(expected.message)
        assert "Failed to validate Action server response" in raised.value.message


def test_what_counts_as_unavailable() -> None:
    def wrapped(cause: BaseException) -> RasaException:
        try:
            raise cause
        except BaseException:
            try:
                raise RasaException("Failed to execute custom action") from cause
            except RasaException as error:
                return error

    assert unavailable(wrapped(ClientResponseError(503, "Service Unavailable", "")))
    assert unavailable(wrapped(ClientResponseError(502, "Bad Gateway", "")))
    assert unavailable(asyncio.TimeoutError())
    assert unavailable(wrapped(aiohttp.ClientConnectionError("refused")))
    assert unavailable(aiohttp.ServerDisconnectedError())
    assert not unavailable(wrapped(ClientResponseError(404, "Not Found", "")))
    assert not unavailable(ActionExecutionRejection("action_x"))
    assert not unavailable(RasaException("no endpoint is configured"))
    assert not unavailable(ValueError("a bug in an action"))


def test_an_unreachable_action_server_abandons_only_a_users_turn(monkeypatch: pytest.MonkeyPatch) -> None:
    assert runtime.install()

    async def refused(self: Any, *args: Any, **kwargs: Any) -> Any:
        raise aiohttp.ClientConnectionError("Connection refused")

    from rasa.utils.endpoints import EndpointConfig

    monkeypatch.setattr(EndpointConfig, "request", refused)
    action = RemoteAction("action_x", EndpointConfig("http://127.0.0.1:9/webhook"))

    async def call() -> Any:
        from rasa.shared.core.domain import Domain
        from rasa.shared.core.trackers import DialogueStateTracker

        return await action.run(None, None, DialogueStateTracker("u", []), Domain.empty())  # type: ignore[arg-type]

    with pytest.raises(RasaException):  # a notice or a reminder: Rasa's own handling
        asyncio.run(call())

    async def in_turn() -> Any:
        with user_turn():
            return await call()

    with pytest.raises(TurnAbandoned) as abandoned:
        asyncio.run(in_turn())
    assert abandoned.value.service == "action server"
    assert not isinstance(abandoned.value, Exception)  # passes Rasa's `except Exception`
