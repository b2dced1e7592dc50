"""`BrokerHealth`: the MQTT broker's outages as the log, /ready and /metrics see them.

Two kinds of outage. *Unreachable*: the broker cannot be connected to, refuses the
connection or loses it; the next CONNACK ends it. *Stuck*: the broker takes the connection
and the messages but acknowledges none of them (no PUBACK within the sink's
`ack_timeout_s`); it accepts every new connection just as well, so only an
acknowledgement ends it. Whatever happens during an outage (a stuck broker that then goes
away, comes back, is replaced) belongs to that outage: it is logged once at ERROR, the
rest at DEBUG, and its end once at INFO.

Called from paho's callbacks and the connect task (connections) and from the delivery
task (a stuck broker, acknowledgements), all on the event loop's thread now that paho
runs there (`connectors.mqtt.loop`); the lock is kept for a caller on another thread.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Literal

__all__ = ["BrokerHealth"]

Outage = Literal["unreachable", "stuck"]


class BrokerHealth:
    """The outage state of the broker at `addr` ("host:port"), logged on `log`."""

    def __init__(
        self, log: logging.Logger, addr: str, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._log, self._addr, self._clock = log, addr, clock
        self._lock = threading.Lock()
        self._outage: Outage | None = None
        self._since = 0.0  # clock time the outage was first seen
        self._problem: str | None = None

    @property
    def stuck(self) -> bool:
        """True from a missed acknowledgement until the next one."""
        return self._outage == "stuck"

    @property
    def problem(self) -> str | None:
        """Why the sink does not deliver although it may be connected (for /ready)."""
        return self._problem

    def unreachable(self, what: str) -> None:
        """The connection failed, was refused or was lost (`what`)."""
        with self._lock:
            if self._outage is None:
                self._begin("unreachable")
                self._log.error("MQTT broker %s: %s; retrying in the background", self._addr, what)
            else:
                self._log.debug("MQTT broker %s still unreachable: %s", self._addr, what)

    def connected(self) -> None:
        """A CONNACK: ends an unreachable outage, not a stuck one."""
        with self._lock:
            if self._outage is None:
                self._log.info("MQTT connected to %s", self._addr)
            elif self._outage == "unreachable":
                down = self._clock() - self._since
                self._log.info("MQTT broker %s is back after %.1f s", self._addr, down)
                self._outage = None
            else:
                self._log.debug("MQTT broker %s: connected again, no PUBACK yet", self._addr)

    def stuck_now(self, timeout_s: float, inflight: int) -> None:
        """No acknowledgement within `timeout_s` with `inflight` messages waiting."""
        with self._lock:
            self._problem = f"broker {self._addr} is stuck: no PUBACK within {timeout_s:g} s"
            if self._outage is None:
                self._log.error(
                    "MQTT broker %s is stuck: no PUBACK within %g s (%d messages in flight); "
                    "reconnecting until it acknowledges again",
                    self._addr, timeout_s, inflight,
                )  # fmt: skip
                self._begin("stuck")
                return
            self._outage = "stuck"  # whatever outage was open, it is this one now
            self._log.debug("MQTT broker %s still stuck (%d in flight)", self._addr, inflight)

    def acknowledged(self) -> None:
        """The broker acknowledged messages: ends a stuck outage."""
        if self._outage != "stuck":  # the usual case, without the lock
            return
        with self._lock:
            if self._outage == "stuck":
                down = self._clock() - self._since
                self._log.info(
                    "MQTT broker %s acknowledges again after %.1f s: recovered", self._addr, down
                )
                self._outage, self._problem = None, None

    def _begin(self, outage: Outage) -> None:
        self._outage, self._since = outage, self._clock()
