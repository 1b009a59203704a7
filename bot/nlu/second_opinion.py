"""A second opinion on the intent from the words around the values, where DIET is known to fail.

A character n-gram TF-IDF + logistic regression model is trained on the training examples with
every annotated value replaced by a mark of its type (``手机号是⟨phone⟩``, ``忘了密码 手机号⟨phone⟩``).
It is asked in four cases only, and decides only when it is sure (``threshold``):

- **inform** means the message gives values and asks for nothing. Problem statements that carry a
  value ("帮我重设密码，手机号139 1234 5678", "昨晚转给李娜的500块没转过去") were classified
  ``inform``: the phone, email and amount features of the many bare answers outweigh the words of
  the request around them. When DIET says ``inform``, the message is read with its values (found
  by the extractors before this component) masked; when the model sees one of the problems, the
  message is that problem. A bare value, or a value with only the words of an answer around it
  ("我的手机号是…", "就是昨天那笔"), stays ``inform``.
- **A topic denied**: "我不是忘了密码，是想改手机号", "我要改资料 不是投诉". DIET weighs the words
  of the denied topic as much as the others and often picks it. When the message denies one
  clause and states another, DIET's intent is what the model reads in the denied clause, and the
  model reads a different problem in the stated one, the message is that problem.
- **A leaving without its words**: DIET says ``stop`` or ``deny`` for a message with no word of
  negation or leaving in it ("帮我找回密码" → stop 0.99, next to the training line "不用帮我找回密码
  了"): DIET read the rest of a denial it learned; when the model sees a problem, that problem.
- **A tie**: DIET unsure (its first intent below ``unsure_threshold`` or within
  ``unsure_ambiguity`` of the second, where the fallback would ask the user to rephrase), and the
  model sure of one of DIET's first two ("转账1.5万给我爸 一直转不过去": transaction_failed 0.505,
  inform 0.494): that one.

scikit-learn and skops are Rasa's own dependencies (its LogisticRegressionClassifier uses both);
the model is loaded with skops, trusting scikit-learn's, NumPy's and SciPy's types only.
"""

from __future__ import annotations

import functools
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

from bot.dialogue.lexicon import load_lexicon, normalize
from bot.dialogue.reading import PROBLEM_INTENTS
from bot.dialogue.script import fold

logger = logging.getLogger(__name__)

_FILE = "second_opinion.skops"
_WORD = re.compile(r"[^\W_]")
_TRUSTED = ("sklearn.", "numpy.", "scipy.", "builtins.")
_STOPS = "，,。.；;！!？?、~～\\s"
# a denial, not a question: "是不是被盗了", "要不要更新", "还不是一样"
_NOT = r"(?<![是还可要想])(?:不是|并不是|并非|没说要?|不想|不要|别)"
# "不是X，是Y" / "我不是要X，我想Y" / "不要X 我现在就要Y": the denied clause first, the stated one
# after a stop and a word that states it
_DENIED_FIRST = re.compile(
    rf"{_NOT}(?P<denied>[^{_STOPS}]+)[{_STOPS}]+[^{_STOPS}]{{0,4}}?"
    rf"(?:而是|我是想|我是要|我是|是想|是要|是|我要|我想|要|想|只是|主要是)(?P<stated>[^{_STOPS}].*)$"
)
# "我要改资料 不是投诉" / "Y，而不是X": the stated clause first
_DENIED_LAST = re.compile(
    rf"^(?P<stated>.*[^{_STOPS}])[{_STOPS}]*(?:而不是|(?<![是还可])(?:不是|并不是))(?P<denied>[^{_STOPS}]+)[{_STOPS}]*$"
)


