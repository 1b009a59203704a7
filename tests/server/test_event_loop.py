"""No blocking on the Rasa server's event loop from project code: the real servers run with
asyncio's debug mode (``PYTHONASYNCIODEBUG=1``, ``slow_callback_duration = 0.1``, through
``tests/server/loop_watch.py``) under load — concurrent REST conversations through the flows
and a handoff, an agent working in the console with its live stream, widget history and files
— and in no slow callback ("Executing … took") may project code (bot/, actions/) have run
synchronously for half the threshold (0.05 s, sampled every 10 ms). And, however short, no
SQL statement may run on the event loop's thread (a SQLAlchemy hook records each one).

A sample's synchronous part is what ran below its innermost coroutine frame, plus that frame:
a project coroutine awaiting Rasa's code is not to blame for what Rasa's code does, a project
function doing SQL on the loop is. Samples inside asyncio's debug bookkeeping (the creation
stacks it records for every future) are the instrument's cost and not counted; nor are the
project's NLU components while Rasa's graph runner calls them (Rasa runs the NLU pipeline
synchronously on its loop by design: CPU, and any SQL there is still caught by the SQL check).
Slow callbacks outside project code (Rasa's own, TensorFlow's) and the action server's are
printed, not failed.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.servers import REST_HEADERS, ROOT, Servers, start_servers

PROJECT = (str(ROOT / "bot") + "/", str(ROOT / "actions") + "/")
SAMPLE_SECONDS = 0.01
BLAME_SECONDS = 0.05
# asyncio's debug mode records a stack for every future and handle: the instrument's own cost
RASA_GRAPH = "/site-packages/rasa/engine/"
ARTIFACTS = ("asyncio/format_helpers.py", "/traceback.py", "/linecache.py", "tests/server/loop_watch.py")
CONVERSATIONS = {
    "password": ["你好", "我忘记密码了", "13800138000", "没收到", "谢谢"],
    "transfer": ["我昨天晚上给李娜转账没成功", "13800138000", "算了", "再见"],
    "complaint": ["我要投诉", "客服态度很差，等了很久", "昨天下午", "没有截图", "好的"],
    "contact": ["怎么联系客服", "热线几点上班", "谢谢"],
    "human": ["转账失败了", "转人工"],
}
PASSWORD = "loop-watch-Passw0rd"
HEADERS = {"X-Console-Request": "1"}


@dataclass(frozen=True)
class Slow:
    """A slow callback and the stacks sampled while it ran."""

    pid: int
    took: float
    what: str
    stacks: list[list[list[Any]]]

    def project_samples(self, project: tuple[str, ...] = PROJECT) -> list[list[str]]:
        """The samples with project code in their synchronous part: its frames, innermost last."""
        found = []
        for stack in self.stacks:
            if any(f[0].endswith(ARTIFACTS) for f in stack):
                continue
            innermost_async = max((i for i, f in enumerate(stack) if f[3]), default=0)
            if any(RASA_GRAPH in f[0] for f in stack[innermost_async:]):
                continue
            frames = [
                f"{os.path.relpath(f[0], ROOT)}:{f[1]} {f[2]}"
                for f in stack[innermost_async:]
                if f[0].startswith(project)
            ]
            if frames:
                found.append(frames)
        return found

    def blamed(self, project: tuple[str, ...] = PROJECT) -> str | None:
        """Where project code held the loop for at least BLAME_SECONDS of this callback, or None."""
        samples = self.project_samples(project)
        if len(samples) * SAMPLE_SECONDS < BLAME_SECONDS:
            return None
        spots = sorted({s[-1] for s in samples}, key=lambda spot: -sum(1 for x in samples if x[-1] == spot))
        return f"{len(samples) * SAMPLE_SECONDS:.2f}s of {self.took:.3f}s in {', '.join(spots[:3])}"


def _slow_callbacks(watch_dir: Path, since: float) -> dict[str, list[Slow]]:
    """Per process (its command), the slow callbacks that ended after ``since``."""
    found: dict[str, list[Slow]] = {}
    for path in sorted(watch_dir.glob("*.jsonl")):
        records = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
        process = next((r for r in records if r["kind"] == "process"), None)
        if process is None:
            continue
        name = "actions" if "actions" in process["argv"] else "rasa" if "run" in process["argv"] else "other"
        samples = [r for r in records if r["kind"] == "sample"]
        for record in records:
            if record["kind"] != "slow" or record["at"] < since:
                continue
            start = record["at"] - record["took"] - 0.02
            stacks = [s["stack"] for s in samples if start <= s["at"] <= record["at"] + 0.02]
            slow = Slow(int(path.stem), record["took"], record["what"], stacks)
            found.setdefault(name, []).append(slow)
    return found


def _sql_on_loop(watch_dir: Path, since: float, project: tuple[str, ...] = PROJECT) -> dict[str, list[str]]:
    """Per process, the SQL run on an event loop's thread after ``since``: the statement and its
    innermost project caller (else the innermost caller outside SQLAlchemy)."""
    found: dict[str, list[str]] = {}
    for path in sorted(watch_dir.glob("*.jsonl")):
        records = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
        process = next((r for r in records if r["kind"] == "process"), None)
        if process is None:
            continue
        name = "actions" if "actions" in process["argv"] else "rasa" if "run" in process["argv"] else "other"
        for record in records:
            if record["kind"] == "sql_on_loop" and record["at"] >= since:
                stack = record["stack"]
                mine = [f for f in stack if f[0].startswith(project)]
                caller = (mine or [f for f in stack if "/sqlalchemy/" not in f[0]] or stack)[-1]
                where = f"{os.path.relpath(caller[0], ROOT)}:{caller[1]} {caller[2]}"
                found.setdefault(name, []).append(f"{record['statement'][:60]!r} from {where}")
    return found


def _install_hook(directory: Path) -> dict[str, str]:
    """A sitecustomize that installs the watch, and the environment that loads it."""
    hooks, watch_dir = directory / "hooks", directory / "watch"
    hooks.mkdir()
    watch_dir.mkdir()
    (hooks / "sitecustomize.py").write_text(
        "import tests.server.loop_watch as watch\n\nwatch.install()\n", encoding="utf-8"
    )
    return {
        "PYTHONASYNCIODEBUG": "1",
        "PYTHONPATH": f"{hooks}{os.pathsep}{ROOT}",
        "LOOP_WATCH_DIR": str(watch_dir),
        "LOG_LEVEL_LIBRARIES": "WARNING",  # Rasa silences asyncio's warnings below ERROR
    }


BLOCKING = """
import asyncio, sqlite3, sys, time

