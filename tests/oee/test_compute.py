"""`oee.compute` (in oee/figures.py): its documented example, DST days, night shifts."""

import doctest
import math
from datetime import UTC, datetime, time, timedelta

import oee.figures
from oee import (
    Calendar,
    MachineState,
    MachineTracker,
    PlannedPeriod,
    Production,
    Shift,
    Transition,
    WindowSpec,
)
from oee import compute as compute_oee

BERLIN_NIGHTS = Calendar(
    "Europe/Berlin", shifts=(Shift("night", time(22), time(6)),), day_start=time(6)
)


def test_the_documented_example_holds() -> None:
    failed, tried = doctest.testmod(oee.figures)
    assert (failed, tried) == (0, 6)


def test_a_night_shift_across_midnight_on_the_spring_forward_night_lasts_7_hours() -> None:
    # 2026-03-28 22:00 CET (21:00Z) to 2026-03-29 06:00 CEST (04:00Z): 7 h of clock time.
    t = MachineTracker([WindowSpec("shift", "shift")], calendar=BERLIN_NIGHTS)
    start = datetime(2026, 3, 28, 21, 0, tzinfo=UTC)
    t.state(start - timedelta(hours=1), MachineState.RUNNING)
    t.state(start + timedelta(hours=3), MachineState.FAULT)  # 03:00Z = 05:00 CEST
    t.state(start + timedelta(hours=4), MachineState.RUNNING)
    (live,) = t.reports(start + timedelta(hours=6))
    assert (live.start, live.report.window_s) == (start, 6 * 3600)
    final, nothing_after = t.reports(start + timedelta(hours=7, minutes=1)), None
    assert [(r.start, r.end, r.final) for r in final] == [(start, start + timedelta(hours=7), True)]
    rep = final[0].report
    # A night of 7 h: 6 h running, 1 h fault.
    assert (rep.window_s, rep.run_s, rep.breakdown_s) == (7 * 3600, 6 * 3600, 3600)
    assert rep.availability == 6 / 7
    assert nothing_after is None


def test_the_plant_day_before_the_fall_back_lasts_25_hours() -> None:
    cal = Calendar("Europe/Berlin", day_start=time(6))
    day_start = datetime(2026, 10, 24, 4, 0, tzinfo=UTC)  # Saturday 06:00 CEST
    day_end = datetime(2026, 10, 25, 5, 0, tzinfo=UTC)  # Sunday 06:00 CET
    r = compute_oee(
        [Transition(day_start, MachineState.RUNNING)],
        [Production(day_start + timedelta(hours=1), 9000, 9000, 0, 10.0)],
        start=day_start,
        end=day_end,
        calendar=cal,
    )
    assert r.report.window_s == 25 * 3600
    assert r.report.performance == 90000 / (25 * 3600)
    assert cal.day_window(day_start + timedelta(hours=12)) == (day_start, day_end)


def test_a_range_reaching_into_the_future_is_unknown_after_now() -> None:
    t0 = datetime(2026, 11, 25, 6, 0, tzinfo=UTC)
    r = compute_oee(
        [Transition(t0, MachineState.RUNNING)],
        [],
        start=t0,
        end=t0 + timedelta(hours=8),
        until=t0 + timedelta(hours=2),
    )
    assert (r.report.run_s, r.report.unknown_s, r.report.coverage) == (7200, 6 * 3600, 0.25)


def test_the_worked_example_of_docs_oee_md() -> None:
    t0 = datetime(2026, 11, 25, 6, 0, tzinfo=UTC)
    m = timedelta(minutes=1)
    cal = Calendar("UTC", planned=(PlannedPeriod(t0 + 55 * m, t0 + 60 * m, "break", "break"),))
    r = compute_oee(
        [
            Transition(t0, MachineState.RUNNING),
            Transition(t0 + 10 * m, MachineState.IDLE),
            Transition(t0 + 10 * m + timedelta(seconds=20), MachineState.RUNNING),
            Transition(t0 + 45 * m, MachineState.FAULT, 12, "jam"),
            Transition(t0 + 55 * m, MachineState.RUNNING),
        ],
        [Production(t0 + 30 * m, 1200, 1140, 60, 2.0)],
        start=t0,
        end=t0 + 60 * m,
        calendar=cal,
        micro_stop_s=30,
    )
    rep = r.report
    assert (rep.window_s, rep.planned_stop_s, rep.unknown_s, rep.planned_s) == (3600, 300, 0, 3300)
    assert (rep.run_s, rep.small_stop_s, rep.breakdown_s) == (2700, 20, 600)
    assert (rep.ideal_s, rep.fully_productive_s) == (2400, 2280)
    assert (rep.availability, rep.performance, rep.quality) == (2700 / 3300, 2400 / 2700, 0.95)
    assert rep.oee == 2280 / 3300
    assert round(rep.oee, 3) == 0.691 and math.isclose(
        rep.availability * rep.performance * rep.quality, rep.oee
    )
    losses = {x.name: (x.seconds, round(x.points * 100, 1)) for x in rep.losses if x.seconds}
    assert losses == {
        "breakdowns": (600, 18.2),
        "small_stops": (20, 0.6),
        "speed": (280, 8.5),
        "production_rejects": (120, 3.6),
    }
    rel = rep.reliability
    assert (rel.failures, rel.mtbf_s, rel.mttr_s) == (1, 2700, 600)
    assert [(p.reason, p.count, p.seconds, p.share) for p in r.pareto] == [("jam", 1, 600, 1.0)]
