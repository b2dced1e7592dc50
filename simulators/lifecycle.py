"""Run a simulator server with its model clock, for the `serve_*` context managers."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Protocol

__all__ = ["serving"]


class Server(Protocol):
    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    async def run_clock(self, interval_s: float) -> None: ...


@asynccontextmanager
async def serving(sim: Server, update_interval_s: float) -> AsyncIterator[None]:
    """Start `sim`, advance its models every `update_interval_s` until the block exits,
    then stop the clock and the server (also when starting failed)."""
    clock: asyncio.Task[None] | None = None
    try:
        await sim.start()
        clock = asyncio.create_task(sim.run_clock(update_interval_s))
        yield
    finally:
        if clock is not None:
            clock.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await clock
        await sim.stop()
