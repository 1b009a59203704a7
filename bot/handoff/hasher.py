"""Argon2 in helper processes, so that password work never slows the users' chat.

A verification is about 0.3 s of CPU on four lanes and 64 MiB of memory. On the event loop it
would stop every conversation; in a thread of the Rasa server it would still compete with the
NLU for the CPU at the same priority (a login flood measurably slowed the chat that way). The
console's logins therefore hash in a few long-lived helper processes (``python -m
bot.handoff.hasher``, which imports little more than argon2), niced so that the scheduler
gives the Rasa server the CPU first. One request at a time per process, as JSON lines over
its stdin and stdout; a process that fails is started again for the next request.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

from bot.handoff.errors import HandoffError
from bot.handoff.passwords import burn_time, hash_password, verify_password
from bot.handoff.workers import Pool

ROOT = Path(__file__).resolve().parent.parent.parent
NICENESS = 19  # the lowest priority: any other work of the machine goes first
TIMEOUT_SECONDS = 30.0
_OPS: dict[str, Callable[..., Any]] = {"verify": verify_password, "burn": burn_time, "hash": hash_password}


class HashingUnavailable(HandoffError):
    """A hashing process failed or did not answer; the login did not happen."""

    status = 503
    code = "unavailable"


class Hasher(Protocol):
    """Password work that does not block the event loop."""

    async def verify(self, encoded: str, password: str) -> bool:
        """Whether the password matches the hash."""

    async def burn(self, password: str) -> None:
        """The work of one verification, for a username that does not exist."""

    async def hash(self, password: str) -> str:
        """A new argon2id hash of the password."""

    def close(self) -> None:
        """Release what the hasher holds."""


class ThreadHasher:
    """Argon2 in a thread pool: the loop is free, at the server's own priority (tests, tools)."""

    def __init__(self, pool: Pool) -> None:
        """Hash in ``pool``."""
        self.pool = pool

    async def verify(self, encoded: str, password: str) -> bool:
        """Whether the password matches the hash."""
        return await self.pool.run(verify_password, encoded, password)

    async def burn(self, password: str) -> None:
        """The work of one verification, for a username that does not exist."""
        await self.pool.run(burn_time, password)

    async def hash(self, password: str) -> str:
        """A new argon2id hash of the password."""
        return await self.pool.run(hash_password, password)

    def close(self) -> None:
        """Stop the pool's threads."""
        self.pool.close()


class _Worker:
    """One helper process."""

    def __init__(self) -> None:
        self.process: asyncio.subprocess.Process | None = None
        self._sequence = 0

    async def call(self, op: str, args: list[Any]) -> Any:
        if self.process is None or self.process.returncode is not None:
            self.process = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "bot.handoff.hasher",
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                cwd=str(ROOT),
                env={
                    **os.environ,
                    "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
                },
            )
        process = self.process
        assert process.stdin is not None and process.stdout is not None
        self._sequence += 1
        request_id = self._sequence
        try:
            process.stdin.write(json.dumps({"id": request_id, "op": op, "args": args}).encode() + b"\n")
            await process.stdin.drain()
            line = await asyncio.wait_for(process.stdout.readline(), TIMEOUT_SECONDS)
            answer = json.loads(line)
        except asyncio.CancelledError:
            self.kill()  # its answer would arrive later, as the answer to the next request
            raise
        except (OSError, ValueError, asyncio.TimeoutError) as error:
            self.kill()
            raise HashingUnavailable("the hashing process failed") from error
        if not isinstance(answer, dict) or answer.get("id") != request_id:
            self.kill()
            raise HashingUnavailable("the hashing process answered out of turn")
        if not answer.get("ok"):
            raise HashingUnavailable("the hashing process refused the request")
        return answer.get("value")

    def kill(self) -> None:
        if self.process is not None and self.process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                self.process.kill()
        self.process = None


class ProcessHasher:
    """Up to ``processes`` helper processes, started when first needed."""

    def __init__(self, processes: int = 2) -> None:
        """Prepare the pool; no process starts before the first request."""
        if processes < 1:
            raise ValueError("the hasher needs at least one process")
        self.processes = processes
        self._workers = [_Worker() for _ in range(processes)]
        self._idle: asyncio.Queue[_Worker] | None = None

    async def _run(self, op: str, *args: Any) -> Any:
        if self._idle is None:
            self._idle = asyncio.Queue()
            for worker in self._workers:
                self._idle.put_nowait(worker)
        worker = await self._idle.get()
        try:
            return await worker.call(op, list(args))
        finally:
            self._idle.put_nowait(worker)

    async def verify(self, encoded: str, password: str) -> bool:
        """Whether the password matches the hash (HashingUnavailable if a process failed)."""
        return bool(await self._run("verify", encoded, password))

    async def burn(self, password: str) -> None:
        """The work of one verification, for a username that does not exist."""
        await self._run("burn", password)

    async def hash(self, password: str) -> str:
        """A new argon2id hash of the password."""
        return str(await self._run("hash", password))

    def close(self) -> None:
        """Stop every helper process."""
        for worker in self._workers:
            worker.kill()
        self._idle = None


def serve(stdin: Any = None, stdout: Any = None) -> None:
    """The helper process: answer one JSON request per line until stdin closes."""
    stdin, stdout = stdin or sys.stdin, stdout or sys.stdout
    for line in stdin:
        request_id = None
        try:
            request = json.loads(line)
            request_id = request.get("id")
            value = _OPS[request["op"]](*request["args"])
            answer: dict[str, Any] = {"id": request_id, "ok": True, "value": value}
        except (ValueError, KeyError, TypeError, AttributeError):
            answer = {"id": request_id, "ok": False}
        stdout.write(json.dumps(answer) + "\n")
        stdout.flush()


if __name__ == "__main__":
    with contextlib.suppress(OSError):
        os.nice(NICENESS)
    serve()
