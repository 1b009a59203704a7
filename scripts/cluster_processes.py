"""One supervised process of the cluster: started, restarted when it dies, stopped on request.

A process that exits while the cluster runs is started again after a back-off (1 s, doubling
to 30 s while it keeps dying within a minute of its start). Its PID file holds the running
process's id (rewritten on every restart, removed when it stops), its log is appended to.
Every child is asked by the kernel to terminate when the supervisor dies (``PR_SET_PDEATHSIG``),
so a supervisor killed with ``kill -9`` leaves nothing behind.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import logging
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

logger = logging.getLogger("cluster")
PR_SET_PDEATHSIG = 1
STABLE_SECONDS = 60.0
MAX_BACKOFF_SECONDS = 30.0


def _die_with_parent() -> None:
    """In the child, before exec: SIGTERM when the supervisor goes away."""
    libc = ctypes.CDLL("libc.so.6", use_errno=True)
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)


@dataclass
class ProcessSpec:
    """How to run one process of the cluster."""

    name: str
    command: list[str]
    env: dict[str, str]
    cwd: Path
    log: Path
    pid_file: Path
    health_url: str | None = None
    port: int | None = None
    stop_timeout: float = 20.0


@dataclass
class Supervised:
    """A process kept running until ``stop``; ``restarts`` counts the restarts."""

    spec: ProcessSpec
    on_exit: Callable[[str, int], None] = field(default=lambda name, code: None)
    restarts: int = 0
    process: asyncio.subprocess.Process | None = None
    _stopping: asyncio.Event = field(default_factory=asyncio.Event)
    _task: asyncio.Task[None] | None = None

    @property
    def pid(self) -> int | None:
        """The running process's id, if it runs."""
        return None if self.process is None or self.process.returncode is not None else self.process.pid

    def start(self) -> None:
        """Start the process and keep it running (in a task of the running loop)."""
        self._task = asyncio.get_running_loop().create_task(self._run(), name=f"supervise-{self.spec.name}")

    async def _spawn(self) -> asyncio.subprocess.Process:
        self.spec.log.parent.mkdir(parents=True, exist_ok=True)
        with self.spec.log.open("ab") as log:
            log.write(f"\n===== {time.strftime('%Y-%m-%d %H:%M:%S')} starting {self.spec.name}\n".encode())
            log.flush()
            process = await asyncio.create_subprocess_exec(
                *self.spec.command,
                cwd=self.spec.cwd,
                env=self.spec.env,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=log,
                stderr=asyncio.subprocess.STDOUT,
                start_new_session=True,  # Ctrl-C reaches the supervisor only, which stops in order
                preexec_fn=_die_with_parent,
            )
        self.spec.pid_file.write_text(f"{process.pid}\n", encoding="ascii")
        return process

    async def _run(self) -> None:
        backoff = 1.0
        while not self._stopping.is_set():
            started = time.monotonic()
            try:
                self.process = await self._spawn()
            except OSError as error:
                logger.error("%s could not start: %s", self.spec.name, error)
                code = -1
            else:
                if self._stopping.is_set():  # stop() came while it was starting
                    await self._terminate(self.process)
                code = await self.process.wait()
                with contextlib.suppress(FileNotFoundError):
                    self.spec.pid_file.unlink()
            if self._stopping.is_set():
                return
            self.on_exit(self.spec.name, code)
            backoff = (
                1.0 if time.monotonic() - started > STABLE_SECONDS else min(backoff * 2, MAX_BACKOFF_SECONDS)
            )
            logger.warning("%s exited (code %s); restarting in %.0f s", self.spec.name, code, backoff)
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), backoff)
            self.restarts += 1

    async def _terminate(self, process: asyncio.subprocess.Process) -> None:
        if process.returncode is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            process.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(process.wait(), self.spec.stop_timeout)
        except asyncio.TimeoutError:
            logger.warning("%s did not stop in %.0f s; killing it", self.spec.name, self.spec.stop_timeout)
            with contextlib.suppress(ProcessLookupError):
                process.kill()
            await process.wait()

    async def stop(self) -> None:
        """Stop the process (SIGTERM, then SIGKILL after ``stop_timeout``) and its supervision."""
        self._stopping.set()
        if self.process is not None:
            await self._terminate(self.process)
        if self._task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        with contextlib.suppress(FileNotFoundError):
            self.spec.pid_file.unlink()
