"""Calling the (synchronous) backend from async actions, with a hard time limit."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any, TypeVar

from actions.backend.errors import BackendError, BackendUnavailable

T = TypeVar("T")
logger = logging.getLogger(__name__)


async def call_backend(timeout: float, function: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run a backend operation in a worker thread and give up after ``timeout`` seconds.

    Raises:
        BackendUnavailable: the call timed out or failed unexpectedly.
        BackendError: the backend's own refusals (NotFound, InvalidRequest, …) pass through.
    """
    try:
        return await asyncio.wait_for(asyncio.to_thread(function, *args, **kwargs), timeout)
    except BackendError:
        raise
    except asyncio.TimeoutError as error:
        logger.warning("wallet backend call %s timed out", getattr(function, "__name__", "?"))
        raise BackendUnavailable("the wallet backend did not answer in time") from error
    except Exception as error:
        logger.exception("wallet backend call %s failed", getattr(function, "__name__", "?"))
        raise BackendUnavailable("the wallet backend failed") from error
