"""Work orders and the progress of one order (issue 19, "Progress").

Definitions (docs/OEE.md, "Orders, plan and changeovers: the figures"):

- **remaining** = max(0, quantity − good); **percent** = 100 × min(good, quantity) /
  quantity. Only good parts count towards an order (ISO 22400-2: the order quantity is
  the planned quantity of a production order, the good quantity what fulfils it).
- **done**: the run has ended (closed by the operator or the tag), or its good count
  reached the quantity: it is done at that instant (`OrderRun.completed` when known:
  the quantity was there then, whenever the order was closed; else `OrderRun.ended`,
  else `now`).
  **complete**: good ≥ quantity; **on_time**: complete and done at or before `due` (SCOR
  "delivery performance to commit date": an order must be complete to be on time).
- **production_s**: planned production time of the calendar from the start to the end
  (or `now`), less the pauses: a pause (a span between two runs) is not production time.
- **expected completions**: from `now` (the planned start if later and not started),
  `remaining / rate` seconds of planned production time further on, skipping breaks,
  no-shift time and planned periods (`oee.prodtime.advance`); `eta_now` at the current
  rate, `eta_shift` at the shift's rate (rates as defined in `oee.prodtime`, good parts
  per second of planned production time), `eta_ideal` at the ideal cycle time. None, not
  infinity, when the rate is zero or unknown (or the date lies beyond a year). An open
  pause: the expected completions assume it resumes now, the earliest it can.
- **status** of an order not done: `late` when `now` ≥ due or the expected completion
  (at the current rate, else the shift's) is after due; `at_risk` when it is within
  `at_risk_margin` before due, or no expected completion is known while the order is
  started; `not_started` before its start; else `on_track`.

Datetimes are aware; a naive one is a ValueError naming the field. Pure: `now` is an
argument.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from oee.calendar import Calendar
from oee.prodtime import Span, advance, aware, production_seconds

__all__ = ["OrderRun", "Progress", "Status", "WorkOrder", "progress"]

Status = Literal["done", "on_track", "at_risk", "late", "not_started"]


def _text(name: str, value: object) -> None:
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{name} must be a non-empty string, got {value!r}")


def _count(name: str, value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"{name} must be a whole number >= 0, got {value!r}")


@dataclass(frozen=True, slots=True)
class WorkOrder:
    """An order: make `quantity` good parts of `product` on `machine` (a machine or line
    id) by `due`; optionally planned to start at `planned_start`, each part ideally taking
    `ideal_cycle_s`, for `customer`. Datetimes are stored in UTC."""

    id: str
    product: str
    quantity: int
    due: datetime
    machine: str
    planned_start: datetime | None = None
    ideal_cycle_s: float | None = None
    customer: str | None = None

    def __post_init__(self) -> None:
        _text("id", self.id)
        _text("product", self.product)
        _text("machine", self.machine)
        q = self.quantity
        if isinstance(q, bool) or not isinstance(q, int) or q <= 0:
            raise ValueError(f"quantity must be a whole number > 0, got {q!r}")
        object.__setattr__(self, "due", aware("due", self.due))
        if self.planned_start is not None:
            start = aware("planned_start", self.planned_start)
            object.__setattr__(self, "planned_start", start)
        c = self.ideal_cycle_s
        if c is not None and not (isinstance(c, int | float) and math.isfinite(c) and c > 0):
            raise ValueError(f"ideal_cycle_s must be a finite number > 0, got {c!r}")
        if self.customer is not None:
            _text("customer", self.customer)


@dataclass(frozen=True, slots=True)
class OrderRun:
    """What happened to an order: `started` (None: not yet), `ended` (None: open),
    good, reject and scrap parts so far, `paused` spans [start, end) between runs
    (end None: paused now), and `completed`, the instant the good count reached the
    quantity (None: not yet, or not known). Datetimes are stored in UTC."""

    started: datetime | None = None
    ended: datetime | None = None
    good: int = 0
    reject: int = 0
    scrap: int = 0
    paused: tuple[tuple[datetime, datetime | None], ...] = ()
    completed: datetime | None = None

    def __post_init__(self) -> None:
        for name in ("good", "reject", "scrap"):
            _count(name, getattr(self, name))
        if self.started is not None:
            object.__setattr__(self, "started", aware("started", self.started))
        if self.ended is not None:
            ended = aware("ended", self.ended)
            if self.started is None:
                raise ValueError("ended is set but started is not")
            if ended < self.started:
                raise ValueError(
                    f"ended ({ended.isoformat()}) before started ({self.started.isoformat()})"
                )
            object.__setattr__(self, "ended", ended)
        object.__setattr__(self, "paused", self._pauses())
        if self.completed is not None:
            object.__setattr__(self, "completed", aware("completed", self.completed))

    def _pauses(self) -> tuple[tuple[datetime, datetime | None], ...]:
        out: list[tuple[datetime, datetime | None]] = []
        for i, (a, b) in enumerate(self.paused):
            a = aware(f"paused[{i}] start", a)
            b = None if b is None else aware(f"paused[{i}] end", b)
            if b is not None and b < a:
                raise ValueError(f"paused[{i}] ends ({b.isoformat()}) before it starts")
            if b is None and i != len(self.paused) - 1:
                raise ValueError(f"paused[{i}] is open (no end) but is not the last pause")
            out.append((a, b))
        return tuple(out)

    def pauses_until(self, t: datetime) -> list[Span]:
        """The pauses as closed spans, an open one running up to `t`."""
        return [(a, b if b is not None else max(a, t)) for a, b in self.paused]


@dataclass(frozen=True, slots=True)
class Progress:
    """The progress of one order at `at` (module docs define each figure). Rates are good
    parts per second of planned production time."""

    order: str
    at: datetime
    good: int
    reject: int
    scrap: int
    remaining: int
    percent: float
    production_s: float
    rate_now: float | None
    rate_shift: float | None
    eta_now: datetime | None
    eta_shift: datetime | None
    eta_ideal: datetime | None
    status: Status
    finished: datetime | None
    complete: bool
    on_time: bool | None


def _eta(
    calendar: Calendar, start: datetime, remaining: int, rate: float | None, pauses: list[Span]
) -> datetime | None:
    if rate is None or not math.isfinite(rate) or rate <= 0:
        return None  # a zero or unknown rate gives no date, never an invented one
    return advance(calendar, start, remaining / rate, pauses)


def _finished(run: OrderRun, complete: bool, now: datetime) -> datetime | None:
    """When the order was done: its quantity made (if known), else closed, else now if
    its quantity is there; None while neither."""
    if complete and run.completed is not None:
        return run.completed
    if run.ended is not None:
        return run.ended
    return now if complete else None


def _status(
    order: WorkOrder, run: OrderRun, now: datetime, eta: datetime | None, margin: timedelta
) -> Status:
    if now >= order.due or (eta is not None and eta > order.due):
        return "late"
    if run.started is None or run.started > now:
        return "not_started"
    if eta is None or eta > order.due - margin:
        return "at_risk"
    return "on_track"


def progress(
    order: WorkOrder,
    run: OrderRun,
    now: datetime,
    *,
    calendar: Calendar,
    rate_now: float | None,
    rate_shift: float | None,
    at_risk_margin: timedelta = timedelta(0),
) -> Progress:
    """The progress of `order` at `now` given what happened (`run`) and the two rates
    (good parts per second of planned production time, `oee.prodtime.current_rate` and
    `shift_rate`; None when unknown). See the module docs for every figure."""
    now = aware("now", now)
    remaining = max(0, order.quantity - run.good)
    complete = remaining == 0
    finished = _finished(run, complete, now)
    pauses = run.pauses_until(now)
    end = finished if finished is not None else now
    production_s = (
        production_seconds(calendar, run.started, end, pauses)
        if run.started is not None and run.started < end
        else 0.0
    )
    etas: tuple[datetime | None, ...] = (None, None, None)
    status: Status = "done"
    if finished is None:
        planned = order.planned_start
        begin = max(now, planned) if run.started is None and planned is not None else now
        ideal = 1 / order.ideal_cycle_s if order.ideal_cycle_s else None
        etas = tuple(
            _eta(calendar, begin, remaining, r, pauses) for r in (rate_now, rate_shift, ideal)
        )
        status = _status(order, run, now, etas[0] or etas[1], at_risk_margin)
    return Progress(
        order=order.id, at=now, good=run.good, reject=run.reject, scrap=run.scrap,
        remaining=remaining, percent=100.0 * min(run.good, order.quantity) / order.quantity,
        production_s=production_s, rate_now=rate_now, rate_shift=rate_shift,
        eta_now=etas[0], eta_shift=etas[1], eta_ideal=etas[2], status=status,
        finished=finished, complete=complete,
        on_time=None if finished is None else complete and finished <= order.due,
    )  # fmt: skip
