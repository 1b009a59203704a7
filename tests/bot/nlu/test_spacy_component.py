"""SpacyRuleEntityExtractor as a Rasa graph component: process, persist, load."""

from __future__ import annotations

from pathlib import Path

import pytest
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.nlu.spacy_entities import SpacyRuleEntityExtractor

CONFIG = {**SpacyRuleEntityExtractor.get_default_config()}


@pytest.fixture()
def storage(tmp_path: Path) -> LocalModelStorage:
    return LocalModelStorage(tmp_path)


def _context() -> ExecutionContext:
    return ExecutionContext(GraphSchema({}), "test")


def _process(
    component: SpacyRuleEntityExtractor, text: str, entities: list[dict], intent: str = "update_account_info"
) -> list[dict]:
    message = Message(data={"text": text, "entities": entities, "intent": {"name": intent}})
    component.process([message])
    return message.get("entities")


def test_process_merges_and_normalizes(storage: LocalModelStorage) -> None:
    component = SpacyRuleEntityExtractor.create(CONFIG, storage, Resource("spacy"), _context())
    diet = [
        {"entity": "amount", "start": 4, "end": 6, "value": "五百", "extractor": "DIETClassifier"},
        {"entity": "phone", "start": 0, "end": 1, "value": "昨", "extractor": "DIETClassifier"},
    ]
    result = _process(component, "昨天转了五百块给13800138000", diet)
    by_type = {e["entity"]: e for e in result}
    assert by_type["amount"]["value"] == "500.00"
    assert by_type["amount"]["extractor"] == "SpacyRuleEntityExtractor"
    assert by_type["phone"]["value"] == "13800138000"
    assert by_type["time"]["value"]["grain"] == "day"
    assert len(result) == 3  # the bad DIET phone is gone


def test_without_rules_only_normalizes(storage: LocalModelStorage) -> None:
    component = SpacyRuleEntityExtractor.create(
        {**CONFIG, "use_rules": False}, storage, Resource("spacy"), _context()
    )
    diet = [{"entity": "amount", "start": 4, "end": 7, "value": "五百块", "extractor": "DIETClassifier"}]
    assert _process(component, "昨天转了五百块", diet) == [{**diet[0], "value": "500.00"}]


def test_model_is_self_contained(storage: LocalModelStorage) -> None:
    resource = Resource("spacy")
    SpacyRuleEntityExtractor.create(CONFIG, storage, resource, _context()).train(TrainingData())
    loaded = SpacyRuleEntityExtractor.load(
        {**CONFIG, "patterns_path": "/nonexistent", "dictionary_path": "/nonexistent"},
        storage,
        resource,
        _context(),
    )
    result = _process(loaded, "我要改收货地址", [])
    assert [(e["entity"], e["value"]) for e in result] == [("account_field", "address")]


@pytest.mark.parametrize("text", ["", "😀", "？？？", "长" * 5000])
def test_odd_texts(storage: LocalModelStorage, text: str) -> None:
    component = SpacyRuleEntityExtractor.create(CONFIG, storage, Resource("spacy"), _context())
    assert _process(component, text, []) == []


def test_account_field_only_in_change_requests(storage: LocalModelStorage) -> None:
    component = SpacyRuleEntityExtractor.create(CONFIG, storage, Resource("spacy"), _context())
    assert _process(component, "手机丢了", [], intent="account_security") == []
    assert _process(component, "客服电话多少", [], intent="contact_support") == []
    assert [e["value"] for e in _process(component, "换绑手机", [], intent="update_account_info")] == [
        "phone"
    ]
    assert [e["value"] for e in _process(component, "邮箱", [], intent="inform")] == ["email"]


def test_no_entity_stands_on_a_code_or_a_card(storage: LocalModelStorage) -> None:
    """DIET reads "验证码 246810" as an amount: dropped, so the code never becomes a slot."""
    component = SpacyRuleEntityExtractor.create(CONFIG, storage, Resource("spacy"), _context())
    text = "转账失败了，卡号6222021234567890123，验证码 246810，转了500元"
    code, card = text.index("246810"), text.index("622202")
    diet = [
        {
            "entity": "amount",
            "start": at,
            "end": at + 6,
            "value": text[at : at + 6],
            "extractor": "DIETClassifier",
        }
        for at in (code, card)
    ]
    result = _process(component, text, diet, intent="transaction_failed")
    assert [e["value"] for e in result if e["entity"] == "amount"] == ["500.00"]
