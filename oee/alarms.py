"""Alarm rules, evaluated without I/O or a clock: time is an argument (issue 16, part 5).

A rule looks at what is known of one machine (`MachineView`: its state and since when,
the stop's reason, its latest OEE figures per window, its held suspect counts) and says
whether its condition holds at `now` (`Rule.check`), and since when: the instant its
threshold was crossed, so that an alarm's raised time is exact however late the check
runs (a fault of 10 min that began at 10:00 is raised at 10:10:00.000).

`RULE_KINDS` is the registry of the kinds of rule; a new kind (energy) is a class
with `kind`, `name`, `severity` and `check`, and its entry there and in the config.
An SPC rule (`SpcRule`) looks at the charts of the machine (`MachineView.spc`): it
raises at a run rule's violation and clears after `clear_after` points in a row of that
chart that completed none of its rules.

Hysteresis: a figure rule raises when the figure drops below `below` and clears only
when it is back at `below + clear_margin` or above (a figure flapping around its target
raises once); a figure of a window with too little known time (`min_coverage`) or none
at all is no verdict and leaves the alarm as it is. The time-based rules need none: a
stop or an outage that ends clears its alarm at the state change.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal, Protocol

from oee.orderwatch import OrderWatch
from oee.spcwatch import SpcHit, SpcTrack
from oee.states import MachineState

__all__ = [
    "RULE_KINDS",
    "SPC_RULE_IDS",
    "Condition",
    "Figure",
    "FigureRule",
    "MachineView",
    "OfflineRule",
    "OrderRule",
    "Rule",
    "SpcHit",
    "SpcRule",
    "SpcTrack",
    "StopRule",
    "SuspectRule",
    "Transition",
    "format_duration",
    "transitions",
]

Figure = Literal["oee", "availability", "performance", "quality"]
FIGURE_NAMES: dict[str, str] = {
    "oee": "OEE",
    "availability": "availability",
    "performance": "performance",
    "quality": "quality",
}


@dataclass(frozen=True, slots=True)
class WindowFigures:
    """One window's latest figures of a machine: the four ratios (None: undefined), how
    much of the window is known time (`coverage`), and the figures' time."""

    ts: datetime
    ratios: Mapping[str, float | None]
    coverage: float | None


@dataclass(slots=True)
class MachineView:
    """What the rules see of one machine; the engine keeps it up to date."""

    name: str  # shown in messages: the machine's configured name, else its id
    state: MachineState | None = None
    since: datetime | None = None
    reason_code: int | None = None
    reason: str | None = None
    figures: dict[str, WindowFigures] = field(default_factory=dict)
    suspects: dict[int, datetime] = field(default_factory=dict)  # seq -> held since
    spc: dict[str, SpcTrack] = field(default_factory=dict)  # chart id -> what is known
    order: OrderWatch | None = None  # the current order, as its last progress said


@dataclass(frozen=True, slots=True)
class Condition:
    """A rule's condition holds: since `since` (the alarm's raised time), with the
    message's text after the machine's name, and the figure that raised it."""

    since: datetime
    detail: str
    value: float | None = None


class Rule(Protocol):
    """One configured alarm rule of some kind: `kind`, `name`, `severity` (read-only)."""

    @property
    def kind(self) -> str: ...

    @property
    def name(self) -> str: ...

    @property
    def severity(self) -> str: ...

    def check(self, view: MachineView, now: datetime, active: bool) -> Condition | None:
        """The condition at `now`, None if it does not hold; `active`: whether its alarm
        is raised (for hysteresis)."""
        ...


