"""Plan versus actual over any period [start, end): a shift, a plant day, a week (issue 19,
"Plan versus actual").

Definitions (docs/OEE.md, "Orders, plan and changeovers: the figures"):

- **planned window** of an order: from `planned_start` to `planned_start` + quantity ×
  `ideal_cycle_s` of planned production time of the calendar (breaks and no-shift time
  skipped); without an ideal cycle time, to `due`. An order without `planned_start` has
  no window: it is in nobody's plan for a period (it still counts for delivery).
- **planned quantity** of a period: each order's quantity spread over its planned window
  in proportion to the planned production time of the window that falls in the period
  (a window without production time puts it all where the window starts).
- **produced**: good parts counted in the period, start < ts <= end, as everywhere in
  `oee`; **attainment** = produced / planned (None when nothing was planned): the
  "schedule attainment" / plan attainment of APICS, and ISO 22400-2's produced quantity
  against the order quantity.
- **schedule adherence**, after Ford's Build to Schedule (volume x mix x sequence;
  Ford Production System, "Guidebook for Effective Measurables: Build to Schedule",
  v2.0, 1999), per order rather than per model:
  - `volume_mix` = Σ min(planned_i, produced_i) / Σ planned_i over the orders planned in
    the period: parts beyond an order's plan, or of an unplanned order, earn nothing;
  - `sequence` = the share of the orders planned to start in the period (and started)
    that started in the planned order: the longest run of them whose actual starts keep
    the planned order, over their number (one order pulled forward costs one order);
  - `in_window` = the share of the orders whose planned window ends in the period (by
    `now`) that started no earlier than planned and completed by the window's end,
    each with `tolerance`.
- **on-time delivery** (SCOR "delivery performance to commit date": orders delivered
  complete and on time / orders delivered; by quantity, the volume measure of delivery
  reliability, CLIP): an order counts in the period holding the instant its outcome was
  decided, by `now`: its completion when complete by due (on time), else its due (late).
  So each order counts once, and an order still open past due is late at once.
  `otd_count` = on-time orders / orders; `otd_quantity` = Σ min(good by due, quantity) /
  Σ quantity. None without orders.

Complete: the good count reaches the quantity; it is complete at that count's instant.
Pure: `now` is an argument (default: the period's end).
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from oee.calendar import Calendar
from oee.orders import OrderRun, WorkOrder
from oee.prodtime import Span, advance, aware, production_seconds

__all__ = [
    "OrderPlan", "PlanActual", "completed_at", "plan_actual", "planned_quantity",
    "planned_window",
]  # fmt: skip

Counts = Sequence[tuple[datetime, int]]  # (ts, good parts counted then) of one order


@dataclass(frozen=True, slots=True)
class OrderPlan:
    """One order in a period: its planned and produced good quantity there."""

    order: str
    planned: float
    produced: int


@dataclass(frozen=True, slots=True)
class PlanActual:
    """Plan versus actual of [start, end) at `at` (module docs define each figure)."""

    start: datetime
    end: datetime
    at: datetime
    planned: float
    produced: int
    attainment: float | None
    volume_mix: float | None
    sequence: float | None
    sequence_orders: int
    in_window: float | None
    window_orders: int
    otd_count: float | None
    otd_quantity: float | None
    delivered_orders: int
    on_time_orders: int
    delivered_quantity: int
    on_time_quantity: int
    orders: tuple[OrderPlan, ...]


def planned_window(order: WorkOrder, calendar: Calendar) -> Span | None:
    """[planned_start, planned end) of `order` (module docs), None without planned_start."""
    begin = order.planned_start
    if begin is None:
        return None
    end = None
    if order.ideal_cycle_s is not None:
        end = advance(calendar, begin, order.quantity * order.ideal_cycle_s)
    return begin, max(begin, end if end is not None else order.due)


def planned_quantity(order: WorkOrder, calendar: Calendar, start: datetime, end: datetime) -> float:
    """The part of `order`'s quantity planned in [start, end) (module docs)."""
    window = planned_window(order, calendar)
    if window is None:
        return 0.0
    a, b = window
    total = production_seconds(calendar, a, b)
    if total <= 0:
        return float(order.quantity) if start <= a < end else 0.0
    inside = production_seconds(calendar, max(a, start), min(b, end))
    return order.quantity * inside / total


def completed_at(order: WorkOrder, counts: Counts) -> datetime | None:
    """The instant the good count of `order` reached its quantity, None before."""
    good = 0
    for ts, n in sorted(counts):
        good += n
        if good >= order.quantity:
            return ts
    return None


