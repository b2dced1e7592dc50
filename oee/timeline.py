"""From a machine's state changes to the intervals of the time model.

A machine's history is a list of transitions (the machine entered `state` at `at`), each
lasting until the next one. The calendar cuts them where a planned stop begins or ends,
so every interval lies either wholly inside planned stop time (`planned=True`) or wholly
outside it. Both the incremental engine (`oee.tracker`) and the analysis of stored
history cut at exactly these instants, which is why they agree to the microsecond.

A stop that a planned stop interrupts (idle before, through and after a break) is two
stops in the figures: the planned stop ends the first.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

from oee.calendar import Calendar
from oee.states import MachineState
from oee.timemodel import StateInterval

__all__ = ["PlanFlips", "Transition", "intervals"]

_HORIZON = timedelta(days=1)


@dataclass(frozen=True, slots=True)
class Transition:
    """The machine entered `state` at `at` (aware), with an optional stop reason;
    `planned`: an operator turned this stop into planned stop time (a meeting)."""

    at: datetime
    state: MachineState
    reason_code: int | None = None
    reason: str | None = None
    planned: bool = False

    def __post_init__(self) -> None:
        if self.at.utcoffset() is None:
            raise ValueError("transition times must be timezone-aware")


Plan = tuple[bool, bool]  # (planned stop time, off plan: no shift planned)
_PRODUCTION: Plan = (False, False)


class PlanFlips:
    """The instants where planned stop time begins or ends, or where no shift planned
    (off plan) begins or ends inside it, walked forward in time.

    Adjacent planned stops of the same plan (a break right before maintenance) do not
    flip. The calendar is asked one day at a time, so walking costs the calendar's size
    per day, not per call.
    """

    def __init__(self, calendar: Calendar | None, start: datetime) -> None:
        self._calendar = calendar
        self._horizon = start
        self._flips: list[tuple[datetime, bool, bool]] = []  # (instant, plan from then on)
        self._head = 0
        self._plan = _PRODUCTION
        self._flipped: tuple[datetime, Plan] | None = None  # the last flip: when, from what
        if calendar is not None:
            stops = calendar.planned_stops(start, start + timedelta(microseconds=1))
            self._plan = _plan_of(stops[0].kind) if stops else _PRODUCTION
            self._extend()

    @property
    def planned(self) -> bool:
        """Whether the last instant walked to (see `until`) lies in planned stop time."""
        return self._plan[0]

    @property
    def off_plan(self) -> bool:
        """Whether the last instant walked to lies outside every shift (`no_shift`)."""
        return self._plan[1]

    def off_plan_before(self, t: datetime) -> bool:
        """Whether the instant just before `t` (the last walked to) lies outside every
        shift: parts counted at `t` were made then, as counts belong to (start, end]."""
        if self._flipped is not None and self._flipped[0] == t:
            return self._flipped[1][1]
        return self._plan[1]

    def until(self, t: datetime) -> Iterator[tuple[datetime, bool, bool]]:
        """The flips `(instant, planned, off_plan)` in (last walked instant, t], in order;
        afterwards `planned` and `off_plan` are those at t."""
        while self._calendar is not None:
            while self._head < len(self._flips) and self._flips[self._head][0] <= t:
                flip = self._flips[self._head]
                self._head += 1
                self._flipped = flip[0], self._plan
                self._plan = flip[1], flip[2]
                yield flip
            if self._horizon > t:
                return
            self._extend()

    def _extend(self) -> None:
        assert self._calendar is not None
        start, end = self._horizon, self._horizon + _HORIZON
        plan = self._flips[-1][1:] if self._flips else self._plan
        del self._flips[: self._head]
        self._head = 0
        cursor = start

        def flip(at: datetime, to: Plan) -> None:
            nonlocal plan
            if to != plan:
                self._flips.append((at, *to))
                plan = to

        for stop in self._calendar.planned_stops(start, end):
            if stop.start > cursor:  # production time before this stop
                flip(cursor, _PRODUCTION)
            flip(stop.start, _plan_of(stop.kind))
            cursor = stop.end
        if cursor < end:
            flip(cursor, _PRODUCTION)
        self._horizon = end


def _plan_of(kind: str) -> Plan:
    return True, kind == "no_shift"


def intervals(
    transitions: Iterable[Transition], end: datetime, calendar: Calendar | None = None
) -> list[StateInterval]:
    """The intervals of `transitions` (in time order; the last lasts until `end`), cut
    where planned stop time of `calendar` begins or ends. Transitions at or after `end`
    are left out; one that repeats the state and reason of the previous is merged into it."""
    ts = [t for t in transitions if t.at < end]
    out: list[StateInterval] = []
    if not ts:
        return out
    flips = PlanFlips(calendar, ts[0].at)
    for cur, nxt in zip(ts, [*ts[1:], None], strict=True):
        if nxt is not None and nxt.at < cur.at:
            raise ValueError(f"transitions out of order: {cur.at} then {nxt.at}")
        stop = nxt.at if nxt is not None else end
        start, plan = cur.at, (flips.planned, flips.off_plan)
        for at, *after in flips.until(stop):
            if at == stop:  # the next transition starts with it
                break
            if at > start:
                out.append(_interval(cur, start, at, plan))
                start = at
            plan = after[0], after[1]
        if stop > start:
            out.append(_interval(cur, start, stop, plan))
    return _merge_repeats(out)


def _interval(t: Transition, start: datetime, end: datetime, plan: Plan) -> StateInterval:
    planned, off_plan = plan  # an operator's planned stop is planned stop time too
    return StateInterval(
        start, end, t.state, t.reason_code, t.reason, planned or t.planned, off_plan
    )


def _merge_repeats(ivs: list[StateInterval]) -> list[StateInterval]:
    out: list[StateInterval] = []
    for iv in ivs:
        last = out[-1] if out else None
        if last is not None and _same(last, iv) and last.end == iv.start:
            out[-1] = StateInterval(
                last.start, iv.end, iv.state, iv.reason_code, iv.reason, iv.planned, iv.off_plan
            )
        else:
            out.append(iv)
    return out


def _same(a: StateInterval, b: StateInterval) -> bool:
    return (a.state, a.reason_code, a.reason, a.planned, a.off_plan) == (
        b.state,
        b.reason_code,
        b.reason,
        b.planned,
        b.off_plan,
    )
