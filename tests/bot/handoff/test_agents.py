"""Agents, sessions and login throttling in the SQL store, on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from bot.handoff.errors import Conflict, InvalidInput, NotFound
from bot.handoff.schema import metadata
from bot.handoff.store import HandoffStore
from tests.bot.handoff.conftest import FakeClock

PASSWORD = "correct horse"


def test_agents_are_added_listed_and_disabled(store: HandoffStore) -> None:
    wang = store.add_agent("xiaowang", " 小王 ", PASSWORD)
    boss = store.add_agent("zhu.guan-1", "主管", PASSWORD, role="supervisor")
    assert (wang.display_name, wang.role, wang.active, wang.last_seen) == ("小王", "agent", True, None)
    assert boss.is_supervisor and store.get_agent(boss.id) == boss
    assert [a.username for a in store.list_agents()] == ["xiaowang", "zhu.guan-1"]
    assert store.set_agent_active("xiaowang", False).active is False
    assert store.get_agent(wang.id).active is False and store.set_agent_active("xiaowang", True).active
    with pytest.raises(Conflict):
        store.add_agent("xiaowang", "另一个小王", PASSWORD)


def test_authentication(store: HandoffStore) -> None:
    wang = store.add_agent("xiaowang", "小王", PASSWORD)
    assert store.authenticate("xiaowang", PASSWORD) == store.get_agent(wang.id)
    assert store.authenticate("xiaowang", "wrong password") is None
    assert store.authenticate("nobody", PASSWORD) is None
    assert store.authenticate("XIAOWANG", PASSWORD) is None
    for username, password in [("", ""), ("x" * 5000, PASSWORD), ("xiaowang", "p" * 5000), (None, None)]:
        assert store.authenticate(username, password) is None  # type: ignore[arg-type]
    store.set_agent_active("xiaowang", False)
    assert store.authenticate("xiaowang", PASSWORD) is None
    store.set_agent_active("xiaowang", True)
    store.set_password("xiaowang", "a new password")
    assert store.authenticate("xiaowang", PASSWORD) is None
    assert store.authenticate("xiaowang", "a new password") is not None


def _database_dump(store: HandoffStore) -> str:
    with store.engine.connect() as conn:
        return repr([list(conn.execute(select(table))) for table in metadata.sorted_tables])


def test_passwords_and_tokens_are_never_stored(store: HandoffStore, db_url: str) -> None:
    wang = store.add_agent("xiaowang", "小王", PASSWORD)
    store.set_password("xiaowang", "second secret")
    token = store.create_session(wang.id)
    dump = _database_dump(store)
    assert "$argon2id$" in dump
    for secret in (PASSWORD, "second secret", token):
        assert secret not in dump
    if db_url.startswith("sqlite:///"):
        path = Path(db_url.removeprefix("sqlite:///"))
        raw = b"".join(p.read_bytes() for p in path.parent.glob(path.name + "*"))
        for secret in (PASSWORD, "second secret", token):
            assert secret.encode() not in raw


def test_sessions_expire_end_and_die_with_a_disabled_agent(store: HandoffStore, clock: FakeClock) -> None:
    wang = store.add_agent("xiaowang", "小王", PASSWORD)
    token = store.create_session(wang.id, ttl_seconds=60)
    assert len(token) >= 43 and store.session_agent(token).id == wang.id  # type: ignore[union-attr]
    clock.advance(61)
    assert store.session_agent(token) is None
    assert store.purge_sessions() == 1

    token = store.create_session(wang.id)
    store.end_session(token)
    assert store.session_agent(token) is None

    token = store.create_session(wang.id)
    store.set_agent_active("xiaowang", False)
    assert store.session_agent(token) is None
    store.set_agent_active("xiaowang", True)
    assert store.session_agent(token) is None  # disabling ended it for good
    store.set_agent_active("xiaowang", False)
    with pytest.raises(Conflict):
        store.create_session(wang.id)  # a disabled agent cannot log in

    store.set_agent_active("xiaowang", True)
    token = store.create_session(wang.id)
    store.set_password("xiaowang", "a new password")
    assert store.session_agent(token) is None


@pytest.mark.parametrize("token", ["", "x", "a" * 5000, None, 42, "not-a-token-but-long-enough-0123456789"])
def test_garbage_tokens_have_no_session(store: HandoffStore, token: Any) -> None:
    assert store.session_agent(token) is None
    store.end_session(token)


def test_only_agents_with_a_live_session_are_on_duty(store: HandoffStore, clock: FakeClock) -> None:
    wang = store.add_agent("xiaowang", "小王", PASSWORD)
    li = store.add_agent("xiaoli", "小李", PASSWORD)
    assert store.agents_on_duty() == []
    token = store.create_session(wang.id, ttl_seconds=600)
    clock.advance(100)
    assert store.session_agent(token).last_seen == clock.now  # type: ignore[union-attr]
    store.touch_agent(li.id)  # seen, but without a session: not on duty
    assert [a.id for a in store.agents_on_duty()] == [wang.id]
    li_token = store.create_session(li.id, ttl_seconds=600)
    assert [a.id for a in store.agents_on_duty()] == [wang.id, li.id]
    clock.advance(121)
    assert store.agents_on_duty() == []  # not seen for two minutes
    store.session_agent(li_token)
    store.set_agent_active("xiaoli", False)
    assert store.agents_on_duty() == [] and [a.id for a in store.agents_on_duty(1000)] == [wang.id]


def test_an_expired_or_ended_session_ends_duty(store: HandoffStore, clock: FakeClock) -> None:
    wang = store.add_agent("xiaowang", "小王", PASSWORD)
    token = store.create_session(wang.id, ttl_seconds=60)
    assert [a.id for a in store.agents_on_duty()] == [wang.id]
    clock.advance(61)
    store.touch_agent(wang.id)  # seen just now, but the session expired
    assert store.agents_on_duty() == []
    token = store.create_session(wang.id)
    assert [a.id for a in store.agents_on_duty()] == [wang.id]
    store.end_session(token)  # logout
    assert store.agents_on_duty() == []
    store.create_session(wang.id)
    store.set_password("xiaowang", "a new password")  # ends every session
    assert store.agents_on_duty() == []


def test_failures_are_counted_per_key_in_their_own_windows(store: HandoffStore, clock: FakeClock) -> None:
    store.record_failed_logins(["user:a", "addr:b", "login:all"])
    clock.advance(30)
    store.record_failed_logins(["user:c", "addr:b", "login:all"])
    counts = store.failure_counts({"user:a": 900, "addr:b": 900, "login:all": 20, "user:none": 900})
    assert counts == {"user:a": 1, "addr:b": 2, "login:all": 1, "user:none": 0}
    assert store.failure_counts({}) == {} and store.record_failed_logins([]) is None
    store.clear_failed_logins("user:a")
    assert store.failure_counts({"user:a": 900, "addr:b": 900}) == {"user:a": 0, "addr:b": 2}
    for bad in ({"": 900}, {"k" * 256: 900}, {"k": 0}):
        with pytest.raises(InvalidInput):
            store.failure_counts(bad)
    with pytest.raises(InvalidInput):
        store.record_failed_logins(["ok", ""])


def test_failed_logins_are_counted_in_a_window_and_survive_a_restart(
    store: HandoffStore, db_url: str, clock: FakeClock
) -> None:
    key = "xiaowang|203.0.113.9"
    for _ in range(3):
        store.record_failed_login(key)
        clock.advance(60)
    store.record_failed_login("xiaoli|203.0.113.9")
    restarted = HandoffStore(db_url, clock=clock)
    assert restarted.failed_logins(key) == 3 and restarted.failed_logins(key, within_seconds=150) == 2
    clock.advance(900)
    assert restarted.failed_logins(key) == 0 and restarted.failed_logins(key, within_seconds=3600) == 3
    restarted.clear_failed_logins(key)
    assert restarted.failed_logins(key, within_seconds=3600) == 0
    assert restarted.failed_logins("xiaoli|203.0.113.9", within_seconds=3600) == 1
    restarted.close()


@pytest.mark.parametrize(
    "username", ["", "ab", "a" * 33, "XiaoWang", "xiao wang", "小王", "x;drop", "admin\n", None]
)
def test_bad_usernames_are_refused(store: HandoffStore, username: Any) -> None:
    with pytest.raises(InvalidInput):
        store.add_agent(username, "小王", PASSWORD)


@pytest.mark.parametrize("password", ["", "short", "1234567", "p" * 129, None])
def test_bad_passwords_are_refused(store: HandoffStore, password: Any) -> None:
    with pytest.raises(InvalidInput):
        store.add_agent("xiaowang", "小王", password)
    store.add_agent("xiaowang", "小王", PASSWORD)
    with pytest.raises(InvalidInput):
        store.set_password("xiaowang", password)


@pytest.mark.parametrize("role", ["admin", "", "Supervisor", None])
def test_unknown_roles_are_refused(store: HandoffStore, role: Any) -> None:
    with pytest.raises(InvalidInput):
        store.add_agent("xiaowang", "小王", PASSWORD, role=role)


@pytest.mark.parametrize("name", ["", "   ", "名" * 65, "小\u200b王", "a\nb", None])
def test_bad_display_names_are_refused(store: HandoffStore, name: Any) -> None:
    with pytest.raises(InvalidInput):
        store.add_agent("xiaowang", name, PASSWORD)


def test_bad_arguments_and_unknown_agents(store: HandoffStore) -> None:
    wang = store.add_agent("xiaowang", "小王", PASSWORD)
    for attempt in (
        lambda: store.get_agent(999),
        lambda: store.touch_agent(999),
        lambda: store.create_session(999),
        lambda: store.set_agent_active("nobody", False),
        lambda: store.set_password("nobody", PASSWORD),
    ):
        with pytest.raises(NotFound):
            attempt()
    for attempt in (
        lambda: store.create_session(wang.id, ttl_seconds=0),
        lambda: store.record_failed_login(""),
        lambda: store.record_failed_login("k" * 256),
        lambda: store.failed_logins("k", within_seconds=-1),
        lambda: store.agents_on_duty(0),
        lambda: store.audit_log(0),
        lambda: store.audit(None, "", None),
    ):
        with pytest.raises(InvalidInput):
            attempt()
