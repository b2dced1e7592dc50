"""The direct lane: raw tag values (QoS 0) handed to paho at once, outside the outbox,
while that loses and reorders nothing the outbox would have kept.

At 500 machines the `…/tags` messages are 80 % of what the MQTT sink sends, and each cost
an outbox insert, a read back and a delete across two worker-thread hops (issue 17's
profile). For QoS 0 the outbox only ever bought one thing: records kept on disk while
the broker cannot take them (QoS 0 has no acknowledgement; a record counts as delivered
once paho wrote it). So a tags record goes direct only when

- the broker is connected (otherwise it is committed to the outbox, as before), and
- no tags record waits in the outbox: every one staged there has been committed and
  the delivery has since read the queue to its end and published what it found (so a
  direct one cannot overtake an older one on `…/tags`), and
- paho has written the earlier direct ones, but for at most `max_unwritten` (a slow
  socket pushes back into the outbox instead of paho's unbounded memory queue).

At start the outbox may hold tags of the previous run: the lane opens once the delivery
has caught up the first time. A record paho refuses (not connected after all, its queue
full) goes to the outbox like any other.
"""

from __future__ import annotations

import threading
from typing import Protocol

import paho.mqtt.client as paho
from paho.mqtt.enums import MQTTErrorCode

from connectors.mqtt.message import Message
from connectors.mqtt.stats import MqttStats

__all__ = ["DirectLane"]


class _Link(Protocol):
    """The connection as paho reports it (`connectors.mqtt.delivery.Link`)."""

    connected: bool


class DirectLane:
    """See the module docstring. Runs in the event loop; `written` from the delivery task."""

    def __init__(
        self,
        client: paho.Client,
        link: _Link,
        stats: MqttStats,
        stats_lock: threading.Lock,
        *,
        max_unwritten: int = 1000,
    ) -> None:
        self._client = client
        self._link = link
        self._stats = stats
        self._stats_lock = stats_lock
        self.max_unwritten = max_unwritten
        # Tags records staged into the outbox / committed there, and the committed count
        # the delivery had read past when it last caught up. Start: "one unknown" waits.
        self._staged = 1
        self._committed = 1
        self._caught_up = 0
        self._unwritten: set[int] = set()  # mids paho has not written yet

    @property
    def open(self) -> bool:
        """A tags record may be published now, outside the outbox."""
        return (
            self._link.connected
            and self._caught_up == self._staged
            and len(self._unwritten) < self.max_unwritten
        )

    def publish(self, msg: Message) -> bool:
        """Publish `msg` (QoS 0) now if the lane is open; False: stage it in the outbox."""
        if not self.open:
            return False
        info = self._client.publish(msg.topic, msg.payload, 0, msg.retain)
        if info.rc is not MQTTErrorCode.MQTT_ERR_SUCCESS:
            return False
        self._unwritten.add(info.mid)
        with self._stats_lock:
            self._stats.published += 1
            self._stats.direct += 1
        return True

    def staged(self, n: int) -> None:
        """`n` tags records went into the outbox instead (closes the lane until the
        delivery has published them)."""
        self._staged += n

    def committed(self, n: int) -> None:
        """`n` staged tags records were committed (after the outbox transaction)."""
        self._committed += n

    def mark(self) -> int:
        """Before the delivery reads the outbox: what is committed by now."""
        return self._committed

    def caught_up(self, mark: int) -> None:
        """The delivery read the outbox to its end after `mark` and published all of it."""
        self._caught_up = mark

    def written(self, mid: int) -> bool:
        """paho wrote `mid` (its on_publish): True if it was one of the lane's."""
        if mid in self._unwritten:
            self._unwritten.discard(mid)
            return True
        return False

    def forget(self) -> None:
        """The connection is gone: what paho had not written is lost with it (QoS 0)."""
        self._unwritten.clear()
