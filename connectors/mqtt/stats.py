"""The MQTT sink's counters (read by /metrics), shared by the sink, its encoder and its
delivery."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["MqttStats"]


@dataclass(slots=True)
class MqttStats:
    """Counters of one sink (read by /metrics). Updated on the event loop's thread (paho's
    callbacks run there too, `connectors.mqtt.loop`); `published` and `errors` under the
    sink's lock, from when paho had a thread of its own."""

    published: int = 0  # messages paho took while connected (records, re-sends, status)
    direct: int = 0  # of them, tags records published outside the outbox (direct lane)
    acked: int = 0  # outbox records the broker acknowledged (QoS 0: paho wrote them)
    republished: int = 0  # records sent again because the connection was lost before the ack
    restated: int = 0  # retained `…/state` messages queued again after a reconnect
    errors: int = 0  # publishes that failed, records that could never be published
    connects: int = 0  # successful (re)connections
    disconnects: int = 0  # connections lost
    ack_timeouts: int = 0  # connections dropped: the broker acknowledged nothing in time
    unknown_machine: int = 0  # events for a machine the sink was not told about
    unknown_line: int = 0  # line updates for a line none of its machines is on
    unknown_chart: int = 0  # SPC events of a chart whose id cannot be a topic level
