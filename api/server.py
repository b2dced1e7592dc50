"""The API's HTTP server: uvicorn, with the connection limits of `api.limits`.

uvicorn waits for a request's headers for ever, and takes every connection it is
offered: 1,100 half-open connections held every file descriptor of the gateway for
70 s, so no PLC could be reconnected, and asyncio's accept loop logged 340,000 lines
while descriptors were out. Here each connection must send complete headers within
`header_timeout_s` (408), send its body without pausing for `idle_timeout_s` (408),
and not sit idle between requests longer than `idle_timeout_s`; beyond
`max_connections` (at most what the descriptor limit leaves after the machines' share)
a connection is answered 503 and closed at once. What a stream sends is never timed
out: the timeouts wait for the client's bytes only. Running out of descriptors anyway
is logged once a minute, not once per failed accept.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import resource
import time
from collections.abc import Iterator
from typing import Any, cast

import h11
import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol
from uvicorn.server import ServerState

from api.guard import SECURITY_HEADERS
from edge.config import ApiLimits, Config

__all__ = ["ApiServer", "ApiServerConfig", "LimitedH11Protocol", "connection_cap", "make_server"]

log = logging.getLogger(__name__)

#: Descriptors kept for everything but the API: files, the broker, the store, pipes.
_RESERVED_FDS = 64
#: The listen backlog, which is also how many connections asyncio accepts per turn of
#: the loop. An accepted connection reaches the protocol (which may refuse it) two
#: turns later and its descriptor is closed a turn after that, so up to four bursts
#: are open beyond the cap: the cap leaves room for them.
_BACKLOG = 16
_IN_FLIGHT = 4 * _BACKLOG
_ACCEPT_FAILED = "socket.accept() out of system resource"


class Throttled:
    """A warning logged at most once per `every_s`; the next line says how often it
    happened meanwhile."""

    def __init__(self, every_s: float = 60.0) -> None:
        self.every_s = every_s
        self.count = 0
        self._next = 0.0

    def warn(self, message: str, *args: Any) -> None:
        self.count += 1
        now = time.monotonic()
        if now < self._next:
            return
        self._next = now + self.every_s
        if self.count > 1:
            message += f" ({self.count} times since the last such line)"
        log.warning(message + " (logged at most once a minute)", *args)
        self.count = 0


def _raw(status: int, reason: str, detail: str, *extra: str) -> bytes:
    """A whole HTTP/1.1 answer in the API's error form, for the protocol to write itself
    (no request has reached the app), ending the connection."""
    body = json.dumps({"detail": detail}).encode()
    head = [f"HTTP/1.1 {status} {reason}", "content-type: application/json",
            f"content-length: {len(body)}", "connection: close", *extra]  # fmt: skip
    head += [f"{name}: {value}" for name, value in SECURITY_HEADERS.items()]
    return ("\r\n".join(head) + "\r\n\r\n").encode() + body


class ApiServerConfig(uvicorn.Config):
    """uvicorn's config with the limits and the connection cap the protocol applies."""

    def __init__(self, app: Any, limits: ApiLimits, max_connections: int, **kw: Any) -> None:
        super().__init__(app, **kw)
        self.limits = limits
        self.max_connections = max_connections
        self.refusals = Throttled()