def format_duration(seconds: float) -> str:
    """`20 s`, `10 min`, `1 h 30 min`: how a threshold reads in a message."""
    s = round(seconds)
    if s < 120:
        return f"{s} s"
    parts = zip((s // 3600, s // 60 % 60, s % 60), ("h", "min", "s"), strict=True)
    return " ".join(f"{n} {unit}" for n, unit in parts if n)


def _percent(x: float) -> str:
    return f"{x * 100:.1f} %"


@dataclass(frozen=True, slots=True)
class StopRule:
    """A stop in one of `states` (fault, idle, setup) longer than `min_s`; with `reasons`,
    only a stop with one of these reason codes. Cleared when the stop ends."""

    name: str
    severity: str
    states: frozenset[MachineState]
    min_s: float
    reasons: frozenset[int] | None = None
    kind: str = "stop"

    def check(self, view: MachineView, now: datetime, active: bool) -> Condition | None:
        if view.state is None or view.since is None:  # unknown yet (a start): no verdict
            return Condition(now, "") if active else None
        if view.state not in self.states:
            return None
        if self.reasons is not None and view.reason_code not in self.reasons:
            return None
        crossed = view.since + timedelta(seconds=self.min_s)
        if now < crossed:
            return None
        why = f" ({view.reason})" if view.reason else ""
        detail = f"{view.state}{why} for {format_duration(self.min_s)}"
        return Condition(crossed, detail, self.min_s)


@dataclass(frozen=True, slots=True)
class OfflineRule:
    """No valid data from the machine (`offline`) for longer than `min_s`."""

    name: str
    severity: str
    min_s: float
    kind: str = "offline"

    def check(self, view: MachineView, now: datetime, active: bool) -> Condition | None:
        if view.state is None or view.since is None:
            return Condition(now, "") if active else None
        if view.state is not MachineState.OFFLINE:
            return None
        crossed = view.since + timedelta(seconds=self.min_s)
        if now < crossed:
            return None
        return Condition(crossed, f"offline for {format_duration(self.min_s)}", self.min_s)


@dataclass(frozen=True, slots=True)
class SuspectRule:
    """A count is held as suspect (a counter jump no machine could make) until someone
    accepts or discards it: raised when the first is held, cleared when none is left."""

    name: str
    severity: str
    kind: str = "suspect_count"

    def check(self, view: MachineView, now: datetime, active: bool) -> Condition | None:
        if not view.suspects:
            return None
        n = len(view.suspects)
        text = "1 suspect count held" if n == 1 else f"{n} suspect counts held"
        return Condition(min(view.suspects.values()), f"{text}: decide it", float(n))


@dataclass(frozen=True, slots=True)
class FigureRule:
    """OEE or one factor of `window` below `below`; cleared at `below + clear_margin`."""

    name: str
    severity: str
    figure: Figure
    window: str
    below: float
    clear_margin: float = 0.05
    min_coverage: float = 0.5
    kind: str = "figure"

    def check(self, view: MachineView, now: datetime, active: bool) -> Condition | None:
        got = view.figures.get(self.window)
        value = None if got is None else got.ratios.get(self.figure)
        if got is None or value is None or (got.coverage or 0.0) < self.min_coverage:
            # No verdict: an active alarm stays, none is raised.
            return Condition(now, "", None) if active else None
        limit = self.below + self.clear_margin if active else self.below
        if value >= limit:
            return None
        what = FIGURE_NAMES[self.figure]
        detail = f"{what} {_percent(value)} over {self.window} (target {_percent(self.below)})"
        return Condition(got.ts, detail, value)


#: The run rules an SPC alarm rule may filter on (oee.spc.Violation.rule).
SPC_RULE_IDS = (
    *(f"WE{i}" for i in range(1, 5)), *(f"N{i}" for i in range(1, 9)), "SPREAD",
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class SpcRule:
    """A run rule of `rules` (None: any) broken on one of `charts` (None: every chart of
    the machine); cleared once each of those charts has had `clear_after` points in a
    row since its last such violation. One alarm per rule and machine: charts that need
    alarms of their own get a rule each."""

    name: str
    severity: str
    charts: frozenset[str] | None = None
    rules: frozenset[str] | None = None
    clear_after: int = 8
    kind: str = "spc"

    def check(self, view: MachineView, now: datetime, active: bool) -> Condition | None:
        tracks = [t for c, t in view.spc.items() if self.charts is None or c in self.charts]
        if active and (not tracks or any(self._unknown(t) for t in tracks)):
            # After a restart (the only way to be active with no chart seen): no verdict
            # until the charts seen since have shown `clear_after` points in control.
            return Condition(now, "")
        hits = [(h, t) for t in tracks for h in t.hits if self._live(h, t)]
        if not hits:
            return None
        hit, track = min(hits, key=lambda x: (x[0].ts, x[0].seq))
        unit = f" {track.unit}" if track.unit else ""
        trial = " (trial limits)" if hit.phase == "I" else ""
        detail = f"{track.label}: {hit.rule} {hit.name} at {hit.value:.6g}{unit}{trial}"
        return Condition(hit.ts, detail, hit.value)

    def _live(self, hit: SpcHit, track: SpcTrack) -> bool:
        """A violation this rule counts, fewer than `clear_after` points ago."""
        matches = self.rules is None or hit.rule in self.rules
        return matches and track.seq - hit.seq < self.clear_after

    def _unknown(self, track: SpcTrack) -> bool:
        """Too few points seen since a restart to know the chart is back in control
        (what came before is unknown, as if the point before the first was a violation)."""
        if not track.restored:
            return False
        return track.first is None or track.seq - (track.first - 1) < self.clear_after


@dataclass(frozen=True, slots=True)
class OrderRule:
    """The current order `late` (`order_late`: past due, or expected to finish after it)
    or `at_risk` (`order_at_risk`, `oee.orders`); cleared when that status ends."""

    name: str
    severity: str
    kind: str = "order_late"

    def check(self, view: MachineView, now: datetime, active: bool) -> Condition | None:
        w, want = view.order, self.kind.removeprefix("order_")
        if w is None or w.status != want:
            return None
        return Condition(
            w.since, f"order {w.order} {want.replace('_', ' ')} (due {w.due:%Y-%m-%d %H:%M} UTC)"
        )


RULE_KINDS: dict[str, type] = {
    "stop": StopRule,
    "offline": OfflineRule,
    "suspect_count": SuspectRule,
    "figure": FigureRule,
    "spc": SpcRule,
    "order_late": OrderRule,
    "order_at_risk": OrderRule,
}


@dataclass(frozen=True, slots=True)
class Transition:
    """Raise `rule`'s alarm (`condition` set) or clear it (`condition` None) at `at`."""

    rule: Rule
    at: datetime
    condition: Condition | None


def transitions(
    rules: Iterable[Rule], view: MachineView, active: Mapping[str, object], now: datetime
) -> list[Transition]:
    """What changes at `now` for one machine: a raise for each rule whose condition holds
    and has no active alarm (`active`: rule name -> its alarm), a clear for each active
    one whose condition no longer holds."""
    out = []
    for rule in rules:
        on = rule.name in active
        cond = rule.check(view, now, on)
        if cond is not None and not on:
            out.append(Transition(rule, cond.since, cond))
        elif cond is None and on:
            out.append(Transition(rule, now, None))
    return out