import blocking_library
from sqlalchemy import create_engine, text


async def project_blocks():
    connection = sqlite3.connect(sys.argv[1])
    for _ in range(3000):  # SQL on the loop: the project's own fault
        connection.execute("SELECT count(*) FROM sqlite_master").fetchall()
    time.sleep(0.2)


def query(engine):
    with engine.connect() as connection:
        return connection.execute(text("SELECT 42")).scalar()


async def sqlalchemy_both_ways():
    engine = create_engine("sqlite://")
    assert await asyncio.to_thread(query, engine) == 42  # in a thread: fine
    assert query(engine) == 42  # on the loop, quick as it is


async def main():
    await asyncio.sleep(0.2)
    await project_blocks()
    await asyncio.sleep(0.05)
    await blocking_library.library_blocks()  # awaited, not the caller's doing
    await asyncio.sleep(0.05)
    await asyncio.to_thread(time.sleep, 0.3)  # off the loop: fine
    await sqlalchemy_both_ways()
    await asyncio.sleep(0.2)


asyncio.new_event_loop().run_until_complete(main())
"""


def test_the_watch_blames_only_project_code_that_blocks(tmp_path: Path) -> None:
    env = {**os.environ, **_install_hook(tmp_path)}
    (tmp_path / "project").mkdir()
    (tmp_path / "library").mkdir()
    (tmp_path / "project" / "app.py").write_text(BLOCKING, encoding="utf-8")
    (tmp_path / "library" / "blocking_library.py").write_text(
        "import time\n\n\nasync def library_blocks():\n    time.sleep(0.3)\n", encoding="utf-8"
    )
    env["PYTHONPATH"] += os.pathsep + str(tmp_path / "library")
    command = [sys.executable, str(tmp_path / "project" / "app.py"), str(tmp_path / "x.db")]
    subprocess.run(command, env=env, check=True, timeout=60)
    slow = _slow_callbacks(tmp_path / "watch", 0)["other"]
    project = (str(tmp_path / "project") + "/",)
    blamed = [s.blamed(project) for s in slow]
    assert len(slow) == 2, [s.what for s in slow]  # the two blocking callbacks, not the thread's
    assert blamed[0] is not None and "project_blocks" in blamed[0]
    assert blamed[1] is None  # the library's own sleep
    sql = _sql_on_loop(tmp_path / "watch", 0, project)["other"]
    assert len(sql) == 1 and "SELECT 42" in sql[0] and "app.py" in sql[0] and "query" in sql[0]


@pytest.fixture(scope="module")
def watched(model_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Servers, Path]]:
    """Both servers, every event loop of theirs watched."""
    workdir = tmp_path_factory.mktemp("loop_watch")
    running = start_servers(workdir, model_path, _install_hook(workdir))
    yield running, workdir / "watch"
    running.stop()


async def _conversation(client: httpx.AsyncClient, sender: str, texts: list[str]) -> list[int]:
    statuses = []
    for text in texts:
        reply = await client.post("/webhooks/rest/webhook", json={"sender": sender, "message": text})
        statuses.append(reply.status_code)
    return statuses


async def _agent_at_work(client: httpx.AsyncClient, cookie: str, deadline: float) -> dict[str, int]:
    """An agent polls the queue, takes what waits, reads, replies and hands back."""
    console = {"Cookie": f"uw_console={cookie}", **HEADERS}
    done = {"taken": 0, "replied": 0, "polls": 0}
    while time.monotonic() < deadline:
        queue = (await client.get("/console/api/queue", headers=console)).json()["handoffs"]
        await client.get("/console/api/conversations", headers=console)
        await client.get("/console/api/agents", headers=console)
        done["polls"] += 1
        for handoff in queue:
            base = f"/console/api/conversations/{handoff['id']}"
            if (await client.post(f"{base}/take", headers=console)).status_code != 200:
                continue
            done["taken"] += 1
            await client.get(f"{base}/transcript", headers=console)
            sent = await client.post(f"{base}/messages", headers=console, json={"text": "您好，我是小王"})
            done["replied"] += sent.status_code == 201
            await client.post(f"{base}/handback", headers=console)
        if done["replied"]:
            return done
        await asyncio.sleep(0.2)
    return done


async def _live_stream(client: httpx.AsyncClient, cookie: str, seconds: float) -> int:
    """The console's server-sent events, read for a while."""
    console = {"Cookie": f"uw_console={cookie}", **HEADERS}
    received = 0
    try:
        async with client.stream(
            "GET", "/console/api/events", headers=console, timeout=seconds + 5
        ) as stream:
            end = time.monotonic() + seconds
            async for chunk in stream.aiter_bytes():
                received += len(chunk)
                if time.monotonic() > end:
                    break
    except httpx.ReadTimeout:
        pass
    return received


