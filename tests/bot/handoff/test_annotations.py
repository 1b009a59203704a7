"""Notes and tags on a conversation: stored masked, validated, audit-logged; and the pure
readings of the bot's state from a tracker's events (the side panel's summary)."""

from __future__ import annotations

from typing import Any

import pytest

from bot.handoff.annotations import check_tag, context_config, parse_config
from bot.handoff.context import account_of, bot_state, profile_json, ticket_ids
from bot.handoff.errors import InvalidInput, NotFound
from bot.handoff.store import HandoffStore
from tests.bad_inputs import bad_messages


def _conversation(store: HandoffStore, sender: str = "rest:u1") -> tuple[int, int]:
    agent = store.add_agent("xiaowang", "小王", "password-123")
    handoff = store.request_handoff(sender, "rest", "normal", "交易失败", "话题：交易失败")
    return handoff.id, agent.id


def test_notes_are_masked_private_and_audited(store: HandoffStore) -> None:
    handoff_id, agent_id = _conversation(store)
    note = store.annotations.add_note(handoff_id, agent_id, "  用户手机 13800138000，已核实身份  ")
    assert note.text == "用户手机 138****8000，已核实身份" and note.agent_name == "小王"
    assert [n.text for n in store.annotations.notes(handoff_id)] == [note.text]
    entry = store.audit_log()[0]
    assert entry.action == "note" and "13800138000" not in entry.detail and "核实" not in entry.detail
    for bad in ("", "   ", "长" * 2001, "a\x00b", None, 5, ["x"]):
        with pytest.raises(InvalidInput):
            store.annotations.add_note(handoff_id, agent_id, bad)  # type: ignore[arg-type]
    with pytest.raises(NotFound):
        store.annotations.add_note(999999, agent_id, "备注")


def test_tags_from_the_list_or_free_once_each_and_limited(store: HandoffStore) -> None:
    handoff_id, agent_id = _conversation(store)
    assert store.annotations.add_tag(handoff_id, agent_id, "投诉") == ["投诉"]
    assert store.annotations.add_tag(handoff_id, agent_id, "投诉") == ["投诉"]  # once
    assert store.annotations.add_tag(handoff_id, agent_id, "ＶＩＰ") == ["投诉", "VIP"]  # NFKC
    assert store.annotations.add_tag(handoff_id, agent_id, "自定义-标签_1") == [
        "投诉",
        "VIP",
        "自定义-标签_1",
    ]
    assert store.annotations.remove_tag(handoff_id, agent_id, "VIP") == ["投诉", "自定义-标签_1"]
    with pytest.raises(InvalidInput):
        store.annotations.remove_tag(handoff_id, agent_id, "VIP")
    actions = [e.action for e in store.audit_log()]
    assert actions.count("tag_added") == 3 and actions.count("tag_removed") == 1
    limit = store.annotations.config.max_tags
    for i in range(limit - 2):
        store.annotations.add_tag(handoff_id, agent_id, f"t{i}")
    with pytest.raises(InvalidInput):
        store.annotations.add_tag(handoff_id, agent_id, "one-more")


@pytest.mark.parametrize(
    "tag", ["", "  ", "a b", "<script>", "标签" * 9, "a\nb", "x\x00", 5, None, ["投诉"], "投诉！", "a/b"]
)
def test_bad_tags_are_refused(tag: Any) -> None:
    with pytest.raises(InvalidInput) as refused:
        check_tag(context_config(), tag)
    assert str(refused.value) == context_config().texts["tag_invalid"]  # never the input


@pytest.mark.parametrize("name", sorted(bad_messages()))
def test_the_bad_message_corpus_as_a_tag_or_note(store: HandoffStore, name: str) -> None:
    handoff_id, agent_id = _conversation(store)
    text = bad_messages()[name]
    try:
        tags = store.annotations.add_tag(handoff_id, agent_id, text)
        assert tags and all(len(t) <= 16 for t in tags)
    except InvalidInput as error:
        assert text.strip()[:10] not in str(error) or not text.strip()
    try:
        note = store.annotations.add_note(handoff_id, agent_id, text)
        assert "\x00" not in note.text
    except InvalidInput as error:
        assert str(error) == context_config().texts["note_invalid"]


def test_the_shipped_configuration_is_valid() -> None:
    config = context_config()
    assert "投诉" in config.tags and config.max_tags == 10
    assert config.flows["transaction_form"] == "交易失败查询"
    with pytest.raises(ValueError):
        parse_config({"tags": ["a b"], "max_tags": 3, "max_tag_chars": 8, "texts": dict(config.texts)})
    with pytest.raises(ValueError):
        parse_config({"tags": [], "max_tags": 0, "max_tag_chars": 8, "texts": dict(config.texts)})
    with pytest.raises(ValueError):
        parse_config({"tags": [], "max_tags": 3, "max_tag_chars": 8, "texts": {}})


def _slot(name: str, value: Any) -> dict[str, Any]:
    return {"event": "slot", "name": name, "value": value}


EVENTS = [
    {"event": "action", "name": "action_session_start"},
    {"event": "session_started"},
    {"event": "user", "text": "我的转账失败了"},
    {"event": "active_loop", "name": "transaction_form"},
    _slot("requested_slot", "identity_contact"),
    _slot("identity_contact", "13800138000"),
    _slot("identity_code", "123456"),
    _slot("account_id", "U1001"),
    _slot("identity_masked", "138****8000"),
    _slot("requested_slot", "transaction_id"),
    _slot("ticket_id", "T202612010001"),
    {"event": "user", "text": "转人工"},
    {"event": "active_loop", "name": None},
    _slot("requested_slot", None),
]


def test_the_bot_state_names_the_flow_the_step_and_masked_slots() -> None:
    state = bot_state(EVENTS, context_config())
    assert (state["flow"], state["flow_label"]) == ("transaction_form", "交易失败查询")
    assert (state["step"], state["step_label"]) == ("transaction_id", "等待用户说明是哪一笔交易")
    shown = {s["name"]: s["value"] for s in state["slots"]}
    assert shown == {"account_id": "U1001", "identity_masked": "138****8000", "ticket_id": "T202612010001"}
    assert "123456" not in str(state) and "13800138000" not in str(state)  # codes and contacts never
    assert account_of(EVENTS) == "U1001" and ticket_ids(EVENTS) == ["T202612010001"]
    earlier = [*EVENTS, {"event": "session_started"}, {"event": "user", "text": "你好"}]
    assert bot_state(earlier, context_config())["flow"] is None  # a new session starts clean
    assert account_of(earlier) == "U1001"  # the customer is still who they were


def test_a_profile_is_masked() -> None:
    class Account:
        account_id, name, phone, email = "U1001", "张伟", "13800138000", "zhangwei@example.com"
        status, two_factor = "active", False

    assert profile_json(Account()) == {
        "account_id": "U1001",
        "name": "张*",
        "phone": "138****8000",
        "email": "z***@example.com",
        "status": "active",
        "two_factor": False,
    }
