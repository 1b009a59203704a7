"""The operator commands, run in-process against an SQLite file."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.handoff import cli
from bot.handoff.store import HandoffStore

PASSWORD = "correct horse"


@pytest.fixture(autouse=True)
def db_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """Every command here uses the test's own database, never the project's var/."""
    url = f"sqlite:///{tmp_path}/handoff.db"
    monkeypatch.setenv("HANDOFF_DB_URL", url)
    return url


@pytest.fixture
def store(db_url: str) -> Iterator[HandoffStore]:
    opened = HandoffStore(db_url)
    yield opened
    opened.close()


def run(monkeypatch: pytest.MonkeyPatch, *argv: str, stdin: str = "") -> int:
    monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    return cli.main(list(argv))


def test_add_list_disable_enable(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], store: HandoffStore
) -> None:
    add = ["add-agent", "--username", "xiaowang", "--name", "小王", "--password-stdin"]
    assert run(monkeypatch, *add, stdin=PASSWORD + "\n") == 0
    assert store.authenticate("xiaowang", PASSWORD) is not None
    boss = [
        "add-agent",
        "--username",
        "zhuguan",
        "--name",
        "主管",
        "--role",
        "supervisor",
        "--password-stdin",
    ]
    assert run(monkeypatch, *boss, stdin=PASSWORD) == 0
    capsys.readouterr()
    assert run(monkeypatch, "list-agents") == 0
    listed = capsys.readouterr().out.splitlines()
    assert "xiaowang" in listed[0] and "enabled" in listed[0] and "小王" in listed[0]
    assert "supervisor" in listed[1]

    assert run(monkeypatch, "disable-agent", "--username", "xiaowang") == 0
    assert store.authenticate("xiaowang", PASSWORD) is None
    capsys.readouterr()
    run(monkeypatch, "list-agents")
    assert "disabled" in capsys.readouterr().out.splitlines()[0]
    assert run(monkeypatch, "enable-agent", "--username", "xiaowang") == 0
    assert (
        run(monkeypatch, "set-password", "--username", "xiaowang", "--password-stdin", stdin="new secret 1")
        == 0
    )
    assert store.authenticate("xiaowang", "new secret 1") is not None


def test_password_prompted_twice(monkeypatch: pytest.MonkeyPatch, store: HandoffStore) -> None:
    typed = iter([PASSWORD, PASSWORD, PASSWORD, "something else"])
    monkeypatch.setattr("getpass.getpass", lambda prompt="": next(typed))
    assert run(monkeypatch, "add-agent", "--username", "xiaowang", "--name", "小王") == 0
    assert run(monkeypatch, "add-agent", "--username", "xiaoli", "--name", "小李") == 1
    assert [a.username for a in store.list_agents()] == ["xiaowang"]


def test_refusals_exit_1_without_echoing_the_password(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    add = ["add-agent", "--username", "xiaowang", "--name", "小王", "--password-stdin"]
    assert run(monkeypatch, *add, stdin=PASSWORD) == 0
    assert run(monkeypatch, *add, stdin=PASSWORD) == 1  # taken
    bad_name = ["add-agent", "--username", "Bad Name", "--name", "x", "--password-stdin"]
    assert run(monkeypatch, *bad_name, stdin=PASSWORD) == 1
    short = ["add-agent", "--username", "xiaoli", "--name", "小李", "--password-stdin"]
    assert run(monkeypatch, *short, stdin="short") == 1
    assert run(monkeypatch, "disable-agent", "--username", "nobody") == 1
    err = capsys.readouterr().err
    assert err.count("error:") == 4 and PASSWORD not in err and "short" not in err


def test_usage_and_settings_errors_exit_2(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], db_url: str
) -> None:
    assert run(monkeypatch) == 2
    assert run(monkeypatch, "add-agent", "--username", "x") == 2
    assert run(monkeypatch, "add-agent", "--username", "xw", "--name", "x", "--role", "admin") == 2
    monkeypatch.setenv("HANDOFF_DB_URL", "mysql://root@localhost/x")
    assert run(monkeypatch, "list-agents") == 2
    assert "HANDOFF_DB_URL" in capsys.readouterr().err


def test_queue(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], store: HandoffStore
) -> None:
    store.create_schema()
    first = store.request_handoff("u1", "rest", "normal", "交易失败", "")
    urgent = store.request_handoff("u2", "widget", "urgent", "账户安全", "")
    assert run(monkeypatch, "queue") == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in lines] == [urgent.reference, first.reference]
    assert "账户安全" in lines[0]
