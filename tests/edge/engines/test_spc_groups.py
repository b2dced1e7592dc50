"""How readings and counts become subgroups (edge.engines.spc_groups): by count, by time
(the first n readings after each interval start, a short one closed at the interval's
end), per parts (a delta that crosses the boundary split) and per interval. Hand-made
cases; each expected subgroup written out."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from edge.engines.spc_groups import Counts, Readings, interval_start
from oee.spc import Subgroup

T0 = datetime(2026, 12, 7, 8, 0, tzinfo=UTC)


def at(s: float) -> datetime:
    return T0 + timedelta(seconds=s)


def test_by_count_consecutive_readings() -> None:
    r = Readings(size=3)
    out = [g for i, v in enumerate([1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0]) for g in r.add(v, at(i))]
    assert out == [Subgroup(at(2), (1.0, 2.0, 3.0)), Subgroup(at(5), (4.0, 5.0, 6.0))]
    assert r.values == [7.0] and r.due(at(100)) == []  # by count: nothing closes by time


def test_by_time_the_first_n_after_each_interval_start() -> None:
    # every 60 s, size 2: 08:00:10 and :20 form the first subgroup, :30 is skipped; the
    # next interval's first two (08:01:05, :07) the second.
    r = Readings(size=2, every_s=60, minimum=2)
    out = []
    for s, v in ((10, 1.0), (20, 2.0), (30, 9.0), (65, 3.0), (67, 4.0), (70, 9.0)):
        out += r.add(v, at(s))
    assert out == [Subgroup(at(20), (1.0, 2.0)), Subgroup(at(67), (3.0, 4.0))]


def test_an_interval_that_ends_short_closes_a_short_subgroup() -> None:
    # size 5 every 60 s: 3 readings in 08:00-08:01, then nothing: at 08:01:00 the
    # interval is over, the 3 readings close (x̄ with n = 3); 1 reading alone does not.
    r = Readings(size=5, every_s=60, minimum=2)
    for s in (1, 2, 3):
        assert r.add(float(s), at(s)) == []
    assert r.due(at(59.9)) == []
    assert r.due(at(60)) == [Subgroup(at(3), (1.0, 2.0, 3.0))]
    assert r.add(4.0, at(61)) == []
    assert r.add(5.0, at(130)) == []  # 08:01's single reading is dropped
    assert r.values == [5.0] and r.interval == at(120)


def test_intervals_are_cut_from_the_epoch() -> None:
    assert interval_start(at(59.999), 60) == T0
    assert interval_start(at(60), 60) == at(60)
    assert interval_start(at(3599), 3600) == T0


def test_p_per_parts_splits_a_delta_that_crosses_the_boundary() -> None:
    # 50 parts per subgroup: 30 (2 rejects), then 40 (4 rejects): 20 of them close the
    # first subgroup with round(4 x 20/40) = 2 of their rejects (2 + 2 = 4 in 50), the
    # other 20 and 2 rejects start the next.
    c = Counts("p", parts=50)
    assert c.counted(30, 2, at(1)) == []
    assert c.counted(40, 4, at(2)) == [Subgroup(at(2), count=4, size=50.0)]
    assert (c.size, c.count) == (20, 2)
    # a part found reject later: total 0, good -1, reject +1 moves one reject in
    assert c.counted(0, 1, at(3)) == [] and c.count == 3
    # 140 parts: 30 complete the open subgroup, 100 make two more, 10 stay open
    assert c.counted(140, 0, at(4)) == [
        Subgroup(at(4), count=3, size=50.0),
        Subgroup(at(4), count=0, size=50.0),
        Subgroup(at(4), count=0, size=50.0),
    ]
    assert (c.size, c.count) == (10, 0)


def test_p_per_interval_and_no_point_without_parts() -> None:
    c = Counts("p", every_s=60)
    assert c.counted(10, 1, at(5)) == [] and c.counted(15, 2, at(50)) == []
    assert c.due(at(60)) == [Subgroup(at(60), count=3, size=25)]
    assert c.due(at(120)) == []  # 08:01-08:02: no parts made, nothing inspected


def test_c_counts_defects_per_interval_u_per_part_made() -> None:
    c = Counts("c", every_s=60)
    assert c.defects(2, at(10)) == [] and c.defects(1, at(20)) == []
    assert c.due(at(60)) == [Subgroup(at(60), count=3, size=1.0)]
    assert c.due(at(120)) == [Subgroup(at(120), count=0, size=1.0)]  # an interval, no defect
    u = Counts("u", every_s=60)
    u.counted(40, 0, at(1))
    u.defects(5, at(2))
    assert u.counted(10, 0, at(61)) == [Subgroup(at(60), count=5, size=40)]
    assert (u.size, u.count) == (10, 0)
