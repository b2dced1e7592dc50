"""`Probe`: an MQTT subscriber that measures what a contender delivers.

It counts the tag values that arrive (`…/tags` messages of the gateway and of Node-RED:
`{"ts", "tags": {...}}` or `{"ts", "values": {...}}`), and from each message's `ts` (when
the sample was acquired) and its arrival time it derives:

- latency, sample acquired -> message at the subscriber, for `…/tags` and for the
  gateway's `…/event` (a state change);
- poll jitter: per machine, how far each interval between two samples' `ts` is from
  the poll interval.

Timestamps carry milliseconds (the contracts' RFC 3339), so latencies below 1 ms read
as 0-1 ms. The probe runs in the benchmark's own process, not the contender's.
"""

from __future__ import annotations

import json
import statistics
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

__all__ = ["Probe", "ProbeFigures", "percentile"]


def percentile(values: list[float], p: float) -> float:
    """The `p`-th percentile (nearest rank) of `values`; NaN when empty."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, round(p / 100 * len(ordered) + 0.5) - 1))
    return ordered[rank]


@dataclass
class ProbeFigures:
    """What arrived during one measuring window."""

    seconds: float
    messages: int
    values: int
    tags_latency_ms: list[float] = field(default_factory=list)
    event_latency_ms: list[float] = field(default_factory=list)
    jitter_ms: list[float] = field(default_factory=list)
    machines_seen: int = 0

    @property
    def values_per_s(self) -> float:
        return self.values / self.seconds if self.seconds else 0.0

    def summary(self) -> dict[str, float]:
        """The figures the table shows (ms, values/s)."""
        return {
            "values_per_s": self.values_per_s,
            "messages": self.messages,
            "machines_seen": self.machines_seen,
            "tags_p50_ms": _median(self.tags_latency_ms),
            "tags_p99_ms": percentile(self.tags_latency_ms, 99),
            "events": len(self.event_latency_ms),
            "event_p50_ms": _median(self.event_latency_ms),
            "event_p99_ms": percentile(self.event_latency_ms, 99),
            "event_max_ms": max(self.event_latency_ms, default=float("nan")),
            "jitter_p99_ms": percentile(self.jitter_ms, 99),
            "jitter_max_ms": max(self.jitter_ms, default=float("nan")),
        }


def _median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def _epoch(ts: str) -> float:
    return datetime.fromisoformat(ts.replace("Z", "+00:00")).timestamp()


class Probe:
    """Subscribes to `topic` (e.g. `oee/#`) on the broker; `window()` starts a measuring
    window, `figures()` ends it. `interval_s` is the contenders' poll interval."""

    def __init__(self, host: str, port: int, topic: str, interval_s: float) -> None:
        self.interval_s = interval_s
        self._lock = threading.Lock()
        self._open = False
        self._reset()
        self._client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"bench-probe-{port}")
        self._client.on_message = self._on_message
        self._client.on_connect = lambda c, *_: c.subscribe(topic, qos=0)
        self._client.connect(host, port)
        self._client.loop_start()

    def _reset(self) -> None:
        self._started = time.monotonic()
        self._figures = ProbeFigures(0.0, 0, 0)
        self._last_ts: dict[str, float] = {}

    def window(self) -> None:
        """Start counting from now (what came before is discarded)."""
        with self._lock:
            self._reset()
            self._open = True

    def figures(self) -> ProbeFigures:
        """End the window: what arrived since `window()`."""
        with self._lock:
            self._open = False
            out = self._figures
            out.seconds = time.monotonic() - self._started
            out.machines_seen = len(self._last_ts)
            return out

    def close(self) -> None:
        self._client.loop_stop()
        self._client.disconnect()

    def __enter__(self) -> Probe:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _on_message(self, _c: object, _u: object, msg: mqtt.MQTTMessage) -> None:
        arrived = time.time()
        kind = msg.topic.rpartition("/")[2]
        if kind not in ("tags", "event"):
            return
        try:
            body = json.loads(msg.payload)
            acquired = _epoch(body["ts"])
        except (ValueError, KeyError, TypeError):
            return
        latency_ms = (arrived - acquired) * 1000.0
        with self._lock:
            if not self._open:
                return
            f = self._figures
            f.messages += 1
            if kind == "event":
                f.event_latency_ms.append(latency_ms)
                return
            values = body.get("tags", body.get("values", {}))
            f.values += len(values)
            f.tags_latency_ms.append(latency_ms)
            machine = msg.topic.rpartition("/")[0]
            last = self._last_ts.get(machine)
            if last is not None:
                f.jitter_ms.append(abs(acquired - last - self.interval_s) * 1000.0)
            self._last_ts[machine] = acquired
