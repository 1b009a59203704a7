"""Every response renders with the company facts and no unfilled placeholder."""

from __future__ import annotations

import re

import pytest
from rasa.shared.core.domain import Domain

from bot.company import load_company_facts
from bot.nlg import CompanyResponseGenerator

DOMAIN = Domain.load("domain.yml")
# Variables the flows' actions pass with a response (dispatcher.utter_message(response=…, **vars)).
ACTION_VARIABLES = {
    "tx_when": "11月24日 21:03",
    "tx_kind": "转账",
    "tx_amount": "500.00",
    "tx_counterparty": "李娜",
    "transaction_id": "TX202611242103001",
    "refund_eta": "1-3 个工作日",
    "balance": "1250.00",
    "count": 2,
    "ticket_id": "T202611250001",
    "reset_masked": "138****8000",
    "channel_name": "短信",
    "contact_name": "手机号",
    "contact": "139****5678",
    "sla_hours": 24,
    "option_count": 2,
    "flow_name": "投诉登记",
    "identity_masked": "138****8000",
    "field_name": "手机号",
    "new_value_masked": "139****1234",
    "position": 2,
    "wait_minutes": 6,
    "reference": "H20261125-0007",
    "agent_hours": "09:00-21:00",
}


@pytest.fixture(scope="module")
def nlg() -> CompanyResponseGenerator:
    return CompanyResponseGenerator(domain=DOMAIN)


@pytest.mark.parametrize("name", sorted(DOMAIN.responses))
def test_response_has_no_unfilled_placeholder(nlg: CompanyResponseGenerator, name: str) -> None:
    rendered = nlg.generate_from_slots(name, {}, "rest", **ACTION_VARIABLES)
    assert rendered is not None
    assert not re.search(r"\{[a-z_]+\}", rendered["text"]), rendered["text"]
    for button in rendered.get("buttons", []):
        assert button["payload"].startswith("/") or name == "utter_ask_complaint_category"
        assert "{{" not in button["payload"]


def test_contact_support_quotes_the_configured_facts(nlg: CompanyResponseGenerator) -> None:
    facts = load_company_facts()
    text = nlg.generate_from_slots("utter_contact_support", {}, "rest")["text"]  # type: ignore[index]
    for fact in (facts.hotline, facts.hotline_hours, facts.support_email, facts.wechat_account):
        assert fact in text


def test_action_variables_take_precedence(nlg: CompanyResponseGenerator) -> None:
    variables = {**ACTION_VARIABLES, "hotline": "000", "reference": "H1"}
    text = nlg.generate_from_slots("utter_message_left_done", {}, "rest", **variables)["text"]  # type: ignore[index]
    assert "热线 000" in text and "H1" in text  # the action's hotline, not the company file's


def test_no_response_asks_for_a_password_or_code() -> None:
    asking = re.compile(r"(请|麻烦)(告诉|提供|输入|发送)(我|一下)?.{0,6}(密码|验证码)")
    for name, variants in DOMAIN.responses.items():
        for variant in variants:
            assert not asking.search(variant.get("text", "")), name


def test_actions_pass_only_known_variables() -> None:
    """Every variable an action passes is one the test above renders with."""
    from pathlib import Path

    code = "\n".join(p.read_text(encoding="utf-8") for p in Path("actions/flows").glob("*.py"))
    passed = set(re.findall(r"utter_message\([^)]*?response=[^,)]+,\s*([a-z_]+)=", code))
    assert passed and passed - {"buttons"} <= set(ACTION_VARIABLES)
