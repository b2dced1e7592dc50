"""`MqttSink`: publishes the gateway's events on MQTT with paho-mqtt 2.x, through the
durable outbox (`edge.outbox`, issue 5).

`handle` encodes each event into outbox records (one MQTT message each, packed by
`connectors.mqtt.message`) and commits them before it returns; it never publishes. A
background task (`connectors.mqtt.delivery`) publishes the oldest records while the
broker is connected and removes each only once the broker acknowledged it, so a broker
that is down (at start or later), a restart of the broker or a crash of the gateway loses
nothing: what was not acknowledged is published again (at-least-once; consumers drop
copies by `seq`).

paho runs on the event loop, without a thread of its own (`connectors.mqtt.loop`): its
socket is read and written from the loop, so its callbacks run there too; a task connects
while the connection is down, after the delays of our jittered exponential backoff
(`connectors.common.backoff`). The session is persistent (MQTT 3.1.1, clean session
off, a stable client id), so the broker keeps it across reconnects; with QoS 2 it is
clean (see `connectors.mqtt.client.make_client`). After a reconnect the retained
`…/state` of every machine goes out again (through the outbox), for a broker that lost
its retained messages. The gateway status (`online`, last will `offline`) is published
directly on each connect, not through the outbox.

A broker that takes the connection and the messages but acknowledges none within
`ack_timeout_s` is stuck: the sink drops the connection and makes it again until the
broker acknowledges, and says so in `problem` (/ready) and `stats.ack_timeouts`. The
outages are logged by `connectors.mqtt.health.BrokerHealth`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import Collection, Mapping, Sequence
from types import TracebackType
from typing import Any, Self

import paho.mqtt.client as paho
from paho.mqtt.enums import MQTTErrorCode

from connectors.common.backoff import Backoff
from connectors.common.spcdoc import SpcChartInfo
from connectors.mqtt.client import drop_connection, make_client
from connectors.mqtt.config import MqttConfig
from connectors.mqtt.delivery import Delivery, Link
from connectors.mqtt.direct import DirectLane
from connectors.mqtt.encoder import Encoder
from connectors.mqtt.health import BrokerHealth
from connectors.mqtt.loop import LoopDriver
from connectors.mqtt.payloads import OFFLINE, ONLINE, gateway_status_topic
from connectors.mqtt.stats import MqttStats
from core.interfaces import TransactionJournal
from core.records import Priority, Transaction
from core.types import (
    Event,
    MachineRef,
    StateChange,
)

__all__ = ["MqttSink", "MqttStats"]

log = logging.getLogger(__name__)


class MqttSink:
    """Publishes state/event/count/oee/reason (and optionally raw tags) per the MQTT
    contract, and each line's OEE (`…/{line}/_line/oee/{window}`, retained), through the
    durable outbox of `journal` (its queue is this sink's `name`, "mqtt").

    `async with MqttSink(cfg, "gw1", "plant", machines, journal=Journal(box)) as sink:
    await sink.handle(events)`. Entering starts the connection and the delivery task in
    the background and returns at once; `connected` tells whether the broker is reachable
    now. `publish_tags` names the machines whose raw `SampleBatch`es go to `…/tags` (QoS
    0); other batches are ignored. A ReasonAssigned goes to `…/reason`; when it names the
    machine's current stop (the last StateChange this sink saw), the retained `…/state` is
    re-published with the new reason. `spc_charts` (chart id -> its configuration) gives
    the SPC chart states their name, unit, tag and spec (`connectors.mqtt.spc`).

    `tags_direct`: raw tags (QoS 0) go to paho at once while that reorders and loses
    nothing the outbox would keep (`connectors.mqtt.direct`).
    `inflight` bounds the records published and not yet acknowledged (paho's default
    max_inflight, 20); `poll_s` is how often the delivery task looks at the outbox when
    nothing woke it; `ack_timeout_s` (default: the config's) how long the oldest of them
    may wait for its acknowledgement before the broker counts as stuck. Closing drains
    the outbox for at most `shutdown_timeout_s` while connected; what is left stays in
    the outbox for the next start.
    """

    name = "mqtt"

    def __init__(
        self,
        config: MqttConfig,
        gateway_id: str,
        site: str,
        machines: dict[str, MachineRef],
        publish_tags: Collection[str] = (),
        *,
        journal: TransactionJournal,
        reconnect_min_s: float = 1.0,
        reconnect_max_s: float = 30.0,
        backoff: Backoff | None = None,
        shutdown_timeout_s: float = 5.0,
        inflight: int = 20,
        poll_s: float = 0.5,
        ack_timeout_s: float | None = None,
        tags_direct: bool = False,
        spc_charts: Mapping[str, SpcChartInfo] | None = None,
    ) -> None:
        self.config = config
        self.stats = MqttStats()
        self.status_topic = gateway_status_topic(config.prefix, site, gateway_id)
        self._encoder = Encoder(self.name, config, machines, publish_tags, self.stats, spc_charts)
        self._outbox = outbox = journal.outbox
        self._journal = journal
        self._shutdown_timeout_s = shutdown_timeout_s
        self._link = Link()
        self._closing = False
        self._closed = False
        self._health = BrokerHealth(log, f"{config.host}:{config.port}")
        self._ack_timeout_s = ack_timeout_s or config.ack_timeout_s
        # The last staged state change per machine. The journal commits transactions in
        # the order they were staged, so a re-published state never overtakes a newer one.
        self._states: dict[str, StateChange] = {}
        self._stats_lock = threading.Lock()
        self.client_id = config.client_id or f"oee-edge-{gateway_id}"
        self.persistent_session = config.qos < 2  # see make_client
        self.session_present = False  # what the broker said at the last connect
        self._backoff = backoff or Backoff(reconnect_min_s, reconnect_max_s)
        self._client = client = make_client(
            config, self.client_id, self.persistent_session, self.status_topic
        )
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        self._driver = LoopDriver(
            client, config.host, config.port, config.keepalive_s, self._backoff,
            self._health.unreachable, name=self.name,
        )  # fmt: skip
        self._delivery = Delivery(
            self._client, outbox, self.name, self.stats, self._stats_lock, self._link,
            window=inflight, poll_s=poll_s, on_reconnect=self._restate,
            ack_timeout_s=self._ack_timeout_s, on_stuck=self._on_stuck,
            on_acked=self._health.acknowledged,
        )  # fmt: skip
        self._client.on_publish = self._delivery.on_publish
        journal.on_committed(self.name, self._delivery.committed)
        self._direct = DirectLane(client, self._link, self.stats, self._stats_lock)
        self._delivery.direct = self._direct if tags_direct else None

    # ------------------------------------------------------------------ setup

    async def __aenter__(self) -> Self:
        # The SPC charts' limits as the last run left them (`connectors.mqtt.spc`).
        self._encoder.spc.restore(await asyncio.to_thread(self._outbox.read_meta))
        self._delivery.start()
        self._driver.start()  # connects in the background: a broker down at start is fine
        return self

    async def __aexit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    async def close(self) -> None:
        """Drain the outbox while connected (at most `shutdown_timeout_s`), stop the
        delivery task, publish `offline` (retained), disconnect. Records not acknowledged
        by then stay in the outbox for the next start."""
        if self._closed:
            return
        self._closed = True
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._shutdown_timeout_s
        if self._delivery.running:
            await self._delivery.wait_drained(self._shutdown_timeout_s, lambda: self.connected)
            await self._delivery.stop()
        self._closing = True
        await self._driver.stop_reconnecting()
        if self.connected:
            info = self._publish_status(OFFLINE)
            with contextlib.suppress(RuntimeError, ValueError):  # the connection went
                while info is not None and not info.is_published() and self.connected:
                    if loop.time() >= deadline:
                        break
                    await asyncio.sleep(0.005)
        # paho writes `offline` before the DISCONNECT even when the wait was cut short.
        await self._driver.disconnect(max(0.0, deadline - loop.time()))
        try:  # acks that came in after the task ended
            await self._delivery.settle()
        except Exception as exc:
            log.warning("MQTT outbox: acknowledged records stay queued (%s)", exc)

    @property
    def connected(self) -> bool:
        """True while the broker connection is up (CONNACK received, not lost since)."""
        return self._link.connected

    @property
    def tags_direct(self) -> bool:
        """True while raw tags go to the broker at once, outside the outbox
        (`connectors.mqtt.direct`): connected, and none wait in the outbox."""
        return self._delivery.direct is not None and self._direct.open

    @property
    def stuck(self) -> bool:
        """True while the broker acknowledges nothing (from a timeout until an ack)."""
        return self._health.stuck

    @property
    def problem(self) -> str | None:
        """Why the sink does not deliver though it may be connected (for /ready)."""
        return self._health.problem

    # ------------------------------------------------------------------ paho callbacks

    def _on_connect(
        self, client: paho.Client, userdata: Any, flags: Any, reason: Any, props: Any
    ) -> None:
        if reason.is_failure:  # paho closes the socket next; the driver tries again
            self._health.unreachable(f"connection refused: {reason}")
            return
        self.stats.connects += 1
        self._backoff.reset()
        self.session_present = bool(getattr(flags, "session_present", False))
        self._health.connected()
        # paho would re-send (DUP) what it had in flight on the lost connection; the outbox
        # still holds those records and the delivery task sends them again, so paho's
        # copies would only be duplicates (and an old `online` would follow this one).
        stale = client.drop_out_messages()
        if stale:
            log.debug("MQTT: %d unacknowledged messages left to the outbox", len(stale))
        # `online` first: the delivery task publishes only once `connected` is set below.
        self._publish_status(ONLINE)
        self._link.generation += 1
        self._link.connected = True
        self._delivery.wake()

    def _on_disconnect(
        self, client: paho.Client, userdata: Any, flags: Any, reason: Any, props: Any
    ) -> None:
        if self._link.connected:
            self.stats.disconnects += 1
        self._link.connected = False
        self._delivery.wake()
        if not self._closing:  # our own disconnect() is not an outage
            self._health.unreachable(f"connection lost: {reason}")

    def _on_stuck(self, inflight: int) -> None:
        """No acknowledgement in time (the delivery task): say so, and drop the connection
        (the driver connects again after our backoff's delay, as after any lost one)."""
        self.stats.ack_timeouts += 1
        self._health.stuck_now(self._ack_timeout_s, inflight)
        drop_connection(self._client)

    def _publish_status(self, payload: bytes) -> paho.MQTTMessageInfo | None:
        """The gateway status, retained, QoS 1, straight to paho (not through the outbox)."""
        info = self._client.publish(self.status_topic, payload, 1, True)
        if info.rc is MQTTErrorCode.MQTT_ERR_SUCCESS:
            with self._stats_lock:
                self.stats.published += 1
            return info
        with self._stats_lock:
            self.stats.errors += 1
        log.warning("MQTT status %s not published: %s", payload, paho.error_string(info.rc))
        return None

    # ------------------------------------------------------------------ encoding

    async def handle(self, events: Sequence[Event]) -> None:
        """Encode `events` into outbox records and commit them; returns without waiting
        for the broker (the delivery task publishes them)."""
        async with self._journal.transaction() as tx:
            self.stage(events, tx)

    def stage(self, events: Sequence[Event], tx: Transaction) -> None:
        """Encode `events` into records of `tx` (the gateway commits them with the rest)."""
        current: dict[str, StateChange] = {}
        direct = self._direct.publish if self._delivery.direct is not None else None
        records = self._encoder.encode(events, self._states, current, self._journal.stream, direct)
        self._states.update(current)
        if self._encoder.spc.meta:  # a chart's new limits, committed with its records
            tx.set_meta(self._encoder.spc.meta)
            self._encoder.spc.meta = {}
        if records:
            tx.add(records)
            tx.after_commit(self._delivery.notify)
            tags = sum(r.priority is Priority.TAGS for r in records)
            if tags:  # the lane stays shut until the delivery has sent these
                self._direct.staged(tags)
                tx.after_commit(lambda: self._direct.committed(tags))

    async def _restate(self) -> None:
        """After a reconnect: every machine's retained `…/state` again, through the outbox
        (the broker may have restarted without its retained store)."""
        async with self._journal.transaction() as tx:
            records = self._encoder.states(self._states.values())
            tx.add(records)
            self.stats.restated += len(records)
