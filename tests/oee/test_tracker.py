"""The incremental tracker: hand-computed cases, and agreement with the batch analysis
(`oee.timeline.intervals` + `oee.losses.analyse`) on random histories."""

from __future__ import annotations

import math
from datetime import UTC, datetime, time, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from oee.calendar import Break, Calendar, PlannedPeriod, Shift
from oee.losses import LossReport, Production, ReasonLoss, analyse, mark_startup, pareto
from oee.states import MachineState as S
from oee.timeline import Transition, intervals
from oee.tracker import MachineTracker, WindowReport, WindowSpec

# Monday 2026-03-02, 05:00 in Berlin (UTC+1).
T0 = datetime(2026, 3, 2, 4, 0, tzinfo=UTC)
H, M = timedelta(hours=1), timedelta(minutes=1)
BERLIN = Calendar(
    "Europe/Berlin",
    shifts=(Shift("early", time(6), time(14)), Shift("late", time(14), time(22))),
    breaks=(Break("lunch", time(10), time(10, 30)),),
    planned=(
        PlannedPeriod(
            T0 + timedelta(hours=3, minutes=5),
            T0 + timedelta(hours=3, minutes=20),
            "maintenance",
            "PM",
        ),
    ),
)
WINDOWS = (
    WindowSpec("15m", "sliding", 900),
    WindowSpec("1h", "sliding", 3600),
    WindowSpec("shift", "shift"),
    WindowSpec("day", "day"),
)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def by_name(reports: list[WindowReport]) -> dict[str, WindowReport]:
    return {r.name: r for r in reports}


# --- hand-computed ---------------------------------------------------------------------


def test_a_sliding_hour_with_a_fault_and_counts() -> None:
    t = MachineTracker([WindowSpec("1h", "sliding", 3600)])
    t.state(at(0), S.RUNNING)
    t.state(at(1800), S.FAULT, 7, "jam")
    t.state(at(2400), S.RUNNING)
    t.count(at(3000), 100, 95, 15.0)
    (r,) = t.reports(at(3600))
    rep = r.report
    assert (r.start, r.end) == (at(0), at(3600))
    assert (rep.run_s, rep.breakdown_s, rep.planned_s) == (3000.0, 600.0, 3600.0)
    assert rep.availability == 3000 / 3600
    assert rep.performance == 1500 / 3000
    assert rep.quality == 0.95
    assert rep.oee == pytest.approx(95 * 15 / 3600, rel=1e-12)
    assert rep.failures == 1 and rep.reliability.mttr_s == 600.0
    assert [(p.reason, p.count, p.seconds) for p in r.pareto] == [("jam", 1, 600.0)]


def test_a_window_that_starts_mid_state_counts_only_its_part() -> None:
    t = MachineTracker([WindowSpec("15m", "sliding", 900)])
    t.state(at(0), S.FAULT, 1, "motor")
    t.state(at(1000), S.RUNNING)
    (r,) = t.reports(at(1200))  # window 300..1200: 700 s of the fault, 200 s running
    assert (r.report.breakdown_s, r.report.run_s) == (700.0, 200.0)
    assert r.report.failures == 0  # the breakdown began before the window
    assert [(p.count, p.seconds) for p in r.pareto] == [(1, 700.0)]


def test_before_the_first_state_the_time_is_unknown() -> None:
    t = MachineTracker([WindowSpec("1h", "sliding", 3600)])
    t.state(at(3000), S.RUNNING)
    (r,) = t.reports(at(3600))
    assert (r.report.unknown_s, r.report.run_s, r.report.planned_s) == (3000.0, 600.0, 600.0)
    assert r.report.coverage == 600 / 3600
    assert r.report.availability == 1.0


def test_micro_stops_at_the_threshold() -> None:
    t = MachineTracker([WindowSpec("1h", "sliding", 3600)], micro_stop_s=10)
    t.state(at(0), S.RUNNING)
    t.state(at(100), S.IDLE)  # 9.999 s: a small stop
    t.state(at(109.999), S.RUNNING)
    t.state(at(200), S.IDLE)  # exactly 10 s: a stop
    t.state(at(210), S.RUNNING)
    t.state(at(300), S.IDLE)  # 5 s, then a fault: not between two runs
    t.state(at(305), S.FAULT)
    t.state(at(400), S.RUNNING)
    t.state(at(3595), S.IDLE)  # still going at the end, 5 s so far: small for now
    rep = t.reports(at(3600))[0].report
    assert rep.small_stop_s == pytest.approx(9.999 + 5)
    assert rep.idle_s == 15.0 and rep.breakdown_s == 95.0
    assert rep.run_s == pytest.approx(3600 - 15 - 95)
    rep = t.reports(at(3606))[0].report  # the last stop now lasts 11 s
    assert rep.small_stop_s == pytest.approx(9.999)
    assert rep.idle_s == 15.0 + 11.0


