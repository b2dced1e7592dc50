"""Rolling (sliding) OEE window over state changes and counts.

Time model (ISO 22400-2, DESIGN.md "OEE"), for a window W ending at `now`:
- unknown time: `offline`, and any time before the first known state;
- planned production time PPT = W - planned_stop - unknown (unknown is downtime instead
  when `offline_is_unknown` is false);
- run time RT = time in `running`, plus stops between two runs shorter than
  `micro_stop_s` (they are small-stop performance losses, not availability losses);
- A = RT / PPT, P = sum(ideal cycle x count) / RT, Q = good / total, OEE = A x P x Q.

A ratio whose denominator is zero is None, never NaN. P above 1 is reported as it is.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from datetime import datetime, timedelta

from oee.states import MachineState

_STOPS = frozenset({MachineState.IDLE, MachineState.SETUP, MachineState.FAULT})


@dataclass(frozen=True, slots=True)
class OeeFigures:
    """A, P, Q and OEE of one window with the times and counts they come from."""

    start: datetime
    end: datetime
    window_s: float
    run_s: float
    planned_s: float
    unknown_s: float
    micro_stop_s: float
    state_s: dict[str, float]
    total: int
    good: int
    reject: int
    ideal_s: float
    availability: float | None
    performance: float | None
    quality: float | None
    oee: float | None


def _ratio(num: float, den: float) -> float | None:
    return num / den if den > 0 else None


class RollingWindow:
    """Sliding window of `length_s` seconds. Feed it state changes and counts in time order."""

    def __init__(
        self, length_s: float, micro_stop_s: float = 0.0, offline_is_unknown: bool = True
    ) -> None:
        self.length = timedelta(seconds=length_s)
        self.micro_stop_s = micro_stop_s
        self.offline_is_unknown = offline_is_unknown
        self._states: deque[tuple[datetime, MachineState]] = deque()
        self._counts: deque[tuple[datetime, int, int, float]] = deque()

    def state(self, state: MachineState, at: datetime) -> None:
        """`state` is in force from `at` on."""
        if self._states and self._states[-1][1] is state:
            return
        self._states.append((at, state))

    def count(self, at: datetime, total: int, good: int, ideal_cycle_s: float) -> None:
        """`total` parts (of which `good`) were counted at `at`, each ideally `ideal_cycle_s`."""
        if total or good:
            self._counts.append((at, total, good, ideal_cycle_s * total))

    def _prune(self, start: datetime) -> None:
        # Keep the last state that began before `start` (it is in force when the window
        # opens) and the one before it (it decides whether that state is a micro-stop).
        while len(self._states) > 2 and self._states[2][0] <= start:
            self._states.popleft()
        while self._counts and self._counts[0][0] <= start:
            self._counts.popleft()

    def _intervals(self, end: datetime) -> list[tuple[datetime, datetime, MachineState]]:
        s = list(self._states)
        return [(t, s[i + 1][0] if i + 1 < len(s) else end, st) for i, (t, st) in enumerate(s)]

    def _is_micro_stop(
        self, intervals: list[tuple[datetime, datetime, MachineState]], i: int, now: datetime
    ) -> bool:
        begin, end, state = intervals[i]
        if state not in _STOPS or (end - begin).total_seconds() >= self.micro_stop_s:
            return False
        before_ok = i > 0 and intervals[i - 1][2] is MachineState.RUNNING
        # An ongoing short stop is a micro-stop until it outlasts the threshold.
        after_ok = i + 1 == len(intervals) or intervals[i + 1][2] is MachineState.RUNNING
        return before_ok and after_ok

    def figures(self, now: datetime) -> OeeFigures:
        """The window (now - length, now]."""
        start = now - self.length
        self._prune(start)
        # Sum timedeltas (exact microseconds), not floats, so a window fully running
        # has availability exactly 1.
        spans = {s.value: timedelta(0) for s in MachineState}
        intervals = self._intervals(now)
        micro = timedelta(0)
        first_known = intervals[0][0] if intervals else now
        spans[MachineState.OFFLINE] += max(timedelta(0), min(first_known, now) - start)
        for i, (begin, end, state) in enumerate(intervals):
            span = min(end, now) - max(begin, start)
            if span <= timedelta(0):
                continue
            spans[state] += span
            if self.micro_stop_s > 0 and self._is_micro_stop(intervals, i, now):
                micro += span
        return self._figures(start, now, spans, micro)

    def _figures(
        self,
        start: datetime,
        now: datetime,
        spans: dict[str, timedelta],
        micro_span: timedelta,
    ) -> OeeFigures:
        state_s = {k: v.total_seconds() for k, v in spans.items()}
        window_s = (now - start).total_seconds()
        unknown = state_s[MachineState.OFFLINE]
        micro = micro_span.total_seconds()
        planned_span = (now - start) - spans[MachineState.PLANNED_STOP]
        if self.offline_is_unknown:
            planned_span -= spans[MachineState.OFFLINE]
        planned = planned_span.total_seconds()
        run = (spans[MachineState.RUNNING] + micro_span).total_seconds()
        total = sum(c[1] for c in self._counts)
        good = sum(c[2] for c in self._counts)
        ideal = sum(c[3] for c in self._counts)
        a, p, q = _ratio(run, planned), _ratio(ideal, run), _ratio(good, total)
        oee: float | None = None
        if planned > 0:
            oee = a * p * q if a is not None and p is not None and q is not None else 0.0
        return OeeFigures(
            start=start, end=now, window_s=window_s, run_s=run, planned_s=planned,
            unknown_s=unknown, micro_stop_s=micro, state_s=state_s, total=total, good=good,
            reject=total - good, ideal_s=ideal, availability=a, performance=p, quality=q, oee=oee,
        )  # fmt: skip