# what DIET says for a refusal or for leaving the flow
_LEAVING = frozenset({"stop", "deny"})
_LATIN_WORD = re.compile(r"[a-z]+")

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
class SecondOpinion(GraphComponent):
    """Turns ``inform`` into the problem the words around the values state."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        """The intent guarded, the problems it may become (those the answer reader knows), the
        probability required, and where DIET counts as unsure."""
        return {
            "intent": "inform",
            "problems": sorted(PROBLEM_INTENTS),
            "threshold": 0.5,
            # where DIET is unsure: config.yml gives the FallbackClassifier's two thresholds
            "unsure_threshold": 0.5,
            "unsure_ambiguity": 0.1,
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
    ) -> SecondOpinion:
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
    ) -> SecondOpinion:
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
        """Give the message the intent of the words around its values where DIET is known to fail:
        a problem stated around values, a topic denied for another, a tie."""
        if self._model is None:
            return messages
        for message in messages:
            intent = message.get(INTENT) or {}
            text = message.get(TEXT)
            if not intent.get("name") or not text or str(text).startswith("/"):
                continue
            entities = message.get(ENTITIES) or []
            words = masked(str(text), entities)
            scored = (
                self._values_only(intent, words, str(text), entities)
                or self._denied(intent, words)
                or self._unsaid_leaving(intent, str(text), words)
                or self._tie(message.get(INTENT_RANKING_KEY) or [intent], words)
            )
            if scored:
                ranking = [{"name": n, "confidence": c} for c, n in scored[:LABEL_RANKING_LENGTH]]
                # the ranking is this model's: DIET's first intent is not left second, where the
                # fallback's ambiguity check would read it
                message.data[INTENT] = ranking[0]
                message.data[INTENT_RANKING_KEY] = ranking
        return messages

    def _scored(self, words: str) -> list[tuple[float, str]]:
        """The model's (probability, intent) for the masked words, the likeliest first."""
        probabilities = self._model.predict_proba([words])[0]
        return sorted(
            ((float(p), str(name)) for name, p in zip(self._model.classes_, probabilities, strict=True)),
            reverse=True,
        )

    def _sure(self, scored: list[tuple[float, str]]) -> bool:
        return scored[0][0] >= self._config["threshold"]

    def _values_only(
        self, intent: dict[str, Any], words: str, text: str, entities: list[dict[str, Any]]
    ) -> list[tuple[float, str]] | None:
        """inform that states a problem around its values: the model's ranking."""
        if intent.get("name") != self._config["intent"]:
            return None
        if not _WORD.search(masked(text, entities, everything=True)):
            return None  # values and nothing else: "昵称", "13912345678"
        scored = self._scored(words)
        if scored[0][1] in self._config["problems"] and self._sure(scored):
            return scored
        return None

    def _denied(self, intent: dict[str, Any], words: str) -> list[tuple[float, str]] | None:
        """DIET's problem is the one the user denies, or DIET reads the denial as leaving
        ("搞错了，不是投诉，是转账失败了" → stop), and the user states another problem: that one."""
        problems = self._config["problems"]
        leaving = intent.get("name") in _LEAVING
        if intent.get("name") not in problems and not leaving:
            return None
        match = _DENIED_FIRST.search(words) or _DENIED_LAST.search(words)
        if not match or len(_WORD.findall(match["stated"])) < 2:
            return None
        denied = self._scored(match["denied"])[0][1]
        if denied != intent["name"] and not (leaving and denied in problems):
            return None  # DIET did not pick the denied topic (nor a leaving for a denied problem)
        scored = self._scored(match["stated"])
        if scored[0][1] in problems and scored[0][1] != denied and self._sure(scored):
            return scored
        return None

    def _unsaid_leaving(
        self, intent: dict[str, Any], text: str, words: str
    ) -> list[tuple[float, str]] | None:
        """stop or deny with no word of negation or leaving in the message: the model's problem."""
        if intent.get("name") not in _LEAVING or _says_no(text):
            return None
        scored = self._scored(words)
        if scored[0][1] in self._config["problems"] and self._sure(scored):
            return scored
        return None

    def _tie(self, ranking: list[dict[str, Any]], words: str) -> list[tuple[float, str]] | None:
        """DIET unsure between its first two, the model sure of one of them: the model's ranking."""
        first = float(ranking[0].get("confidence") or 0.0)
        second = float(ranking[1].get("confidence") or 0.0) if len(ranking) > 1 else 0.0
        if first >= self._config["unsure_threshold"] and first - second >= self._config["unsure_ambiguity"]:
            return None
        scored = self._scored(words)
        if scored[0][1] in {str(r.get("name")) for r in ranking[:2]} and self._sure(scored):
            return scored
        return None


def _says_no(text: str) -> bool:
    """The message has a word of negation or leaving of the answer words (bot/dialogue/answers.yml):
    不, 没, 别 …, 算了, 取消, cancel, no …"""
    latin_words, words = _no_words()
    norm = normalize(text)
    return bool(latin_words & set(_LATIN_WORD.findall(text.lower()))) or any(word in norm for word in words)


@functools.cache
def _no_words() -> tuple[frozenset[str], tuple[str, ...]]:
    """The words of ``_says_no``: the Latin ones (matched as whole words), the others."""
    lexicon = load_lexicon()
    every = (*lexicon.negations, *lexicon.no, *lexicon.control.get("stop", ()))
    return frozenset(w for w in every if w.isascii()), tuple(
        dict.fromkeys(w for w in every if not w.isascii())
    )
