"""Rule-based Chinese entities with spaCy, as a Rasa graph component.

A blank spaCy ``zh`` pipeline (jieba segmenter with the wallet user dictionary,
no downloaded model) runs an EntityRuler whose patterns come from
``data/patterns/*.jsonl``. Placed after DIET and the synonym mapper, the
component adds the rule entities, lets them win where they overlap DIET's, and
gives every entity its canonical value (``bot.nlu.normalize``), dropping spans
that are not valid values, and entities outside the intents they are meaningful
for (``intent_scoped_entities``: 手机 is an account field only in a change request).
"""

from __future__ import annotations

import glob
import json
import logging
import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.extractors.extractor import EntityExtractorMixin
from rasa.shared.nlu.constants import ENTITIES, INTENT, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot import pii
from bot.dialogue.script import fold
from bot.nlu.entity_merge import Entity, merge_entities, normalize_entities

if TYPE_CHECKING:
    from spacy.language import Language

logger = logging.getLogger(__name__)

_PATTERNS_DIR = "patterns"
_DICT_DIR = "dict"


def build_pipeline(patterns: list[dict[str, Any]], dictionaries: list[Path]) -> Language:
    """A blank Chinese spaCy pipeline with jieba and an EntityRuler."""
    import jieba
    import spacy

    jieba.setLogLevel(logging.WARNING)
    for dictionary in dictionaries:
        jieba.load_userdict(str(dictionary))
    nlp = spacy.blank("zh", config={"nlp": {"tokenizer": {"segmenter": "jieba"}}})
    ruler = nlp.add_pipe("entity_ruler", config={"phrase_matcher_attr": "LOWER"})
    ruler.add_patterns(patterns)  # type: ignore[attr-defined]
    return nlp


def read_patterns(directory: Path) -> list[dict[str, Any]]:
    """All EntityRuler patterns of the ``*.jsonl`` files in a directory."""
    patterns: list[dict[str, Any]] = []
    for path in sorted(directory.glob("*.jsonl")):
        with path.open(encoding="utf-8") as handle:
            patterns.extend(json.loads(line) for line in handle if line.strip())
    return patterns


def field_aliases(patterns: list[dict[str, Any]]) -> dict[str, str]:
    """Surface word → canonical account field, from the phrase patterns' ids."""
    return {
        p["pattern"].lower(): p["id"]
        for p in patterns
        if p["label"] == "account_field" and isinstance(p["pattern"], str) and "id" in p
    }


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR, is_trainable=True)
class SpacyRuleEntityExtractor(GraphComponent, EntityExtractorMixin):
    """Adds rule-based entities and normalizes the values of all entities."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        """Default configuration: where the patterns and dictionaries live."""
        return {
            "patterns_path": "data/patterns",
            "dictionary_path": "data/dict",
            "use_rules": True,
            # entity → intents it is meaningful for (手机 is a field only when changing it)
            "intent_scoped_entities": {"account_field": ["update_account_info", "inform"]},
        }

    @staticmethod
    def required_packages() -> list[str]:
        """Python packages the component needs."""
        return ["spacy", "jieba"]

    def __init__(
        self,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        patterns: list[dict[str, Any]],
        dictionaries: list[Path],
    ) -> None:
        """Create the component from loaded patterns and dictionaries."""
        self._config = config
        self._model_storage = model_storage
        self._resource = resource
        self._patterns = patterns
        self._dictionaries = dictionaries
        self._aliases = field_aliases(patterns)
        self._nlp = build_pipeline(patterns, dictionaries) if config["use_rules"] else None

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> SpacyRuleEntityExtractor:
        """Create a new component from the repository's pattern files."""
        patterns = read_patterns(Path(config["patterns_path"]))
        dictionaries = [Path(p) for p in sorted(glob.glob(f"{config['dictionary_path']}/*"))]
        return cls(config, model_storage, resource, patterns, dictionaries)

    def train(self, training_data: TrainingData) -> Resource:
        """Copy patterns and dictionaries into the model, so it is self-contained."""
        with self._model_storage.write_to(self._resource) as directory:
            (directory / _PATTERNS_DIR).mkdir()
            with (directory / _PATTERNS_DIR / "entities.jsonl").open("w", encoding="utf-8") as out:
                for pattern in self._patterns:
                    out.write(json.dumps(pattern, ensure_ascii=False) + "\n")
            (directory / _DICT_DIR).mkdir()
            for dictionary in self._dictionaries:
                shutil.copy2(dictionary, directory / _DICT_DIR / dictionary.name)
        return self._resource

    @classmethod
    def load(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> SpacyRuleEntityExtractor:
        """Load the patterns and dictionaries stored in the model."""
        with model_storage.read_from(resource) as directory:
            patterns = read_patterns(directory / _PATTERNS_DIR)
            dictionaries = sorted((directory / _DICT_DIR).glob("*"))
            return cls(config, model_storage, resource, patterns, dictionaries)

    def extract(self, text: str) -> list[Entity]:
        """Rule-based entities of a text (folded: same offsets), before normalization."""
        if self._nlp is None or not text:
            return []
        doc = self._nlp(fold(text))
        entities = []
        for span in doc.ents:
            entity: Entity = {
                "entity": span.label_,
                "start": span.start_char,
                "end": span.end_char,
                "value": span.ent_id_ or span.text,
                "confidence_entity": 1.0,
            }
            entities.append(entity)
        return self.add_extractor_name(entities)

    def process(self, messages: list[Message]) -> list[Message]:
        """Add rule entities, merge them with earlier ones and normalize all values."""
        for message in messages:
            text = fold(message.get(TEXT) or "")
            rules = self.extract(text)
            merged = merge_entities(rules, message.get(ENTITIES, []))
            entities = normalize_entities(text, merged, aliases=self._aliases)
            intent = (message.get(INTENT) or {}).get("name")
            scopes = self._config["intent_scoped_entities"]
            entities = [e for e in entities if e["entity"] not in scopes or intent in scopes[e["entity"]]]
            message.set(ENTITIES, _without_secrets(text, entities), add_to_output=True)
        return messages


# Entities that may stand where personal data of their own kind is; any other entity on a
# code, card, ID, password or token ("验证码 246810" read as an amount) is dropped, so that
# the secret never becomes a slot value.
_OWN_KIND = {"phone": "phone", "email": "email"}


def _without_secrets(text: str, entities: list[Entity]) -> list[Entity]:
    spans = pii.scan(text)
    return [
        e
        for e in entities
        if not any(
            s.kind != _OWN_KIND.get(str(e["entity"])) and int(e["start"]) < s.end and s.start < int(e["end"])
            for s in spans
        )
    ]
