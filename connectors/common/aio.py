"""asyncio helpers that stay correct when the waiting task is cancelled.

`asyncio.wait_for` before Python 3.12 can swallow a cancellation that arrives just as
the awaited thing completes or times out: the caller carries on as if nothing
happened, and a loop built on it never stops. `asyncio.wait` has no such race
(`within`).
`gather_limited` runs one step per item side by side, a bounded number at a time.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable
from typing import Any, TypeVar

__all__ = ["gather_limited", "within"]

T = TypeVar("T")
K = TypeVar("K")


def _nothing() -> None:
    return None


async def within(
    step: Awaitable[T], timeout_s: float, *, abandon: Callable[[], None] = _nothing
) -> T:
    """The result of `step`, or TimeoutError after `timeout_s` — `asyncio.wait_for`
    without its lost cancellations. When the caller is cancelled or the time is up,
    `abandon()` runs first (e.g. close a socket so that everything pending fails at once)
    and `step` is cancelled without waiting for it to wind down."""
    task = asyncio.ensure_future(step)
    try:
        done, _ = await asyncio.wait({task}, timeout=max(0.0, timeout_s))
    except asyncio.CancelledError:
        _give_up(task, abandon)
        raise
    if not done:
        _give_up(task, abandon)
        raise TimeoutError
    return task.result()


def _give_up(task: asyncio.Future[Any], abandon: Callable[[], None]) -> None:
    abandon()
    task.cancel()
    # Retrieve its outcome so that asyncio does not log "exception never retrieved".
    task.add_done_callback(lambda t: t.cancelled() or t.exception())


async def gather_limited(
    limit: int, step: Callable[[K], Awaitable[T]], items: Iterable[K]
) -> list[T]:
    """`step(item)` for every item, at most `limit` under way at a time; the results in
    the items' order. The first exception propagates, as with `asyncio.gather`."""
    gate = asyncio.Semaphore(limit)

    async def gated(item: K) -> T:
        async with gate:
            return await step(item)

    return list(await asyncio.gather(*(gated(i) for i in items)))
