"""Alarm rules with exact times (oee.alarms): thresholds to the millisecond, clears at
the end of the condition, hysteresis of figure rules."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from oee.alarms import (
    FigureRule,
    MachineView,
    OfflineRule,
    StopRule,
    SuspectRule,
    WindowFigures,
    format_duration,
    transitions,
)
from oee.states import MachineState

T0 = datetime(2026, 12, 7, 10, 0, tzinfo=UTC)
FAULT = MachineState.FAULT
TEN_MIN = StopRule("long-fault", "critical", frozenset({FAULT}), 600.0)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def faulted(reason: str | None = "Die jam", code: int | None = 7) -> MachineView:
    return MachineView("Press 1", FAULT, T0, code, reason)


def test_a_fault_of_9_min_59_s_does_not_raise_a_10_min_rule() -> None:
    assert transitions([TEN_MIN], faulted(), {}, at(599.999)) == []


def test_a_fault_of_10_min_raises_at_exactly_10_min_after_its_start() -> None:
    # Checked 37 s late (a tick at 10:10:37): the alarm still dates from 10:10:00.000.
    (t,) = transitions([TEN_MIN], faulted(), {}, at(637))
    assert t.condition is not None
    assert (t.at, t.condition.since) == (at(600), at(600))
    assert t.condition.detail == "fault (Die jam) for 10 min"
    assert t.condition.value == 600.0


def test_the_stop_end_clears_at_the_state_change() -> None:
    view = faulted()
    view.state, view.since = MachineState.RUNNING, at(725)
    (t,) = transitions([TEN_MIN], view, {"long-fault": object()}, at(725))
    assert (t.at, t.condition) == (at(725), None)


def test_a_raised_alarm_is_not_raised_twice() -> None:
    assert transitions([TEN_MIN], faulted(), {"long-fault": object()}, at(900)) == []


def test_other_states_and_reasons_do_not_match() -> None:
    idle = MachineView("Press 1", MachineState.IDLE, T0)
    assert transitions([TEN_MIN], idle, {}, at(3600)) == []
    jam_only = StopRule("jam", "warning", frozenset({FAULT}), 20.0, frozenset({7}))
    assert transitions([jam_only], faulted("Motor", 3), {}, at(3600)) == []
    (t,) = transitions([jam_only], faulted(), {}, at(20))
    assert t.at == at(20)


def test_seconds_thresholds_for_a_demo_rule() -> None:
    rule = StopRule("fault-20s", "warning", frozenset({FAULT}), 20.0)
    assert transitions([rule], faulted(None, None), {}, at(19.999)) == []
    (t,) = transitions([rule], faulted(None, None), {}, at(20))
    assert t.condition is not None and t.condition.detail == "fault for 20 s"


def test_offline_longer_than() -> None:
    rule = OfflineRule("offline", "critical", 60.0)
    view = MachineView("Press 1", MachineState.OFFLINE, T0)
    assert transitions([rule], view, {}, at(59.9)) == []
    (t,) = transitions([rule], view, {}, at(61))
    assert t.at == at(60) and t.condition is not None
    assert t.condition.detail == "offline for 60 s"


def test_suspect_counts_hold_the_alarm_from_the_first() -> None:
    rule = SuspectRule("suspect", "warning")
    view = MachineView("Press 1", suspects={3: at(50), 4: at(80)})
    (t,) = transitions([rule], view, {}, at(90))
    assert t.at == at(50) and t.condition is not None
    assert t.condition.detail == "2 suspect counts held: decide it"
    view.suspects.clear()
    (t,) = transitions([rule], view, {"suspect": object()}, at(95))
    assert (t.at, t.condition) == (at(95), None)


def oee_1h(ts: datetime, oee: float | None, coverage: float = 1.0) -> MachineView:
    ratios = {"oee": oee, "availability": None, "performance": None, "quality": None}
    return MachineView("Press 1", figures={"1h": WindowFigures(ts, ratios, coverage)})


LOW_OEE = FigureRule("low-oee", "warning", "oee", "1h", below=0.6, clear_margin=0.05)


def test_oee_below_target_over_1h_with_hand_computed_figures() -> None:
    # 1 h window: 45 min running (A = 2700/3600 = 0.75), 2400 parts of an ideal 1 s
    # cycle in 2700 s run (P = 2400/2700 = 0.8889), 2280 good (Q = 0.95):
    # OEE = 0.75 * 0.8889 * 0.95 = 0.6333 -> at target 0.6: no alarm.
    assert transitions([LOW_OEE], oee_1h(at(3600), 0.75 * (2400 / 2700) * 0.95), {}, at(3600)) == []
    # 40 min running: A = 2400/3600 = 0.6667, P = 2100/2400 = 0.875, Q = 0.95:
    # OEE = 0.6667 * 0.875 * 0.95 = 0.5542 < 0.6 -> raised at the figure's time.
    oee = (2400 / 3600) * (2100 / 2400) * 0.95
    (t,) = transitions([LOW_OEE], oee_1h(at(3630), oee), {}, at(3630))
    assert t.at == at(3630) and t.condition is not None
    assert round(oee, 4) == 0.5542
    assert t.condition.detail == "OEE 55.4 % over 1h (target 60.0 %)"


def test_hysteresis_clears_only_at_target_plus_margin() -> None:
    on = {"low-oee": object()}
    # Back at 0.62 (above 0.60, below 0.65): still active; 0.65 clears it.
    assert transitions([LOW_OEE], oee_1h(at(10), 0.62), on, at(10)) == []
    assert transitions([LOW_OEE], oee_1h(at(20), 0.6499), on, at(20)) == []
    (t,) = transitions([LOW_OEE], oee_1h(at(30), 0.65), on, at(30))
    assert (t.at, t.condition) == (at(30), None)
    # Flapping 0.59 / 0.61 / 0.59 raises once: the alarm is active between.
    assert len(transitions([LOW_OEE], oee_1h(at(40), 0.59), {}, at(40))) == 1
    assert transitions([LOW_OEE], oee_1h(at(50), 0.61), on, at(50)) == []
    assert transitions([LOW_OEE], oee_1h(at(60), 0.59), on, at(60)) == []


def test_no_verdict_without_a_figure_or_with_little_known_time() -> None:
    on = {"low-oee": object()}
    assert transitions([LOW_OEE], oee_1h(at(10), None), {}, at(10)) == []
    assert transitions([LOW_OEE], oee_1h(at(10), None), on, at(10)) == []
    assert transitions([LOW_OEE], oee_1h(at(10), 0.1, coverage=0.49), {}, at(10)) == []
    assert transitions([LOW_OEE], MachineView("Press 1"), on, at(10)) == []


def test_durations_read_as_written() -> None:
    assert [format_duration(s) for s in (20, 60, 90, 600, 3600, 5400, 3630)] == [
        "20 s", "60 s", "90 s", "10 min", "1 h", "1 h 30 min", "1 h 30 s",
    ]  # fmt: skip
