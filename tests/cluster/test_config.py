"""The cluster's configuration without running it: settings validated, the env file read, the
servers' settings derived, the endpoints and HAProxy files rendered (and checked by HAProxy)."""

from __future__ import annotations

import dataclasses
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from scripts.cluster_haproxy import render
from scripts.cluster_settings import ClusterSettings, ClusterSettingsError, read_env_file
from scripts.cluster_supervisor import render_endpoints
from tests.servers import ROOT

BASE = {"CLUSTER_ENV_FILE": "/dev/null"}


def settings(**env: str) -> ClusterSettings:
    return ClusterSettings.from_env({**BASE, **env})


def test_the_defaults_run_beside_make_run() -> None:
    s = settings()
    assert (s.public_port, s.actions_port, s.instances) == (5005, 5055, 2)
    assert s.rasa_ports == [5010, 5011] and s.action_ports == [5060, 5061]
    env = s.server_env()
    assert env["TRACKER_DB_NAME"] == "wallet_cluster" and env["HANDOFF_DB_URL"].endswith("/wallet_cluster")
    assert env["CHANNEL_STATE_URL"] == "redis://127.0.0.1:6379/2"
    assert env["SOCKETIO_REDIS_URL"] == "redis://127.0.0.1:6379/3"
    assert env["LOCK_STORE_DB"] == "1" and env["ACTION_ENDPOINT_URL"] == "http://127.0.0.1:5055/webhook"
    assert "EVENT_BROKER_HOST" not in env


def test_derived_settings_come_from_three_urls_and_yield_to_explicit_ones() -> None:
    s = settings(
        CLUSTER_DB_URL="postgresql://wallet:s%40cret@db.internal:6543/wallet_prod",
        CLUSTER_REDIS_URL="redis://:pw@cache.internal:6380",
        CLUSTER_EVENT_BROKER_URL="amqp://rasa:mq@mq.internal:5673/",
        HANDOFF_DB_URL="postgresql://handoff@db2.internal/handoff",
    )
    env = s.server_env()
    assert (env["TRACKER_DB_HOST"], env["TRACKER_DB_PORT"], env["TRACKER_DB_USER"]) == (
        "db.internal",
        "6543",
        "wallet",
    )
    assert env["TRACKER_DB_PASSWORD"] == "s@cret"
    assert env["HANDOFF_DB_URL"] == "postgresql://handoff@db2.internal/handoff"
    assert (
        env["LOCK_STORE_PASSWORD"] == "pw" and env["CHANNEL_STATE_URL"] == "redis://:pw@cache.internal:6380/2"
    )
    assert (env["EVENT_BROKER_HOST"], env["EVENT_BROKER_PORT"], env["EVENT_BROKER_USER"]) == (
        "mq.internal",
        "5673",
        "rasa",
    )


@pytest.mark.parametrize(
    "env",
    [
        {"CLUSTER_INSTANCES": "many"},
        {"CLUSTER_INSTANCES": "0"},
        {"CLUSTER_INSTANCES": "17"},
        {"CLUSTER_PORT": "70000"},
        {"CLUSTER_PORT": "5010"},  # the first Rasa server's port
        {"CLUSTER_BALANCER": "maybe"},
        {"CLUSTER_DB_URL": "sqlite:///var/trackers.db"},
        {"CLUSTER_DB_URL": "postgresql://postgres@127.0.0.1/Wallet-DB; DROP"},
        {"CLUSTER_REDIS_URL": "redis://127.0.0.1:6379/4"},
        {"CLUSTER_REDIS_URL": "http://127.0.0.1"},
        {"CLUSTER_EVENT_BROKER_URL": "127.0.0.1:5672"},
        {"CLUSTER_EVENT_QUEUE": "events; rm"},
        {"CLUSTER_EXTRA_RASA_SERVERS": "10.0.0.2"},
        {"CLUSTER_BIND": "0.0.0.0 ; x"},
    ],
)
def test_bad_settings_fail_fast(env: dict[str, str]) -> None:
    with pytest.raises(ClusterSettingsError):
        settings(**env)


