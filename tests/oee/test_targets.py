"""Targets, output and rate in a shift: hand-computed cases (a break in the remaining
time, a rate window reaching back over a break, a shift across midnight, a target per
product, a machine without an ideal cycle time, a line's sum)."""

from __future__ import annotations

from datetime import UTC, datetime, time

import pytest

from oee.calendar import Break, Calendar, Shift, ShiftInstance
from oee.targets import Made, Output, combine_outputs, output, planned_spans, rate_start

# Europe/Berlin is UTC+1 in December: early 06:00-14:00 local = 05:00Z-13:00Z, its break
# 10:00-10:30 local = 09:00Z-09:30Z; planned time 8 h - 0.5 h = 7.5 h = 27000 s.
CAL = Calendar(
    "Europe/Berlin",
    shifts=(Shift("early", time(6), time(14)), Shift("night", time(22), time(6))),
    breaks=(Break("lunch", time(10), time(10, 30), shift="early"),),
)
EARLY = ShiftInstance(
    "early", datetime(2026, 12, 7, 5, tzinfo=UTC), datetime(2026, 12, 7, 13, tzinfo=UTC)
)


def z(h: int, m: int = 0, day: int = 7) -> datetime:
    return datetime(2026, 12, day, h, m, tzinfo=UTC)


def test_break_in_the_remaining_time() -> None:
    # At 08:00Z: 3 h elapsed (05:00Z-08:00Z, 06:00-09:00 local) = 10800 s planned;
    # remaining 08:00Z-13:00Z = 5 h minus the 0.5 h break = 4.5 h = 16200 s.
    # Target: 27000 s / 12 s = 2250 parts; due: 2250 x 10800 / 27000 = 900.
    # Rate: good counted in (07:45Z, 08:00Z] = 30 + 20 = 50 in 900 s = 200/h.
    # Expected: 570 + 200 x 4.5 = 1470 < 2250: not on track. Average 570 / 3 h = 190/h.
    recent = [(z(7, 40), 99), (z(7, 45), 7), (z(7, 50), 30), (z(8), 20)]
    out = output(
        EARLY, CAL, z(8), [Made("P1", 570, 30)], recent, ideal_s={"P1": 12.0}, current="P1"
    )
    assert out == Output(
        at=z(8), good=570, reject=30, total=600, target=2250.0, target_source="ideal",
        due=900.0, planned_s=27000.0, elapsed_s=10800.0, remaining_s=16200.0,
        rate_per_h=200.0, rate_window_s=900.0, average_per_h=190.0, expected=1470.0,
        on_track=False,
    )  # fmt: skip


def test_rate_window_reaches_back_over_the_break() -> None:
    # At 09:40Z, 10 min after the break: the last 15 min of planned time are
    # 08:55Z-09:00Z and 09:30Z-09:40Z, so the rate starts at 08:55Z. Good parts in
    # (08:55Z, 09:40Z]: 30 (08:57Z) + 15 (09:35Z) = 45 in 900 s = 180/h.
    # Elapsed 4 h + 10 min = 15000 s; remaining 09:40Z-13:00Z = 12000 s.
    # Expected: 1000 + 180 x 12000 / 3600 = 1600; target 2250: not on track.
    recent = [(z(8, 54), 20), (z(8, 57), 30), (z(9, 35), 15)]
    out = output(EARLY, CAL, z(9, 40), [Made("P1", 1000, 0)], recent, ideal_s={"P1": 12.0})
    assert (out.elapsed_s, out.remaining_s, out.rate_window_s) == (15000.0, 12000.0, 900.0)
    assert out.rate_per_h == 180.0
    assert out.expected == 1600.0
    assert out.on_track is False
    # Due: 2250 x 15000 / 27000 = 1250, the break not counted against the shift.
    assert out.due == 1250.0


def test_shift_across_midnight_with_a_target_per_shift() -> None:
    # night 22:00-06:00 local = 21:00Z (6 Dec) - 05:00Z (7 Dec), no break: 28800 s.
    # At 00:30Z: 3.5 h elapsed (12600 s), 4.5 h remaining (16200 s).
    # Configured target 1800 parts; due 1800 x 12600 / 28800 = 787.5.
    # Rate: 60 + 40 good in (00:15Z, 00:30Z] = 100 per 15 min = 400/h;
    # expected 700 + 400 x 4.5 = 2500 >= 1800: on track.
    night = CAL.shift_by_id("2026-12-06/night")
    assert night is not None and (night.start, night.end) == (z(21, day=6), z(5))
    recent = [(z(0, 20), 60), (z(0, 25), 40)]
    out = output(
        night, CAL, z(0, 30), [Made("P1", 700, 0)], recent,
        ideal_s={"P1": 12.0}, per_shift={"night": 1800},
    )  # fmt: skip
    assert (out.target, out.target_source, out.due) == (1800.0, "per_shift", 787.5)
    assert (out.elapsed_s, out.remaining_s) == (12600.0, 16200.0)
    assert (out.rate_per_h, out.expected, out.on_track) == (400.0, 2500.0, True)
    assert out.average_per_h == 200.0  # 700 / 3.5 h


