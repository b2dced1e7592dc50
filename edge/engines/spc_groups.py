"""How readings and counts become subgroups (docs/SPC.md "How readings become points"):
the collectors of the SPC engine, one per chart. Pure bookkeeping, time passed in; the
statistics are `oee.spc`'s.

- `Readings` (variables charts): `size` consecutive readings make a subgroup; with
  `every_s`, the first `size` readings after each interval start (the rest of the
  interval is skipped), and an interval that ends short closes a short subgroup (at least
  two readings for x̄ charts; its limits are its own, `oee.spc.limits_at`).
- `Counts` (attributes charts): parts and rejects (p, np) or defects and parts (u) or
  defects per interval (c), closed per `parts` parts or per `every_s` interval.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from oee.spc import Subgroup

__all__ = ["Counts", "Readings", "interval_start"]

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def interval_start(ts: datetime, every_s: float) -> datetime:
    """The start of the `every_s` interval holding `ts` (intervals from the Unix epoch,
    UTC, so every gateway and every restart cuts them alike)."""
    k = math.floor((ts - _EPOCH).total_seconds() / every_s)
    return _EPOCH + timedelta(seconds=k * every_s)


@dataclass
class Readings:
    """Readings of a variables chart, grouped by count or by time."""

    size: int
    every_s: float | None = None
    minimum: int = 1  # the fewest readings a short (interval-closed) subgroup may have
    values: list[float] = field(default_factory=list)
    last_ts: datetime | None = None
    interval: datetime | None = None  # the start of the interval being filled (every_s)

    def add(self, value: float, ts: datetime) -> list[Subgroup]:
        """Take one reading; the subgroups it closed (an interval's short one first)."""
        out = self.due(ts)
        if self.every_s is not None:
            start = interval_start(ts, self.every_s)
            if self.interval != start:
                self.interval, self.values = start, []
            elif len(self.values) >= self.size:
                return out  # this interval's subgroup is complete: the rest is skipped
        self.values.append(value)
        self.last_ts = ts
        if len(self.values) == self.size:
            out.append(Subgroup(ts, tuple(self.values)))
            self.values = [] if self.every_s is None else self.values
        return out

    def due(self, now: datetime) -> list[Subgroup]:
        """A short subgroup whose interval ended before `now` (by time only)."""
        if self.every_s is None or self.interval is None:
            return []
        if now < self.interval + timedelta(seconds=self.every_s):
            return []
        values, self.values, self.interval = self.values, [], None
        if self.minimum <= len(values) < self.size and self.last_ts is not None:
            return [Subgroup(self.last_ts, tuple(values))]
        return []


@dataclass
class Counts:
    """Counts of an attributes chart: `count` (rejects or defects) in `size` (parts, or
    1 inspection unit per interval for c), closed per `parts` parts or `every_s`."""

    kind: str
    parts: int | None = None
    every_s: float | None = None
    count: float = 0
    size: float = 0
    interval: datetime | None = None

    def counted(self, total: int, reject: int, ts: datetime) -> list[Subgroup]:
        """Parts made (`total`) and rejects among them (p, np) at `ts`."""
        out = self.due(ts)
        self._open(ts)
        if self.kind == "u":
            self.size += total
            return out
        if self.kind not in ("p", "np"):
            return out
        if self.parts is None:
            self.size += total
            self.count = max(0.0, self.count + reject)
            return out
        return out + self._by_parts(total, reject, ts)

    def defects(self, quantity: int, ts: datetime) -> list[Subgroup]:
        """Defects booked at `ts` (c, u)."""
        out = self.due(ts)
        self._open(ts)
        self.count += quantity
        return out

    def due(self, now: datetime) -> list[Subgroup]:
        """The interval's subgroup once its interval ended before `now` (by time only);
        an interval without parts makes no p or u point (nothing was inspected)."""
        if self.every_s is None:
            return []
        if self.interval is None:
            self._open(now)
            return []
        end = self.interval + timedelta(seconds=self.every_s)
        if now < end:
            return []
        size = 1.0 if self.kind == "c" else self.size
        group = Subgroup(end, count=self.count, size=size) if size > 0 else None
        self.count, self.size, self.interval = 0, 0, interval_start(now, self.every_s)
        return [group] if group is not None else []

    def _open(self, ts: datetime) -> None:
        if self.every_s is not None and self.interval is None:
            self.interval = interval_start(ts, self.every_s)

    def _by_parts(self, total: int, reject: int, ts: datetime) -> list[Subgroup]:
        """One subgroup per `parts` parts; a delta that crosses the boundary is split, its
        rejects shared in proportion (a poll's delta is a few parts: the error is tiny)."""
        assert self.parts is not None
        out: list[Subgroup] = []
        if total <= 0:  # parts moved between good and reject
            self.count = max(0.0, self.count + reject)
            return out
        left_total, left_reject = total, reject
        while self.size + left_total >= self.parts:
            take = self.parts - self.size
            share = round(left_reject * take / left_total) if left_total else 0
            count = max(0.0, self.count + share)
            out.append(Subgroup(ts, count=count, size=float(self.parts)))
            left_total, left_reject = left_total - int(take), left_reject - share
            self.count, self.size = 0, 0
        self.size += left_total
        self.count = max(0.0, self.count + left_reject)
        return out
