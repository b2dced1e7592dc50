"""Run the daemon: the gateway and its API server, stopped by signals, reloaded in place.

`Daemon` runs the API server next to the gateway (not inside its task group), so that a
config reload can stop the gateway as on SIGTERM (outbox flushed, machines said offline)
and start a new one from the re-read file while the API keeps serving; the API then
reads the new gateway's config, live view and store.
"""

from __future__ import annotations

import asyncio
import dataclasses
import gc
import logging
import signal
import socket
from collections.abc import Awaitable, Callable, Coroutine
from pathlib import Path
from typing import TYPE_CHECKING, Any

from edge.cli.startup import StartupError, bind_api
from edge.config import Config
from edge.config.loading import ConfigError
from edge.config.reload import RestartNeeded, read_for_reload
from edge.pipeline.gateway import Gateway

if TYPE_CHECKING:
    from fastapi import FastAPI

# The name it had before the move: operators filter on it.
log = logging.getLogger("edge.serve")


async def serve_api(app: FastAPI, sock: socket.socket) -> None:
    """Serve `app` on the bound `sock` until cancelled (with the limits of its config's
    `api.limits`, see `api.server`), then shut the server down cleanly."""
    from api.server import make_server

    host, port = sock.getsockname()[:2]
    server = make_server(app, host, port)
    task = asyncio.create_task(server.serve(sockets=[sock]), name="uvicorn")
    try:
        await asyncio.shield(task)
    except asyncio.CancelledError:
        from api.events import close_streams

        close_streams(app)  # event streams never end by themselves; uvicorn would wait
        server.should_exit = True
        await task
        raise
    finally:
        from api.offload import close_pool

        close_pool(app)


async def stop_task(task: asyncio.Task[None]) -> None:
    """Cancel `task` and wait for its end, even if the caller is cancelled meanwhile (a
    SIGTERM during a reload): a gateway's stop flushes its outbox and must finish."""
    task.cancel()
    interrupted = False
    while not task.done():
        try:
            await asyncio.wait({task})
        except asyncio.CancelledError:
            interrupted = True
    if not task.cancelled() and task.exception() is not None:
        log.error("the gateway failed while stopping", exc_info=task.exception())
    if interrupted:
        raise asyncio.CancelledError


_Request = tuple[Config, "asyncio.Future[None]"]


