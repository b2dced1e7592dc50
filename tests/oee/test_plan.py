"""Plan versus actual: hand-computed attainment, schedule adherence and on-time delivery
over a shift, the next shift and a week, with three orders, one planned across the shift
boundary, one pulled forward out of sequence and one late.

Definitions and their sources are in `oee/plan.py`: schedule adherence after Ford's
Build to Schedule (volume x mix x sequence, "Guidebook for Effective Measurables: Build to
Schedule", v2.0, 1999); on-time delivery as SCOR's delivery performance to commit date
(by count) and the volume measure of delivery reliability (CLIP, by quantity)."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest

from oee.calendar import Break, Calendar, Shift
from oee.orders import OrderRun, WorkOrder
from oee.plan import OrderPlan, completed_at, plan_actual, planned_quantity, planned_window

# As in test_orders: Europe/Berlin in December (UTC+1): early 05:00Z-13:00Z with a break
# 09:00Z-09:30Z, late 13:00Z-21:00Z with a break 17:00Z-17:30Z; Monday 2026-12-07.
CAL = Calendar(
    "Europe/Berlin",
    shifts=(Shift("early", time(6), time(14)), Shift("late", time(14), time(22))),
    breaks=(
        Break("lunch", time(10), time(10, 30), shift="early"),
        Break("dinner", time(18), time(18, 30), shift="late"),
    ),
)


def z(h: int, m: int = 0, day: int = 7) -> datetime:
    return datetime(2026, 12, day, h, m, tzinfo=UTC)


# A: 300 x 60 s = 5 h of production from 05:00Z: 05:00Z-09:00Z 4 h, break, 09:30Z-10:30Z.
# B: 240 x 60 s = 4 h from 10:30Z: 10:30Z-13:00Z 2.5 h (early), 13:00Z-14:30Z 1.5 h (late).
# C: no ideal cycle time: 14:30Z to its due 18:30Z: 2.5 h + 1 h (dinner skipped) = 3.5 h.
A = WorkOrder("A", "P1", 300, z(12), "m1", planned_start=z(5), ideal_cycle_s=60.0)
B = WorkOrder("B", "P2", 240, z(16), "m1", planned_start=z(10, 30), ideal_cycle_s=60.0)
C = WorkOrder("C", "P3", 100, z(18, 30), "m1", planned_start=z(14, 30))
ORDERS = [A, B, C]
# Actual: A 05:10Z, complete 10:30Z; C pulled forward, 10:40Z, complete 13:00Z; B 13:00Z,
# complete 17:00Z, an hour after its due 16:00Z (180 good by then).
RUNS = {
    "A": OrderRun(started=z(5, 10), ended=z(10, 30), good=300),
    "C": OrderRun(started=z(10, 40), ended=z(13), good=100),
    "B": OrderRun(started=z(13), ended=z(17), good=240),
}
COUNTS = {
    "A": [(z(7), 100), (z(9), 100), (z(10, 30), 100)],
    "C": [(z(12), 50), (z(13), 50)],
    "B": [(z(14), 60), (z(15), 60), (z(16), 60), (z(17), 60)],
}


def test_planned_windows_and_quantities() -> None:
    assert planned_window(A, CAL) == (z(5), z(10, 30))
    assert planned_window(B, CAL) == (z(10, 30), z(14, 30))
    assert planned_window(C, CAL) == (z(14, 30), z(18, 30))
    assert planned_window(WorkOrder("D", "P1", 5, z(20), "m1"), CAL) is None
    # B in the early shift: 2.5 h of its 4 h: 240 x 2.5 / 4 = 150; in the late: 90.
    assert planned_quantity(B, CAL, z(5), z(13)) == 150.0
    assert planned_quantity(B, CAL, z(13), z(21)) == 90.0
    assert completed_at(B, COUNTS["B"]) == z(17)
    assert completed_at(B, COUNTS["B"][:3]) is None


def test_early_shift() -> None:
    # Planned: A 300 + B 150 = 450. Produced in (05:00Z, 13:00Z]: A 300 + C 50 + 50 = 400
    # (C's count at 13:00Z belongs to the early shift: start < ts <= end).
    # Attainment 400 / 450 = 8/9. Volume and mix: min(300, 300) + min(150, 0) + min(0, 100)
    # = 300 / 450 = 2/3. Sequence: A and B planned to start here, started 05:10Z, 13:00Z
    # in the planned order: 2/2. In window: A's window ends 10:30Z; started 05:10Z >=
    # 05:00Z, complete 10:30Z <= 10:30Z: 1/1.
    # Delivery: A complete 10:30Z <= due 12:00Z, C 13:00Z <= 18:30Z, both decided here and
    # on time: 2/2, by quantity (300 + 100) / 400. B is decided at its due, 16:00Z (late).
    r = plan_actual(ORDERS, RUNS, COUNTS, z(5), z(13), calendar=CAL)
    assert (r.planned, r.produced) == (450.0, 400)
    assert r.attainment == pytest.approx(8 / 9, rel=1e-12)
    assert r.volume_mix == pytest.approx(2 / 3, rel=1e-12)
    assert (r.sequence, r.sequence_orders, r.in_window, r.window_orders) == (1.0, 2, 1.0, 1)
    assert (r.otd_count, r.otd_quantity, r.delivered_orders, r.delivered_quantity) == (
        1.0, 1.0, 2, 400,
    )  # fmt: skip
    assert r.orders == (
        OrderPlan("A", 300.0, 300), OrderPlan("B", 150.0, 0), OrderPlan("C", 0.0, 100),
    )  # fmt: skip


def test_late_shift() -> None:
    # Planned: B 90 + C 100 = 190. Produced in (13:00Z, 21:00Z]: B 240. Attainment 240 /
    # 190 = 24/19; volume and mix min(90, 240) + min(100, 0) = 90 / 190 = 9/19. Sequence:
    # C planned to start here, started (10:40Z): 1/1. In window: B's window ends 14:30Z,
    # complete 17:00Z: no; C's ends 18:30Z, started 10:40Z < 14:30Z: no. 0/2.
    # Delivery: B decided at its due 16:00Z, late: 0/1; by quantity 180 good by 16:00Z of
    # 240: 3/4.
    r = plan_actual(ORDERS, RUNS, COUNTS, z(13), z(21), calendar=CAL)
    assert (r.planned, r.produced) == (190.0, 240)
    assert r.attainment == pytest.approx(24 / 19, rel=1e-12)
    assert r.volume_mix == pytest.approx(9 / 19, rel=1e-12)
    assert (r.sequence, r.in_window, r.window_orders) == (1.0, 0.0, 2)
    assert (r.otd_count, r.otd_quantity, r.on_time_quantity) == (0.0, 0.75, 180)


def test_week_with_one_late_order() -> None:
    # The plant week Monday 00:00 local (06 Dec 23:00Z) to the next Monday. Planned 640,
    # produced 640: attainment 1, volume and mix 1. Sequence: planned A, B, C; started
    # 05:10Z, 13:00Z, 10:40Z: the longest run in planned order is 2 of 3 (C jumped B).
    # In window: only A: 1/3. Delivery: A and C on time, B late: by count 2/3; by
    # quantity (300 + 180 + 100) / 640 = 580/640 = 29/32.
    r = plan_actual(ORDERS, RUNS, COUNTS, z(23, day=6), z(23, day=13), calendar=CAL)
    assert (r.planned, r.produced, r.attainment, r.volume_mix) == (640.0, 640, 1.0, 1.0)
    assert r.sequence == pytest.approx(2 / 3, rel=1e-12)
    assert r.in_window == pytest.approx(1 / 3, rel=1e-12)
    assert r.otd_count == pytest.approx(2 / 3, rel=1e-12)
    assert r.otd_quantity == 29 / 32
    # A tolerance of 4 h lets C's start (10:40Z >= 14:30Z - 4 h) and B's end (17:00Z <=
    # 14:30Z + 4 h) pass: 3/3.
    tol = plan_actual(
        ORDERS, RUNS, COUNTS, z(23, day=6), z(23, day=13), calendar=CAL,
        tolerance=timedelta(hours=4),
    )  # fmt: skip
    assert tol.in_window == 1.0


def test_week_seen_midway_counts_only_what_is_decided() -> None:
    # At 14:00Z: B is not due (16:00Z) and not complete: not yet counted; A and C on
    # time: 2/2. Produced by then: 300 + 100 + 60 = 460.
    r = plan_actual(
        ORDERS, RUNS, COUNTS, z(23, day=6), z(23, day=13), calendar=CAL, now=z(14)
    )  # fmt: skip
    assert (r.otd_count, r.delivered_orders, r.produced) == (1.0, 2, 460)


def test_nothing_planned_gives_none() -> None:
    r = plan_actual(ORDERS, RUNS, COUNTS, z(23, day=7), z(23, day=8), calendar=CAL)
    assert (r.planned, r.attainment, r.volume_mix, r.sequence, r.otd_count) == (
        0.0, None, None, None, None,
    )  # fmt: skip


def test_bad_period_is_refused() -> None:
    with pytest.raises(ValueError) as e:
        plan_actual(ORDERS, RUNS, COUNTS, z(13), z(5), calendar=CAL)
    assert str(e.value) == (
        "period ends (2026-12-07T05:00:00+00:00) before it starts (2026-12-07T13:00:00+00:00)"
    )
    with pytest.raises(ValueError) as e:
        plan_actual(ORDERS, RUNS, COUNTS, datetime(2026, 12, 7, 5), z(13), calendar=CAL)
    assert str(e.value) == "start: naive datetime 2026-12-07T05:00:00, pass an aware (UTC) one"
