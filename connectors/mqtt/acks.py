"""`AckDeadlines`: when each message in flight was published, to tell a stuck broker
(one that takes messages and acknowledges none) from a slow one. Only messages the broker
acknowledges (QoS 1 and 2) are tracked: paho reports a QoS 0 message "published" once it
wrote it to the socket, which says nothing of the broker."""

from __future__ import annotations

import time
from collections.abc import Callable

__all__ = ["AckDeadlines"]


class AckDeadlines:
    """The publish time of every message in flight on the current connection, oldest first
    (messages go out in order; acknowledgements may come in any order). `overdue()` is
    true once when the oldest has waited `timeout_s`, then not again until `clear()` (the
    connection is dropped and the next one starts afresh). Used by the delivery task only."""

    def __init__(self, timeout_s: float, clock: Callable[[], float] = time.monotonic) -> None:
        if timeout_s <= 0:
            raise ValueError(f"the acknowledgement timeout must be > 0, got {timeout_s}")
        self.timeout_s = timeout_s
        self._clock = clock
        self._sent: dict[int, float] = {}  # mid -> publish time, in publish order
        self._reported = False

    def sent(self, mid: int) -> None:
        self._sent[mid] = self._clock()

    def done(self, mid: int) -> bool:
        """The broker acknowledged `mid`; False if it was not tracked (QoS 0, another
        connection's)."""
        return self._sent.pop(mid, None) is not None

    def clear(self) -> None:
        self._sent.clear()
        self._reported = False

    def overdue(self) -> bool:
        """True (once) when the oldest message in flight waited `timeout_s` for its ack."""
        if self._reported or not self._sent:
            return False
        self._reported = self._clock() - next(iter(self._sent.values())) >= self.timeout_s
        return self._reported

    def until_due(self) -> float | None:
        """Seconds until the oldest message in flight is overdue (None: nothing is due)."""
        if self._reported or not self._sent:
            return None
        oldest = next(iter(self._sent.values()))
        return max(0.0, oldest + self.timeout_s - self._clock())