class Daemon:
    """The gateway and (when enabled) its API, until cancelled. With `config_path`, it is
    also the API's `ConfigReloader`: `reload()` (or SIGHUP, `hangup`) applies the file."""

    def __init__(
        self, config: Config, gateway: Gateway | None = None, config_path: str | Path | None = None
    ) -> None:
        self.config = config
        self.gateway = gateway or Gateway(config)
        self.path = None if config_path is None else Path(config_path)
        self.app: FastAPI | None = None
        self._api = config.api  # what the API server was started with, for good
        self._requests: asyncio.Queue[_Request] = asyncio.Queue()
        self._lock = asyncio.Lock()
        self._hangups: set[asyncio.Task[None]] = set()

    async def run(self) -> None:
        """Run until cancelled (or until the gateway or the API server fails). The API's
        address is taken first: if it cannot be, StartupError, and nothing has started."""
        sock = bind_api(self._api.host, self._api.port) if self._api.enabled else None
        try:
            async with asyncio.TaskGroup() as tg:
                if sock is not None:
                    self.app = self._make_app()
                    tg.create_task(serve_api(self.app, sock), name="api")
                    log.info("API on http://%s:%d/", self._api.host, self._api.port)
                tg.create_task(self._supervise(), name="gateway-supervisor")
        except ExceptionGroup as group:
            if len(group.exceptions) > 1:
                raise
            raise group.exceptions[0] from None  # the failure itself, not a group of one
        finally:
            if sock is not None:
                sock.close()  # uvicorn closed it when it served; not if it never did

    def _make_app(self) -> FastAPI:
        from api.app import create_app
        from api.offload import HistoryPool

        gw = self.gateway
        assert gw.history is not None
        reloader = self if self.path is not None else None
        # History requests run in processes of their own: no GIL or collector shared
        # with the polls (api.offload).
        pool = HistoryPool(self._api.limits.history_at_once)
        return create_app(gw.config, gw.live, gw.history, control=gw, reloader=reloader, pool=pool)

    async def reload(self) -> Config:
        """`ConfigReloader.reload`: re-read the file; when valid, restart the gateway with it."""
        assert self.path is not None, "no config file to reload"
        async with self._lock:  # one at a time, in order
            config = await asyncio.to_thread(read_for_reload, self.path, self._api)
            done = asyncio.get_running_loop().create_future()
            await self._requests.put((config, done))
            # The restart is the supervisor's: a client that goes away does not stop it.
            await asyncio.shield(done)
        return config

    def hangup(self) -> None:
        """SIGHUP: reload in the background; the outcome goes to the log."""
        task = asyncio.ensure_future(self._reload_logged())
        self._hangups.add(task)
        task.add_done_callback(self._hangups.discard)

    async def _reload_logged(self) -> None:
        if self.path is None:
            log.warning("SIGHUP ignored: the gateway was not started from a config file")
            return
        log.info("SIGHUP: reloading %s", self.path)
        try:
            config = await self.reload()
        except (ConfigError, RestartNeeded) as exc:
            log.error("reload refused, still running the previous configuration: %s", exc)
            return
        log.info("reloaded %s: %d machine(s)", self.path, len(config.machines))

    async def _supervise(self) -> None:
        """Run the gateway; on a reload request stop it and run the next one."""
        while True:
            running = asyncio.create_task(self.gateway.run(), name="gateway")
            waiting = asyncio.create_task(self._requests.get(), name="reload-requests")
            try:
                await asyncio.wait({running, waiting}, return_when=asyncio.FIRST_COMPLETED)
            except asyncio.CancelledError:
                waiting.cancel()
                await stop_task(running)
                raise
            if running.done():  # a gateway ends by itself only on an error
                waiting.cancel()
                running.result()
                return
            config, done = waiting.result()
            await self._restart(running, config)
            done.set_result(None)

    async def _restart(self, running: asyncio.Task[None], config: Config) -> None:
        self._show(self.gateway, control=False)  # changes wait for the next gateway: 503
        await stop_task(running)
        # Made after the stop: it reads what the old one saved (checkpoints, products).
        self.config, self.gateway = config, Gateway(config)
        self._show(self.gateway, control=True)
        log.info("gateway restarted with %d machine(s)", len(config.machines))

    def _show(self, gw: Gateway, *, control: bool) -> None:
        """Point the API at `gw` (its config, live view, store; its control or none)."""
        if self.app is None:
            return
        ctx = self.app.state.ctx
        self.app.state.ctx = dataclasses.replace(
            ctx, config=gw.config, live=gw.live, history=gw.history or ctx.history,
            control=gw if control else None,
        )  # fmt: skip
        keeper = getattr(self.app.state, "reports", None)
        if control and keeper is not None:
            keeper.watch(gw.live)  # the new gateway's shifts' reports


async def run_gateway(
    config: Config, gateway: Gateway | None = None, config_path: str | Path | None = None
) -> None:
    """Run the gateway and its API until SIGINT/SIGTERM or cancellation."""
    await Daemon(config, gateway, config_path).run()


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


def run_on_loop(main: Coroutine[Any, Any, None], kind: str = "auto") -> None:
    """`asyncio.run(main)` on the event loop `kind` (`gateway.event_loop`): uvloop, where
    it is installed, takes about 7 % less CPU at 500 machines (issue 17,
    docs/BENCHMARKS.md); `asyncio` is the standard library's. StartupError when `uvloop`
    is asked for and not installed."""
    factory = None
    if kind != "asyncio":
        try:
            import uvloop
        except ImportError:
            if kind == "uvloop":
                main.close()
                raise StartupError(
                    ["gateway.event_loop: uvloop is not installed (pip install uvloop), "
                     "or set it to auto"]
                ) from None  # fmt: skip
        else:
            factory = uvloop.new_event_loop
    with asyncio.Runner(loop_factory=factory) as runner:
        runner.run(main)


async def until_signalled(main: Awaitable[None], hangup: Callable[[], None] | None = None) -> None:
    """Await `main`, cancelling it on SIGINT or SIGTERM (a clean stop, exit code 0);
    SIGHUP calls `hangup` (a config reload), when given."""
    task = asyncio.ensure_future(main)
    loop = asyncio.get_running_loop()
    handled = [signal.SIGINT, signal.SIGTERM]
    for sig in handled:
        loop.add_signal_handler(sig, task.cancel)
    if hangup is not None:
        loop.add_signal_handler(signal.SIGHUP, hangup)
        handled.append(signal.SIGHUP)
    try:
        await task
    except asyncio.CancelledError:
        if not task.cancelled():
            raise
    finally:
        for sig in handled:
            loop.remove_signal_handler(sig)
