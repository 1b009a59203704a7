"""`make eval`: how typed replies to the bot's own questions are read.

Each reply of ``tests/nlu/answers_heldout.yml`` (written independently of the training
data and of ``bot/dialogue/answers.yml``) is parsed by the trained model with a tracker in
which the bot has just asked its question (``tests/nlu/questions.yml``: the response, its
buttons, the active form and the requested slot). A reading is right when it means what
the label says:

- ``option: N``: the resulting intent (and entities) are those of the N-th button;
- ``answer``: the reply is taken as the value of the slot the form asked for;
- ``invalid_option``: the reply is refused as an option number that does not exist;
- ``other: X``: the reply is not taken as an answer and its intent is X.

The classifier alone (without the answer reader) is scored the same way for comparison.
Results go to reports/answers_eval.md and .json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
QUESTIONS = ROOT / "tests" / "nlu" / "questions.yml"
REPLIES = ROOT / "tests" / "nlu" / "answers_heldout.yml"
REPORTS = ROOT / "reports"


@dataclass(frozen=True)
class Case:
    """One held-out reply to one question."""

    question: str
    text: str
    expect: str


def load_cases(path: Path = REPLIES) -> list[Case]:
    """The held-out replies, in file order."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    return [
        Case(question, str(reply["text"]), str(reply["expect"]).strip())
        for question, replies in data["replies"].items()
        for reply in replies
    ]


def _undoubled(buttons: list[dict[str, Any]] | None) -> list[dict[str, Any]]:
    return [{**b, "payload": str(b["payload"]).replace("{{", "{").replace("}}", "}")} for b in buttons or []]


def question_events(spec: dict[str, Any], domain: Any) -> list[Any]:
    """Events of a conversation in which the bot has just asked the question of ``spec``."""
    from rasa.shared.core.events import ActionExecuted, ActiveLoop, BotUttered, SlotSet

    response = spec.get("response")
    template = (domain.responses.get(response) or [{}])[0] if response else {}
    buttons = spec.get("buttons") or _undoubled(template.get("buttons"))
    events: list[Any] = [ActionExecuted("action_listen")]
    events += [SlotSet(name, value) for name, value in (spec.get("slots") or {}).items()]
    if spec.get("form"):
        events += [ActiveLoop(spec["form"]), SlotSet("requested_slot", spec.get("slot"))]
    metadata = {"utter_action": response} if response else {}
    text = template.get("text") or spec.get("text") or ""
    events.append(BotUttered(text, data={"buttons": buttons or None}, metadata=metadata))
    events.append(ActionExecuted("action_listen"))
    return events


def expected_option(spec: dict[str, Any], domain: Any, number: int) -> tuple[str | None, dict[str, Any]]:
    """The intent and entities the N-th button of a question sends."""
    from bot.dialogue.questions import options_of

    response = spec.get("response")
    template = (domain.responses.get(response) or [{}])[0] if response else {}
    options = options_of(spec.get("buttons") or _undoubled(template.get("buttons")))
    if not 1 <= number <= len(options):
        return None, {}
    return options[number - 1].intent, options[number - 1].entities


def score(case: Case, spec: dict[str, Any], domain: Any, parse: dict[str, Any], reader: bool) -> bool:
    """Whether a parse means what the case's label says."""
    answer = (parse.get("answer") or {}) if reader else {}
    kind = answer.get("kind")
    intent = (parse.get("intent") or {}).get("name")
    entities = {e.get("entity"): e.get("value") for e in parse.get("entities") or []}
    label, _, value = case.expect.partition(":")
    value = value.strip()
    if label == "option":
        want_intent, want_entities = expected_option(spec, domain, int(value))
        return intent == want_intent and all(entities.get(k) == v for k, v in want_entities.items())
    if label == "answer":
        return kind == "answer" if reader else intent == "inform"
    if label == "invalid_option":
        return kind == "invalid_option"
    if label == "other":
        return kind not in ("option", "answer", "invalid_option") and intent == value
    raise ValueError(f"unknown label {case.expect!r}")


