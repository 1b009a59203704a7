"""Every response renders with the company facts and no unfilled placeholder."""

from __future__ import annotations

import re

import pytest
from rasa.shared.core.domain import Domain

from bot.company import load_company_facts
from bot.nlg import CompanyResponseGenerator

DOMAIN = Domain.load("domain.yml")


@pytest.fixture(scope="module")
def nlg() -> CompanyResponseGenerator:
    return CompanyResponseGenerator(domain=DOMAIN)


@pytest.mark.parametrize("name", sorted(DOMAIN.responses))
def test_response_has_no_unfilled_placeholder(nlg: CompanyResponseGenerator, name: str) -> None:
    rendered = nlg.generate_from_slots(name, {}, "rest")
    assert rendered is not None
    assert not re.search(r"\{[a-z_]+\}", rendered["text"]), rendered["text"]
    for button in rendered.get("buttons", []):
        assert button["payload"].startswith("/")
        assert "{{" not in button["payload"]


def test_contact_support_quotes_the_configured_facts(nlg: CompanyResponseGenerator) -> None:
    facts = load_company_facts()
    text = nlg.generate_from_slots("utter_contact_support", {}, "rest")["text"]  # type: ignore[index]
    for fact in (facts.hotline, facts.hotline_hours, facts.support_email, facts.wechat_account):
        assert fact in text


def test_action_variables_take_precedence(nlg: CompanyResponseGenerator) -> None:
    text = nlg.generate_from_slots("utter_request_human", {}, "rest", hotline="000")["text"]  # type: ignore[index]
    assert "000" in text


def test_no_response_asks_for_a_password_or_code() -> None:
    asking = re.compile(r"(请|麻烦)(告诉|提供|输入|发送)(我|一下)?.{0,6}(密码|验证码)")
    for name, variants in DOMAIN.responses.items():
        for variant in variants:
            assert not asking.search(variant.get("text", "")), name
