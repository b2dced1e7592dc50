"""`within`: a timeout that never swallows the caller's cancellation; `gather_limited`."""

from __future__ import annotations

import asyncio

import pytest

from connectors.common.aio import gather_limited, within


async def test_result_or_timeout_error() -> None:
    async def answer() -> int:
        return 42

    assert await within(answer(), 1.0) == 42
    with pytest.raises(TimeoutError):
        await within(asyncio.Event().wait(), 0.01)


async def test_cancel_arriving_as_the_step_completes_still_stops_the_loop() -> None:
    """The race of asyncio.wait_for before 3.12: the awaited event fires and the caller is
    cancelled in the same turn. A loop around it must still end."""
    for _ in range(20):
        event = asyncio.Event()

        async def loop_forever(event: asyncio.Event) -> None:
            while True:
                await within(event.wait(), 10.0)
                event.clear()

        task = asyncio.create_task(loop_forever(event))
        await asyncio.sleep(0.01)
        event.set()
        task.cancel()
        done, _ = await asyncio.wait({task}, timeout=1.0)
        assert done == {task} and task.cancelled()


async def test_abandon_runs_on_timeout_and_on_cancel() -> None:
    calls: list[str] = []
    with pytest.raises(TimeoutError):
        await within(asyncio.Event().wait(), 0.01, abandon=lambda: calls.append("timeout"))
    task = asyncio.create_task(
        within(asyncio.Event().wait(), 10.0, abandon=lambda: calls.append("cancel"))
    )
    await asyncio.sleep(0.01)
    task.cancel()
    await asyncio.wait({task})
    assert task.cancelled() and calls == ["timeout", "cancel"]


async def test_gather_limited_bounds_the_steps_under_way_and_keeps_order() -> None:
    under_way = peak = 0

    async def step(i: int) -> int:
        nonlocal under_way, peak
        under_way += 1
        peak = max(peak, under_way)
        await asyncio.sleep(0.01 * (5 - i % 5))  # later items finish first
        under_way -= 1
        return i * i

    assert await gather_limited(3, step, range(10)) == [i * i for i in range(10)]
    assert peak == 3
