"""SecondOpinion: ``inform`` is a message of values only; a problem stated around values is
that problem; a topic denied for another gives way to it; a tie is broken. FoldingRegexFeaturizer:
patterns match the folded text."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.nlu.regex_featurizer import FoldingRegexFeaturizer
from bot.nlu.second_opinion import SecondOpinion, masked
from bot.nlu.tokenizer import FoldingJiebaTokenizer

CONFIG = Path(__file__).resolve().parents[3] / "config.yml"


def _context() -> ExecutionContext:
    return ExecutionContext(GraphSchema({}), "test")


def _phone(text: str, value: str) -> dict:
    start = text.index(value)
    return {"entity": "phone", "start": start, "end": start + len(value), "value": value}


def test_values_are_masked_by_type_and_request_words_kept() -> None:
    text = "帮我重設密码，手机号13912345678 邮箱a@b.cn"
    entities = [
        _phone(text, "13912345678"),
        {"entity": "email", "start": text.index("a@b"), "end": len(text), "value": "a@b.cn"},
        {"entity": "account_field", "start": 7, "end": 10, "value": "phone"},
    ]
    assert masked(text, entities) == "帮我重设密码,手机号⟨phone⟩ 邮箱⟨email⟩"  # folded: half-width comma


def test_overlapping_and_broken_spans_are_skipped() -> None:
    text = "金额500块"
    entities = [
        {"entity": "amount", "start": 2, "end": 6},
        {"entity": "amount", "start": 2, "end": 5},  # inside the first
        {"entity": "time", "start": 4, "end": 40},  # past the end
        {"entity": "phone"},  # no span
    ]
    assert masked(text, entities) == "金额⟨amount⟩"


def _examples(extra: dict[str, list[str]] | None = None) -> TrainingData:
    lines = {
        "inform": [
            "我的手机号是13800138000",
            "手机号13912345678",
            "号码是15012345678",
            "13700001111",
            "是这个号18811112222",
        ],
        "forgot_password": [
            "忘记密码了",
            "密码忘了怎么办",
            "帮我重置密码",
            "忘记登录密码 手机号13800138000",
            "重设密码 我的号码15012345678",
        ],
        "update_account_info": [
            "我想改手机号",
            "换绑手机号",
            "修改手机号码",
            "手机号换了 要改一下",
            "改绑定的手机",
        ],
        "greet": ["你好", "您好", "在吗", "哈喽", "早上好"],
        **(extra or {}),
    }
    messages = []
    for intent, texts in lines.items():
        for text in texts:
            digits = "".join(ch for ch in text if ch.isdigit())
            entities = [_phone(text, digits)] if digits else []
            messages.append(Message(data={"text": text, "intent": intent, "entities": entities}))
    return TrainingData(messages)


@pytest.fixture()
def trained(tmp_path: Path) -> tuple[LocalModelStorage, Resource]:
    storage, resource = LocalModelStorage(tmp_path), Resource("values_only")
    SecondOpinion.create({}, storage, resource, _context()).train(_examples())
    return storage, resource


def _classified(
    component: SecondOpinion,
    text: str,
    intent: str = "inform",
    ranking: list[tuple[str, float]] | None = None,
) -> str:
    digits = "".join(ch for ch in text if ch.isdigit())
    ranked = [{"name": n, "confidence": c} for n, c in ranking or [(intent, 0.98), ("greet", 0.02)]]
    message = Message(
        data={
            "text": text,
            "intent": ranked[0],
            "intent_ranking": ranked,
            "entities": [_phone(text, digits)] if digits else [],
        }
    )
    component.process([message])
    assert message.get("intent_ranking")[0] == message.get("intent")
    return message.get("intent")["name"]


def test_a_problem_stated_around_a_value_is_that_problem(trained: tuple[LocalModelStorage, Resource]) -> None:
    storage, resource = trained
    component = SecondOpinion.load({}, storage, resource, _context())  # persisted and loaded
    assert _classified(component, "帮我重置密码，手机号13912345678") == "forgot_password"
    assert _classified(component, "13912345678") == "inform"
    assert _classified(component, "我的手机号是18600001234") == "inform"


def test_only_inform_is_second_guessed_and_only_into_a_problem(
    trained: tuple[LocalModelStorage, Resource],
) -> None:
    storage, resource = trained
    component = SecondOpinion.load({}, storage, resource, _context())
    assert _classified(component, "忘记密码了", intent="greet") == "greet"  # not inform: kept
    assert _classified(component, "你好 13912345678") == "inform"  # greet is no problem


def test_a_denied_topic_gives_way_to_the_one_stated(trained: tuple[LocalModelStorage, Resource]) -> None:
    storage, resource = trained
    component = SecondOpinion.load({}, storage, resource, _context())
    for text in (
        "我不是忘记密码，是想改手机号",
        "不是忘了密码 我是要换绑手机号",
        "我想改手机号，不是忘记密码",
    ):
        assert _classified(component, text, intent="forgot_password") == "update_account_info", text
    # DIET kept: it took the stated topic, the denied one is not a problem the model knows, a
    # question is no denial, nothing is stated besides the denial
    assert _classified(component, "忘记密码了，不是要改手机号", intent="forgot_password") == "forgot_password"
    assert _classified(component, "不是你好，是忘记密码了", intent="forgot_password") == "forgot_password"
    assert (
        _classified(component, "是不是忘记密码了，要改手机号", intent="forgot_password") == "forgot_password"
    )
    assert _classified(component, "不是忘记密码", intent="forgot_password") == "forgot_password"
    # DIET reads the denial as leaving: the stated problem, when the denied one is a problem
    assert (
        _classified(component, "搞错了，不是忘记密码，是想改手机号", intent="stop") == "update_account_info"
    )
    assert _classified(component, "不是你好，是想改手机号", intent="stop") == "stop"
    assert _classified(component, "不要了 不改了", intent="stop") == "stop"


def test_a_leaving_needs_words_of_leaving(tmp_path: Path) -> None:
    storage, resource = LocalModelStorage(tmp_path), Resource("second_opinion")
    stop = {"stop": ["不用帮我重置密码了", "算了", "不弄了", "取消吧", "不办了"]}
    SecondOpinion.create({}, storage, resource, _context()).train(_examples(stop))
    component = SecondOpinion.load({"threshold": 0.3}, storage, resource, _context())
    assert _classified(component, "帮我重置密码", intent="stop") == "forgot_password"
    assert _classified(component, "帮我重置密码", intent="deny") == "forgot_password"
    assert _classified(component, "不用帮我重置密码了", intent="stop") == "stop"
    assert _classified(component, "算了 重置密码的事", intent="stop") == "stop"
    # a Latin word of leaving counts as a whole word only: "cancel" does, "quitting" is not "quit"
    assert _classified(component, "cancel 重置密码", intent="stop") == "stop"
    assert _classified(component, "Cancel 重置密码", intent="stop") == "stop"
    assert _classified(component, "quitting 重置密码", intent="stop") == "forgot_password"


def test_unsure_is_where_the_fallback_asks() -> None:
    """config.yml gives SecondOpinion's unsure thresholds and the FallbackClassifier's from one value."""
    pipeline = {c["name"]: c for c in yaml.safe_load(CONFIG.read_text(encoding="utf-8"))["pipeline"]}
    mine, fallback = pipeline["bot.nlu.second_opinion.SecondOpinion"], pipeline["FallbackClassifier"]
    assert (mine["unsure_threshold"], mine["unsure_ambiguity"]) == (
        fallback["threshold"],
        fallback["ambiguity_threshold"],
    )


def test_a_tie_is_broken_by_the_second_opinion(trained: tuple[LocalModelStorage, Resource]) -> None:
    storage, resource = trained
    component = SecondOpinion.load({}, storage, resource, _context())
    tie = [("inform", 0.505), ("forgot_password", 0.494), ("greet", 0.001)]
    assert _classified(component, "忘记密码了 帮我重置一下", ranking=tie) == "forgot_password"
    # DIET sure: kept, whatever the model says
    sure = [("greet", 0.9), ("forgot_password", 0.1)]
    assert _classified(component, "忘记密码了 帮我重置一下", ranking=sure) == "greet"
    # the model sure of an intent DIET did not put first or second: DIET's tie is left to the fallback
    other = [("greet", 0.45), ("inform", 0.40), ("forgot_password", 0.15)]
    assert _classified(component, "忘记密码了 帮我重置一下", ranking=other) == "greet"


def test_without_a_trained_model_nothing_changes(tmp_path: Path) -> None:
    component = SecondOpinion.load({}, LocalModelStorage(tmp_path), Resource("missing"), _context())
    assert _classified(component, "帮我重置密码，手机号13912345678") == "inform"


def _pattern_features(text: str) -> list[list[float]]:
    config = {**FoldingJiebaTokenizer.get_default_config()}
    message = Message(data={"text": text})
    message.set("text_tokens", FoldingJiebaTokenizer(config, None, None).tokenize(message, "text"))  # type: ignore[arg-type]
    featurizer = FoldingRegexFeaturizer(
        {**FoldingRegexFeaturizer.get_default_config(), "use_word_boundaries": False},
        None,  # type: ignore[arg-type]
        None,  # type: ignore[arg-type]
        _context(),
        known_patterns=[{"name": "phone", "pattern": r"1[3-9]\d{9}"}, {"name": "field", "pattern": "手机号"}],
    )
    _sequence, sentence = featurizer._features_for_patterns(message, "text")
    assert message.get("text") == text  # the user's own text is kept
    return sentence.toarray().tolist()


def test_patterns_match_full_width_and_traditional_text_as_the_tokens_do() -> None:
    assert (
        _pattern_features("手機號１３９１２３４５６７８")
        == _pattern_features("手机号13912345678")
        == [[1.0, 1.0]]
    )
    assert _pattern_features("你好") == [[0.0, 0.0]]


def test_a_message_of_entities_only_stays_inform(trained: tuple[LocalModelStorage, Resource]) -> None:
    storage, resource = trained
    component = SecondOpinion.load({}, storage, resource, _context())
    message = Message(
        data={
            "text": "密码",  # as if an extractor had found a field word: nothing around it
            "intent": {"name": "inform", "confidence": 0.9},
            "entities": [{"entity": "account_field", "start": 0, "end": 2, "value": "password"}],
        }
    )
    component.process([message])
    assert message.get("intent")["name"] == "inform"


def test_the_ranking_is_the_second_opinion_s_own(trained: tuple[LocalModelStorage, Resource]) -> None:
    """The classifier's inform at 0.98 is not left second: the fallback would call it ambiguous."""
    storage, resource = trained
    component = SecondOpinion.load({}, storage, resource, _context())
    text = "帮我重置密码，手机号13912345678"
    message = Message(
        data={
            "text": text,
            "intent": {"name": "inform", "confidence": 0.98},
            "intent_ranking": [{"name": "inform", "confidence": 0.98}],
            "entities": [_phone(text, "13912345678")],
        }
    )
    component.process([message])
    first, second = message.get("intent_ranking")[:2]
    assert first["name"] == "forgot_password" and first["confidence"] > second["confidence"]
    assert abs(sum(r["confidence"] for r in message.get("intent_ranking")) - 1.0) < 1e-6


def test_loading_the_model_leaves_the_log_level_alone() -> None:
    """skops' import reaches numpy.distutils, which sets the root logger to WARNING: in a fresh
    process (the import happens once), the server's DEBUG level survives it."""
    import subprocess
    import sys

    code = (
        "import logging; logging.getLogger().setLevel(logging.DEBUG); "
        "from bot.nlu.second_opinion import _skops; _skops(); "
        "print(logging.getLogger().level)"
    )
    command = [sys.executable, "-c", code]
    run = subprocess.run(command, capture_output=True, text=True, timeout=120, check=True)
    assert run.stdout.strip() == "10"
