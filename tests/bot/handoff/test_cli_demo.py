"""The demo accounts of `make run`: development only, argon2-hashed, new passwords each run."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.handoff import cli
from bot.handoff.store import HandoffStore


def test_demo_accounts_are_made_then_given_new_passwords(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path / 'handoff.db'}"
    monkeypatch.setenv("HANDOFF_DB_URL", url)
    monkeypatch.setenv("HANDOFF_DEMO_ACCOUNTS", "1")
    assert cli.main(["demo-accounts"]) == 0
    first = dict(line.split()[1:3] for line in capsys.readouterr().out.splitlines())
    assert set(first) == {"demo_agent", "demo_supervisor"}
    assert cli.main(["demo-accounts"]) == 0
    second = dict(line.split()[1:3] for line in capsys.readouterr().out.splitlines())
    store = HandoffStore(url)
    try:
        for username in first:
            assert first[username] != second[username]
            assert store.authenticate(username, first[username]) is None
            agent = store.authenticate(username, second[username])
            assert agent is not None and agent.role == username.removeprefix("demo_")
            assert store.credentials(username).password_hash.startswith("$argon2id$")  # type: ignore[union-attr]
    finally:
        store.close()


@pytest.mark.parametrize("flag", ["", "0", "off"])
def test_demo_accounts_need_the_development_flag(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], flag: str
) -> None:
    monkeypatch.setenv("HANDOFF_DB_URL", f"sqlite:///{tmp_path / 'handoff.db'}")
    monkeypatch.setenv("HANDOFF_DEMO_ACCOUNTS", flag)
    assert cli.main(["demo-accounts"]) == 1
    assert "development only" in capsys.readouterr().err
    store = HandoffStore(f"sqlite:///{tmp_path / 'handoff.db'}")
    assert store.list_agents() == []
    store.close()


def test_demo_accounts_are_refused_on_a_production_database(
    pg_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("HANDOFF_DB_URL", pg_url)
    monkeypatch.setenv("HANDOFF_DEMO_ACCOUNTS", "1")
    assert cli.main(["demo-accounts"]) == 1
    assert "SQLite" in capsys.readouterr().err


def test_the_run_script_prints_them_in_development_only() -> None:
    script = (Path(__file__).resolve().parents[3] / "scripts" / "run.sh").read_text(encoding="utf-8")
    assert "bot.handoff.cli demo-accounts" in script and "Demo accounts:" in script
    assert 'HANDOFF_DEMO_ACCOUNTS="${HANDOFF_DEMO_ACCOUNTS:-1}"' in script
    for production in ("scripts/run_cluster.sh", "deploy/cluster.env.example", "endpoints.cluster.yml"):
        path = Path(__file__).resolve().parents[3] / production
        if path.exists():
            assert "HANDOFF_DEMO_ACCOUNTS=1" not in path.read_text(encoding="utf-8")
