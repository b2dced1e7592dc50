"""`GET /api/v1/events`: the live view's events as server-sent events (`text/event-stream`).

Each message is `event: KIND`, `id: N` (1, 2, 3 … per connection) and one `data:` line: the
JSON of the MQTT payload of the same event (`connectors.mqtt.payloads`). Kinds: `hello`
(first of every connection), `state` (the `…/event` payload), `count`, `oee`, `line_oee`,
`output`, `line_output`, `reason`, `suspect`, `decision`, `scrap`, `planned`, `product`,
`notes`, `report`, `alarm`, `spc` (an SPC chart's state after each point or change of
its limits, the `…/spc/{chart}` payload), `spc_violation` (`…/spc/{chart}/violation`),
and `overflow` (last, for a client too slow to keep up). Raw tag batches are not sent.
Nothing is replayed: a client that (re)connects reads the current state from the REST
routes after `hello`. A `: keep-alive` comment goes out
every 15 s of silence.

At most `api.limits.max_event_clients` streams are open at once (a 503 with `Retry-After`
beyond): each costs every event a queue entry and a write, and 1,000 of them halved the
polling rate. Each event is encoded once for all the streams (`Encoder` remembers the
last ones), not once per stream, and a stream sends the events of a burst (those within
`batch_s`, 50 ms, of the first) in one write.

Slow clients: each connection has a bounded queue (1000 events) the pipeline only
`put_nowait`s into, so a client never slows the pipeline. When it is full the client is
dropped: its listener is detached at once, the events queued so far are still sent, then
`overflow`, and the stream ends; the client reconnects and reloads. Dropping rather than
skipping events means a page never shows a state that silently missed a change.

A stream never ends by itself, and a stopping uvicorn waits for every response to end:
`close_streams(app)` ends them (call it before stopping the server). A stream also ends
once the API serves another live view (the gateway was reloaded), at its next message or
keep-alive, so that its client reconnects to the new one.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Annotated

from fastapi import FastAPI, Header, Request
from fastapi.responses import StreamingResponse
from starlette.types import Receive, Scope, Send

from api.context import ApiContext, ApiError, error_docs, v1_router
from api.event_encoding import Encoder
from core.types import Event, SampleBatch
from edge.pipeline.live import LiveView

__all__ = ["EventHub", "Encoder", "StreamSettings", "Subscriber", "close_streams", "router"]

log = logging.getLogger(__name__)
router = v1_router()
MEDIA_TYPE = "text/event-stream"
RETRY_FULL_S = 5  # `Retry-After` when every stream is taken
_ENCODE = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode


@dataclass(frozen=True)
class StreamSettings:
    """How the streams behave; the defaults are the documented contract."""

    heartbeat_s: float = 15.0
    queue_size: int = 1000
    batch_s: float = 0.05  # events that follow the first within this go in one write
    retry_ms: int = 3000


class EventHub:
    """One per app (`app.state.events`, made on first use): the settings, the open
    streams and the counters `clients` (open now) and `dropped_clients` (queue full)."""

    def __init__(self, settings: StreamSettings | None = None) -> None:
        self.settings = settings or StreamSettings()
        self.subscribers: set[Subscriber] = set()
        self.closed = False
        self.clients = 0
        self.dropped_clients = 0
        self._encoder: Encoder | None = None

    def encoder(self, ctx: ApiContext) -> Encoder:
        """The encoder of `ctx`'s config (made again after a reload)."""
        stream = _stream_id(ctx)
        e = self._encoder
        if e is None or e.config is not ctx.config or e.stream != stream:
            e = self._encoder = Encoder(ctx.config, stream, ctx.live.spc_limits)
        return e

    def close(self) -> None:
        """End every stream, now and from now on."""
        self.closed = True
        for sub in list(self.subscribers):
            sub.close()


def event_hub(app: FastAPI) -> EventHub:
    """The app's `EventHub` (a test may set `app.state.events` first, to shorten times)."""
    hub: EventHub | None = getattr(app.state, "events", None)
    if hub is None:
        hub = app.state.events = EventHub()
    return hub


def close_streams(app: FastAPI) -> None:
    """End the app's event streams and refuse new ones: call it before stopping the
    server, which otherwise waits for them forever."""
    event_hub(app).close()


def _stream_id(ctx: ApiContext) -> str:
    # The outbox's random stream id, so that payload `id`s equal those sent on MQTT; the
    # control protocol does not carry it, hence the look-up (empty for a read-only API).
    journal = getattr(ctx.control, "journal", None)
    return str(getattr(journal, "stream", "") or "")


