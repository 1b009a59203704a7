"""Blocking work runs in the pools: the event loop keeps turning while argon2 and SQL run."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import time
from pathlib import Path

import pytest
from sqlalchemy.exc import OperationalError

from bot.handoff.errors import InvalidInput, StoreUnavailable
from bot.handoff.hasher import NICENESS, ProcessHasher, serve
from bot.handoff.passwords import hash_password
from bot.handoff.store import HandoffStore
from bot.handoff.workers import Pool, Workers, guarded


async def _pauses_while(work: asyncio.Future[object]) -> list[float]:
    """The gaps between ticks of a 10 ms ticker while ``work`` runs, longest last."""
    gaps, last = [], time.perf_counter()
    while not work.done():
        await asyncio.sleep(0.01)
        now = time.perf_counter()
        gaps.append(now - last)
        last = now
    await work
    return sorted(gaps)


def test_argon2_in_the_helper_processes_does_not_stall_the_loop() -> None:
    encoded = hash_password("correct horse")
    hasher = ProcessHasher(2)

    async def scenario() -> tuple[list[float], float, list[bool]]:
        assert await hasher.verify(encoded, "correct horse")  # the processes are up
        started = time.perf_counter()
        work = asyncio.gather(*(hasher.verify(encoded, "wrong") for _ in range(6)))
        gaps = await _pauses_while(work)
        return gaps, time.perf_counter() - started, work.result()

    try:
        gaps, took, results = asyncio.run(scenario())
    finally:
        hasher.close()
    assert results == [False] * 6
    # six verifications take a while (about 0.3 s each), yet the loop kept ticking: a loop
    # that waited for them would show gaps of a whole verification (the percentile allows
    # for the scheduler of a busy machine)
    p95 = gaps[int(len(gaps) * 0.95)]
    assert p95 < 0.1 and took > 0.3, (p95, gaps[-1], took)


def test_the_helper_processes_run_at_a_lower_priority() -> None:
    hasher = ProcessHasher(1)

    async def scenario() -> int:
        await hasher.burn("x")
        process = hasher._workers[0].process
        assert process is not None
        return os.getpriority(os.PRIO_PROCESS, process.pid)

    try:
        niceness = asyncio.run(scenario())
    finally:
        hasher.close()
    assert niceness >= min(19, os.getpriority(os.PRIO_PROCESS, 0) + NICENESS)


def test_the_helper_process_answers_garbage_with_a_refusal() -> None:
    import io

    out = io.StringIO()
    lines = 'not json\n[1]\n{"id": 2, "op": "nope", "args": []}\n{"id": 3, "op": "hash", "args": [1, 2]}\n'
    serve(io.StringIO(lines), out)
    assert [json.loads(line) for line in out.getvalue().splitlines()] == [
        {"id": None, "ok": False},
        {"id": None, "ok": False},
        {"id": 2, "ok": False},
        {"id": 3, "ok": False},
    ]


def test_a_cancelled_verification_never_answers_the_next_one() -> None:
    """A login whose client went away must not leave its answer for the next login to read."""
    encoded = hash_password("correct horse")
    hasher = ProcessHasher(1)

    async def scenario() -> bool:
        right = asyncio.ensure_future(hasher.verify(encoded, "correct horse"))
        await asyncio.sleep(0.05)  # the request is in the process
        right.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await right
        return await hasher.verify(encoded, "wrong password")

    try:
        assert asyncio.run(scenario()) is False
    finally:
        hasher.close()


def test_database_failures_become_store_unavailable(tmp_path: Path) -> None:
    def broken() -> None:
        raise OperationalError("SELECT 1", {}, Exception("connection refused"))

    with pytest.raises(StoreUnavailable) as raised:
        guarded(broken)
    assert "refused" not in str(raised.value)
    with pytest.raises(InvalidInput):  # the store's own errors pass through
        guarded(HandoffStore(f"sqlite:///{tmp_path / 'h.db'}").audit_log, 0)

    down = HandoffStore("postgresql://postgres@127.0.0.1:1/none", connect_timeout=2)
    workers = Workers(1)
    try:
        with pytest.raises(StoreUnavailable):
            asyncio.run(workers.users.run(down.queue))
    finally:
        workers.close()


def test_pools_start_threads_on_first_use_only() -> None:
    pool = Pool("lazy", 1)
    assert pool._executor is None
    assert asyncio.run(pool.run(lambda: 42)) == 42
    pool.close()
    assert pool._executor is None
    with pytest.raises(ValueError):
        Pool("none", 0)
