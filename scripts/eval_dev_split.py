"""Choose pipeline settings without the held-out sets: train on a seeded, stratified 80% of
data/nlu and score on the other 20% (`python -m scripts.eval_dev_split [--config FILE]`).

How settings were chosen this way is in README.md ("The NLU pipeline").
"""

from __future__ import annotations

import argparse
import asyncio
import random
import tempfile
from collections import defaultdict
from pathlib import Path
from typing import Any

SEED = 20261201
ROOT = Path(__file__).resolve().parent.parent


def split(dev_share: float = 0.2) -> tuple[Any, list[Any]]:
    """The training part (as TrainingData) and the dev messages."""
    from rasa.shared.nlu.training_data.loading import load_data
    from rasa.shared.nlu.training_data.training_data import TrainingData

    data = load_data(str(ROOT / "data" / "nlu"))
    by_intent: dict[str, list[Any]] = defaultdict(list)
    for message in data.intent_examples:
        by_intent[message.get("intent")].append(message)
    rng = random.Random(SEED)
    train, dev = [], []
    for intent in sorted(by_intent):
        examples = list(by_intent[intent])
        rng.shuffle(examples)
        cut = max(1, round(len(examples) * dev_share))
        dev += examples[:cut]
        train += examples[cut:]
    part = TrainingData(
        training_examples=train,
        entity_synonyms=data.entity_synonyms,
        regex_features=data.regex_features,
        lookup_tables=data.lookup_tables,
    )
    return part, dev


def main() -> None:
    """Train on the 80%, score the intents on the 20%."""
    from rasa.core.agent import Agent
    from rasa.core.channels.channel import UserMessage
    from rasa.engine.constants import PLACEHOLDER_MESSAGE, PLACEHOLDER_TRACKER
    from rasa.model_training import train_nlu
    from rasa.shared.core.trackers import DialogueStateTracker

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--config", default=str(ROOT / "config.yml"))
    args = parser.parse_args()
    train, dev = split()
    with tempfile.TemporaryDirectory(prefix="devsplit-") as tmp:
        data_file = Path(tmp) / "train.yml"
        data_file.write_text(train.nlu_as_yaml(), encoding="utf-8")
        model = train_nlu(args.config, str(data_file), tmp, fixed_model_name="dev", domain="domain.yml")
        agent = Agent.load(str(model))
        runner, target = agent.processor.graph_runner, agent.processor.model_metadata.nlu_target
        right = 0
        for example in dev:
            message = UserMessage(example.get("text"))
            tracker = DialogueStateTracker.from_events("dev", [])
            out = runner.run(
                inputs={PLACEHOLDER_MESSAGE: [message], PLACEHOLDER_TRACKER: tracker}, targets=[target]
            )
            parsed = out[target][0]
            right += (parsed.get("intent") or {}).get("name") == example.get("intent")
        print(f"{args.config}: intent accuracy {right / len(dev):.3f} on {len(dev)} dev examples")
    asyncio.set_event_loop(asyncio.new_event_loop())


if __name__ == "__main__":
    main()
