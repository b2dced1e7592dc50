"""What the order engine keeps of one machine (`edge.engines.orders`): its state, the
order it runs and why, and the state intervals and parts around its last changeover
until that changeover completes (`oee.changeovers`)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from core.orders import OrderSource
from oee.calendar import Calendar
from oee.changeovers import Changeover, CountPoint, changeovers
from oee.states import MachineState
from oee.timemodel import StateInterval

__all__ = ["MachineOrders", "Ramp"]


@dataclass(frozen=True, slots=True)
class Ramp:
    """How a changeover's run-up to rate is judged (`orders.ramp_*`)."""

    fraction: float
    window_s: float


@dataclass(slots=True)
class MachineOrders:
    """One machine as the order engine sees it."""

    id: str
    state: MachineState | None = None
    since: datetime | None = None
    reason: tuple[int | None, str | None] = (None, None)  # of the current state
    mark: datetime | None = None  # the current order's time by state is counted up to here
    current: str | None = None
    source: OrderSource | None = None
    operator: str | None = None  # the order an operator started or paused
    held: bool = False  # paused by an operator: no order runs until a start or resume
    tag: str | None = None  # the order id the order tag holds ('': none)
    announced: str | None = None  # the order last published ("\0": publish again)
    seq: int = 0  # the machine's changeovers so far
    intervals: list[StateInterval] = field(default_factory=list)
    last_part: CountPoint | None = None  # the last part before the pending changeover
    segment: list[CountPoint] = field(default_factory=list)  # parts since, while pending

    def entered(
        self, state: MachineState, ts: datetime, code: int | None = None, reason: str | None = None
    ) -> None:
        """A state change: the interval it ends is kept while a changeover may need it."""
        if self.state is not None and self.since is not None and ts > self.since:
            self.intervals.append(StateInterval(self.since, ts, self.state, *self.reason))
        self.state, self.since, self.reason = state, ts, (code, reason)
        self._trim()

    def reasoned(self, stop_ts: datetime, code: int | None, reason: str | None) -> None:
        """A reason given later to the stop that began at `stop_ts`."""
        if self.since == stop_ts:
            self.reason = (code, reason)
            return
        self.intervals = [
            dataclasses.replace(i, reason_code=code, reason=reason) if i.start == stop_ts else i
            for i in self.intervals
        ]

    def part(self, point: CountPoint) -> bool:
        """A count; True when it begins a new (product, order) run after another one: a
        changeover is then pending (the caller completes any pending one first)."""
        if point.good + point.reject <= 0:
            return False
        if self.segment:
            self.segment.append(point)
            return False
        if self.last_part is not None and self.last_part.key != point.key:
            self.segment = [point]
            return True
        self.last_part = point
        self._trim()
        return False

    @property
    def pending(self) -> bool:
        return bool(self.segment)

    def changeover(
        self, until: datetime, ideal_s: float, ramp: Ramp, calendar: Calendar | None = None
    ) -> Changeover | None:
        """The pending changeover as known at `until` (None: none pending); the planned
        stops of `calendar` (the machine's) are not changeover time."""
        if not self.segment or self.last_part is None:
            return None
        spans = list(self.intervals)
        if self.state is not None and self.since is not None and until > self.since:
            spans.append(StateInterval(self.since, until, self.state, *self.reason))
        found = changeovers(
            self.id, spans, [self.last_part, *self.segment], until=until,
            ideal_s={self.segment[0].product: ideal_s}, ramp_fraction=ramp.fraction,
            ramp_window_s=ramp.window_s, calendar=calendar,
        )  # fmt: skip
        return found[0] if found else None

    def complete(
        self, until: datetime, ideal_s: float, ramp: Ramp, force: bool, calendar: Calendar | None
    ) -> Changeover | None:
        """The pending changeover once complete: at rate again, or the ramp window passed
        twice after its end (`force`: now, as it stands); then it is no longer pending."""
        found = self.changeover(until, ideal_s, ramp, calendar)
        if found is None:
            return None
        if found.from_product == found.to_product and found.start == found.end:
            # The next order of the same product with no stop between: nothing was set
            # up, so no changeover (a 0 s one would pull the pair's figures down).
            self.last_part, self.segment = self.segment[-1], []
            self._trim()
            return None
        late = until - found.end >= timedelta(seconds=2 * ramp.window_s)
        if not (force or late or found.at_rate is not None):
            return None
        self.last_part, self.segment = self.segment[-1], []
        self.seq += 1
        self._trim()
        return found

    def _trim(self) -> None:
        """Drop what no changeover can need: intervals ended before the last part."""
        if self.last_part is not None and not self.segment:
            self.intervals = [i for i in self.intervals if i.end > self.last_part.at]
        elif len(self.intervals) > 10_000:  # a changeover stuck open: bounded memory
            self.intervals = self.intervals[-10_000:]
