"""The launcher's supervision on small processes (``sleep``): restarted after ``kill -9`` with
its PID file rewritten, stopped with its PID file removed, and gone when the supervisor itself
is killed."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from scripts.cluster_harness import wait_for
from scripts.cluster_processes import ProcessSpec, Supervised
from tests.servers import ROOT


def _spec(tmp_path: Path) -> ProcessSpec:
    return ProcessSpec(
        "sleeper",
        ["sleep", "600"],
        dict(os.environ),
        tmp_path,
        tmp_path / "sleeper.log",
        tmp_path / "sleeper.pid",
    )


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie (killed, not yet reaped) counts as gone
    return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"


def test_a_killed_process_is_restarted_and_stop_cleans_up(tmp_path: Path) -> None:
    async def scenario() -> None:
        supervised = Supervised(_spec(tmp_path))
        supervised.start()
        first = await asyncio.to_thread(wait_for, lambda: supervised.pid, 10, "the first start")
        assert int((tmp_path / "sleeper.pid").read_text()) == first
        os.kill(first, signal.SIGKILL)

        def restarted() -> int | None:
            pid = supervised.pid
            return pid if pid not in (None, first) else None

        second = await asyncio.to_thread(wait_for, restarted, 15, "the restart")
        assert int((tmp_path / "sleeper.pid").read_text()) == second and supervised.restarts == 1
        await supervised.stop()
        assert not _alive(second) and not (tmp_path / "sleeper.pid").exists()
        assert "starting sleeper" in (tmp_path / "sleeper.log").read_text()

    asyncio.run(scenario())


def test_the_children_die_with_a_killed_supervisor(tmp_path: Path) -> None:
    program = (
        "import asyncio, os, sys\n"
        "from pathlib import Path\n"
        "from scripts.cluster_processes import ProcessSpec, Supervised\n"
        "async def main():\n"
        f"    p = Path({str(tmp_path)!r})\n"
        "    spec = ProcessSpec('sleeper', ['sleep', '600'], dict(os.environ), p, p / 'log', p / 'pid')\n"
        "    s = Supervised(spec)\n"
        "    s.start()\n"
        "    await asyncio.sleep(600)\n"
        "asyncio.run(main())\n"
    )
    parent = subprocess.Popen([sys.executable, "-c", program], cwd=ROOT)
    try:
        child = int(wait_for(lambda: (tmp_path / "pid").read_text().strip(), 20, "the child's PID file"))
        assert _alive(child)
        parent.kill()  # kill -9 of the supervisor
        parent.wait(timeout=10)
        deadline = time.monotonic() + 10
        while _alive(child) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not _alive(child), "the child outlived its supervisor"
    finally:
        if parent.poll() is None:
            parent.kill()
