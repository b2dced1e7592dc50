"""Changeovers between products (or orders) and their figures per product pair (issue 19,
"Changeovers").

Definitions (docs/OEE.md, "Orders, plan and changeovers: the figures"):

- a **changeover** lies between the last part of one product (or order) and the first
  part of the next: it **starts** at the first instant, from that last part on, that the
  machine is not running (setup, idle, fault, ...), and **ends** when it is back to
  running: at the end of the last such stop before the first part of the next. Its
  **duration** is end − start less planned stop time in it (a break in the middle of a
  setup is not changeover time): the machine's own planned stops and, given a
  `calendar`, the plant's breaks, no-shift time and planned periods, each instant once.
  Its **reason** is that of its first setup stop that has one, else of its first stop
  that has one. No stop between the two parts: duration 0.
- **at rate again** (SMED's "run-up" to full speed, Shingo): the first instant T, from
  the end on (the end, then each count of the new product), such that the good parts
  counted in (T, T + `ramp_window_s`] reach `ramp_fraction` of the ideal rate, i.e.
  ≥ ramp_fraction × ramp_window_s / ideal cycle time; the window must end by `until`
  (the data's horizon) and by the new product's last part. **parts_to_rate**: its parts
  (good and reject) counted up to T. None when not (yet) reached or without an ideal.
- per product pair: **count**, **median**, **p90** by linear interpolation between the
  closest ranks (Hyndman & Fan type 7, numpy's default `linear` method: the p-quantile
  of sorted x_0..x_{n-1} is x_k + f (x_{k+1} − x_k) with k + f = p (n − 1)), the
  **trend** as the least-squares slope of duration against start time in seconds per
  week (None below 3 changeovers), the **standard** when one is configured and the
  **loss** against it: Σ max(0, duration − standard).

Pure: `until` is an argument.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import accumulate

from oee.calendar import Calendar
from oee.prodtime import aware
from oee.states import MachineState
from oee.timemodel import StateInterval

__all__ = ["Changeover", "CountPoint", "PairStats", "changeovers", "pair_stats", "quantile"]

_WEEK_S = 7 * 24 * 3600.0
_ZERO = timedelta(0)


@dataclass(frozen=True, slots=True)
class CountPoint:
    """`good` and `reject` parts of `product` (of `order`, if known) counted at `at`."""

    at: datetime
    good: int
    product: str
    reject: int = 0
    order: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "at", aware("at", self.at))

    @property
    def key(self) -> tuple[str, str | None]:
        return self.product, self.order


@dataclass(frozen=True, slots=True)
class Changeover:
    """One changeover on `machine` (module docs define each field)."""

    machine: str
    from_product: str
    to_product: str
    from_order: str | None
    to_order: str | None
    start: datetime
    end: datetime
    duration_s: float
    at_rate: datetime | None
    parts_to_rate: int | None
    reason: str | None

    def __post_init__(self) -> None:
        object.__setattr__(self, "start", aware("start", self.start))
        object.__setattr__(self, "end", aware("end", self.end))
        if self.end < self.start:
            raise ValueError(
                f"changeover ends ({self.end.isoformat()}) before it starts "
                f"({self.start.isoformat()})"
            )


@dataclass(frozen=True, slots=True)
class PairStats:
    """The changeovers from one product to another: seconds, trend in seconds per week."""

    from_product: str
    to_product: str
    count: int
    median_s: float
    p90_s: float
    trend_s_per_week: float | None
    standard_s: float | None
    loss_s: float | None


def _stops(intervals: Sequence[StateInterval], a: datetime, b: datetime) -> list[StateInterval]:
    """The non-running intervals overlapping [a, b), by start."""
    found = [
        i
        for i in intervals
        if i.effective is not MachineState.RUNNING and i.start < b and i.end > a and i.end > i.start
    ]
    return sorted(found, key=lambda i: i.start)


def _planned(
    stops: Sequence[StateInterval], a: datetime, b: datetime, calendar: Calendar | None
) -> timedelta:
    """Planned time in [a, b): the reported planned stops and the calendar's, merged so
    that an instant both name counts once."""
    spans = [(i.start, i.end) for i in stops if i.effective is MachineState.PLANNED_STOP]
    if calendar is not None and a < b:
        spans += [(p.start, p.end) for p in calendar.planned_stops(a, b)]
    total, reached = _ZERO, a
    for s, e in sorted(spans):
        s, e = max(s, reached), min(e, b)
        if s < e:
            total += e - s
            reached = e
    return total


def _reason(stops: Sequence[StateInterval]) -> str | None:
    setup = (i.reason for i in stops if i.state is MachineState.SETUP and i.reason)
    return next(setup, None) or next((i.reason for i in stops if i.reason), None)


def _ramp(
    segment: Sequence[CountPoint], end: datetime, limit: datetime, need: float, window: timedelta
) -> tuple[datetime | None, int | None]:
    """(T, parts up to T) for the first T at which the window holds `need` good parts."""
    times = [p.at for p in segment]
    good = [0, *accumulate(p.good for p in segment)]
    total = [0, *accumulate(p.good + p.reject for p in segment)]
    for t in [end, *(ts for ts in times if ts > end)]:
        if t + window > limit:
            break
        lo, hi = bisect_right(times, t), bisect_right(times, t + window)
        if good[hi] - good[lo] >= need:
            return t, total[lo]
    return None, None


def changeovers(
    machine: str,
    intervals: Sequence[StateInterval],
    counts: Sequence[CountPoint],
    *,
    until: datetime,
    ideal_s: Mapping[str, float],
    ramp_fraction: float = 0.9,
    ramp_window_s: float = 300.0,
    calendar: Calendar | None = None,
) -> list[Changeover]:
    """The changeovers of `machine` from its state intervals and counts (module docs).
    `ideal_s`: each product's ideal cycle time; `until`: the data's horizon; `calendar`:
    the plant's, whose planned stops are not changeover time either."""
    if not 0 < ramp_fraction <= 1:
        raise ValueError(f"ramp_fraction must be in (0, 1], got {ramp_fraction!r}")
    if not ramp_window_s > 0:
        raise ValueError(f"ramp_window_s must be > 0, got {ramp_window_s!r}")
    until = aware("until", until)
    parts = sorted((p for p in counts if p.good + p.reject > 0), key=lambda p: p.at)
    window = timedelta(seconds=ramp_window_s)
    # Each run of parts of one (product, order): where one ends and the next begins.
    cuts = [i for i in range(1, len(parts)) if parts[i].key != parts[i - 1].key]
    out: list[Changeover] = []
    for n, i in enumerate(cuts):
        last, first = parts[i - 1], parts[i]
        stops = _stops(intervals, last.at, first.at)
        start = min((max(s.start, last.at) for s in stops), default=last.at)
        end = max((min(s.end, first.at) for s in stops), default=start)
        stop = cuts[n + 1] if n + 1 < len(cuts) else len(parts)
        segment = parts[i:stop]
        ideal = ideal_s.get(first.product)
        at_rate, to_rate = None, None
        if ideal is not None and ideal > 0:
            need = ramp_fraction * ramp_window_s / ideal
            limit = min(until, segment[-1].at)
            at_rate, to_rate = _ramp(segment, end, limit, need, window)
        duration = (end - start) - _planned(stops, start, end, calendar)
        out.append(
            Changeover(
                machine,
                last.product,
                first.product,
                last.order,
                first.order,
                start,
                end,
                duration.total_seconds(),
                at_rate,
                to_rate,
                _reason(stops),
            )  # fmt: skip
        )
    return out


