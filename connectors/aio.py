"""asyncio helpers that stay correct when the waiting task is cancelled.

`asyncio.wait_for` before Python 3.12 can swallow a cancellation that arrives just as
the awaited thing completes or times out: the caller carries on as if nothing
happened, and a loop built on it never stops. `asyncio.wait` has no such race.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import TypeVar

__all__ = ["within"]

T = TypeVar("T")


async def within(step: Awaitable[T], timeout_s: float) -> T | None:
    """The result of `step`, or None when it is not done within `timeout_s` (then it is
    cancelled). A cancellation of the caller always propagates."""
    task = asyncio.ensure_future(step)
    try:
        done, _ = await asyncio.wait({task}, timeout=max(0.0, timeout_s))
    except asyncio.CancelledError:
        task.cancel()
        raise
    if not done:
        task.cancel()
        return None
    return task.result()
