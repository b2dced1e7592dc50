"""The benchmark's own arithmetic: slot deadlines, answer percentiles of a window, RSS slope."""

from __future__ import annotations

import math

import pytest

from bench.bare_modbus import Lateness, first_deadlines
from bench.load import _answer_percentiles
from bench.memory import Sample, growth_mb_per_min


def test_one_slot_per_machine_spreads_them_evenly() -> None:
    assert first_deadlines(10.0, 1.0, 4, 4) == [10.0, 10.25, 10.5, 10.75]


def test_slots_group_machines_that_poll_at_once() -> None:
    # 6 machines in 3 slots: two at a time, a third of the interval apart.
    got = first_deadlines(0.0, 0.9, 6, 3)
    assert got == pytest.approx([0.0, 0.0, 0.3, 0.3, 0.6, 0.6])


def test_more_slots_than_machines_is_one_slot_each() -> None:
    assert first_deadlines(0.0, 1.0, 2, 20) == [0.0, 0.5]


def test_window_percentiles_leave_out_what_came_before() -> None:
    before = Lateness()
    for _ in range(100):
        before.add(0.500)  # slow answers during the warm-up
    after = Lateness()
    after.buckets.update(before.buckets)
    for ms in range(1, 101):  # then 1..100 ms, once each
        after.add(ms / 1000)
    got = _answer_percentiles(dict(before.buckets), dict(after.buckets))
    # Histogram buckets are 1 % wide above 1 ms: the lower bound of the value's bucket.
    assert got["answer_p50_ms"] == pytest.approx(50.0, rel=0.01)
    assert got["answer_p99_ms"] == pytest.approx(99.0, rel=0.01)
    assert _answer_percentiles(dict(after.buckets), dict(after.buckets)) == {}


def test_of_buckets_rebuilds_count_and_max() -> None:
    h = Lateness.of_buckets({500: 3, 2000: 1, 7: 0})
    assert (h.count, h.max_s, h.percentile_ms(50)) == (4, 0.002, 0.5)


def test_rss_growth_is_the_least_squares_slope() -> None:
    rising = [Sample(m, 100 + 2 * m, 0, 0, 0) for m in (0.5, 1.0, 1.5, 2.0)]
    assert growth_mb_per_min(rising) == pytest.approx(2.0)
    assert math.isnan(growth_mb_per_min(rising[:1]))
