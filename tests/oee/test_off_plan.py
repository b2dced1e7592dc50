"""Production outside the plan: run time and parts while the calendar says `no_shift`,
counted apart (`off_plan_run_s`, `off_plan_total`) and kept out of the figures, by the
incremental tracker and by `compute` alike. Hand-computed.

Monday 2026-03-02, calendar UTC: shift `early` 06:00-14:00, maintenance 14:30-15:00
(a planned stop that wins over `no_shift`: running there is not off plan).

    05:00 running   05:30 idle   05:45 running ... (all day) ... 15:30 now
    counts: 05:10 10, 05:30 5, 06:00 7, 10:00 100, 14:00 3, 14:45 4, 15:30 6

Off-plan run time (running while no shift): 05:00-05:30 30 min, 05:45-06:00 15 min,
14:00-14:30 30 min, 15:00-15:30 30 min = 105 min = 6300 s.
Off-plan parts (a count holds the parts made up to its instant, (start, end]): 05:10 (10),
05:30 (5), 06:00 (7: made before the shift began) = 22 before the shift; 10:00 and 14:00
(made in the shift) are not; 14:45 is in maintenance; 15:30 (6) is: 28 in all.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from oee import compute
from oee.calendar import Calendar, PlannedPeriod, Shift
from oee.losses import Production
from oee.states import MachineState as S
from oee.timeline import Transition
from oee.tracker import MachineTracker, WindowSpec


def t(h: int, m: int = 0) -> datetime:
    return datetime(2026, 3, 2, h, m, tzinfo=UTC)


CAL = Calendar(
    "UTC",
    shifts=(Shift("early", time(6), time(14)),),
    planned=(PlannedPeriod(t(14, 30), t(15), "maintenance", "PM"),),
)
STATES = [
    Transition(t(5), S.RUNNING),
    Transition(t(5, 30), S.IDLE),
    Transition(t(5, 45), S.RUNNING),
]
COUNTS = [(t(5, 10), 10), (t(5, 30), 5), (t(6), 7), (t(10), 100), (t(14), 3), (t(14, 45), 4),
          (t(15, 30), 6)]  # fmt: skip
NOW = t(15, 30)
WINDOWS = (
    WindowSpec("1h", "sliding", 3600),
    WindowSpec("shift", "shift"),
    WindowSpec("day", "day"),
)


def tracker() -> MachineTracker:
    """The day fed in order, with a report at 13:00 (as the engine's ticks: the shift
    window then knows its shift, and gives its final figures once it has ended)."""
    tr = MachineTracker(WINDOWS, calendar=CAL)
    events: list[tuple[datetime, int, Transition | int | None]] = [(t(13), 2, None)]
    events += [(s.at, 0, s) for s in STATES] + [(at, 1, n) for at, n in COUNTS]
    for at, _, what in sorted(events, key=lambda e: (e[0], e[1])):
        if what is None:
            tr.reports(at)
        elif isinstance(what, Transition):
            tr.state(at, what.state)
        else:
            tr.count(at, what, what, 1.0)
    return tr


def test_the_day_counts_off_plan_run_time_and_parts_apart() -> None:
    reports = {r.name: r for r in tracker().reports(NOW) if not r.final}
    day = reports["day"].report
    assert (day.off_plan_run_s, day.off_plan_total) == (6300.0, 28)
    # Apart from the figures: the 105 off-plan minutes are planned stop time. Planned
    # stops: 00:00-06:00 (6 h, of which 00:00-05:00 unknown: no data yet), 14:00-15:30
    # 1.5 h: 2.5 h planned stop, 5 h unknown; run 06:00-14:00 = 8 h.
    assert (day.planned_stop_s, day.unknown_s, day.run_s) == (2.5 * 3600, 5 * 3600, 8 * 3600)
    # The last hour, [14:30, 15:30): maintenance until 15:00, no shift after it; the
    # counts of (14:30, 15:30]: 14:45 (maintenance) and 15:30 (off plan, 6 parts).
    hour = reports["1h"].report
    assert (hour.off_plan_run_s, hour.off_plan_total, hour.counts.total) == (1800.0, 6, 10)


def test_the_shift_holds_no_off_plan_production() -> None:
    tr = tracker()
    shift = [r for r in tr.reports(NOW) if r.name == "shift"]
    # 15:30 is between shifts: only the early shift's final figures, once.
    assert [(r.final, r.start, r.end) for r in shift] == [(True, t(6), t(14))]
    r = shift[0].report
    # Counts in (06:00, 14:00]: 10:00 100 and 14:00 3 (the 06:00 count was made before).
    assert (r.off_plan_run_s, r.off_plan_total, r.counts.total) == (0.0, 0, 103)


def test_compute_from_history_agrees() -> None:
    prods = [Production(at, n, n, 0, 1.0) for at, n in COUNTS]
    day = compute(STATES, prods, start=t(0), end=NOW, calendar=CAL).report
    assert (day.off_plan_run_s, day.off_plan_total) == (6300.0, 28)
    live = {r.name: r.report for r in tracker().reports(NOW) if not r.final}
    assert day == live["day"]
    hour = compute(STATES, prods, start=NOW - timedelta(hours=1), end=NOW, calendar=CAL).report
    assert (hour.off_plan_run_s, hour.off_plan_total) == (1800.0, 6)


def test_a_calendar_without_shifts_is_never_off_plan() -> None:
    prods = [Production(at, n, n, 0, 1.0) for at, n in COUNTS]
    r = compute(STATES, prods, start=t(0), end=NOW, calendar=Calendar("UTC")).report
    assert (r.off_plan_run_s, r.off_plan_total) == (0.0, 0)