async def _widget_traffic(client: httpx.AsyncClient, rounds: int) -> list[int]:
    statuses = []
    for _ in range(rounds):
        statuses.append((await client.get("/widget/widget.js")).status_code)
        statuses.append((await client.get("/console/")).status_code)
        statuses.append((await client.post("/widget/history", content=b"not-a-proof")).status_code)
    return statuses


@pytest.mark.server
@pytest.mark.model
def test_no_project_code_blocks_the_event_loop(watched: tuple[Servers, Path]) -> None:
    servers, watch_dir = watched
    from bot.handoff.store import HandoffStore

    store = HandoffStore(servers.handoff_db_url)
    store.create_schema()
    store.add_agent("loopwatch", "小王", PASSWORD)
    store.close()
    tag = uuid.uuid4().hex[:8]

    async def load() -> tuple[list[list[int]], dict[str, int], int, list[int]]:
        async with httpx.AsyncClient(base_url=servers.rasa_url, headers=REST_HEADERS, timeout=120) as rest:
            # a first message loads what loads lazily; it is measured too
            assert (await _conversation(rest, f"warmup-{tag}", ["你好"])) == [200]
            login = await rest.post(
                "/console/api/login", headers=HEADERS, json={"username": "loopwatch", "password": PASSWORD}
            )
            assert login.status_code == 200, login.text
            cookie = login.cookies["uw_console"]
            deadline = time.monotonic() + 90
            conversations = [
                _conversation(rest, f"loop-{name}-{tag}-{i}", texts)
                for i in range(2)
                for name, texts in CONVERSATIONS.items()
            ]
            results = await asyncio.gather(
                asyncio.gather(*conversations),
                _agent_at_work(rest, cookie, deadline),
                _live_stream(rest, cookie, 20),
                _widget_traffic(rest, 10),
            )
            return list(results[0]), results[1], results[2], results[3]

    since = time.time()
    statuses, agent, streamed, widget = asyncio.run(load())
    assert all(s == 200 for conversation in statuses for s in conversation), statuses
    assert agent["taken"] >= 1 and agent["replied"] >= 1, agent  # the console really worked
    assert streamed > 0 and widget.count(200) == 20
    time.sleep(1)  # the watch writes a slow callback when it ends
    slow = _slow_callbacks(watch_dir, since)
    report = [
        f"{name}: {s.took:.3f}s, {s.blamed() or 'not project code'} | {s.what[:120]}"
        for name, found in slow.items()
        for s in found
    ]
    print("\n".join(["slow callbacks under load:", *report]) if report else "no slow callbacks under load")
    sql = _sql_on_loop(watch_dir, since)
    print("\n".join(["SQL on an event loop:", *(f"{n}: {q}" for n, qs in sql.items() for q in qs)]))
    blamed = [f"{s.blamed()} | {s.what[:300]}" for s in slow.get("rasa", []) if s.blamed()]
    assert blamed == [], "project code blocked the Rasa server's event loop:\n" + "\n".join(blamed)
    on_loop = sql.get("rasa", [])
    assert on_loop == [], "SQL ran on the Rasa server's event loop:\n" + "\n".join(sorted(set(on_loop)))