class Subscriber:
    """One connection: a listener on the live view feeding a bounded queue."""

    def __init__(self, app: FastAPI, hub: EventHub) -> None:
        self.app = app
        self.hub = hub
        ctx: ApiContext = app.state.ctx
        self.live: LiveView = ctx.live
        self.encoder = hub.encoder(ctx)
        self.queue: asyncio.Queue[Event | None] = asyncio.Queue(hub.settings.queue_size)
        self.overflowed = False
        self.closed = False
        self._loop = asyncio.get_running_loop()

    def __call__(self, event: Event) -> None:
        """The listener: called by the pipeline with every event; never blocks."""
        if self.overflowed or isinstance(event, SampleBatch):
            return
        try:
            self.queue.put_nowait(event)
        except asyncio.QueueFull:
            self.overflowed = True
            self.hub.dropped_clients += 1
            log.warning("events: a client fell %d events behind; dropping it", self.queue.qsize())
            # Not now: the live view is iterating over its listeners.
            self._loop.call_soon(self.detach)

    def attach(self) -> None:
        self.live.listeners.append(self)
        self.hub.subscribers.add(self)
        self.hub.clients += 1
        self.closed = self.hub.closed

    def detach(self) -> None:
        """Remove the listener (once; later calls do nothing)."""
        self.hub.subscribers.discard(self)
        with contextlib.suppress(ValueError):
            self.live.listeners.remove(self)
            self.hub.clients -= 1

    def close(self) -> None:
        """End the stream: wake it if it waits (a full queue wakes it anyway)."""
        self.closed = True
        with contextlib.suppress(asyncio.QueueFull):
            self.queue.put_nowait(None)

    async def next_event(self) -> Event | None:
        """The next queued event; None after `heartbeat_s` without one, or when closed."""
        try:
            return await asyncio.wait_for(self.queue.get(), self.hub.settings.heartbeat_s)
        except TimeoutError:
            return None

    async def next_events(self) -> list[Event]:
        """The next event and those queued within `batch_s` after it (one write for all:
        the pipeline emits in bursts, the polls of a slot, the figures of a tick); none
        after `heartbeat_s` without one, or when closed."""
        first = await self.next_event()
        if first is None:
            return []
        await asyncio.sleep(self.hub.settings.batch_s)
        events = [first]
        while not self.queue.empty():
            event = self.queue.get_nowait()
            if event is None:  # closed meanwhile
                break
            events.append(event)
        return events

    @property
    def done(self) -> bool:
        """Closed, serving a live view the API no longer reads (a reload), or dropped and
        every event queued before the drop sent."""
        stale = self.app.state.ctx.live is not self.live
        return self.closed or stale or (self.overflowed and self.queue.empty())


def _message(kind: str, n: int, data: bytes) -> bytes:
    # The payloads are single-line JSON (newlines in strings are escaped), so one `data:`.
    return b"event: %s\nid: %d\ndata: %s\n\n" % (kind.encode(), n, data)


def _hello(sub: Subscriber, last_event_id: str | None) -> bytes:
    s = sub.hub.settings
    hello = {
        "v": 1,
        "gateway": sub.encoder.config.gateway.id,
        "machines": list(sub.live.machines),
        "windows": list(sub.live.windows),
        "heartbeat_s": s.heartbeat_s,
        "queue_size": s.queue_size,
        "last_event_id": last_event_id,
    }
    return b"retry: %d\n" % s.retry_ms + _message("hello", 1, _ENCODE(hello).encode())


def _overflow(n: int, size: int) -> bytes:
    detail = f"more than {size} events queued: reconnect and reload the current state"
    return _message("overflow", n, _ENCODE({"v": 1, "queue_size": size, "detail": detail}).encode())


async def _messages(sub: Subscriber, last_event_id: str | None) -> AsyncIterator[bytes]:
    """The body: hello, then the events as they come (those of a burst in one chunk),
    keep-alives in between, until the client is dropped or goes away, or the stream is
    closed."""
    try:
        yield _hello(sub, last_event_id)
        n = 1
        while not sub.done:
            events = await sub.next_events()
            if not events:
                if not sub.done:
                    yield b": keep-alive\n\n"
                continue
            chunk = []
            for event in events:
                if (encoded := sub.encoder.encode(event)) is not None:
                    n += 1
                    chunk.append(_message(encoded[0], n, encoded[1]))
            if chunk:
                yield b"".join(chunk)
        if sub.overflowed:
            yield _overflow(n + 1, sub.hub.settings.queue_size)
    finally:
        sub.detach()


class EventResponse(StreamingResponse):
    """A stream that detaches its listener however it ends. When the client goes away
    while a chunk is being sent, the server cancels the send, not the body, which then
    stays suspended until collected: so the listener is detached here too."""

    def __init__(self, sub: Subscriber, body: AsyncIterator[bytes]) -> None:
        headers = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
        super().__init__(body, media_type=MEDIA_TYPE, headers=headers)
        self.sub = sub

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            self.sub.detach()


@router.get(
    "/events",
    tags=["live"],
    response_class=StreamingResponse,
    responses={
        200: {
            "description": "Server-sent events: hello, state, count, oee, line_oee, output, "
            "line_output, reason, "
            "overflow (see the README, 'Live events')",
            "content": {MEDIA_TYPE: {"schema": {"type": "string"}}},
        },
        **error_docs(e503="`api.limits.max_event_clients` streams are open: retry later"),
    },
)
async def events(
    request: Request,
    last_event_id: Annotated[str | None, Header(description="ignored: nothing is replayed")] = None,
) -> StreamingResponse:
    """Live events as they happen, as server-sent events; the `data` of each is the JSON of
    the MQTT payload of the same event. Nothing is replayed: after `hello`, read the
    current state from the REST routes. At most `api.limits.max_event_clients` streams
    are open at once: beyond, 503 with `Retry-After`."""
    hub = event_hub(request.app)
    ctx: ApiContext = request.app.state.ctx
    most = ctx.config.api.limits.max_event_clients
    if hub.clients >= most:
        raise ApiError(
            503,
            f"too many event streams: {most} open (api.limits.max_event_clients); retry later",
            headers={"Retry-After": str(RETRY_FULL_S)},
        )
    sub = Subscriber(request.app, hub)
    sub.attach()  # now, so that the next request counts it
    return EventResponse(sub, _messages(sub, last_event_id))