def test_a_planned_break_turns_any_state_into_planned_stop() -> None:
    # 10:00-10:30 Berlin is lunch: 09:00-09:30 UTC on 2026-03-02.
    t = MachineTracker([WindowSpec("1h", "sliding", 3600)], calendar=BERLIN)
    t.state(at(4 * 3600 + 1800), S.RUNNING)  # 08:30 UTC
    rep = t.reports(at(5 * 3600 + 1800))[0].report  # 08:30-09:30 UTC
    assert (rep.planned_stop_s, rep.run_s, rep.planned_s) == (1800.0, 1800.0, 1800.0)
    assert rep.availability == 1.0


def test_startup_rejects_after_setup() -> None:
    t = MachineTracker([WindowSpec("1h", "sliding", 3600)], startup_s=300)
    t.state(at(0), S.SETUP)
    t.count(at(100), 4, 0, 10.0)  # trial parts during the setup
    t.state(at(600), S.RUNNING)
    t.count(at(900), 50, 45, 10.0)  # 300 s after the setup: still start-up
    t.count(at(901), 50, 48, 10.0)
    rep = t.reports(at(3600))[0].report
    assert rep.counts.startup_reject == 9
    assert rep.counts.reject == 11
    assert rep.startup_reject_s == 90.0 and rep.production_reject_s == 20.0


def test_several_products_are_weighted_by_ideal_time() -> None:
    t = MachineTracker([WindowSpec("1h", "sliding", 3600)])
    t.state(at(0), S.RUNNING)
    t.count(at(10), 100, 90, 6.0)  # product A: 600 s ideal, 540 s good
    t.count(at(20), 100, 100, 12.0)  # product B: 1200 s ideal, all good
    rep = t.reports(at(3600))[0].report
    assert rep.performance == 1800 / 3600
    assert rep.quality == 1740 / 1800  # not 190 / 200
    assert rep.oee == pytest.approx(1740 / 3600)
    assert rep.oee == pytest.approx(rep.availability * rep.performance * rep.quality)


def test_performance_above_one_is_kept_and_flagged() -> None:
    t = MachineTracker([WindowSpec("1h", "sliding", 3600)])
    t.state(at(0), S.RUNNING)
    t.count(at(10), 500, 500, 10.0)
    rep = t.reports(at(3600))[0].report
    assert rep.performance == 5000 / 3600 and rep.performance_flagged


def test_no_planned_time_gives_none_not_nan() -> None:
    t = MachineTracker([WindowSpec("1h", "sliding", 3600)])
    t.state(at(0), S.PLANNED_STOP)
    rep = t.reports(at(3600))[0].report
    assert (rep.availability, rep.performance, rep.quality, rep.oee) == (None, None, None, None)


def test_the_shift_window_reports_the_finished_shift_once() -> None:
    # early shift 06:00-14:00 Berlin = 05:00-13:00 UTC.
    t = MachineTracker(WINDOWS, calendar=BERLIN)
    t.state(at(0), S.RUNNING)  # 04:00 UTC, before the shift
    r = by_name(t.reports(at(2 * 3600)))  # 06:00 UTC
    assert (r["shift"].start, r["shift"].end) == (at(3600), at(2 * 3600))
    assert r["day"].start == datetime(2026, 3, 1, 23, 0, tzinfo=UTC)
    reps = t.reports(at(9 * 3600 + 60))  # 13:01 UTC: the late shift runs
    shifts = [x for x in reps if x.name == "shift"]
    assert [(x.start, x.end, x.final) for x in shifts] == [
        (at(3600), at(9 * 3600), True),
        (at(9 * 3600), at(9 * 3600 + 60), False),
    ]
    final = shifts[0].report
    # 8 h shift: 30 min lunch and 15 min maintenance planned; running the rest.
    assert final.planned_stop_s == 2700.0 and final.run_s == 8 * 3600 - 2700.0
    again = [x for x in t.reports(at(9 * 3600 + 120)) if x.name == "shift"]
    assert [x.final for x in again] == [False]