def quantile(values: Sequence[float], p: float) -> float:
    """The p-quantile by linear interpolation (Hyndman & Fan type 7, numpy's default)."""
    xs = sorted(values)
    if not xs:
        raise ValueError("quantile of no values")
    h = (len(xs) - 1) * p
    k = math.floor(h)
    return xs[k] if k + 1 >= len(xs) else xs[k] + (h - k) * (xs[k + 1] - xs[k])


def _slope(points: Sequence[tuple[float, float]]) -> float | None:
    """Least-squares slope of y on x; None below 3 points or with one x."""
    if len(points) < 3:
        return None
    mx = sum(x for x, _ in points) / len(points)
    my = sum(y for _, y in points) / len(points)
    sxx = sum((x - mx) ** 2 for x, _ in points)
    if sxx == 0:
        return None
    return sum((x - mx) * (y - my) for x, y in points) / sxx


def pair_stats(
    items: Sequence[Changeover], standards: Mapping[tuple[str, str], float] | None = None
) -> list[PairStats]:
    """Per (from, to) product pair, sorted: count, median, p90, trend, loss (module docs).
    `standards`: the standard changeover time of a pair, in seconds, where configured."""
    groups: dict[tuple[str, str], list[Changeover]] = defaultdict(list)
    for c in items:
        groups[(c.from_product, c.to_product)].append(c)
    out = []
    for pair, group in sorted(groups.items()):
        ds = [c.duration_s for c in group]
        first = min(c.start for c in group)
        trend = _slope([((c.start - first).total_seconds() / _WEEK_S, c.duration_s) for c in group])
        standard = (standards or {}).get(pair)
        loss = None if standard is None else sum(max(0.0, d - standard) for d in ds)
        out.append(
            PairStats(*pair, len(ds), quantile(ds, 0.5), quantile(ds, 0.9), trend, standard, loss)
        )
    return out
