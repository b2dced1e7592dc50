"""Run the daemon: the gateway and its API server under one task group, stopped by signals."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import signal
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import uvicorn

from edge.config import Config
from edge.pipeline import Gateway

log = logging.getLogger(__name__)


class _ApiServer(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        # The daemon owns SIGINT/SIGTERM; uvicorn must not re-raise them after shutdown.
        yield


def api_task(gateway: Gateway, host: str, port: int) -> Callable[[], Awaitable[None]]:
    """A coroutine function serving the API until cancelled, then shutting it down cleanly."""
    from api.app import create_app

    assert gateway.history is not None
    app = create_app(gateway.config, gateway.live, gateway.history, control=gateway)
    server = _ApiServer(
        uvicorn.Config(app, host=host, port=port, log_level="warning", lifespan="off")
    )

    async def api_server() -> None:
        task = asyncio.create_task(server.serve(), name="uvicorn")
        try:
            await asyncio.shield(task)
        except asyncio.CancelledError:
            server.should_exit = True
            await task
            raise

    return api_server


# Young collections this many allocations apart (Python's default: 700).
GC_GEN0_THRESHOLD = 10_000


def tune_gc() -> None:
    """For the daemon, once its modules and config are loaded. Its objects are long-lived
    and mostly free of cycles, and a full collection of the heap of 500 machines paused
    the event loop for 100-150 ms (poll jitter p99 152 ms; docs/BENCHMARKS.md). So what
    exists at start is never scanned again (`gc.freeze`), and young garbage is collected
    less often, which makes the full collections rare (jitter p99 12 ms). Refcounting
    still frees everything acyclic at once."""
    gc.freeze()
    gc.set_threshold(GC_GEN0_THRESHOLD, 10, 10)


async def run_gateway(config: Config, gateway: Gateway | None = None) -> None:
    """Run until SIGINT/SIGTERM or cancellation."""
    gateway = gateway or Gateway(config)
    extra: list[Callable[[], Any]] = []
    if config.api.enabled:
        extra.append(api_task(gateway, config.api.host, config.api.port))
        log.info("API on http://%s:%d/", config.api.host, config.api.port)
    await gateway.run(*extra)


async def until_signalled(main: Awaitable[None]) -> None:
    """Await `main`, cancelling it on SIGINT or SIGTERM (a clean stop, exit code 0)."""
    task = asyncio.ensure_future(main)
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, task.cancel)
    try:
        await task
    except asyncio.CancelledError:
        if not task.cancelled():
            raise
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)
