"""Thread pools that keep the handoff's blocking work off the Rasa server's event loop.

The store is synchronous SQLAlchemy (its drivers release the GIL while they wait for the
database); on the event loop it would stall every conversation of the server. Each side has
its own small pool, so that a flood of console logins cannot delay the users' side (the gate
after every user message, the expiry task): ``console`` for the agents' SQL, ``users`` for the
users' side. (Argon2 runs in niced helper processes: ``bot.handoff.hasher``.)
Database failures come out as ``StoreUnavailable``, the package's own error, whatever the
driver raised.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import ParamSpec, TypeVar

from sqlalchemy.exc import SQLAlchemyError

from bot.handoff.errors import StoreUnavailable

P = ParamSpec("P")
T = TypeVar("T")


def guarded(fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    """Call ``fn``; a database failure becomes ``StoreUnavailable`` (the message says no more)."""
    try:
        return fn(*args, **kwargs)
    except SQLAlchemyError as error:
        raise StoreUnavailable("the handoff store is unavailable") from error


class Pool:
    """A named pool of threads; created on first use, so nothing starts at import."""

    def __init__(self, name: str, threads: int) -> None:
        """Describe the pool: ``threads`` workers named ``handoff-<name>``."""
        if threads < 1:
            raise ValueError("a pool needs at least one thread")
        self.name = name
        self.threads = threads
        self._executor: ThreadPoolExecutor | None = None

    async def run(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """Run ``fn(*args, **kwargs)`` in the pool and wait for it without blocking the loop.

        Raises:
            StoreUnavailable: the database failed (whatever else ``fn`` raises passes through).
        """
        if self._executor is None:
            self._executor = ThreadPoolExecutor(self.threads, thread_name_prefix=f"handoff-{self.name}")
        call = functools.partial(guarded, fn, *args, **kwargs)
        return await asyncio.get_running_loop().run_in_executor(self._executor, call)

    def close(self) -> None:
        """Stop the threads once their current work is done."""
        if self._executor is not None:
            self._executor.shutdown(wait=False, cancel_futures=True)
            self._executor = None


class Workers:
    """The two SQL pools of one Rasa server."""

    def __init__(self, db_threads: int = 4) -> None:
        """Two pools of ``db_threads`` each."""
        self.console = Pool("console", db_threads)
        self.users = Pool("users", db_threads)

    def close(self) -> None:
        """Stop both pools."""
        for pool in (self.console, self.users):
            pool.close()
