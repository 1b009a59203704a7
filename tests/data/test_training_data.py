"""The training data, the held-out set and the domain are complete and consistent."""

from __future__ import annotations

import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
import yaml
from rasa.nlu.tokenizers.jieba_tokenizer import JiebaTokenizer
from rasa.shared.nlu.training_data.loading import load_data
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

CORE = [
    "forgot_password",
    "transaction_failed",
    "update_account_info",
    "contact_support",
    "account_security",
    "complaint",
    "request_human",
]
DESIGN_INTENTS = [*CORE, "greet", "goodbye", "thank", "affirm", "deny", "bot_challenge", "out_of_scope"]
ENTITIES = ["phone", "email", "amount", "time", "transaction_id", "account_field"]


@pytest.fixture(scope="module")
def training() -> TrainingData:
    return load_data("data/nlu")


@pytest.fixture(scope="module")
def heldout() -> TrainingData:
    return load_data("tests/nlu/heldout.yml")


def _key(text: str) -> str:
    return re.sub(r"[\W_]+", "", text).lower()


def test_training_volume(training: TrainingData) -> None:
    counts = Counter(m.get("intent") for m in training.intent_examples)
    assert {i: counts[i] for i in CORE if counts[i] < 60} == {}
    assert {i: counts[i] for i in DESIGN_INTENTS if counts[i] < 15} == {}


def test_heldout_volume(heldout: TrainingData) -> None:
    counts = Counter(m.get("intent") for m in heldout.intent_examples)
    assert {i: counts[i] for i in CORE if counts[i] < 20} == {}
    assert {i: counts[i] for i in DESIGN_INTENTS if counts[i] < 5} == {}


def test_heldout_is_never_trained_on(training: TrainingData, heldout: TrainingData) -> None:
    trained = {_key(m.get("text")) for m in training.intent_examples}
    leaked = [m.get("text") for m in heldout.intent_examples if _key(m.get("text")) in trained]
    assert leaked == []


def test_the_development_sets_are_apart_from_training_and_heldout(
    training: TrainingData, heldout: TrainingData
) -> None:
    """Tuning on the development sets (tests/nlu/dev*.yml, answers_dev*.yml) never tunes on a
    held-out line."""
    sets = ("dev", "dev_entities", "dev5", "dev6")
    dev = [m for name in sets for m in load_data(f"tests/nlu/{name}.yml").intent_examples]
    assert len(dev) >= 1250
    apart = {_key(m.get("text")) for m in training.intent_examples + heldout.intent_examples}
    assert [m.get("text") for m in dev if _key(m.get("text")) in apart] == []

    def replies(name: str) -> set[tuple[str, str]]:
        data = yaml.safe_load(Path("tests/nlu", name).read_text(encoding="utf-8"))["replies"]
        return {(q, _key(str(r["text"]))) for q, rs in data.items() for r in rs}

    names = ("dev", "dev2", "dev3", "dev4", "dev5", "dev6")
    dev_replies = set().union(*(replies(f"answers_{name}.yml") for name in names))
    assert len(dev_replies) >= 1400
    assert dev_replies & replies("answers_heldout.yml") == set()


def test_no_example_has_two_labels(training: TrainingData) -> None:
    labels: dict[str, set[str]] = {}
    for m in training.intent_examples:
        labels.setdefault(_key(m.get("text")), set()).add(m.get("intent"))
    assert {k: v for k, v in labels.items() if len(v) > 1} == {}


def test_every_entity_type_is_annotated(training: TrainingData, heldout: TrainingData) -> None:
    for data in (training, heldout):
        found = {e["entity"] for m in data.entity_examples for e in m.get("entities", [])}
        assert set(ENTITIES) <= found


@pytest.mark.parametrize("source", ["data/nlu", "tests/nlu/heldout.yml"])
def test_entity_spans_align_with_jieba_tokens(source: str) -> None:
    JiebaTokenizer._load_custom_dictionary("data/dict")
    tokenizer = JiebaTokenizer({**JiebaTokenizer.get_default_config()}, None, None)  # type: ignore[arg-type]
    misaligned = []
    for message in load_data(source).entity_examples:
        text = message.get("text")
        tokens = tokenizer.tokenize(Message(data={"text": text}), "text")
        starts, ends = {t.start for t in tokens}, {t.end for t in tokens}
        for entity in message.get("entities", []):
            if entity["start"] not in starts or entity["end"] not in ends:
                misaligned.append(f"{text} [{text[entity['start'] : entity['end']]}]")
    assert len(misaligned) <= 3, misaligned


def test_domain_covers_the_contract() -> None:
    domain = yaml.safe_load(Path("domain.yml").read_text(encoding="utf-8"))
    assert set(DESIGN_INTENTS) <= set(domain["intents"])
    assert set(ENTITIES) <= set(domain["entities"])
    rules = yaml.safe_load(Path("data/stories/rules.yml").read_text(encoding="utf-8"))["rules"]
    answered = {r["steps"][0]["intent"] for r in rules if "intent" in r["steps"][0]}
    assert set(domain["intents"]) <= answered


def _used_outside_rules(response: str, domain: dict) -> bool:
    """Responses that custom actions or forms utter are not in rules; they must be used there."""
    code = "\n".join(p.read_text(encoding="utf-8") for p in Path("actions").rglob("*.py"))
    if f'"{response}"' in code or ("utter_invalid_new_" in response and "utter_invalid_new_" in code):
        return True
    slots = {s for form in domain["forms"].values() for s in form["required_slots"]}
    asked = {f"utter_ask_{s}" for s in slots} | {f"utter_ask_{f}_{s}" for f in domain["forms"] for s in slots}
    return response in asked


def _read_from_context(warning: str) -> bool:
    """Intents that the answer reader sets from the conversation, never the classifier."""
    from bot.dialogue.reading import READER_INTENTS

    match = re.match(r"The intent '(\w+)' is listed in the domain file, but is not found", warning)
    return bool(match and match[1] in READER_INTENTS)


def test_rasa_data_validate_is_clean() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "rasa", "data", "validate"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-3000:]
    domain = yaml.safe_load(Path("domain.yml").read_text(encoding="utf-8"))
    warnings = re.findall(r"UserWarning: (.*)", output)
    unused = re.compile(r"The utterance '(\w+)' is not used in any story or rule\.")
    unexplained = [
        w
        for w in warnings
        if not (unused.match(w) and _used_outside_rules(unused.match(w)[1], domain))  # type: ignore[index]
        and not w.startswith("Slot auto-fill has been removed")
        and not w.startswith("The intent 'EXTERNAL_")  # triggered by the server, never typed
        and not _read_from_context(w)
    ]
    assert unexplained == []


def test_flow_interruption_rules_are_up_to_date() -> None:
    from scripts.gen_flow_rules import OUT, render

    assert OUT.read_text(encoding="utf-8") == render(), "run: python -m scripts.gen_flow_rules"
