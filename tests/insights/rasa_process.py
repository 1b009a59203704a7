"""The Rasa server as a real process for the insights' browser test: the project's
credentials.yml plus the insights' channel (``bot.insights.http.InsightsInput``, in the test's
own copy), the masking SQL tracker store on a seeded database, a private handoff store. No
action server: the pages need none (the bot's own turns are not exercised)."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import yaml

from tests.insights.seed import seed, tracker_store
from tests.servers import ROOT, _wait, free_port

CHANNEL = "bot.insights.http.InsightsInput"


@dataclass(frozen=True)
class RasaProcess:
    """A running Rasa server: its URL and its handoff database."""

    url: str
    handoff_db_url: str


def _config(workdir: Path, actions_port: int) -> tuple[Path, Path]:
    credentials = yaml.safe_load((ROOT / "credentials.yml").read_text(encoding="utf-8")) or {}
    credentials.setdefault(CHANNEL, {})  # as the operator adds it, after the console
    endpoints = yaml.safe_load((ROOT / "endpoints.yml").read_text(encoding="utf-8"))
    endpoints["action_endpoint"]["url"] = f"http://127.0.0.1:{actions_port}/webhook"
    endpoints["tracker_store"]["db"] = str(workdir / "trackers.db")
    paths = workdir / "credentials.yml", workdir / "endpoints.yml"
    paths[0].write_text(yaml.safe_dump(credentials, allow_unicode=True), encoding="utf-8")
    paths[1].write_text(yaml.safe_dump(endpoints), encoding="utf-8")
    return paths


@contextmanager
def rasa_with_insights(workdir: Path, model: Path) -> Iterator[RasaProcess]:
    """Seed the tracker database, start the server, stop it afterwards."""
    with ThreadPoolExecutor(1) as thread:  # Playwright's loop may run in this thread
        thread.submit(asyncio.run, seed(tracker_store(workdir / "trackers.db"))).result()
    port = free_port()
    credentials, endpoints = _config(workdir, free_port())
    handoff_db = f"sqlite:///{workdir / 'handoff.db'}"
    env = {
        **os.environ,
        "RASA_TELEMETRY_ENABLED": "false",
        "TF_CPP_MIN_LOG_LEVEL": "2",
        "HANDOFF_DB_URL": handoff_db,
        "HANDOFF_COOKIE_SECURE": "false",
        "WIDGET_SESSION_SECRET": "insights-test-widget-session-secret-0123456789",
        "IDENTITY_SECRET": "insights-test-secret",
        "CHANNEL_STATE_URL": f"sqlite:///{workdir / 'channel_state.db'}",
    }
    command = [
        str(Path(sys.executable).parent / "rasa"),
        "run",
        "--model",
        str(model),
        "--endpoints",
        str(endpoints),
        "--credentials",
        str(credentials),
        "--port",
        str(port),
    ]
    log = workdir / "rasa.log"
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT)
    try:
        _wait(f"http://127.0.0.1:{port}/console/insights/reports", process, log)
        yield RasaProcess(f"http://127.0.0.1:{port}", handoff_db)
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