class LimitedH11Protocol(H11Protocol):
    """uvicorn's HTTP/1.1 protocol with the header and idle timeouts and the cap."""

    def __init__(
        self,
        config: uvicorn.Config,
        server_state: ServerState,
        app_state: dict[str, Any],
        _loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        super().__init__(config, server_state, app_state, _loop)
        assert isinstance(config, ApiServerConfig)
        self.api_config = config
        self.limits = config.limits
        self.refused = False
        self._header_timer: asyncio.TimerHandle | None = None
        self._body_timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:  # type: ignore[override]
        # uvloop's transports are not asyncio.Transport subclasses, only alike.
        conn = cast(asyncio.Transport, transport)
        cap = self.api_config.max_connections
        if len(self.connections) >= cap:
            self._refuse(conn, cap)
            return
        super().connection_made(conn)
        self._header_timer = self.loop.call_later(self.limits.header_timeout_s, self._headers_late)

    def _refuse(self, transport: asyncio.Transport, cap: int) -> None:
        self.refused = True
        self.transport = transport
        detail = f"too many connections: {cap} open (api.limits.max_connections); retry later"
        transport.write(_raw(503, "Service Unavailable", detail, "retry-after: 1"))
        transport.close()
        self.api_config.refusals.warn("API: %d connections open, refusing more", cap)

    def data_received(self, data: bytes) -> None:
        if self.refused:
            return
        if self._header_timer is None and self.conn.their_state is h11.IDLE:
            # The first bytes of the next request of a kept-alive connection.
            delay = self.limits.header_timeout_s
            self._header_timer = self.loop.call_later(delay, self._headers_late)
        super().data_received(data)
        self._timers_for_state()

    def _timers_for_state(self) -> None:
        """After the parser moved on: headers done ends the header timer; a body under
        way (re)starts the idle timer; a body done ends it."""
        state = self.conn.their_state
        if state is not h11.IDLE:
            self._header_timer = _cancel(self._header_timer)
        self._body_timer = _cancel(self._body_timer)
        if state is h11.SEND_BODY and not self.transport.is_closing():
            self._body_timer = self.loop.call_later(self.limits.idle_timeout_s, self._body_late)

    def _headers_late(self) -> None:
        self._header_timer = None
        if self.conn.their_state is h11.IDLE:
            s = self.limits.header_timeout_s
            self._close_with(f"request headers not complete within {s:g} s", "header_timeout_s")

    def _body_late(self) -> None:
        self._body_timer = None
        if self.flow.read_paused:  # the app is not reading: the client is not to blame
            self._timers_for_state()
        elif self.conn.their_state is h11.SEND_BODY:
            s = self.limits.idle_timeout_s
            self._close_with(f"no data from the client for {s:g} s", "idle_timeout_s")

    def _close_with(self, why: str, key: str) -> None:
        if not self.transport.is_closing():
            self.transport.write(_raw(408, "Request Timeout", f"{why} (api.limits.{key})"))
            self.transport.close()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if self.timeout_keep_alive_task is not None:
            # uvicorn's keep-alive takes whole seconds; this is the configured idle time.
            self.timeout_keep_alive_task.cancel()
            self.timeout_keep_alive_task = self.loop.call_later(
                self.limits.idle_timeout_s, self.timeout_keep_alive_handler
            )

    def connection_lost(self, exc: Exception | None) -> None:
        self._header_timer = _cancel(self._header_timer)
        self._body_timer = _cancel(self._body_timer)
        if self.refused:
            return  # never counted among the connections, nothing under way
        super().connection_lost(exc)


def _cancel(timer: asyncio.TimerHandle | None) -> asyncio.TimerHandle | None:
    """Cancel `timer` (if any); None, for the attribute that held it."""
    if timer is not None:
        timer.cancel()
    return None


def connection_cap(limits: ApiLimits, config: Config) -> int:
    """`max_connections`, or less when the process's descriptor limit (`ulimit -n`)
    would not leave enough for the machines (two each: a reconnect overlaps),
    `_RESERVED_FDS` for the rest and the connections accepted but not yet refused."""
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY:
        return limits.max_connections
    room = soft - 2 * len(config.machines) - _RESERVED_FDS - _IN_FLIGHT
    cap = max(2, min(limits.max_connections, room))
    if cap < limits.max_connections:
        log.warning(
            "api.limits.max_connections %d is more than the descriptor limit (ulimit -n %d) "
            "leaves beside %d machines: serving at most %d connections",
            limits.max_connections, soft, len(config.machines), cap,
        )  # fmt: skip
    return cap


class ApiServer(uvicorn.Server):
    """uvicorn as the daemon runs it: the daemon owns the signals, and running out of
    descriptors is logged once a minute."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        # The daemon owns SIGINT/SIGTERM/SIGHUP; uvicorn must not re-raise them after shutdown.
        yield

    async def startup(self, sockets: Any = None) -> None:
        _throttle_accept_errors(asyncio.get_running_loop())
        await super().startup(sockets)


def _throttle_accept_errors(loop: asyncio.AbstractEventLoop) -> None:
    """asyncio logs every failed accept with its traceback, up to the listen backlog's
    worth per wake-up, while descriptors are out: once a minute is enough."""
    previous = loop.get_exception_handler()
    throttled = Throttled()

    def handler(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        if context.get("message") == _ACCEPT_FAILED:
            throttled.warn("API: cannot accept a connection: %s", context.get("exception"))
        elif previous is not None:
            previous(loop, context)
        else:
            loop.default_exception_handler(context)

    loop.set_exception_handler(handler)


def make_server(app: Any, host: str, port: int) -> ApiServer:
    """The daemon's server for `app` (its config's `api.limits`) on host:port."""
    config: Config = app.state.ctx.config
    limits = config.api.limits
    cap = connection_cap(limits, config)
    server_config = ApiServerConfig(
        app, limits, cap,
        host=host, port=port, http=LimitedH11Protocol, ws="none",
        log_level="warning", lifespan="off",
        log_config=None,  # uvicorn's records go through our handler (text or JSON lines)
        backlog=_BACKLOG,
        timeout_graceful_shutdown=5,  # a safety net: no response holds a stop for longer
    )  # fmt: skip
    return ApiServer(server_config)
