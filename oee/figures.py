"""OEE of any range from exported history: the library entry point.

>>> from datetime import datetime, timezone
>>> from oee import MachineState, Production, Transition, compute
>>> t = lambda h, m=0: datetime(2026, 11, 25, h, m, tzinfo=timezone.utc)
>>> r = compute(
...     [Transition(t(6), MachineState.RUNNING),
...      Transition(t(7), MachineState.FAULT, 12, "jam"),
...      Transition(t(7, 30), MachineState.RUNNING)],
...     [Production(t(8), total=300, good=285, reject=15, ideal_cycle_s=12.0)],
...     start=t(6), end=t(8),
... )
>>> r.report.availability, r.report.performance, r.report.quality
(0.75, 0.6666666666666666, 0.95)
>>> round(r.report.oee, 4), r.pareto[0].reason, r.report.reliability.mttr_s
(0.475, 'jam', 1800.0)
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from oee.calendar import Calendar
from oee.losses import OfflineTreatment, Production, analyse, mark_startup, pareto
from oee.timeline import Transition, intervals
from oee.timemodel import mark_off_plan
from oee.tracker import WindowReport

__all__ = ["compute"]


def compute(
    transitions: Iterable[Transition],
    productions: Iterable[Production],
    *,
    start: datetime,
    end: datetime,
    until: datetime | None = None,
    calendar: Calendar | None = None,
    micro_stop_s: float = 0.0,
    startup_s: float = 0.0,
    offline_counts_as: OfflineTreatment = "unknown",
    name: str = "range",
) -> WindowReport:
    """The figures of [start, end) for one machine.

    `transitions` are its state changes in time order, including the last one before
    `start` (the state in force when the range opens); each lasts until the next, the
    last until `until` (default `end`; pass the present time for a range reaching into the
    future, which is then unknown). Parts count in (start, end]. `calendar` turns its
    planned stops into planned stop time; rejects within `startup_s` after a setup are
    start-up rejects. The tracker gives the same figures incrementally.
    """
    stop = min(end, until) if until is not None else end
    ivs = intervals(transitions, stop, calendar)
    prods = mark_off_plan(mark_startup(productions, ivs, startup_s), ivs)
    kw = {"window_start": start, "window_end": end, "micro_stop_s": micro_stop_s}
    report = analyse(ivs, prods, offline_counts_as=offline_counts_as, **kw)  # type: ignore[arg-type]
    return WindowReport(name, start, end, report, tuple(pareto(ivs, **kw)))  # type: ignore[arg-type]