def test_the_shift_and_day_windows_name_their_occurrence() -> None:
    t = MachineTracker(WINDOWS, calendar=BERLIN)
    t.state(at(0), S.RUNNING)
    # 06:00 UTC = 07:00 Berlin on Monday 2026-03-02: the early shift (06:00-14:00 local =
    # 05:00-13:00 UTC) of that date; the plant day from 00:00 local = 23:00 UTC the day before.
    r = by_name(t.reports(at(2 * 3600)))
    shift = r["shift"].shift
    assert shift is not None and shift.id == "2026-03-02/early"
    assert (shift.start, shift.end) == (at(3600), at(9 * 3600))
    day = r["day"].day
    assert day is not None and day.id == "2026-03-02"
    assert (day.start, day.end) == (at(-5 * 3600), at(19 * 3600))
    assert r["15m"].shift is None and r["15m"].day is None and r["shift"].day is None
    # 13:01 UTC: the final early shift keeps its own occurrence, the late one begins.
    shifts = [x.shift for x in t.reports(at(9 * 3600 + 60)) if x.name == "shift"]
    assert [s.id for s in shifts if s is not None] == ["2026-03-02/early", "2026-03-02/late"]


def test_an_operator_reason_moves_the_stop_in_the_pareto() -> None:
    t = MachineTracker([WindowSpec("1h", "sliding", 3600)])
    t.state(at(0), S.RUNNING)
    t.state(at(100), S.IDLE)
    t.state(at(400), S.RUNNING)
    t.state(at(500), S.IDLE)
    assert t.set_reason(at(100), 12, "no material")
    assert t.set_reason(at(500), 12, "no material")
    assert not t.set_reason(at(50), 1, "x")
    (r,) = t.reports(at(600))
    assert [(p.reason_code, p.reason, p.count, p.seconds) for p in r.pareto] == [
        (12, "no material", 2, 400.0)
    ]


def test_two_states_at_the_same_instant_leave_the_last() -> None:
    t = MachineTracker([WindowSpec("1h", "sliding", 3600)], micro_stop_s=60)
    t.state(at(0), S.RUNNING)
    t.state(at(100), S.IDLE)
    t.state(at(110), S.RUNNING)
    t.state(at(110), S.FAULT)  # the run at 110 never was: the idle was not a small stop
    rep = t.reports(at(200))[0].report
    assert (rep.idle_s, rep.small_stop_s, rep.breakdown_s) == (10.0, 0.0, 90.0)


# --- agreement with the batch analysis ---------------------------------------------------

STATES = [S.RUNNING, S.RUNNING, S.IDLE, S.FAULT, S.SETUP, S.OFFLINE, S.PLANNED_STOP]
GAPS = [0.0, 0.5, 3.0, 9.0, 30.0, 240.0, 1800.0, 5400.0]


@st.composite
def histories(draw: st.DrawFn) -> list[tuple[str, float, object]]:
    events: list[tuple[str, float, object]] = []
    clock = draw(st.sampled_from([0.0, 3600.0, 7000.0]))
    for _ in range(draw(st.integers(1, 40))):
        clock += draw(st.sampled_from(GAPS))
        kind = draw(st.sampled_from(["state", "state", "count", "report", "reason"]))
        if kind == "state":
            reason = draw(st.sampled_from([None, 1, 2]))
            events.append(("state", clock, (draw(st.sampled_from(STATES)), reason)))
        elif kind == "count":
            total = draw(st.integers(1, 20))
            good = draw(st.integers(0, total))
            events.append(("count", clock, (total, good, draw(st.sampled_from([5.0, 7.5])))))
        elif kind == "reason":
            events.append(("reason", clock, draw(st.integers(0, 40))))
        else:
            events.append(("report", clock, None))
    events.append(("report", clock + draw(st.sampled_from(GAPS)), None))
    return events


def expected(
    transitions: list[Transition],
    productions: list[Production],
    r: WindowReport,
    now: datetime,
    micro: float,
    startup: float,
) -> tuple[LossReport, list]:
    ivs = intervals(transitions, now, BERLIN)
    prods = mark_startup(productions, ivs, startup)
    kw = {"window_start": r.start, "window_end": r.end, "micro_stop_s": micro}
    return analyse(ivs, prods, **kw), pareto(ivs, **kw)


def rows(p: tuple[ReasonLoss, ...] | list[ReasonLoss]) -> list[tuple[object, ...]]:
    return [(x.state, x.reason_code, x.reason, x.count, x.seconds) for x in p]


def renamed(transitions: list[Transition], target: Transition, code: int) -> list[Transition]:
    """The stop that began at target.at renamed, up to the next transition that changes
    the state or reason (of those that hold: the last one at each instant).

    Each rename uses a new code: a stop renamed to the reason of the stop next to it stays
    two stops in the tracker, while the batch analysis would merge the two intervals."""
    holding = {x.at: x for x in transitions}  # the last transition at each instant
    end = next(
        (t for t, x in sorted(holding.items()) if t > target.at
         and (x.state, x.reason_code) != (target.state, target.reason_code)),
        None,
    )  # fmt: skip
    return [
        Transition(x.at, x.state, code, f"op{code}")
        if target.at <= x.at and (end is None or x.at < end)
        else x
        for x in transitions
    ]


