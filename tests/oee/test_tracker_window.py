"""Hand-computed cases of one sliding window (the tracker's simplest use)."""

from datetime import UTC, datetime, timedelta

import pytest

from oee import MachineState as S
from oee import MachineTracker, WindowSpec
from oee.losses import LossReport

T0 = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


class Window:
    """One sliding window of `length_s`: feed states and counts, read a report."""

    def __init__(self, length_s: float, **kw: object) -> None:
        self.t = MachineTracker([WindowSpec("w", "sliding", length_s)], **kw)  # type: ignore[arg-type]

    def state(self, state: S, t: float) -> None:
        self.t.state(at(t), state)

    def count(self, t: float, total: int, good: int, ideal: float) -> None:
        self.t.count(at(t), total, good, ideal)

    def report(self, t: float) -> LossReport:
        (r,) = self.t.reports(at(t))
        return r.report


def test_textbook_case() -> None:
    # 1 h window: 45 min running, 10 min fault, 5 min break (planned).
    # PPT = 3600 - 300 = 3300; RT = 2700; A = 2700/3300.
    # 1200 parts at 2 s ideal = 2400 s -> P = 2400/2700; 1140 good -> Q = 0.95.
    w = Window(3600)
    w.state(S.RUNNING, 0)
    w.state(S.FAULT, 2700)
    w.state(S.PLANNED_STOP, 3300)
    w.count(1000, 1200, 1140, 2.0)
    f = w.report(3600)
    assert (f.run_s, f.planned_s, f.unknown_s) == (2700, 3300, 0)
    assert f.availability == pytest.approx(2700 / 3300)
    assert f.performance == pytest.approx(2400 / 2700)
    assert f.quality == pytest.approx(0.95)
    assert f.oee == pytest.approx(2400 / 3300 * 0.95)
    assert (f.counts.total, f.counts.good, f.counts.reject) == (1200, 1140, 60)
    assert f.breakdown_s == 600 and f.planned_stop_s == 300


def test_window_slides_and_starts_mid_state() -> None:
    w = Window(600)
    w.state(S.RUNNING, 0)
    w.count(100, 50, 50, 2.0)  # leaves the window at 700
    w.state(S.IDLE, 900)
    w.count(850, 20, 19, 2.0)
    f = w.report(1000)  # window (400, 1000]: running 400..900, idle 900..1000
    assert f.run_s == 500 and f.idle_s == 100
    assert (f.counts.total, f.counts.good) == (20, 19)
    assert f.availability == pytest.approx(500 / 600)


def test_time_before_first_state_is_unknown_and_excluded() -> None:
    w = Window(900)
    w.state(S.RUNNING, 300)
    f = w.report(900)
    assert f.unknown_s == 300 and f.planned_s == 600 and f.availability == 1.0


def test_offline_as_downtime_when_configured() -> None:
    w = Window(900, offline_counts_as="downtime")
    w.state(S.RUNNING, 0)
    w.state(S.OFFLINE, 600)
    f = w.report(900)
    assert f.unknown_s == 300 and f.planned_s == 900
    assert f.availability == pytest.approx(600 / 900)


def test_micro_stops_below_threshold_stay_in_run_time() -> None:
    w = Window(1000, micro_stop_s=30)
    w.state(S.RUNNING, 0)
    w.state(S.IDLE, 100)  # 29.5 s: micro-stop
    w.state(S.RUNNING, 129.5)
    w.state(S.FAULT, 200)  # exactly 30 s: not a micro-stop (threshold is exclusive)
    w.state(S.RUNNING, 230)
    f = w.report(1000)
    assert f.small_stop_s == 29.5
    assert f.run_s == 1000 - 30
    assert f.idle_s == 0 and f.breakdown_s == 30


def test_short_stop_not_between_runs_is_downtime() -> None:
    w = Window(100, micro_stop_s=30)
    w.state(S.PLANNED_STOP, 0)
    w.state(S.IDLE, 50)
    w.state(S.RUNNING, 60)
    f = w.report(100)
    assert f.small_stop_s == 0 and f.run_s == 40 and f.planned_s == 50


def test_ongoing_short_stop_counts_as_run_until_it_outlasts_threshold() -> None:
    w = Window(100, micro_stop_s=30)
    w.state(S.RUNNING, 0)
    w.state(S.FAULT, 80)
    assert w.report(100).run_s == 100
    assert w.report(111).run_s == 69  # window (11, 111]: running 11..80


def test_zero_planned_time_gives_none_not_nan() -> None:
    w = Window(60)
    w.state(S.PLANNED_STOP, 0)
    f = w.report(60)
    assert f.planned_s == 0
    assert (f.availability, f.performance, f.quality, f.oee) == (None, None, None, None)


def test_no_parts_gives_zero_oee_and_no_quality() -> None:
    w = Window(60)
    w.state(S.RUNNING, 0)
    f = w.report(60)
    assert (f.availability, f.performance, f.quality, f.oee) == (1.0, 0.0, None, 0.0)


def test_performance_above_one_is_not_clamped() -> None:
    w = Window(100)
    w.state(S.RUNNING, 0)
    w.count(50, 60, 60, 2.0)  # 120 s of ideal time in 100 s of running
    f = w.report(100)
    assert f.performance == pytest.approx(1.2) and f.performance_flagged


def test_several_products_weighted_by_ideal_time() -> None:
    w = Window(1000)
    w.state(S.RUNNING, 0)
    w.count(100, 100, 100, 2.0)
    w.count(600, 100, 90, 5.0)
    f = w.report(1000)
    assert f.ideal_s == 700 and f.performance == pytest.approx(0.7)
    # Q weighted by ideal time: (200 + 450) / 700, so that OEE = A x P x Q = 650 / 1000.
    assert f.quality == pytest.approx(650 / 700) and f.oee == pytest.approx(0.65)


def test_times_partition_the_window() -> None:
    w = Window(3600, micro_stop_s=10)
    for i, st in enumerate([S.RUNNING, S.IDLE, S.RUNNING, S.SETUP, S.OFFLINE, S.FAULT] * 20):
        w.state(st, 100 + i * 37)
    f = w.report(5000)
    t = f.times
    parts = t.planned_stop + t.unknown + t.run + t.breakdown + t.setup + t.idle
    assert parts == timedelta(seconds=3600)
    assert f.planned_s == 3600 - f.unknown_s - f.planned_stop_s


def test_fully_running_window_is_exactly_one() -> None:
    # Odd microsecond boundaries: float sums would give 1.0000000000000009.
    w = Window(900)
    w.state(S.RUNNING, -0.123457)
    for i in range(1, 200):
        w.state(S.IDLE if i % 2 else S.RUNNING, i * 4.170001)
    w.state(S.RUNNING, 1000)
    f = Window(900)
    f.state(S.RUNNING, 0.000001)
    assert f.report(1234.567891).availability == 1.0
    g = w.report(1100.000003)
    assert g.run_s + g.idle_s == 900.0
