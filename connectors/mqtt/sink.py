"""`MqttSink`: publishes the gateway's events on MQTT with paho-mqtt 2.x.

paho runs its network loop in its own thread (`loop_start`); `handle` only hands messages
to paho, so it never waits on the broker. A broker that is down (at start or later) is
not an error: paho keeps retrying with exponential backoff and queues QoS>0 messages in
memory until it is back; QoS 0 messages (raw tags) published during an outage are dropped.

The in-memory queue is unbounded (`max_queued_messages_set(0)`) and dies with the
process: a durable on-disk outbox replaces it in a later issue.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import ssl
import time
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from types import TracebackType
from typing import Any, Self

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion, MQTTErrorCode

from connectors.mqtt.payloads import (
    OFFLINE,
    ONLINE,
    LineTopics,
    MachineTopics,
    count_payload,
    event_payload,
    gateway_status_topic,
    line_oee_payload,
    oee_payload,
    reason_payload,
    state_payload,
    tags_payload,
)
from edge.config import MqttConfig, TlsConfig
from edge.types import (
    CountDelta,
    Event,
    LineOeeUpdate,
    MachineRef,
    OeeUpdate,
    ReasonAssigned,
    SampleBatch,
    StateChange,
)

__all__ = ["MqttSink", "MqttStats"]

log = logging.getLogger(__name__)

_QUEUED = (MQTTErrorCode.MQTT_ERR_SUCCESS, MQTTErrorCode.MQTT_ERR_NO_CONN)


@dataclass(slots=True)
class MqttStats:
    """Counters of one sink (read by /metrics). Updated from two threads; each field is
    written by one side only, so no lock is needed."""

    published: int = 0  # messages handed to paho (sent, or queued while disconnected)
    dropped: int = 0  # QoS 0 messages lost because the broker was unreachable
    errors: int = 0  # publishes paho refused (e.g. payload too large)
    connects: int = 0  # successful (re)connections
    disconnects: int = 0  # connections lost
    unknown_machine: int = 0  # events for a machine the sink was not told about
    unknown_line: int = 0  # line updates for a line none of its machines is on


def tls_context(tls: TlsConfig) -> ssl.SSLContext:
    """An SSL context from the config: CA file (else the system store), optional client
    certificate, and `insecure_skip_verify` turning off both chain and hostname checks."""
    ctx = ssl.create_default_context(cafile=str(tls.ca_file) if tls.ca_file else None)
    if tls.cert_file:
        ctx.load_cert_chain(str(tls.cert_file), str(tls.key_file) if tls.key_file else None)
    if tls.insecure_skip_verify:
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    return ctx


def _ms(ts: datetime) -> datetime:
    return ts.replace(microsecond=ts.microsecond // 1000 * 1000)


def _same_ms(a: datetime, b: datetime) -> bool:
    """True when `a` and `b` fall in the same millisecond: a stop time read back from the
    SQLite store has ms, the state change that the sink saw may have µs."""
    return _ms(a) == _ms(b)


class MqttSink:
    """Publishes state/event/count/oee/reason (and optionally raw tags) per the MQTT
    contract, and each line's OEE (`…/{line}/_line/oee/{window}`, retained).

    `async with MqttSink(cfg, "gw1", "plant", machines) as sink: await sink.handle(events)`.
    Entering starts the connection in the background and returns at once; `connected`
    tells whether the broker is reachable now. `publish_tags` names the machines whose raw
    `SampleBatch`es go to `…/tags` (QoS 0); other batches are ignored. A ReasonAssigned
    goes to `…/reason`; when it names the machine's current stop (the last StateChange
    this sink saw), the retained `…/state` is re-published with the new reason.
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
        reconnect_min_s: float = 1.0,
        reconnect_max_s: float = 30.0,
        shutdown_timeout_s: float = 5.0,
    ) -> None:
        self.config = config
        self.stats = MqttStats()
        self.status_topic = gateway_status_topic(config.prefix, site, gateway_id)
        self._topics = {mid: MachineTopics(config.prefix, ref) for mid, ref in machines.items()}
        self._lines: dict[tuple[str, str], LineTopics] = {
            (ref.area, ref.line): LineTopics(config.prefix, ref.site, ref.area, ref.line)
            for ref in machines.values()
        }
        self._publish_tags = frozenset(publish_tags)
        self._qos = config.qos
        self._shutdown_timeout_s = shutdown_timeout_s
        self._connected = False
        self._closing = False
        self._outage_since: float | None = None  # monotonic time the outage was first seen
        self._last: paho.MQTTMessageInfo | None = None
        self._current: dict[str, StateChange] = {}  # the last state change per machine
        self._client = self._make_client(gateway_id, reconnect_min_s, reconnect_max_s)

    # ------------------------------------------------------------------ setup

    def _make_client(self, gateway_id: str, rmin: float, rmax: float) -> paho.Client:
        cfg = self.config
        client = paho.Client(
            callback_api_version=CallbackAPIVersion.VERSION2,
            client_id=cfg.client_id or f"oee-edge-{gateway_id}",
        )
        client.on_connect = self._on_connect
        client.on_connect_fail = self._on_connect_fail
        client.on_disconnect = self._on_disconnect
        # Unlimited in-memory queue while disconnected (see module docstring).
        client.max_queued_messages_set(0)
        # paho types these as int but sleeps on them: sub-second delays work.
        client.reconnect_delay_set(rmin, rmax)  # type: ignore[arg-type]
        client.will_set(self.status_topic, OFFLINE, qos=1, retain=True)
        if cfg.username is not None:
            password = cfg.password.get_secret_value() if cfg.password else None
            client.username_pw_set(cfg.username, password)
        if cfg.tls is not None and cfg.tls.enabled:
            client.tls_set_context(tls_context(cfg.tls))
        return client

    async def __aenter__(self) -> Self:
        # connect_async + loop_start: the first connect happens in paho's thread, and its
        # loop retries a failed first connection too, so a broker down at start is fine.
        self._client.connect_async(self.config.host, self.config.port, self.config.keepalive_s)
        self._client.loop_start()
        return self

    async def __aexit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    async def close(self) -> None:
        """Publish `offline` (retained), wait (bounded) for in-flight messages, disconnect."""
        client = self._client
        self._closing = True
        if self._connected:
            self._publish(self.status_topic, OFFLINE, 1, True)
            last = self._last
            if last is not None:
                # QoS 1 acks come back in order on one connection, so the last message
                # (`offline`) being acknowledged means everything before it was too.
                with contextlib.suppress(RuntimeError, ValueError):
                    await asyncio.to_thread(last.wait_for_publish, self._shutdown_timeout_s)
        client.disconnect()
        await asyncio.to_thread(client.loop_stop)

    @property
    def connected(self) -> bool:
        """True while the broker connection is up (CONNACK received, not lost since)."""
        return self._connected

    # ------------------------------------------------------------------ paho callbacks

    def _on_connect(
        self, client: paho.Client, userdata: Any, flags: Any, reason: Any, props: Any
    ) -> None:
        if reason.is_failure:
            self._note_outage(f"connection refused: {reason}")
            return
        self._connected = True
        self.stats.connects += 1
        if self._outage_since is not None:
            down = time.monotonic() - self._outage_since
            log.info("MQTT broker %s:%s is back after %.1f s", *self._addr(), down)
            self._outage_since = None
        else:
            log.info("MQTT connected to %s:%s", *self._addr())
        # Called before paho flushes what it queued during the outage: `online` goes first.
        # A `handle` racing with that flush (other thread) can overtake a few queued
        # messages; consumers see it by `seq`. The durable outbox will serialise this.
        self._publish(self.status_topic, ONLINE, 1, True)

    def _on_connect_fail(self, client: paho.Client, userdata: Any) -> None:
        self._note_outage("cannot connect")

    def _on_disconnect(
        self, client: paho.Client, userdata: Any, flags: Any, reason: Any, props: Any
    ) -> None:
        if self._connected:
            self.stats.disconnects += 1
        self._connected = False
        if not self._closing:  # our own disconnect() is not an outage
            self._note_outage(f"connection lost: {reason}")

    def _note_outage(self, what: str) -> None:
        """ERROR once per outage, then quiet (DEBUG) until the broker is back."""
        if self._outage_since is None:
            self._outage_since = time.monotonic()
            log.error("MQTT broker %s:%s: %s; retrying in the background", *self._addr(), what)
        else:
            log.debug("MQTT broker %s:%s still unreachable: %s", *self._addr(), what)

    def _addr(self) -> tuple[str, int]:
        return self.config.host, self.config.port

    # ------------------------------------------------------------------ publishing

    def _publish(self, topic: str, payload: bytes, qos: int, retain: bool) -> None:
        info = self._client.publish(topic, payload, qos, retain)
        if info.rc in _QUEUED and (qos > 0 or info.rc is MQTTErrorCode.MQTT_ERR_SUCCESS):
            self.stats.published += 1
            if qos > 0:
                self._last = info
        elif info.rc is MQTTErrorCode.MQTT_ERR_NO_CONN:
            self.stats.dropped += 1
        else:
            self.stats.errors += 1
            log.warning("MQTT publish to %s failed: %s", topic, paho.error_string(info.rc))

    async def handle(self, events: Sequence[Event]) -> None:
        """Publish `events` in order; returns without waiting for the broker."""
        topics = self._topics
        qos = self._qos
        pub = self._publish
        for ev in events:
            if isinstance(ev, LineOeeUpdate):
                self._line_oee(ev)
                continue
            t = topics.get(ev.machine)
            if t is None:
                self.stats.unknown_machine += 1
                continue
            if isinstance(ev, StateChange):
                self._current[ev.machine] = ev
                pub(t.state, state_payload(t, ev), qos, True)
                pub(t.event, event_payload(t, ev), qos, False)
            elif isinstance(ev, CountDelta):
                pub(t.count, count_payload(t, ev), qos, False)
            elif isinstance(ev, OeeUpdate):
                pub(t.oee(ev.window), oee_payload(t, ev), qos, True)
            elif isinstance(ev, ReasonAssigned):
                self._reason(t, ev)
            elif isinstance(ev, SampleBatch) and ev.machine in self._publish_tags:
                pub(t.tags, tags_payload(t, ev), 0, False)

    def _line_oee(self, ev: LineOeeUpdate) -> None:
        """Retained `…/{line}/_line/oee/{window}` of a line (and area) of the machines."""
        t = self._lines.get((ev.area, ev.line))
        if t is None:
            self.stats.unknown_line += 1
            return
        self._publish(t.oee(ev.window), line_oee_payload(t, ev), self._qos, True)

    def _reason(self, t: MachineTopics, ev: ReasonAssigned) -> None:
        """`…/reason`, then the retained `…/state` again if the stop is the current state."""
        self._publish(t.reason, reason_payload(t, ev), self._qos, False)
        current = self._current.get(ev.machine)
        if current is None or not _same_ms(current.ts, ev.stop_ts):
            return
        now = dataclasses.replace(current, reason_code=ev.reason_code, reason=ev.reason)
        self._current[ev.machine] = now
        self._publish(t.state, state_payload(t, now), self._qos, True)
