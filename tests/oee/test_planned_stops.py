"""A stop an operator turns into planned time (a meeting, no order): the tracker and the
batch analysis of stored history count its time as planned stop time, out of planned
production time. Hand-computed: an hour with a 10 min idle stop has A = 50/60; planned,
the stop leaves planned time: A = 50/50."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from oee.figures import compute
from oee.states import MachineState as S
from oee.timeline import Transition
from oee.tracker import MachineTracker, WindowSpec

T0 = datetime(2026, 12, 6, 13, 0, tzinfo=UTC)
HOUR = WindowSpec("1h", "sliding", 3600)
M15 = WindowSpec("15m", "sliding", 900)


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def hour_with_an_idle_stop() -> MachineTracker:
    """Running 13:00, idle 13:20-13:30, running to 14:00."""
    t = MachineTracker([HOUR, M15])
    t.state(at(0), S.RUNNING)
    t.state(at(20), S.IDLE, 5, "no material")
    t.state(at(30), S.RUNNING)
    return t


def figures(t: MachineTracker, now: datetime) -> dict[str, tuple[float, float, object]]:
    return {
        r.name: (r.report.planned_s, r.report.run_s, r.report.availability) for r in t.reports(now)
    }


def test_a_closed_stop_leaves_planned_time_and_comes_back() -> None:
    t = hour_with_an_idle_stop()
    # 1h: planned 3600 s, run 3000 s (the idle 600 s), A = 50/60; 15m [13:45, 14:00): all run.
    assert figures(t, at(60)) == {"1h": (3600.0, 3000.0, 50 / 60), "15m": (900.0, 900.0, 1.0)}
    assert t.set_planned(at(20), True)
    # The 600 s of the stop are planned stop time now: planned 3000 s, A = 50/50.
    (hour, _) = t.reports(at(60))
    assert (hour.report.planned_s, hour.report.run_s, hour.report.availability) == (
        3000.0, 3000.0, 1.0,
    )  # fmt: skip
    assert (hour.report.planned_stop_s, hour.report.idle_s) == (600.0, 0.0)
    assert hour.pareto == ()  # planned time is no downtime: off the Pareto
    assert t.set_planned(at(20), False)
    assert figures(t, at(60))["1h"] == (3600.0, 3000.0, 50 / 60)
    assert not t.set_planned(at(21), True)  # no stop began then


def test_the_current_stop_planned_while_it_lasts() -> None:
    t = MachineTracker([HOUR])
    t.state(at(0), S.RUNNING)
    t.state(at(50), S.IDLE)
    # At 14:00: idle 10 min so far, A = 50/60; planned, A = 50/50.
    assert figures(t, at(60))["1h"] == (3600.0, 3000.0, 50 / 60)
    assert t.set_planned(at(50), True)
    assert figures(t, at(60))["1h"] == (3000.0, 3000.0, 1.0)
    t.state(at(60), S.RUNNING)  # it ends: still planned
    assert figures(t, at(60))["1h"] == (3000.0, 3000.0, 1.0)
    # At 14:10 the window [13:10, 14:10) has 10 min of the stop and 50 of running.
    assert figures(t, at(70))["1h"] == (3000.0, 3000.0, 1.0)
    t.set_planned(at(50), False)  # undone after it closed: downtime again
    assert figures(t, at(70))["1h"] == (3600.0, 3000.0, 50 / 60)


def test_history_with_a_planned_stop_agrees_with_the_tracker() -> None:
    planned = [
        Transition(at(0), S.RUNNING),
        Transition(at(20), S.IDLE, 5, "no material", planned=True),
        Transition(at(30), S.RUNNING),
    ]
    r = compute(planned, [], start=at(0), end=at(60))
    assert (r.report.planned_s, r.report.run_s, r.report.availability) == (3000.0, 3000.0, 1.0)
    plain = compute([*planned[:1], Transition(at(20), S.IDLE), planned[2]], [],
                    start=at(0), end=at(60))  # fmt: skip
    assert plain.report.availability == pytest.approx(50 / 60)
