"""Output against target within one shift occurrence: parts, the target, the rate, and
whether the shift will reach its target at that rate (issue 16, part 3).

Definitions (docs/OEE.md "Targets and rate"):
- **planned time** of a span: its length minus the calendar's planned stops in it
  (breaks, planned periods); what the target is spread over, so a break never counts
  against the shift.
- **target** for the whole shift, in parts: configured per shift name (`per_shift`), else
  the shift's planned time over the target cycle of the parts made so far. A product's
  target cycle is `3600 / per_hour` when a rate is configured for it, else its ideal
  cycle time. With several products the cycle is that of the mix made so far:
  sum(cycle x parts) / parts; before the first part, the current product's. None when
  some product made has no cycle (no ideal, no configured rate).
- **due**: the target pro rata over the planned time elapsed (target x elapsed / planned).
- **rate**: good parts per hour over the last `rate_window_s` (15 min) of planned time,
  reaching back over breaks, clipped at the shift's start; **average**: good parts per
  planned hour elapsed.
- **expected**: good parts now + rate x the planned time that remains;
  **on_track**: expected >= target.

Counts belong to the shift when start < ts <= end, as everywhere in `oee`. Pure: the
present time is an argument.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from oee.calendar import Calendar, ShiftInstance

__all__ = [
    "Made", "Output", "TargetSource", "combine_outputs", "output", "planned_spans",
    "rate_start", "target_cycle_s",
]  # fmt: skip

TargetSource = Literal["per_shift", "per_hour", "ideal"]
RATE_WINDOW_S = 900.0
_ZERO = timedelta(0)


@dataclass(frozen=True, slots=True)
class Made:
    """Parts one product made in the shift so far (`product` None: no product known)."""

    product: str | None
    good: int
    reject: int

    @property
    def total(self) -> int:
        return self.good + self.reject


@dataclass(frozen=True, slots=True)
class Output:
    """A machine's (or line's) output in a shift at `at`; see the module for each figure.
    Seconds are planned time; rates are good parts per hour."""

    at: datetime
    good: int
    reject: int
    total: int
    target: float | None
    target_source: TargetSource | None
    due: float | None
    planned_s: float
    elapsed_s: float
    remaining_s: float
    rate_per_h: float | None
    rate_window_s: float
    average_per_h: float | None
    expected: float | None
    on_track: bool | None


def planned_spans(
    calendar: Calendar, start: datetime, end: datetime
) -> list[tuple[datetime, datetime]]:
    """The production pieces of [start, end): the range minus the calendar's planned stops."""
    spans: list[tuple[datetime, datetime]] = []
    at = start
    for stop in calendar.planned_stops(start, end):
        if stop.start > at:
            spans.append((at, stop.start))
        at = max(at, stop.end)
    if at < end:
        spans.append((at, end))
    return spans


def _seconds(spans: Iterable[tuple[datetime, datetime]]) -> float:
    return sum(((b - a) for a, b in spans), _ZERO).total_seconds()


def rate_start(spans: Sequence[tuple[datetime, datetime]], window_s: float) -> datetime | None:
    """The instant from which `spans` (sorted, up to now) hold the last `window_s` of
    planned time; their first start if they hold less; None without spans."""
    need = timedelta(seconds=window_s)
    for a, b in reversed(spans):
        if b - a >= need:
            return b - need
        need -= b - a
    return spans[0][0] if spans else None


def target_cycle_s(
    product: str | None, ideal_s: Mapping[str | None, float | None], per_hour: Mapping[str, float]
) -> float | None:
    """A product's target cycle: 3600 / its configured parts per hour, else its ideal."""
    if product is not None and product in per_hour:
        return 3600.0 / per_hour[product]
    return ideal_s.get(product)


def _target(
    shift: ShiftInstance,
    planned_s: float,
    made: Sequence[Made],
    cycles: Mapping[str | None, float | None],
    per_shift: Mapping[str, float],
    configured: bool,
) -> tuple[float | None, TargetSource | None]:
    if shift.name in per_shift:
        return float(per_shift[shift.name]), "per_shift"
    parts = [(m.total, cycles.get(m.product)) for m in made if m.total > 0]
    if any(c is None for _, c in parts) or not parts:
        return None, None
    ideal_s = sum(n * c for n, c in parts if c is not None)
    count = sum(n for n, _ in parts)
    return planned_s * count / ideal_s, "per_hour" if configured else "ideal"


