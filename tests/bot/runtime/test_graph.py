"""The graph run without dask gives what dask gives: every parse, every policy prediction of
the trained model; inputs are checked and errors reported as Rasa's runner does."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from rasa.engine.exceptions import GraphRunError
from rasa.engine.runner.dask import DaskGraphRunner
from rasa.shared.core.events import ActionExecuted, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from bot.runtime import graph
from tests.bot.runtime.test_models import TEXTS as MODEL_TEXTS

pytestmark = pytest.mark.model
TEXTS = [*MODEL_TEXTS, "我要投诉", ""]  # the model tests' messages, a bare request, nothing


@pytest.fixture
def runners() -> Iterator[Callable[[Callable[[], Any]], tuple[Any, Any]]]:
    """Run a function once with dask's run, once with ours; the runner installed is kept."""
    installed = DaskGraphRunner.run

    def both(fn: Callable[[], Any]) -> tuple[Any, Any]:
        try:
            DaskGraphRunner.run = graph.DASK_RUN  # type: ignore[method-assign]
            with_dask = fn()
            DaskGraphRunner.run = graph.run  # type: ignore[method-assign]
            return with_dask, fn()
        finally:
            DaskGraphRunner.run = installed  # type: ignore[method-assign]

    yield both


def test_the_parses_are_dasks(agent: tuple[Any, asyncio.AbstractEventLoop], runners: Any) -> None:
    model, loop = agent
    for text in TEXTS:
        with_dask, ours = runners(functools.partial(_parse, model, loop, text))
        assert ours == with_dask, text


def _parse(model: Any, loop: asyncio.AbstractEventLoop, text: str) -> Any:
    return loop.run_until_complete(model.parse_message(text))


def _prediction(model: Any, tracker: DialogueStateTracker) -> tuple[Any, ...]:
    p = model.processor._predict_next_with_tracker(tracker)
    return (p.probabilities, p.policy_name, p.events, p.optional_events, p.is_end_to_end_prediction)


def test_the_predictions_are_dasks(agent: tuple[Any, asyncio.AbstractEventLoop], runners: Any) -> None:
    model, loop = agent
    domain = model.domain
    for text in TEXTS[:9]:
        parse = loop.run_until_complete(model.parse_message(text))
        events = [ActionExecuted("action_session_start"), ActionExecuted("action_listen")]
        events += [UserUttered(text, parse["intent"], parse["entities"], parse)]
        tracker = DialogueStateTracker.from_events("g", events, slots=domain.slots)
        with_dask, ours = runners(functools.partial(_prediction, model, tracker))
        assert ours == with_dask, text
        probabilities = ours[0]
        best = max(range(len(probabilities)), key=probabilities.__getitem__)
        tracker.update(ActionExecuted(domain.action_names_or_texts[best]))
        tracker.update(SlotSet("requested_slot", None))
        with_dask, ours = runners(functools.partial(_prediction, model, tracker))  # after the first action
        assert ours == with_dask, text


def test_inputs_and_errors_are_dasks(agent: tuple[Any, asyncio.AbstractEventLoop], runners: Any) -> None:
    model, _ = agent
    runner = model.processor.graph_runner
    node = next(iter(runner._graph_schema.nodes))
    target = model.processor.model_metadata.core_target
    for inputs in ({"__tracker__": node}, {}):  # an input clashing with a node; a missing input
        failures = []
        for run in (graph.DASK_RUN, graph.run):
            with pytest.raises((GraphRunError, Exception)) as raised:
                run(runner, inputs=inputs, targets=[target])
            failures.append(type(raised.value))
        assert failures[0] == failures[1]


def test_the_order_puts_every_node_after_its_needs(agent: tuple[Any, asyncio.AbstractEventLoop]) -> None:
    model, _ = agent
    schema = model.processor.graph_runner._graph_schema
    targets = tuple(schema.target_names)
    order = graph.execution_order(schema, targets)
    position = {name: i for i, (name, _) in enumerate(order)}
    assert set(position) == set(schema.minimal_graph_schema(list(targets)).nodes)
    for name, needs in order:
        assert all(position[need] < position[name] for need in needs if need in schema.nodes)
