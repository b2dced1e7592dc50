"""Bounded count memory: the packed log, a sliding window resolved to steps, and shift and
day windows that merge counts per period and stay exact."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from oee.countlog import CountLog, micros
from oee.states import MachineState as S
from oee.tracker import MachineTracker, WindowSpec
from tests.oee.test_tracker import BERLIN, at, by_name


def test_micros_is_exact_to_the_microsecond() -> None:
    assert micros(datetime(1970, 1, 1, 0, 0, 1, 7, tzinfo=UTC)) == 1_000_007
    assert micros(datetime(2026, 3, 2, 4, 0, 0, 999_999, tzinfo=UTC)) == 1_772_424_000_999_999


def test_entries_of_one_cell_merge_and_leave_together() -> None:
    log = CountLog()
    log.add(10, (1, 1, 0, 0, 5, 5, 0, 0, 0), cell=1)
    log.add(20, (2, 1, 1, 0, 10, 5, 0, 5, 2), cell=1)
    log.add(30, (4, 4, 0, 0, 20, 20, 0, 0, 0), cell=2)
    log.add(40, (1, 0, 1, 1, 5, 0, 5, 0, 0), cell=None)
    assert len(log) == 3
    assert log.sums == [8, 6, 2, 1, 40, 30, 5, 5, 2]
    assert log.after(30) == [1, 0, 1, 1, 5, 0, 5, 0, 0]
    assert log.after(20) == [5, 4, 1, 1, 25, 20, 5, 0, 0]
    log.evict(19)  # the merged entry is dated at its last count (20): it stays whole
    assert (len(log), log.sums[0]) == (3, 8)
    log.evict(20)
    assert (len(log), log.sums) == (2, [5, 4, 1, 1, 25, 20, 5, 0, 0])
    log.evict(40)
    assert (len(log), log.sums) == (0, [0] * 9)
    log.add(50, (1, 1, 0, 0, 0, 0, 0, 0, 0), cell=2)  # an emptied log merges into nothing
    assert len(log) == 1


def test_compaction_keeps_order_and_sums() -> None:
    log, slots = CountLog(), 0
    for i in range(1, 10_001):
        log.add(i, (1, 0, 0, 0, i, 0, 0, 0, 0), cell=None)
        log.evict(i - 100)  # keep the last 100
        slots = max(slots, len(log._at))
    assert len(log) == 100
    assert log.sums[:1] == [100] and log.sums[4] == sum(range(9_901, 10_001))
    assert log.after(9_990) == [10, 0, 0, 0, sum(range(9_991, 10_001)), 0, 0, 0, 0]
    # The arrays are shifted down as the head advances: 100 held in at most 131 slots.
    assert slots == 131


def _part_a_second(t: MachineTracker, seconds: int) -> None:
    t.state(at(0), S.RUNNING)
    for k in range(1, seconds + 1):
        t.count(at(k), 1, 1, 1.0)


def test_a_sliding_hour_holds_at_most_one_entry_per_step() -> None:
    exact = MachineTracker([WindowSpec("1h", "sliding", 3600)])
    stepped = MachineTracker([WindowSpec("1h", "sliding", 3600, count_step_s=6)])
    for t in (exact, stepped):
        _part_a_second(t, 3 * 3600 + 3)
    ((e,), (s,)) = exact.reports(at(10_803)), stepped.reports(at(10_803))
    # (7203, 10803]: 3,600 parts. Stepped, the cell (7200, 7206] leaves only when its
    # last count does: the window's edge takes 7201..7203 too.
    assert (e.report.counts.total, s.report.counts.total) == (3600, 3603)
    assert (len(exact.windows[0].acc.counts), len(stepped.windows[0].acc.counts)) == (3600, 601)
    assert e.report.run_s == s.report.run_s == 3600.0


def test_shift_and_day_windows_merge_per_period_and_stay_exact() -> None:
    # early shift 05:00-13:00 UTC; the late shift follows. A part a second from 04:00.
    t = MachineTracker([WindowSpec("shift", "shift"), WindowSpec("day", "day")], calendar=BERLIN)
    t.state(at(0), S.RUNNING)
    for k in range(1, 9 * 3600 + 61):
        t.count(at(k), 1, 1, 1.0)
        if k % 600 == 300:  # reports every 10 min, none at the shift change
            t.reports(at(k))
    reps = t.reports(at(9 * 3600 + 60))
    shifts = [(r.final, r.report.counts.total) for r in reps if r.name == "shift"]
    assert shifts == [(True, 8 * 3600), (False, 60)]  # (05:00, 13:00] and (13:00, 13:01]
    assert by_name(reps)["day"].report.counts.total == 9 * 3600 + 60
    shift_w, day_w = t.windows
    assert (len(shift_w.acc.counts), len(day_w.acc.counts)) == (1, 1)


def test_a_count_between_reports_past_the_period_end_is_kept_apart() -> None:
    t = MachineTracker([WindowSpec("shift", "shift")], calendar=BERLIN)
    t.state(at(0), S.RUNNING)
    t.reports(at(8 * 3600))  # 12:00 UTC, in the early shift
    t.count(at(9 * 3600), 5, 5, 1.0)  # 13:00: the early shift's last instant
    t.count(at(9 * 3600) + timedelta(microseconds=1), 7, 7, 1.0)  # the late shift's first
    final, current = (r for r in t.reports(at(9 * 3600 + 10)) if r.name == "shift")
    assert (final.final, final.report.counts.total) == (True, 5)
    assert current.report.counts.total == 7