def _good(counts: Counts, after: datetime | None, until: datetime) -> int:
    return sum(n for ts, n in counts if (after is None or after < ts) and ts <= until)


def _in_sequence(starts: Sequence[datetime]) -> int:
    """The length of the longest non-decreasing subsequence (patience sorting)."""
    tails: list[datetime] = []
    for s in starts:
        i = bisect_right(tails, s)
        tails[i : i + 1] = [s]
    return len(tails)


def _ratio(num: float, den: float) -> float | None:
    return num / den if den > 0 else None


def plan_actual(
    orders: Sequence[WorkOrder],
    runs: Mapping[str, OrderRun],
    counts: Mapping[str, Counts],
    start: datetime,
    end: datetime,
    *,
    calendar: Calendar,
    now: datetime | None = None,
    tolerance: timedelta = timedelta(0),
) -> PlanActual:
    """Plan versus actual of `orders` over [start, end) as known at `now` (default `end`).

    `runs`: each order's run by id (missing: not started); `counts`: each order's good
    parts as (ts, n) increments. See the module docs for every figure.
    """
    start, end = aware("start", start), aware("end", end)
    if end < start:
        raise ValueError(f"period ends ({end.isoformat()}) before it starts ({start.isoformat()})")
    at = aware("now", now) if now is not None else end
    rows = tuple(
        OrderPlan(
            o.id,
            planned_quantity(o, calendar, start, end),
            _good(counts.get(o.id, ()), start, min(end, at)),
        )
        for o in orders
    )
    planned = sum(r.planned for r in rows)
    produced = sum(r.produced for r in rows)
    seq, n_seq = _sequence(orders, runs, start, end, at)
    win, n_win = _windows(orders, runs, counts, calendar, start, min(end, at), tolerance)
    otd = _delivery(orders, counts, start, min(end, at))
    return PlanActual(
        start=start, end=end, at=at, planned=planned, produced=produced,
        attainment=_ratio(produced, planned),
        volume_mix=_ratio(sum(min(r.planned, r.produced) for r in rows), planned),
        sequence=_ratio(seq, n_seq), sequence_orders=n_seq,
        in_window=_ratio(win, n_win), window_orders=n_win,
        otd_count=_ratio(otd[1], otd[0]), otd_quantity=_ratio(otd[3], otd[2]),
        delivered_orders=otd[0], on_time_orders=otd[1], delivered_quantity=otd[2],
        on_time_quantity=otd[3], orders=rows,
    )  # fmt: skip


def _started(runs: Mapping[str, OrderRun], order: WorkOrder, at: datetime) -> datetime | None:
    run = runs.get(order.id)
    s = run.started if run is not None else None
    return s if s is not None and s <= at else None


def _sequence(
    orders: Sequence[WorkOrder],
    runs: Mapping[str, OrderRun],
    start: datetime,
    end: datetime,
    at: datetime,
) -> tuple[int, int]:
    """(orders started in the planned order, orders planned to start here and started)."""
    planned = sorted(
        (o.planned_start, o.id, s)
        for o in orders
        if o.planned_start is not None
        and start <= o.planned_start < end
        and (s := _started(runs, o, at)) is not None
    )
    return _in_sequence([s for _, _, s in planned]), len(planned)


def _windows(
    orders: Sequence[WorkOrder],
    runs: Mapping[str, OrderRun],
    counts: Mapping[str, Counts],
    calendar: Calendar,
    start: datetime,
    until: datetime,
    tolerance: timedelta,
) -> tuple[int, int]:
    """(orders run within their window, orders whose window ends in (start, until])."""
    kept = total = 0
    for o in orders:
        window = planned_window(o, calendar)
        if window is None or not start < window[1] <= until:
            continue
        total += 1
        began = _started(runs, o, until)
        done = completed_at(o, counts.get(o.id, ()))
        if began is not None and began >= window[0] - tolerance:
            kept += done is not None and done <= window[1] + tolerance
    return kept, total


def _delivery(
    orders: Sequence[WorkOrder], counts: Mapping[str, Counts], start: datetime, until: datetime
) -> tuple[int, int, int, int]:
    """(orders decided in (start, until], of them on time, their quantity, on time)."""
    n = on_time = quantity = on_time_quantity = 0
    for o in orders:
        done = completed_at(o, counts.get(o.id, ()))
        decided = done if done is not None and done <= o.due else o.due
        if not start < decided <= until:
            continue
        n += 1
        on_time += decided == done
        quantity += o.quantity
        on_time_quantity += min(o.quantity, _good(counts.get(o.id, ()), None, o.due))
    return n, on_time, quantity, on_time_quantity
