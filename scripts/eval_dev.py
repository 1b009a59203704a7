"""`make eval-dev`: the development sets, for tuning the NLU and the answer reading.

``tests/nlu/dev.yml``, ``dev_entities.yml``, ``dev5.yml`` and ``dev6.yml`` (intents; the second
all problem statements that carry values, and bare values) and ``tests/nlu/answers_dev.yml`` to
``answers_dev6.yml`` (typed replies to the bot's questions) were
written independently of the training data and of the held-out sets, each by a writer who had
not seen the other sets.
Changes to the training data, the pipeline or the answer words are checked here; the held-out
sets of ``make eval`` are only for the final figures. Prints the accuracies and every error;
writes nothing.
"""

from __future__ import annotations

import argparse
import asyncio
from collections import Counter
from pathlib import Path

from scripts import eval_answers

ROOT = Path(__file__).resolve().parent.parent
INTENTS = tuple(ROOT / "tests" / "nlu" / f"{name}.yml" for name in ("dev", "dev_entities", "dev5", "dev6"))
REPLIES = tuple(
    ROOT / "tests" / "nlu" / f"answers_{name}.yml" for name in ("dev", "dev2", "dev3", "dev4", "dev5", "dev6")
)


def intents(model: str, path: Path) -> tuple[int, int, list[str]]:
    """(right, total, error lines) of the classifier on an intent development set."""
    from rasa.core.agent import Agent
    from rasa.shared.nlu.training_data.loading import load_data

    agent = Agent.load(model)
    loop = asyncio.new_event_loop()
    right, errors = 0, []
    examples = load_data(str(path)).intent_examples
    for example in examples:
        parse = loop.run_until_complete(agent.parse_message(example.get("text")))
        got = (parse.get("intent") or {}).get("name")
        if got == example.get("intent"):
            right += 1
        else:
            errors.append(f"{example.get('text')} — expected `{example.get('intent')}`, got `{got}`")
    loop.close()
    return right, len(examples), errors


def main() -> None:
    """Evaluate both development sets and print the figures and errors."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", default=str(ROOT / "models" / "wallet.tar.gz"))
    args = parser.parse_args()
    figures = []
    for path in INTENTS:
        right, total, errors = intents(args.model, path)
        print(f"\n## intent errors: {path.name}")
        print("\n".join(errors))
        figures.append(f"intent accuracy ({path.name}): {right / total:.3f} ({right}/{total})")
    for path in REPLIES:
        rows = eval_answers.evaluate(args.model, path)["rows"]
        wrong = [r for r in rows if not r["correct"]]
        print(f"\n## answer-reading errors: {path.name}")
        for row in wrong:
            print(f"{row['question']}: {row['text']} — expected `{row['expect']}`, read `{row['read_as']}`")
        by_question = Counter(r["question"] for r in wrong)
        print("\nmisread per question:", dict(by_question.most_common()))
        read_right = len(rows) - len(wrong)
        figures.append(
            f"answer reading ({path.name}): {read_right / len(rows):.3f} ({read_right}/{len(rows)})"
        )
    print("\n" + "\n".join(figures))


if __name__ == "__main__":
    main()