def evaluate(model: str, replies: Path = REPLIES) -> dict[str, Any]:
    """Parse every reply of ``replies`` with and without the answer reader; score both."""
    from rasa.core.agent import Agent
    from rasa.core.channels.channel import UserMessage
    from rasa.shared.core.trackers import DialogueStateTracker

    questions = yaml.safe_load(QUESTIONS.read_text(encoding="utf-8"))["questions"]
    agent = Agent.load(model)
    domain = agent.domain
    loop = asyncio.new_event_loop()
    rows = []
    for case in load_cases(replies):
        spec = questions[case.question]
        tracker = DialogueStateTracker.from_events("eval", question_events(spec, domain), domain.slots)
        parse = loop.run_until_complete(agent.processor.parse_message(UserMessage(case.text), tracker))
        plain = loop.run_until_complete(agent.processor.parse_message(UserMessage(case.text)))
        rows.append(
            {
                "question": case.question,
                "text": case.text,
                "expect": case.expect,
                "read_as": _describe(parse),
                "correct": score(case, spec, domain, parse, reader=True),
                "classifier_correct": score(case, spec, domain, plain, reader=False),
            }
        )
    loop.close()
    return {"model": model, "rows": rows}


def _describe(parse: dict[str, Any]) -> str:
    answer = parse.get("answer") or {}
    intent = (parse.get("intent") or {}).get("name")
    entities = {e.get("entity"): e.get("value") for e in parse.get("entities") or []}
    shown = {
        k: v
        for k, v in entities.items()
        if k in ("account_field", "transaction_id", "complaint_category", "satisfaction")
    }
    return f"{answer.get('kind', '-')} {intent}{' ' + json.dumps(shown, ensure_ascii=False) if shown else ''}"


def report(result: dict[str, Any]) -> str:
    """The Markdown report."""
    rows = result["rows"]
    total = len(rows)
    right = sum(r["correct"] for r in rows)
    plain = sum(r["classifier_correct"] for r in rows)
    by_question: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        by_question[row["question"]].append(row)
    kinds = Counter(r["expect"].partition(":")[0] for r in rows)
    lines = [
        "# Typed answers to the bot's questions (held-out)",
        "",
        f"Replies: {total} to {len(by_question)} questions (`tests/nlu/answers_heldout.yml`, written "
        "independently of the training data and of the answer words; labels: "
        + ", ".join(f"{k} {v}" for k, v in sorted(kinds.items()))
        + "). Produced by `make eval` (`scripts/eval_answers.py`).",
        "",
        "| reading | accuracy |",
        "|---|---|",
        f"| the project: classifier + answer reader | **{right / total:.3f}** ({right}/{total}) |",
        f"| the classifier alone, no context | {plain / total:.3f} ({plain}/{total}) |",
        "",
        "## Per question",
        "",
        "| question | replies | accuracy | classifier alone |",
        "|---|---|---|---|",
    ]
    for question, group in by_question.items():
        n = len(group)
        lines.append(
            f"| {question} | {n} | {sum(r['correct'] for r in group) / n:.2f} "
            f"| {sum(r['classifier_correct'] for r in group) / n:.2f} |"
        )
    lines += ["", "## Misread replies", ""]
    for row in rows:
        if not row["correct"]:
            lines.append(
                f"- {row['question']}: {row['text']} — expected `{row['expect']}`, read `{row['read_as']}`"
            )
    return "\n".join(lines) + "\n"


def main() -> None:
    """Evaluate and write the reports."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", default=str(ROOT / "models" / "wallet.tar.gz"))
    args = parser.parse_args()
    result = evaluate(args.model)
    REPORTS.mkdir(exist_ok=True)
    (REPORTS / "answers_eval.json").write_text(
        json.dumps(result, ensure_ascii=False, indent=1), encoding="utf-8"
    )
    (REPORTS / "answers_eval.md").write_text(report(result), encoding="utf-8")
    rows = result["rows"]
    print(f"answer reading: {sum(r['correct'] for r in rows) / len(rows):.3f} on {len(rows)} replies")


if __name__ == "__main__":
    main()