def output(
    shift: ShiftInstance,
    calendar: Calendar,
    now: datetime,
    made: Sequence[Made],
    recent: Sequence[tuple[datetime, int]],
    *,
    ideal_s: Mapping[str | None, float | None],
    current: str | None = None,
    per_hour: Mapping[str, float] | None = None,
    per_shift: Mapping[str, float] | None = None,
    rate_window_s: float = RATE_WINDOW_S,
) -> Output:
    """The output of one machine in `shift` at `now` (clipped to the shift).

    `made`: parts per product in the shift so far; `recent`: (ts, good parts) of the
    shift's counts, at least those of the rate window; `ideal_s`: each product's ideal
    cycle time; `current`: the product being made (its cycle sets the target before the
    first part); `per_hour` / `per_shift`: configured targets (module docs).
    """
    per_hour, per_shift = per_hour or {}, per_shift or {}
    at = min(max(now, shift.start), shift.end)
    done, left = planned_spans(calendar, shift.start, at), planned_spans(calendar, at, shift.end)
    elapsed_s, remaining_s = _seconds(done), _seconds(left)
    planned_s = elapsed_s + remaining_s
    products = {m.product for m in made} | {current}
    cycles = {p: target_cycle_s(p, ideal_s, per_hour) for p in products}
    mix = list(made) if any(m.total > 0 for m in made) else [Made(current, 1, 0)]
    configured = any(p in per_hour for p in products if p is not None)
    target, source = _target(shift, planned_s, mix, cycles, per_shift, configured)
    good = sum(m.good for m in made)
    reject = sum(m.reject for m in made)
    since = rate_start(done, rate_window_s)
    window_s = _seconds(planned_spans(calendar, since, at)) if since is not None else 0.0
    in_window = sum(n for ts, n in recent if since is not None and since < ts <= at)
    rate = in_window * 3600.0 / window_s if window_s > 0 else None
    expected = good + rate * remaining_s / 3600.0 if rate is not None else None
    return Output(
        at=at, good=good, reject=reject, total=good + reject, target=target,
        target_source=source,
        due=target * elapsed_s / planned_s if target is not None and planned_s > 0 else None,
        planned_s=planned_s, elapsed_s=elapsed_s, remaining_s=remaining_s,
        rate_per_h=rate, rate_window_s=window_s,
        average_per_h=good * 3600.0 / elapsed_s if elapsed_s > 0 else None,
        expected=expected,
        on_track=expected >= target if expected is not None and target is not None else None,
    )  # fmt: skip


def combine_outputs(
    outputs: Sequence[Output], per_shift_target: float | None = None
) -> Output | None:
    """A line's output: the sums of its machines' (a target, due, rate or expected total
    is None if any machine's is); `per_shift_target` (the line's configured one) replaces
    the summed target and its due. None without outputs."""
    if not outputs:
        return None
    first = outputs[0]

    def total(values: Iterable[float | None]) -> float | None:
        vs = list(values)
        return None if any(v is None for v in vs) else sum(v for v in vs if v is not None)

    target = total(o.target for o in outputs)
    due = total(o.due for o in outputs)
    source = first.target_source if len({o.target_source for o in outputs}) == 1 else None
    if per_shift_target is not None:
        target, source = per_shift_target, "per_shift"
        due = target * first.elapsed_s / first.planned_s if first.planned_s > 0 else None
    good, reject = sum(o.good for o in outputs), sum(o.reject for o in outputs)
    expected = total(o.expected for o in outputs)
    elapsed = first.elapsed_s
    return Output(
        at=max(o.at for o in outputs), good=good, reject=reject, total=good + reject,
        target=target, target_source=source if target is not None else None, due=due,
        planned_s=first.planned_s, elapsed_s=elapsed, remaining_s=first.remaining_s,
        rate_per_h=total(o.rate_per_h for o in outputs), rate_window_s=first.rate_window_s,
        average_per_h=good * 3600.0 / elapsed if elapsed > 0 else None, expected=expected,
        on_track=expected >= target if expected is not None and target is not None else None,
    )  # fmt: skip
