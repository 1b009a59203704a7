"""Typed replies to the bot's own questions (tests/nlu/answers_heldout.yml, written
independently of the training data and of the answer words) are read as a careful agent
would: the reading accuracy, and that the reader beats the classifier alone by far."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
import yaml

from scripts.eval_answers import QUESTIONS, load_cases, question_events, score

pytestmark = pytest.mark.model

# measured 0.965 (reports/answers_eval.md, 2026-12-03); the target of 0.97 is not met
READING_FLOOR = 0.95


@pytest.fixture(scope="module")
def results(agent: tuple[Any, asyncio.AbstractEventLoop]) -> list[tuple[bool, bool]]:
    from rasa.core.channels.channel import UserMessage
    from rasa.shared.core.trackers import DialogueStateTracker

    model, loop = agent
    questions = yaml.safe_load(QUESTIONS.read_text(encoding="utf-8"))["questions"]
    rows = []
    for case in load_cases():
        spec = questions[case.question]
        tracker = DialogueStateTracker.from_events(
            "t", question_events(spec, model.domain), model.domain.slots
        )
        in_context = loop.run_until_complete(model.processor.parse_message(UserMessage(case.text), tracker))
        alone = loop.run_until_complete(model.processor.parse_message(UserMessage(case.text)))
        rows.append(
            (
                score(case, spec, model.domain, in_context, reader=True),
                score(case, spec, model.domain, alone, reader=False),
            )
        )
    return rows


def test_the_heldout_covers_every_question_with_300_replies() -> None:
    cases = load_cases()
    questions = yaml.safe_load(QUESTIONS.read_text(encoding="utf-8"))["questions"]
    assert len(cases) >= 300 and {c.question for c in cases} == set(questions)


def test_typed_answers_are_read_in_context(results: list[tuple[bool, bool]]) -> None:
    reader = sum(r for r, _ in results) / len(results)
    alone = sum(a for _, a in results) / len(results)
    assert reader >= READING_FLOOR, f"reading accuracy {reader:.3f}"
    assert reader - alone >= 0.15, f"the reader {reader:.3f} against the classifier alone {alone:.3f}"
