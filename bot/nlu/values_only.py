"""``inform`` means the message gives values and asks for nothing.

Problem statements that carry a value ("帮我重设密码，手机号139 1234 5678", "昨晚转给李娜的500块没转
过去") were classified ``inform``: the phone, email and amount features of the many bare
answers outweigh the words of the request around them. Here a second opinion is asked of the
words around the values only. A character n-gram TF-IDF + logistic regression model is
trained on the training examples with every annotated value replaced by a mark of its type
(``手机号是⟨phone⟩``, ``忘了密码 手机号⟨phone⟩``); when the classifier says ``inform``, the
message is read the same way, its values (found by the extractors before this component)
masked, and when that model sees one of the problems with at least ``threshold`` probability,
the message is that problem. A bare value, or a value with only the words of an answer around
it ("我的手机号是…", "就是昨天那笔"), stays ``inform``.

scikit-learn and skops are Rasa's own dependencies (its LogisticRegressionClassifier uses both);
the model is loaded with skops, trusting scikit-learn's, NumPy's and SciPy's types only.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers import LABEL_RANKING_LENGTH
from rasa.shared.nlu.constants import ENTITIES, INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.dialogue.reading import PROBLEM_INTENTS
from bot.dialogue.script import fold

logger = logging.getLogger(__name__)

_FILE = "values_only.skops"
_WORD = re.compile(r"[^\W_]")
_TRUSTED = ("sklearn.", "numpy.", "scipy.", "builtins.")


# the entities that are values; an account field ("手机号") is a word of the request
VALUES = frozenset({"phone", "email", "amount", "time", "transaction_id"})


def _skops() -> Any:
    """``skops.io``, imported without its side effect on logging: the import reaches
    ``numpy.distutils``, whose log sets the root logger to WARNING, which silenced every library
    that logs through the root at DEBUG (aiogram's Bot API traffic) for the rest of the process."""
    root = logging.getLogger()
    level = root.level
    try:
        import skops.io as sio
    finally:
        root.setLevel(level)
    return sio


def masked(text: str, entities: list[dict[str, Any]], everything: bool = False) -> str:
    """The folded text with every value (every entity, ``everything``) replaced by a mark of
    its type."""
    text = fold(text)
    spans = sorted(
        {
            (int(e["start"]), int(e["end"]), str(e["entity"]))
            for e in entities
            if (everything or e.get("entity") in VALUES) and "start" in e and "end" in e
        },
        reverse=True,
    )
    taken = len(text) + 1
    for start, end, entity in spans:
        if end > taken or start < 0 or end > len(text):
            continue  # overlaps a span already masked
        text = f"{text[:start]}{'⟨⟩' if everything else f'⟨{entity}⟩'}{text[end:]}"
        taken = start
    return text


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class ValuesOnlyInform(GraphComponent):
    """Turns ``inform`` into the problem the words around the values state."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        """The intent guarded, the problems it may become (those the answer reader knows), and the
        probability required."""
        return {
            "intent": "inform",
            "problems": sorted(PROBLEM_INTENTS),
            "threshold": 0.5,
            "random_seed": 20261125,
        }

    def __init__(
        self, config: dict[str, Any], model_storage: ModelStorage, resource: Resource, model: Any = None
    ) -> None:
        self._config = {**self.get_default_config(), **config}
        self._storage = model_storage
        self._resource = resource
        self._model = model

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> ValuesOnlyInform:
        """A component not trained yet."""
        return cls(config, model_storage, resource)

    def train(self, training_data: TrainingData) -> Resource:
        """Fit the model of the words around the values on the masked training examples."""
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import make_pipeline

        examples = [m for m in training_data.intent_examples if m.get(TEXT) and m.get(INTENT)]
        texts = [masked(str(m.get(TEXT)), m.get(ENTITIES) or []) for m in examples]
        intents = [str(m.get(INTENT)) for m in examples]
        model = make_pipeline(
            TfidfVectorizer(analyzer="char", ngram_range=(1, 3), sublinear_tf=True),
            LogisticRegression(max_iter=3000, C=10.0, random_state=self._config["random_seed"]),
        )
        if len(set(intents)) >= 2:
            model.fit(texts, intents)
            self._model = model
            self._persist()
        return self._resource

    def _persist(self) -> None:
        sio = _skops()
        with self._storage.write_to(self._resource) as directory:
            sio.dump(self._model, directory / _FILE)

    @classmethod
    def load(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> ValuesOnlyInform:
        """The trained model, or a component that changes nothing when there is none."""
        sio = _skops()
        try:
            with model_storage.read_from(resource) as directory:
                path = directory / _FILE
                untrusted = sio.get_untrusted_types(file=path)
                refused = [t for t in untrusted if not t.startswith(_TRUSTED)]
                if refused:
                    raise ValueError(f"untrusted types in {path}: {refused}")
                model = sio.load(path, trusted=untrusted)
        except (ValueError, FileNotFoundError) as error:
            logger.warning("the values-only model is not loaded (%s): inform is left as classified", error)
            model = None
        return cls(config, model_storage, resource, model)

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        """Nothing: the training examples keep their labels."""
        return training_data

    def process(self, messages: list[Message]) -> list[Message]:
        """Give ``inform`` messages that state a problem around their values that problem."""
        if self._model is None:
            return messages
        for message in messages:
            intent = message.get(INTENT) or {}
            text = message.get(TEXT)
            if intent.get("name") != self._config["intent"] or not text or str(text).startswith("/"):
                continue
            entities = message.get(ENTITIES) or []
            if not _WORD.search(masked(str(text), entities, everything=True)):
                continue  # values and nothing else: "昵称", "13912345678"
            probabilities = self._model.predict_proba([masked(str(text), entities)])[0]
            scored = sorted(
                ((float(p), str(name)) for name, p in zip(self._model.classes_, probabilities, strict=True)),
                reverse=True,
            )
            confidence, name = scored[0]
            if name not in self._config["problems"] or confidence < self._config["threshold"]:
                continue
            ranking = [{"name": n, "confidence": c} for c, n in scored[:LABEL_RANKING_LENGTH]]
            # the ranking is this model's: the classifier said inform with the confidence it
            # gives everything, and the fallback's ambiguity check reads the first two
            message.data[INTENT] = ranking[0]
            message.data[INTENT_RANKING_KEY] = ranking
        return messages
