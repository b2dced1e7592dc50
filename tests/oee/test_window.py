"""Hand-computed OEE cases for the rolling window."""

from datetime import UTC, datetime, timedelta

import pytest

from oee import MachineState as S
from oee import RollingWindow

T0 = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def test_textbook_case() -> None:
    # 1 h window: 45 min running, 10 min fault, 5 min break (planned).
    # PPT = 3600 - 300 = 3300; RT = 2700; A = 2700/3300.
    # 1200 parts at 2 s ideal = 2400 s -> P = 2400/2700; 1140 good -> Q = 0.95.
    w = RollingWindow(3600)
    w.state(S.RUNNING, at(0))
    w.state(S.FAULT, at(2700))
    w.state(S.PLANNED_STOP, at(3300))
    w.count(at(1000), 1200, 1140, 2.0)
    f = w.figures(at(3600))
    assert (f.run_s, f.planned_s, f.unknown_s) == (2700, 3300, 0)
    assert f.availability == pytest.approx(2700 / 3300)
    assert f.performance == pytest.approx(2400 / 2700)
    assert f.quality == pytest.approx(0.95)
    assert f.oee == pytest.approx(2400 / 3300 * 0.95)
    assert (f.total, f.good, f.reject) == (1200, 1140, 60)
    assert f.state_s["fault"] == 600 and f.state_s["planned_stop"] == 300


def test_window_slides_and_starts_mid_state() -> None:
    w = RollingWindow(600)
    w.state(S.RUNNING, at(0))
    w.count(at(100), 50, 50, 2.0)  # leaves the window at 700
    w.state(S.IDLE, at(900))
    w.count(at(850), 20, 19, 2.0)
    f = w.figures(at(1000))  # window (400, 1000]: running 400..900, idle 900..1000
    assert f.run_s == 500 and f.state_s["idle"] == 100
    assert (f.total, f.good) == (20, 19)
    assert f.availability == pytest.approx(500 / 600)


def test_time_before_first_state_is_unknown_and_excluded() -> None:
    w = RollingWindow(900)
    w.state(S.RUNNING, at(300))
    f = w.figures(at(900))
    assert f.unknown_s == 300 and f.planned_s == 600 and f.availability == 1.0


def test_offline_as_downtime_when_configured() -> None:
    w = RollingWindow(900, offline_is_unknown=False)
    w.state(S.RUNNING, at(0))
    w.state(S.OFFLINE, at(600))
    f = w.figures(at(900))
    assert f.unknown_s == 300 and f.planned_s == 900
    assert f.availability == pytest.approx(600 / 900)


def test_micro_stops_below_threshold_stay_in_run_time() -> None:
    w = RollingWindow(1000, micro_stop_s=30)
    w.state(S.RUNNING, at(0))
    w.state(S.IDLE, at(100))  # 29.5 s: micro-stop
    w.state(S.RUNNING, at(129.5))
    w.state(S.FAULT, at(200))  # exactly 30 s: not a micro-stop (threshold is exclusive)
    w.state(S.RUNNING, at(230))
    f = w.figures(at(1000))
    assert f.micro_stop_s == 29.5
    assert f.run_s == 1000 - 30
    assert f.state_s["idle"] == 29.5 and f.state_s["fault"] == 30


def test_short_stop_not_between_runs_is_downtime() -> None:
    w = RollingWindow(100, micro_stop_s=30)
    w.state(S.PLANNED_STOP, at(0))
    w.state(S.IDLE, at(50))
    w.state(S.RUNNING, at(60))
    f = w.figures(at(100))
    assert f.micro_stop_s == 0 and f.run_s == 40 and f.planned_s == 50


def test_ongoing_short_stop_counts_as_run_until_it_outlasts_threshold() -> None:
    w = RollingWindow(100, micro_stop_s=30)
    w.state(S.RUNNING, at(0))
    w.state(S.FAULT, at(80))
    assert w.figures(at(100)).run_s == 100
    assert w.figures(at(111)).run_s == 69  # window (11, 111]: running 11..80


def test_zero_planned_time_gives_none_not_nan() -> None:
    w = RollingWindow(60)
    w.state(S.PLANNED_STOP, at(0))
    f = w.figures(at(60))
    assert f.planned_s == 0
    assert (f.availability, f.performance, f.quality, f.oee) == (None, None, None, None)


def test_no_parts_gives_zero_oee_and_no_quality() -> None:
    w = RollingWindow(60)
    w.state(S.RUNNING, at(0))
    f = w.figures(at(60))
    assert (f.availability, f.performance, f.quality, f.oee) == (1.0, 0.0, None, 0.0)


def test_performance_above_one_is_not_clamped() -> None:
    w = RollingWindow(100)
    w.state(S.RUNNING, at(0))
    w.count(at(50), 60, 60, 2.0)  # 120 s of ideal time in 100 s of running
    assert w.figures(at(100)).performance == pytest.approx(1.2)


def test_several_products_weighted_by_ideal_time() -> None:
    w = RollingWindow(1000)
    w.state(S.RUNNING, at(0))
    w.count(at(100), 100, 100, 2.0)
    w.count(at(600), 100, 90, 5.0)
    f = w.figures(at(1000))
    assert f.ideal_s == 700 and f.performance == pytest.approx(0.7)
    assert f.quality == pytest.approx(0.95)


def test_times_partition_the_window() -> None:
    w = RollingWindow(3600, micro_stop_s=10)
    for i, st in enumerate([S.RUNNING, S.IDLE, S.RUNNING, S.SETUP, S.OFFLINE, S.FAULT] * 20):
        w.state(st, at(100 + i * 37))
    f = w.figures(at(5000))
    assert sum(f.state_s.values()) == pytest.approx(3600)
    assert f.planned_s == pytest.approx(3600 - f.unknown_s - f.state_s["planned_stop"])


def test_fully_running_window_is_exactly_one() -> None:
    # Odd microsecond boundaries: float sums would give 1.0000000000000009.
    w = RollingWindow(900)
    w.state(S.RUNNING, at(-0.123457))
    for i in range(1, 200):
        w.state(S.IDLE if i % 2 else S.RUNNING, at(i * 4.170001))
    w.state(S.RUNNING, at(1000))
    f = RollingWindow(900)
    f.state(S.RUNNING, at(0.000001))
    assert f.figures(at(1234.567891)).availability == 1.0
    g = w.figures(at(1100.000003))
    assert g.run_s + g.state_s["idle"] == 900.0
