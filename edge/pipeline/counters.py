"""A PLC counter's movement between two readings, and whether a machine could have made it.

A counter wraps at `bits`, and a PLC may reset it (a restart, a new order). Which one a
drop is cannot be told from the two values alone; the time between them can: a wrap is
read only when the parts from the old value to the top and on to the new one fit in what
the machine could have made meanwhile (`limit`), i.e. when the old value stood near the
top. Any other drop is a reset, and the new value is what was counted since.

`limit` is the most parts the machine could have made in the elapsed time: its fastest
ideal cycle time, a factor for a machine faster than its ideal, and a floor for the
parts in flight around a read. A movement above it is not counted: the normaliser holds
it as suspect (`core.types.SuspectCount`) until someone decides.

What the values cannot tell: a counter reset while the gateway was down and counted past
its saved value again reads as a small movement (the parts before the reset are lost); a
reset that lands just below the old value near the top of the range reads as a wrap.
A PLC that exposes a restart count or its boot time would tell; a plain counter cannot.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime

from edge.config import MachineConfig

__all__ = ["CounterTracker", "Limit", "complete", "counter_value", "fastest_cycle_s"]


@dataclass(frozen=True, slots=True)
class Limit:
    """The most parts a machine can make in `elapsed_s`: `floor` + `factor` x the parts of
    its fastest ideal cycle (`cycle_s`)."""

    cycle_s: float
    factor: float = 2.0
    floor: int = 10

    def parts(self, elapsed_s: float) -> int:
        return self.floor + math.ceil(self.factor * max(elapsed_s, 0.0) / self.cycle_s)


def counter_value(value: object, bits: int) -> int | None:
    """`value` as a reading of a `bits` wide counter, or None when no such counter can
    read it (negative, past its range, not finite, not a number)."""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            return None
        value = int(value)
    if not isinstance(value, int) or not 0 <= value < 1 << bits:
        return None
    return value


@dataclass
class CounterTracker:
    """The last reading of one counter (`last`, read at `at`) and the movement to the next."""

    bits: int
    last: int | None = None
    at: datetime | None = None

    def update(self, raw: int, at: datetime | None = None, limit: int | None = None) -> int:
        """The parts counted from the last reading to `raw` (read at `at`), never
        negative; 0 for the first. `limit`: the most the machine could have made since
        (None: unknown, then a wrap must be within an eighth of the range)."""
        previous, self.last, self.at = self.last, raw, at
        if previous is None or raw == previous:
            return 0
        if raw > previous:
            return raw - previous
        modulus = 1 << self.bits
        wrapped = raw + modulus - previous
        most = modulus // 8 if limit is None else min(limit, modulus // 8)
        return wrapped if wrapped <= most else raw

    def elapsed_s(self, at: datetime) -> float | None:
        """Seconds since the last reading (None before the first, or when its time is
        unknown: a baseline restored from an older checkpoint)."""
        return None if self.at is None else (at - self.at).total_seconds()


def complete(d: dict[str, int]) -> tuple[int, int, int]:
    """(total, good, reject) from whichever counters are configured and were read: the
    third follows from the other two, so their sums equal the PLC's movements. A counter
    read a poll before the other makes the derived one negative for that delta (a part
    rejected after it was counted: total 0, good -1, reject 1)."""
    total, good, reject = d.get("total"), d.get("good"), d.get("reject")
    if total is None:
        good, reject = good or 0, reject or 0
        return good + reject, good, reject
    if good is None:
        reject = reject or 0
        return total, total - reject, reject
    return total, good, total - good


def fastest_cycle_s(m: MachineConfig) -> float:
    """The machine's shortest ideal cycle time, of any product."""
    return min([m.ideal_cycle_s, *(p.ideal_cycle_s for p in m.products.values())])
