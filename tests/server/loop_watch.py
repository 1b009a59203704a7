"""Test-only: find what stalls a server process's event loops (``tests/server/test_event_loop.py``).

Installed by a two-line ``sitecustomize`` the test puts on ``PYTHONPATH`` (with
``PYTHONASYNCIODEBUG=1``): every event loop made by ``asyncio.new_event_loop`` (as Sanic
makes the server's, of the policy's kind: uvloop's) gets
``slow_callback_duration = 0.1``, asyncio's own "Executing … took" warnings are written to
``$LOOP_WATCH_DIR/<pid>.jsonl``, and a watchdog thread posts a heartbeat to the loop; when one
is late, it samples the loop thread's Python stack until the loop answers, so each warning
can be matched to the code that ran during the slow callback. Every SQL statement that
SQLAlchemy executes on a thread running an event loop is written too, with its stack, however
short it was. Frames are written as ``[file, line, function, is_coroutine]``.
"""

from __future__ import annotations

import asyncio
import inspect
import json
import logging
import os
import re
import sys
import threading
import time
from types import FrameType
from typing import Any

SLOW_SECONDS = 0.1
LATE_SECONDS = 0.04
SAMPLE_SECONDS = 0.01
MAX_SAMPLES = 50
_ASYNC = inspect.CO_COROUTINE | inspect.CO_ASYNC_GENERATOR | inspect.CO_ITERABLE_COROUTINE
_TOOK = re.compile(r"took (\d+(?:\.\d+)?) seconds")


class _Out:
    """One JSON line per record, from any thread."""

    def __init__(self, path: str) -> None:
        self._file = open(path, "a", encoding="utf-8")  # noqa: SIM115  (open for the process's life)
        self._lock = threading.Lock()

    def write(self, record: dict[str, Any]) -> None:
        with self._lock:
            self._file.write(json.dumps(record, ensure_ascii=False) + "\n")
            self._file.flush()


class _SlowCallbacks(logging.Handler):
    """asyncio's slow-callback warnings, with when they were logged (the callback's end)."""

    def __init__(self, out: _Out) -> None:
        super().__init__(logging.WARNING)
        self._out = out

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        took = _TOOK.search(message)
        if message.startswith("Executing") and took:
            self._out.write(
                {"kind": "slow", "at": record.created, "took": float(took[1]), "what": message[:600]}
            )


def _stack(frame: FrameType | None) -> list[list[Any]]:
    frames: list[list[Any]] = []
    while frame is not None:
        code = frame.f_code
        frames.append([code.co_filename, frame.f_lineno, code.co_name, bool(code.co_flags & _ASYNC)])
        frame = frame.f_back
    return frames[::-1]  # outermost first


def _watch(loop: asyncio.AbstractEventLoop, out: _Out) -> None:
    """Heartbeats to ``loop``; stacks of its thread while a heartbeat is late."""
    thread_id: list[int] = []
    while not loop.is_closed():
        answered = threading.Event()

        def beat(done: threading.Event = answered) -> None:
            if not thread_id:
                thread_id.append(threading.get_ident())
            done.set()

        try:
            loop.call_soon_threadsafe(beat)
        except RuntimeError:  # closed meanwhile
            return
        if answered.wait(LATE_SECONDS) or not thread_id or not loop.is_running():
            answered.wait()  # not running yet (or stopped): nothing to sample
            time.sleep(SAMPLE_SECONDS)
            continue
        taken = 0
        while not answered.wait(SAMPLE_SECONDS if taken < MAX_SAMPLES else SLOW_SECONDS):
            frame = sys._current_frames().get(thread_id[0])
            out.write({"kind": "sample", "at": time.time(), "stack": _stack(frame)})
            taken += 1
        time.sleep(SAMPLE_SECONDS)


def _watch_sql(out: _Out) -> None:
    """Record SQLAlchemy statements executed on an event loop's thread."""
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    @event.listens_for(Engine, "before_cursor_execute")
    def on_loop(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if asyncio._get_running_loop() is not None:
            record = {"kind": "sql_on_loop", "at": time.time(), "statement": statement[:120]}
            out.write({**record, "stack": _stack(sys._getframe(1))})


def install() -> None:
    """Watch every event loop this process creates (call from sitecustomize)."""
    directory = os.environ.get("LOOP_WATCH_DIR")
    if not directory:
        return
    out = _Out(os.path.join(directory, f"{os.getpid()}.jsonl"))
    out.write({"kind": "process", "argv": sys.argv, "at": time.time()})
    logging.getLogger("asyncio").addHandler(_SlowCallbacks(out))
    _watch_sql(out)

    def new_event_loop() -> asyncio.AbstractEventLoop:
        loop = asyncio.get_event_loop_policy().new_event_loop()  # the policy's kind (uvloop's)
        loop.set_debug(True)
        loop.slow_callback_duration = SLOW_SECONDS
        threading.Thread(target=_watch, args=(loop, out), name="loop-watch", daemon=True).start()
        return loop

    asyncio.new_event_loop = asyncio.events.new_event_loop = new_event_loop