def test_target_per_product_weighs_the_mix_made() -> None:
    # P2 configured at 200 parts/h = an 18 s cycle; P1 keeps its ideal 12 s.
    # Mix so far: 300 P1 and 100 P2 -> 300 x 12 + 100 x 18 = 5400 s for 400 parts:
    # target = 27000 s x 400 / 5400 s = 2000 parts.
    made = [Made("P1", 300, 0), Made("P2", 90, 10)]
    out = output(
        EARLY, CAL, z(8), made, [], ideal_s={"P1": 12.0, "P2": 15.0}, per_hour={"P2": 200.0}
    )
    assert (out.target, out.target_source) == (2000.0, "per_hour")
    assert (out.good, out.reject, out.total) == (390, 10, 400)
    # No count in the rate window: a rate of 0, so only what is made now is expected.
    assert (out.rate_per_h, out.expected, out.on_track) == (0.0, 390.0, False)


def test_before_the_first_part_the_current_product_sets_the_target() -> None:
    # 27000 s / 18 s (200 parts/h configured) = 1500 parts.
    out = output(EARLY, CAL, z(5, 30), [], [], ideal_s={"P2": 15.0}, current="P2",
                 per_hour={"P2": 200.0})  # fmt: skip
    assert (out.target, out.due) == (1500.0, 1500.0 * 1800 / 27000)


def test_machine_without_an_ideal_cycle_time_has_no_target() -> None:
    # The rate still stands: 45 good in the 15 min to 08:00Z = 180/h.
    out = output(EARLY, CAL, z(8), [Made(None, 45, 0)], [(z(7, 50), 45)], ideal_s={})
    assert (out.target, out.target_source, out.due, out.on_track) == (None, None, None, None)
    assert (out.rate_per_h, out.expected) == (180.0, 45.0 + 180.0 * 4.5)


def test_at_the_start_and_after_the_end() -> None:
    start = output(EARLY, CAL, z(4), [], [], ideal_s={None: 12.0})
    assert (start.at, start.elapsed_s, start.rate_per_h, start.average_per_h) == (
        z(5), 0.0, None, None,
    )  # fmt: skip
    end = output(EARLY, CAL, z(14), [Made(None, 2000, 0)], [], ideal_s={None: 12.0})
    # Over: the expected total is what was made; 2000 < 2250.
    assert (end.at, end.remaining_s, end.expected, end.on_track) == (z(13), 0.0, 2000.0, False)


def test_planned_spans_and_rate_start() -> None:
    spans = planned_spans(CAL, z(5), z(13))
    assert spans == [(z(5), z(9)), (z(9, 30), z(13))]
    assert rate_start(spans, 3600) == z(12)
    assert rate_start([(z(5), z(9)), (z(9, 30), z(9, 40))], 900) == z(8, 55)
    assert rate_start([(z(5), z(5, 5))], 900) == z(5)
    assert rate_start([], 900) is None


def test_line_sums_its_machines() -> None:
    a = output(EARLY, CAL, z(8), [Made("P1", 570, 30)], [(z(7, 50), 50)], ideal_s={"P1": 12.0})
    b = output(EARLY, CAL, z(8), [Made("P1", 300, 0)], [(z(7, 50), 100)], ideal_s={"P1": 24.0})
    line = combine_outputs([a, b])
    # Targets 2250 + 1125; rates 200 + 400; expected (570 + 900) + (300 + 1800).
    assert line is not None
    assert (line.good, line.reject, line.target, line.rate_per_h) == (870, 30, 3375.0, 600.0)
    assert (line.expected, line.on_track) == (3570.0, True)
    configured = combine_outputs([a, b], per_shift_target=4000)
    assert configured is not None
    # Due: 4000 x 10800 / 27000 = 1600; 3570 < 4000.
    assert (configured.target, configured.due, configured.on_track) == (4000.0, 1600.0, False)
    assert combine_outputs([]) is None


def test_naive_now_is_refused() -> None:
    with pytest.raises(TypeError):
        output(EARLY, CAL, datetime(2026, 12, 7, 8), [], [], ideal_s={})
