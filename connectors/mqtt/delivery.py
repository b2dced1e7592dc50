"""Delivery of the MQTT sink's outbox: a background task publishes the oldest records
through paho and removes them from the outbox only once the broker acknowledged them.

- In order, in a window: while connected, `peek` the oldest records so that at most
  `window` are in flight, publish each, and remember `mid -> record id`.
- Acknowledged: QoS 1/2 records when paho's `on_publish` reports the PUBACK / PUBCOMP;
  QoS 0 records when paho wrote the packet to the socket (paho calls `on_publish` for
  QoS 0 right after the write). Acks come back in any order; a record is removed only
  once its own ack came, on the connection it was sent on.
- Disconnected: nothing is published (paho would hold it in memory), and the in-flight
  map is forgotten: those records are still in the outbox and are published again once
  the connection is back (at-least-once; counted in `republished`): one reconnect
  duplicates at most one window, and consumers drop copies by `seq`. (paho would re-send
  its own copies too; the sink drops them with `drop_out_messages()` on connect.)
- Threads: paho runs on the event loop (`connectors.mqtt.loop`), so `on_publish` comes
  on the loop's thread: it appends `(connection, mid)` to a list and sets the task's
  event (a callback from any other thread would still be handed over safely). Everything
  else runs in the task (the outbox's blocking calls in a worker thread).

A record that can never be published (it does not parse, paho refuses the topic or the
size) is logged at ERROR, counted in `errors` and removed, so it cannot block the queue.

A broker that takes the messages and acknowledges none (no PUBACK for the oldest in
flight within `ack_timeout_s`) is reported once per connection to `on_stuck`, which
drops the connection: the records are sent again on the next one.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import paho.mqtt.client as paho
from paho.mqtt.enums import MQTTErrorCode

from connectors.common.outage import OutageLog
from connectors.mqtt.acks import AckDeadlines
from connectors.mqtt.direct import DirectLane
from connectors.mqtt.fresh import Fresh
from connectors.mqtt.message import unpack
from connectors.mqtt.stats import MqttStats
from core.interfaces import RecordQueue
from core.records import Entry

__all__ = ["Delivery", "Link"]

log = logging.getLogger(__name__)

# Acknowledged records are removed from the outbox this many at a time, or this long after
# the first of them, whichever comes first (each removal is a worker-thread hop).
ACK_BATCH = 50
ACK_DELAY_S = 0.25
# Not sent now, but worth another try later (not connected; paho's queue or mids full).
_LATER = (MQTTErrorCode.MQTT_ERR_NO_CONN, MQTTErrorCode.MQTT_ERR_QUEUE_SIZE)


@dataclass(slots=True)
class Link:
    """The connection as paho's callbacks report it (written by them only):
    `generation` counts successful connections, so a new value means a new connection."""

    connected: bool = False
    generation: int = 0


class Delivery:
    """Drains one sink's outbox queue through a paho client (see the module docstring).

    `start()` in the event loop, `notify()` after each append, `on_publish` as paho's
    callback, `wake()` from paho's callbacks on (dis)connects; `wait_drained()`, `stop()` and
    a last `settle()` on close. `on_reconnect` runs in the task on every connection after
    the first, before anything is published on it; `on_stuck(in_flight)` when the broker
    acknowledged nothing within `ack_timeout_s`, `on_acked()` when it acknowledges (QoS 1
    and 2) again.
    """

    def __init__(
        self,
        client: paho.Client,
        outbox: RecordQueue,
        sink: str,
        stats: MqttStats,
        stats_lock: threading.Lock,
        link: Link,
        *,
        window: int,
        poll_s: float,
        on_reconnect: Callable[[], Awaitable[None]],
        ack_timeout_s: float = 30.0,
        on_stuck: Callable[[int], None] = lambda inflight: None,
        on_acked: Callable[[], None] = lambda: None,
    ) -> None:
        if window < 1:
            raise ValueError(f"the inflight window must be >= 1, got {window}")
        self._client = client
        self._outbox = outbox
        self._sink = sink
        self._stats = stats
        self._stats_lock = stats_lock
        self._link = link
        self._window = window
        self._poll_s = poll_s
        self._on_reconnect = on_reconnect
        self._on_stuck = on_stuck
        self._on_acked = on_acked
        self._deadlines = AckDeadlines(ack_timeout_s)
        self._gen = 0  # the connection `_inflight` belongs to
        self._inflight: dict[int, int] = {}  # mid -> record id
        self._ready: list[int] = []  # record ids to remove from the outbox
        self._ready_acked = 0  # how many of them the broker acknowledged
        self._acks: list[tuple[int, int, bool]] = []  # (generation, mid, failed), from paho
        self._acks_lock = threading.Lock()
        self._resend: set[int] = set()  # record ids forgotten in flight: sent again later
        self._notified = 0  # appends announced by `notify`
        self._drained = False  # the last look found nothing to send and nothing in flight
        self._stopping = False
        self._wake = asyncio.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._tid = 0  # the loop's thread
        self._task: asyncio.Task[None] | None = None
        self._trouble = OutageLog(log, f"MQTT outbox ({sink})")
        self._fresh = Fresh()  # what the journal committed for this sink (fresh.py)
        self._clock = time.monotonic
        self._ready_since = 0.0  # when `_ready` last went from empty to not
        self._answered = False  # the outbox answered in this round (for the outage log)
        # The sink's direct lane for tags (None: every record through the outbox): told
        # when this task has caught up with the outbox, and which mids paho wrote.
        self.direct: DirectLane | None = None

    # ------------------------------------------------------------------ control

    def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._tid = threading.get_ident()
        self._task = asyncio.create_task(self._run(), name=f"{self._sink}-outbox-drain")

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    @property
    def drained(self) -> bool:
        """True when the last look at the outbox found nothing to send or to wait for."""
        return self._drained

    @property
    def inflight(self) -> int:
        """Records published on this connection and not acknowledged yet."""
        return len(self._inflight)

    def notify(self) -> None:
        """Records were appended (call in the event loop)."""
        self._notified += 1
        self._drained = False
        self._wake.set()

    def wake(self) -> None:
        """Wake the task: at once on the loop's thread, where paho's callbacks run; from
        any other thread through the loop."""
        if threading.get_ident() == self._tid:
            self._wake.set()
            return
        loop = self._loop
        if loop is not None:
            with contextlib.suppress(RuntimeError):  # the loop is closed: nobody to wake
                loop.call_soon_threadsafe(self._wake.set)

    async def wait_drained(self, timeout_s: float, connected: Callable[[], bool]) -> bool:
        """Wait until the outbox is drained; False when `timeout_s` passes first, the
        connection is down (nothing would move) or the task is not running."""
        loop = asyncio.get_running_loop()
        end = loop.time() + timeout_s
        while not self._drained:
            if not connected() or not self.running or loop.time() >= end:
                return False
            await asyncio.sleep(0.01)
        return True

    async def stop(self) -> None:
        """Let the task finish its step and end; records not acknowledged stay queued."""
        self._stopping = True
        self._wake.set()
        if self._task is not None:
            await self._task

    # ------------------------------------------------------------------ paho's callback

    def on_publish(
        self, client: paho.Client, userdata: Any, mid: int, reason: Any, props: Any
    ) -> None:
        """paho (VERSION2): the broker acknowledged `mid` (QoS 0: paho wrote it)."""
        failed = bool(getattr(reason, "is_failure", False))  # only MQTT 5 can refuse
        with self._acks_lock:
            first = not self._acks
            self._acks.append((self._link.generation, mid, failed))
        if first:
            self.wake()

    # ------------------------------------------------------------------ the task

    async def _run(self) -> None:
        while not self._stopping:
            self._wake.clear()
            self._answered = False
            try:
                busy = await self._step()
            except Exception as exc:  # the outbox is closed or failing: try again later
                self._trouble.down(f"{type(exc).__name__}: {exc}; retrying")
                busy = False
            else:
                if self._answered:  # a round from memory alone says nothing of the outbox
                    self._trouble.up()
            if not busy and not self._stopping:
                dues = (self._deadlines.until_due(), self._acks_until_due())
                wait = min([self._poll_s, *(d for d in dues if d is not None)])
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), wait)

    async def _step(self) -> bool:
        """One round: acks, connection changes, then publish what the window allows.
        True when it published something (so the next round should follow at once)."""
        link = self._link
        # Read before settling: acks of a connection are reported before its loss is.
        connected, gen = link.connected, link.generation
        self._collect_acks()
        if not connected:
            self._forget()
            await self.settle()
            return False
        if gen != self._gen:
            self._forget()
            if gen > 1:
                await self._on_reconnect()
            self._gen = gen  # after: if that failed, the next round tries it again
        if self._deadlines.overdue():
            self._on_stuck(len(self._inflight))  # drops the connection: resent on the next
            return False
        notified = self._notified
        mark = self.direct.mark() if self.direct is not None else 0
        if self._fresh.complete:  # what was committed since, from memory (no read)
            # Acknowledged records not yet removed hold their place in the window too, so
            # a crash still sends again at most one window. Removed first: taken records
            # must not be dropped by a failing removal.
            if self._acks_until_due() == 0 or self._unremoved() >= self._window:
                await self.settle()
            free = self._window - self._unremoved()
            if free <= 0:
                return False  # on_publish wakes the task when acks come
            fresh = self._fresh.take(free)
        else:
            free = self._window - len(self._inflight)
            if free <= 0:
                await self.settle()
                return False  # on_publish wakes the task when acks come
            fresh = await self._read(free)
        if not fresh:
            if not self._inflight and not self._ready and notified == self._notified:
                self._drained = True
            self._caught_up(mark)
            return False
        self._drained = False
        sent = 0
        for entry in fresh[:free]:
            if not link.connected or link.generation != gen or not self._send(entry):
                break
            sent += 1
        self._fresh.put_back(fresh[sent:])
        if sent == len(fresh) < free:  # the queue's end, all of it published
            self._caught_up(mark)
        return sent > 0

    async def _read(self, free: int) -> list[Entry]:
        """The next records from the outbox (and the acknowledged ones removed first)."""
        # Records go out in id order, so what is in flight is the newest sent: read only
        # past it (re-reading the window each round cost more than the publishes).
        after = max(self._inflight.values(), default=0)
        generation = self._fresh.generation
        # On failure `_ready` is kept (acknowledged is acknowledged) for the next round.
        ready = list(self._ready)
        fresh = await asyncio.to_thread(self._remove_then_peek, ready, free, after)
        self._answered = True
        if ready:
            self._removed()
        if self._resend and not after:  # forgotten ids older than the oldest record are gone
            oldest = fresh[0].id if fresh else None
            self._resend = {i for i in self._resend if oldest is not None and i >= oldest}
        self._fresh.read(fresh, len(fresh) < free, generation)
        return fresh

    def committed(self, entries: list[Entry]) -> None:
        """The journal stored `entries` for this sink (`Journal.on_committed`)."""
        self._fresh.add(entries)

    def _acks_until_due(self) -> float | None:
        """Seconds until the acknowledged records should be removed (None: there are
        none). Removing costs a worker-thread hop: they are removed in batches, but
        never late (a crash re-sends what was acknowledged and not yet removed)."""
        if not self._ready:
            return None
        if len(self._ready) >= ACK_BATCH:
            return 0.0
        return max(0.0, ACK_DELAY_S - (self._clock() - self._ready_since))

    def _caught_up(self, mark: int) -> None:
        # Everything committed before `mark` is published (or was): tags may go direct.
        if self.direct is not None and self._link.connected:
            self.direct.caught_up(mark)

    def _send(self, entry: Entry) -> bool:
        """Publish one record; False when it should be tried again later."""
        try:
            msg = unpack(entry.data)
        except ValueError as exc:
            self._reject(entry.id, f"cannot be read ({exc})")
            return True
        try:
            info = self._client.publish(msg.topic, msg.payload, msg.qos, msg.retain)
        except (ValueError, TypeError) as exc:
            self._reject(entry.id, f"to {msg.topic!r} is refused by paho ({exc})")
            return True
        rc = info.rc
        if rc is MQTTErrorCode.MQTT_ERR_SUCCESS:
            self._inflight[info.mid] = entry.id
            if msg.qos:  # QoS 0 has no acknowledgement to wait for
                self._deadlines.sent(info.mid)
            with self._stats_lock:
                self._stats.published += 1
            if entry.id in self._resend:
                self._resend.discard(entry.id)
                self._stats.republished += 1
            return True
        if rc in _LATER:
            return False
        if rc is MQTTErrorCode.MQTT_ERR_PAYLOAD_SIZE:
            self._reject(entry.id, f"to {msg.topic!r} is larger than the broker accepts")
            return True
        with self._stats_lock:
            self._stats.errors += 1
        log.warning("MQTT publish to %s failed: %s", msg.topic, paho.error_string(rc))
        return False

    def _reject(self, rid: int, why: str) -> None:
        with self._stats_lock:
            self._stats.errors += 1
        log.error("MQTT outbox record %d %s: dropped", rid, why)
        self._ready_one(rid)

    def _forget(self) -> None:
        """The connection is gone: what was in flight is sent again on the next one."""
        self._deadlines.clear()
        self._fresh.forget()
        if self.direct is not None:
            self.direct.forget()
        if self._inflight:
            self._resend.update(self._inflight.values())
            self._inflight.clear()

    async def settle(self) -> None:
        """Remove from the outbox what the broker acknowledged (and what was rejected).
        Called on close after the task ended (the task does it with its next read)."""
        self._collect_acks()
        if self._ready:
            await asyncio.to_thread(self._outbox.ack, self._sink, list(self._ready))
            self._removed()
            self._answered = True

    def _unremoved(self) -> int:
        """Records sent and still in the outbox: in flight, or acknowledged."""
        return len(self._inflight) + len(self._ready)

    def _ready_one(self, rid: int) -> None:
        if not self._ready:
            self._ready_since = self._clock()
        self._ready.append(rid)

    def _removed(self) -> None:
        self._stats.acked += self._ready_acked
        self._ready, self._ready_acked = [], 0

    def _remove_then_peek(self, ready: list[int], limit: int, after: int) -> list[Entry]:
        """In a worker thread: one hop for both (each hop costs more than the SQL)."""
        if ready:
            self._outbox.ack(self._sink, ready)  # removing twice after a failure is harmless
        return self._outbox.peek(self._sink, limit, after=after)

    def _collect_acks(self) -> None:
        """Move what paho reported acknowledged into `_ready` (no I/O)."""
        with self._acks_lock:
            acks, self._acks = self._acks, []
        heard = False  # the broker acknowledged something (QoS 1, 2)
        for gen, mid, failed in acks:
            if gen != self._gen:
                continue  # a copy paho re-sent from an older connection, or `offline`
            rid = self._inflight.pop(mid, None)
            if rid is None:  # the gateway status or a direct tags record: not in the outbox
                if self.direct is not None:
                    self.direct.written(mid)
                continue
            heard = self._deadlines.done(mid) or heard
            if failed:  # MQTT 5 only: the broker answered, and would answer so again
                with self._stats_lock:
                    self._stats.errors += 1
                log.error("the MQTT broker refused outbox record %d: dropped", rid)
            else:
                self._ready_acked += 1
            self._ready_one(rid)
        if heard:
            self._on_acked()