def test_the_env_file_is_read_and_the_environment_wins(tmp_path: Path) -> None:
    file = tmp_path / "cluster.env"
    file.write_text(
        "# comment\n\nCLUSTER_INSTANCES=3\nexport CLUSTER_PORT='6005'\nCLUSTER_STATS_PORT=\"9404\"\n",
        encoding="utf-8",
    )
    assert read_env_file(file) == {
        "CLUSTER_INSTANCES": "3",
        "CLUSTER_PORT": "6005",
        "CLUSTER_STATS_PORT": "9404",
    }
    s = ClusterSettings.from_env({"CLUSTER_ENV_FILE": str(file), "CLUSTER_INSTANCES": "1"})
    assert (s.instances, s.public_port, s.stats_port) == (1, 6005, 9404)
    file.write_text("CLUSTER_INSTANCES 3\n", encoding="utf-8")
    with pytest.raises(ClusterSettingsError):
        ClusterSettings.from_env({"CLUSTER_ENV_FILE": str(file)})
    with pytest.raises(ClusterSettingsError):
        ClusterSettings.from_env({"CLUSTER_ENV_FILE": str(tmp_path / "missing.env")})


def test_the_example_env_file_holds_the_defaults() -> None:
    example = read_env_file(ROOT / "deploy" / "cluster.env.example")
    assert len(example) >= 15
    assert dataclasses.replace(settings(**example), environ={}) == dataclasses.replace(settings(), environ={})


def test_the_endpoints_keep_the_event_broker_only_when_configured() -> None:
    template = (ROOT / "endpoints.cluster.yml").read_text(encoding="utf-8")
    without = yaml.safe_load(render_endpoints(template, with_broker=False))
    with_broker = yaml.safe_load(render_endpoints(template, with_broker=True))
    assert "event_broker" not in without and with_broker["event_broker"]["type"] == "pika"
    assert without["tracker_store"]["type"] == "bot.tracker_store.MaskingSQLTrackerStore"
    assert without["tracker_store"]["dialect"] == "postgresql" and without["lock_store"]["type"] == "redis"
    # Rasa expands ${...} only in plain scalars: quoted, the variable would be taken literally.
    assert '"${' not in template and "'${" not in template


def test_the_endpoints_differ_from_make_run_only_in_the_stores() -> None:
    cluster = yaml.safe_load((ROOT / "endpoints.cluster.yml").read_text(encoding="utf-8"))
    single = yaml.safe_load((ROOT / "endpoints.yml").read_text(encoding="utf-8"))
    assert cluster["nlg"] == single["nlg"]
    assert cluster["tracker_store"]["type"] == single["tracker_store"]["type"]


def test_the_balancer_config_routes_writes_without_replays() -> None:
    text = render(settings(CLUSTER_EXTRA_RASA_SERVERS="10.0.0.7:5010"))
    write = text[text.index("\nbackend be_rasa_write") : text.index("\nbackend be_rasa_read")]
    read = text[text.index("\nbackend be_rasa_read") : text.index("\nbackend be_socketio")]
    sockets = text[text.index("\nbackend be_socketio") : text.index("\nfrontend actions")]
    assert "retry-on" not in write and "Connection close" in write
    assert "retry-on conn-failure empty-response junk-response" in read
    assert "cookie WALLET_NODE insert" in sockets and "retry-on" not in sockets
    assert "server remote-rasa-1 10.0.0.7:5010" in write
    assert text.count("check observe layer4") == 3 + 2  # every Rasa server once, every action server


@pytest.mark.skipif(shutil.which("haproxy") is None, reason="HAProxy is not installed")
def test_haproxy_accepts_the_rendered_config(tmp_path: Path) -> None:
    path = tmp_path / "haproxy.cfg"
    path.write_text(render(settings(CLUSTER_VAR_DIR=str(tmp_path))), encoding="utf-8")
    checked = subprocess.run(["haproxy", "-c", "-f", str(path)], capture_output=True, text=True, check=False)
    assert checked.returncode == 0, checked.stdout + checked.stderr