@settings(max_examples=300, deadline=None)
@given(histories(), st.sampled_from([0.0, 10.0, 60.0]), st.sampled_from([0.0, 300.0]))
def test_the_tracker_agrees_with_the_batch_analysis(
    events: list[tuple[str, float, object]], micro: float, startup: float
) -> None:
    tracker = MachineTracker(WINDOWS, calendar=BERLIN, micro_stop_s=micro, startup_s=startup)
    transitions: list[Transition] = []
    productions: list[Production] = []
    renames = 0
    for kind, seconds, data in events:
        now = at(seconds)
        if kind == "state":
            state, code = data  # type: ignore[misc]
            reason = None if code is None else f"r{code}"
            tracker.state(now, state, code, reason)
            transitions.append(Transition(now, state, code, reason))
        elif kind == "count":
            total, good, ideal = data  # type: ignore[misc]
            tracker.count(now, total, good, ideal)
            productions.append(Production(now, total, good, total - good, ideal))
        elif kind == "reason" and transitions:
            chosen = transitions[int(data) % len(transitions)]  # type: ignore[call-overload]
            target = [x for x in transitions if x.at == chosen.at][-1]  # the one that holds
            renames += 1
            code = 100 + renames
            if tracker.set_reason(target.at, code, f"op{code}"):
                transitions = renamed(transitions, target, code)
        elif kind == "report":
            reports = tracker.reports(now)
            if transitions and transitions[-1].at == now:
                # A state entered at this very instant has no length yet: the batch view
                # cannot see it, while the tracker already knows what ends the stop before.
                continue
            for r in reports:
                want, want_pareto = expected(transitions, productions, r, now, micro, startup)
                assert r.report.times == want.times, (r.name, r.start, r.end)
                assert r.report.failures == want.failures
                c, w = r.report.counts, want.counts
                assert (c.total, c.good, c.reject, c.startup_reject) == (
                    w.total, w.good, w.reject, w.startup_reject,
                )  # fmt: skip
                assert math.isclose(c.ideal_s, w.ideal_s, rel_tol=1e-12, abs_tol=1e-9)
                assert math.isclose(c.startup_reject_s, w.startup_reject_s, abs_tol=1e-9)
                got_p = [(p.state, p.reason_code, p.reason, p.count, p.seconds) for p in r.pareto]
                want_p = [
                    (p.state, p.reason_code, p.reason, p.count, p.seconds) for p in want_pareto
                ]
                assert got_p == want_p


# --- parts moved between good and reject (issue 15) ------------------------------------


def test_a_part_found_reject_after_it_was_counted_good_lowers_quality() -> None:
    """Q = good / total (ISO 22400-2, quality ratio): 100 parts of which one is found
    reject a read after it was counted good gives 99/100, as if counted right away."""
    t = MachineTracker([WindowSpec("1h", "sliding", 3600)])
    t.state(at(0), S.RUNNING)
    t.count(at(1000), 100, 100, 15.0)
    t.count(at(1010), 0, -1, 15.0, reject=1)
    (r,) = t.reports(at(3600))
    assert (r.report.counts.total, r.report.counts.good, r.report.counts.reject) == (100, 99, 1)
    assert r.report.quality == 0.99


def test_a_window_without_the_part_it_moved_never_goes_below_zero() -> None:
    """The part was counted before the window began: the window holds 0 parts, good -1,
    reject 1, which is shown as nothing made (not a negative good count or Q)."""
    t = MachineTracker([WindowSpec("15m", "sliding", 900)])
    t.state(at(0), S.RUNNING)
    t.count(at(100), 1, 1, 15.0)
    t.count(at(1100), 0, -1, 15.0, reject=1)
    (r,) = t.reports(at(1500))
    c = r.report.counts
    assert (c.total, c.good, c.reject, c.fully_productive_ns) == (0, 0, 0, 0)
    assert (r.report.quality, r.report.oee) == (None, 0.0)


def test_counts_no_window_can_hold_are_refused_and_change_nothing() -> None:
    """Seen (issue 15): 0xFFFFFFFF parts of 2.2 s overflowed the packed window arrays
    (OverflowError) after the sums had already moved."""
    t = MachineTracker([WindowSpec("1h", "sliding", 3600)])
    t.state(at(0), S.RUNNING)
    t.count(at(10), 5, 5, 2.2)
    with pytest.raises(ValueError, match="4294967295 parts of 2.2 s are more than a window holds"):
        t.count(at(20), 0xFFFFFFFF, 0xFFFFFFFF, 2.2)
    (r,) = t.reports(at(30))
    assert r.report.counts.total == 5
