"""Planning calendar: hand-computed cases (shifts across midnight, DST, precedence) and
property tests against a brute-force reference on a one-minute grid."""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from itertools import accumulate
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from oee.calendar import (
    Break,
    Calendar,
    PlannedKind,
    PlannedPeriod,
    PlannedStop,
    Shift,
    ShiftInstance,
)

H = timedelta(hours=1)
MIN = timedelta(minutes=1)
WEEKDAYS = frozenset(range(5))


def u(y: int, mo: int, d: int, h: int = 0, mi: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, tzinfo=UTC)


def total(stops: list[PlannedStop]) -> timedelta:
    return sum((s.end - s.start for s in stops), timedelta(0))


def rows(stops: list[PlannedStop]) -> list[tuple[datetime, datetime, str, str | None]]:
    return [(s.start, s.end, s.kind, s.name) for s in stops]


# --- hand-computed cases (Europe/Berlin in January is CET, UTC+1) ---------------------------


def test_night_shift_crosses_midnight_with_break_after_midnight() -> None:
    cal = Calendar(
        "Europe/Berlin",
        (Shift("night", time(22), time(6)),),
        (Break("meal", time(2), time(2, 30), shift="night"),),
    )
    # Local Tue 2026-01-13 00:00 to Wed 00:00.
    stops = cal.planned_stops(u(2026, 1, 12, 23), u(2026, 1, 13, 23))
    assert rows(stops) == [
        (u(2026, 1, 13, 1), u(2026, 1, 13, 1, 30), "break", "meal"),  # 02:00-02:30 local
        (u(2026, 1, 13, 5), u(2026, 1, 13, 21), "no_shift", None),  # 06:00-22:00 local
    ]
    # Production 00:00-02:00, 02:30-06:00, 22:00-24:00 = 7.5 h.
    assert 24 * H - total(stops) == timedelta(hours=7, minutes=30)
    night_mon = ShiftInstance("night", u(2026, 1, 12, 21), u(2026, 1, 13, 5))
    night_tue = ShiftInstance("night", u(2026, 1, 13, 21), u(2026, 1, 14, 5))
    assert cal.shifts_between(u(2026, 1, 12, 23), u(2026, 1, 13, 23)) == [night_mon, night_tue]
    assert cal.shift_at(u(2026, 1, 13, 3)) == night_mon
    assert cal.shift_at(u(2026, 1, 13, 5)) is None  # the end is exclusive
    assert cal.shift_window(u(2026, 1, 13, 3)) == (u(2026, 1, 12, 21), u(2026, 1, 13, 5))
    assert cal.shift_window(u(2026, 1, 13, 12)) is None


def test_break_across_midnight_is_one_stop() -> None:
    cal = Calendar(
        "Europe/Berlin",
        (Shift("night", time(22), time(6)),),
        (Break("midnight", time(23, 45), time(0, 15)),),
    )
    stops = cal.planned_stops(u(2026, 1, 12, 19), u(2026, 1, 13, 7))  # local 20:00 to 08:00
    assert rows(stops) == [
        (u(2026, 1, 12, 19), u(2026, 1, 12, 21), "no_shift", None),
        (u(2026, 1, 12, 22, 45), u(2026, 1, 12, 23, 15), "break", "midnight"),
        (u(2026, 1, 13, 5), u(2026, 1, 13, 7), "no_shift", None),
    ]


def test_weekday_only_shifts_leave_the_weekend_as_no_shift() -> None:
    cal = Calendar(
        "Europe/Berlin",
        (Shift("early", time(6), time(14), WEEKDAYS), Shift("late", time(14), time(22), WEEKDAYS)),
    )
    # Local Fri 2026-01-16 00:00 to Mon 2026-01-19 12:00: 84 h.
    start, end = u(2026, 1, 15, 23), u(2026, 1, 19, 11)
    stops = cal.planned_stops(start, end)
    assert rows(stops) == [
        (u(2026, 1, 15, 23), u(2026, 1, 16, 5), "no_shift", None),  # Fri 00:00-06:00
        (u(2026, 1, 16, 21), u(2026, 1, 19, 5), "no_shift", None),  # Fri 22:00-Mon 06:00
    ]
    assert total(stops) == 62 * H  # 6 h + 56 h; production 16 h Fri + 6 h Mon = 22 h
    assert end - start - total(stops) == 22 * H
    assert cal.shifts_between(start, end) == [
        ShiftInstance("early", u(2026, 1, 16, 5), u(2026, 1, 16, 13)),
        ShiftInstance("late", u(2026, 1, 16, 13), u(2026, 1, 16, 21)),
        ShiftInstance("early", u(2026, 1, 19, 5), u(2026, 1, 19, 13)),  # not clipped
    ]
    assert cal.shift_at(u(2026, 1, 17, 10)) is None  # Saturday


def _day_shift_calendar(*planned: PlannedPeriod) -> Calendar:
    return Calendar(
        "Europe/Berlin",
        (Shift("day", time(6), time(14)),),
        (Break("lunch", time(10), time(10, 30)),),
        planned,
    )


def test_maintenance_and_no_order_win_over_a_break() -> None:
    cal = _day_shift_calendar(
        PlannedPeriod(u(2026, 1, 14, 8, 45), u(2026, 1, 14, 9, 10), "maintenance", "PM spindle"),
        PlannedPeriod(u(2026, 1, 14, 9, 20), u(2026, 1, 14, 10), "no_order", "no orders"),
    )
    # Local 06:00-14:00. Maintenance 09:45-10:10, lunch 10:00-10:30, no order 10:20-11:00.
    stops = cal.planned_stops(u(2026, 1, 14, 5), u(2026, 1, 14, 13))
    assert rows(stops) == [
        (u(2026, 1, 14, 8, 45), u(2026, 1, 14, 9, 10), "maintenance", "PM spindle"),
        (u(2026, 1, 14, 9, 10), u(2026, 1, 14, 9, 20), "break", "lunch"),
        (u(2026, 1, 14, 9, 20), u(2026, 1, 14, 10), "no_order", "no orders"),
    ]
    assert 8 * H - total(stops) == timedelta(hours=6, minutes=45)


def test_planned_period_outside_the_shift_beats_no_shift() -> None:
    cal = _day_shift_calendar(
        PlannedPeriod(u(2026, 1, 14, 12), u(2026, 1, 14, 14), "maintenance", "overhaul")
    )
    stops = cal.planned_stops(u(2026, 1, 14, 11), u(2026, 1, 14, 15))  # local 12:00-16:00
    assert rows(stops) == [
        (u(2026, 1, 14, 12), u(2026, 1, 14, 14), "maintenance", "overhaul"),
        (u(2026, 1, 14, 14), u(2026, 1, 14, 15), "no_shift", None),
    ]


def test_planned_periods_of_one_kind_are_named_by_the_first_listed() -> None:
    cal = _day_shift_calendar(
        PlannedPeriod(u(2026, 1, 14, 6), u(2026, 1, 14, 8), "maintenance", "a"),
        PlannedPeriod(u(2026, 1, 14, 7), u(2026, 1, 14, 9), "maintenance", "b"),
        PlannedPeriod(u(2026, 1, 14, 9), u(2026, 1, 14, 9, 15), "other", "b"),
    )
    assert rows(cal.planned_stops(u(2026, 1, 14, 5), u(2026, 1, 14, 13))) == [
        (u(2026, 1, 14, 6), u(2026, 1, 14, 8), "maintenance", "a"),
        (u(2026, 1, 14, 8), u(2026, 1, 14, 9), "maintenance", "b"),
        (u(2026, 1, 14, 9), u(2026, 1, 14, 9, 15), "other", "b"),
        (u(2026, 1, 14, 9, 15), u(2026, 1, 14, 9, 30), "break", "lunch"),
    ]


def test_window_starting_mid_shift() -> None:
    cal = Calendar(
        "Europe/Berlin",
        (Shift("early", time(6), time(14)), Shift("late", time(14), time(22))),
        (
            Break("breakfast", time(9), time(9, 30), shift="early"),
            Break("not here", time(10), time(10, 15), shift="late"),  # inside early: no stop
        ),
    )
    start, end = u(2026, 1, 14, 8, 17), u(2026, 1, 14, 22)  # local 09:17 to 23:00
    assert rows(cal.planned_stops(start, end)) == [
        (u(2026, 1, 14, 8, 17), u(2026, 1, 14, 8, 30), "break", "breakfast"),
        (u(2026, 1, 14, 21), u(2026, 1, 14, 22), "no_shift", None),
    ]
    assert cal.shifts_between(start, end) == [
        ShiftInstance("early", u(2026, 1, 14, 5), u(2026, 1, 14, 13)),
        ShiftInstance("late", u(2026, 1, 14, 13), u(2026, 1, 14, 21)),
    ]
    assert cal.shift_window(start) == (u(2026, 1, 14, 5), u(2026, 1, 14, 13))
    assert cal.planned_stops(start, start) == []


def test_overlapping_shifts_the_latest_started_is_current() -> None:
    cal = Calendar("UTC", (Shift("a", time(6), time(15)), Shift("b", time(14), time(22))))
    assert cal.shift_at(u(2026, 5, 4, 13, 59)) == ShiftInstance(
        "a", u(2026, 5, 4, 6), u(2026, 5, 4, 15)
    )
    assert cal.shift_at(u(2026, 5, 4, 14)) == ShiftInstance(
        "b", u(2026, 5, 4, 14), u(2026, 5, 4, 22)
    )
    assert cal.planned_stops(u(2026, 5, 4, 6), u(2026, 5, 4, 22)) == []


# --- DST: Europe/Berlin 2026-03-29 (02:00 CET -> 03:00 CEST) and 2026-10-25 (03:00 -> 02:00)


def test_plant_days_on_dst_days() -> None:
    # day_start 06:00 Berlin. The 28th's 06:00 is CET (UTC+1): 05:00 UTC; the 29th's
    # 06:00 is after the change (CEST, UTC+2): 04:00 UTC. So the plant day of the 28th
    # runs 05:00 UTC to 04:00 UTC the next day: 23 h.
    cal = Calendar("Europe/Berlin", day_start=time(6))
    spring = cal.day_of(date(2026, 3, 28))
    assert (spring.start, spring.end, spring.id) == (
        u(2026, 3, 28, 5),
        u(2026, 3, 29, 4),
        "2026-03-28",
    )
    assert spring.end - spring.start == 23 * H
    # 2026-10-24 06:00 CEST = 04:00 UTC; 2026-10-25 06:00 CET = 05:00 UTC: 25 h.
    fall = cal.day_of(date(2026, 10, 24))
    assert (fall.start, fall.end) == (u(2026, 10, 24, 4), u(2026, 10, 25, 5))
    assert fall.end - fall.start == 25 * H
    # 03:00 UTC on the 29th is 05:00 CEST, before that day's 06:00: still the 28th's day.
    assert cal.plant_day(u(2026, 3, 29, 3)) == spring
    assert cal.plant_day(u(2026, 3, 29, 4)).id == "2026-03-29"
    days = cal.days_between(u(2026, 3, 28, 12), u(2026, 3, 30, 4))
    assert [d.id for d in days] == ["2026-03-28", "2026-03-29"]
    assert [d.id for d in cal.days_between(u(2026, 3, 29, 4), u(2026, 3, 29, 4))] == ["2026-03-29"]


def test_day_window_on_dst_days() -> None:
    cal = Calendar("Europe/Berlin")
    assert cal.day_window(u(2026, 1, 13, 12)) == (u(2026, 1, 12, 23), u(2026, 1, 13, 23))
    spring = cal.day_window(u(2026, 3, 29, 12))
    assert spring == (u(2026, 3, 28, 23), u(2026, 3, 29, 22))
    assert spring[1] - spring[0] == 23 * H
    fall = cal.day_window(u(2026, 10, 25, 12))
    assert fall == (u(2026, 10, 24, 22), u(2026, 10, 25, 23))
    assert fall[1] - fall[0] == 25 * H
    # Start inclusive, end exclusive.
    assert cal.day_window(u(2026, 3, 28, 23)) == spring
    assert cal.day_window(u(2026, 3, 29, 22)) == (u(2026, 3, 29, 22), u(2026, 3, 30, 22))


def test_day_window_with_a_day_start() -> None:
    cal = Calendar("Europe/Berlin", day_start=time(6))
    # 03:00 UTC is 05:00 CEST on 03-29: still the plant day of 03-28 (06:00 CET = 05:00 UTC).
    assert cal.day_window(u(2026, 3, 29, 3)) == (u(2026, 3, 28, 5), u(2026, 3, 29, 4))
    assert cal.day_window(u(2026, 3, 29, 4)) == (u(2026, 3, 29, 4), u(2026, 3, 30, 4))
    # Input in another zone, output in UTC.
    berlin = datetime(2026, 3, 29, 7, tzinfo=ZoneInfo("Europe/Berlin"))
    assert cal.day_window(berlin)[0].tzinfo is UTC


def test_night_shift_on_dst_nights() -> None:
    cal = Calendar("Europe/Berlin", (Shift("night", time(22), time(6)),))
    spring = cal.shifts_between(u(2026, 3, 28, 22), u(2026, 3, 28, 23))
    assert spring == [ShiftInstance("night", u(2026, 3, 28, 21), u(2026, 3, 29, 4))]  # 7 h
    fall = cal.shifts_between(u(2026, 10, 24, 22), u(2026, 10, 24, 23))
    assert fall == [ShiftInstance("night", u(2026, 10, 24, 20), u(2026, 10, 25, 5))]  # 9 h
    assert cal.shift_at(u(2026, 3, 29, 1, 30)) == spring[0]  # 03:30 CEST
    # Local Sun 03-29 00:00 to Mon 00:00 (23 h): production 00:00-06:00 is 5 h of real time,
    # 22:00-24:00 is 2 h; no shift 06:00-22:00 is 16 h.
    stops = cal.planned_stops(u(2026, 3, 28, 23), u(2026, 3, 29, 22))
    assert rows(stops) == [(u(2026, 3, 29, 4), u(2026, 3, 29, 20), "no_shift", None)]


def test_boundaries_in_the_gap_and_in_the_repeated_hour() -> None:
    sunday, saturday = frozenset({6}), frozenset({5})
    cal = Calendar(
        "Europe/Berlin",
        (
            Shift("gap", time(2, 30), time(10), sunday),
            Shift("fold", time(22), time(2, 30), saturday),
        ),
    )
    # 02:30 does not exist on 03-29: the shift starts at 03:00 CEST = 01:00 UTC (7 h, not 7.5).
    assert cal.shifts_between(u(2026, 3, 29, 0), u(2026, 3, 29, 2))[-1] == ShiftInstance(
        "gap", u(2026, 3, 29, 1), u(2026, 3, 29, 8)
    )
    # 02:30 happens twice on 10-25: the first (CEST, 00:30 UTC) ends the shift (4.5 h).
    assert cal.shift_at(u(2026, 10, 24, 23)) == ShiftInstance(
        "fold", u(2026, 10, 24, 20), u(2026, 10, 25, 0, 30)
    )


def test_kolkata_half_hour_offset() -> None:
    cal = Calendar(
        "Asia/Kolkata",
        (Shift("A", time(6), time(14, 30)),),
        (Break("lunch", time(12), time(12, 30)),),
    )
    stops = cal.planned_stops(u(2026, 6, 1), u(2026, 6, 2))
    assert rows(stops) == [
        (u(2026, 6, 1), u(2026, 6, 1, 0, 30), "no_shift", None),
        (u(2026, 6, 1, 6, 30), u(2026, 6, 1, 7), "break", "lunch"),
        (u(2026, 6, 1, 9), u(2026, 6, 2), "no_shift", None),
    ]
    assert 24 * H - total(stops) == 8 * H
    assert cal.day_window(u(2026, 6, 1, 20)) == (u(2026, 6, 1, 18, 30), u(2026, 6, 2, 18, 30))


def test_24_7_calendar() -> None:
    start, end = u(2026, 1, 11, 23), u(2026, 1, 18, 23)  # local Mon 01-12 to Mon 01-19
    assert Calendar("Europe/Berlin").planned_stops(start, end) == []
    cal = Calendar("Europe/Berlin", breaks=(Break("clean", time(3), time(3, 20)),))
    stops = cal.planned_stops(start, end)
    assert rows(stops) == [
        (u(2026, 1, d, 2), u(2026, 1, d, 2, 20), "break", "clean") for d in range(12, 19)
    ]
    assert end - start - total(stops) == timedelta(days=7, minutes=-140)
    assert cal.shift_at(start) is None and cal.shift_window(start) is None
    assert cal.shifts_between(start, end) == []


def test_a_year_of_stops() -> None:
    cal = Calendar(
        "Europe/Berlin",
        (Shift("day", time(6), time(14), WEEKDAYS),),
        (Break("lunch", time(10), time(10, 30)),),
    )
    start, end = u(2025, 12, 31, 23), u(2026, 12, 31, 23)  # the local year 2026
    stops = cal.planned_stops(start, end)
    # 261 weekdays: 261 lunches, 260 gaps between shifts plus one before and one after.
    assert [sum(s.kind == k for s in stops) for k in ("break", "no_shift")] == [261, 262]
    assert end - start - total(stops) == 261 * timedelta(hours=7, minutes=30)


def test_rejects_naive_and_invalid_input() -> None:
    cal = Calendar("UTC", (Shift("a", time(6), time(14)),))
    naive = datetime(2026, 1, 1)
    for call in (
        lambda: cal.planned_stops(naive, u(2026, 1, 2)),
        lambda: cal.shifts_between(u(2026, 1, 1), naive),
        lambda: cal.shift_at(naive),
        lambda: cal.shift_window(naive),
        lambda: cal.day_window(naive),
        lambda: PlannedPeriod(naive, naive, "other"),
        lambda: cal.planned_stops(u(2026, 1, 2), u(2026, 1, 1)),
        lambda: Calendar("Mars/Olympus"),
        lambda: Calendar("UTC", breaks=(Break("b", time(1), time(2), shift="nope"),)),
        lambda: Shift("a", time(6), time(14), frozenset({7})),
        lambda: PlannedPeriod(u(2026, 1, 2), u(2026, 1, 1), "other"),
        lambda: PlannedPeriod(u(2026, 1, 1), u(2026, 1, 2), "lunch"),  # type: ignore[arg-type]
    ):
        with pytest.raises(ValueError):
            call()


# --- properties, against a reference on a one-minute grid ----------------------------------
#
# The reference implements the DST rule literally: a wall-clock time L falls at the first
# minute whose wall clock (running maximum, since clocks fall back) is at least L. All
# inputs are whole minutes, so every boundary is a whole minute in UTC.

# (zone, a day on which its clocks change): Berlin, New York, Lord Howe (30 min shifts);
# and days without a change.
ZONE_DAYS = [
    ("Europe/Berlin", date(2026, 3, 29)),
    ("Europe/Berlin", date(2026, 10, 25)),
    ("America/New_York", date(2026, 3, 8)),
    ("America/New_York", date(2026, 11, 1)),
    ("Australia/Lord_Howe", date(2026, 4, 5)),
    ("Australia/Lord_Howe", date(2026, 10, 4)),
    ("Asia/Kolkata", date(2026, 6, 15)),
    ("UTC", date(2026, 6, 15)),
    ("Europe/Berlin", date(2026, 6, 15)),
]
GRID_BEFORE, GRID_MINUTES = timedelta(days=4), 9 * 24 * 60


@cache
def _grid(zone: str, base: date) -> tuple[datetime, list[datetime]]:
    """Start of the grid and the running maximum of the wall clock at each minute."""
    g0 = datetime.combine(base, time(0), tzinfo=UTC) - GRID_BEFORE
    z = ZoneInfo(zone)
    walls = ((g0 + i * MIN).astimezone(z).replace(tzinfo=None) for i in range(GRID_MINUTES))
    return g0, list(accumulate(walls, max))


def _ref_map(zone: str, base: date, day: date, at: time) -> int:
    """Minutes from the grid start of the wall-clock time `day` `at`."""
    return bisect_left(_grid(zone, base)[1], datetime.combine(day, at))


def _ref_occurrences(
    cal: Calendar, base: date, items: Sequence[Shift | Break]
) -> list[tuple[int, int, int]]:
    out = []
    for k in range(-3, 4):
        day = base + timedelta(days=k)
        for i, it in enumerate(items):
            if day.weekday() in it.days:
                end_day = day + timedelta(days=1) if it.end <= it.start else day
                s, e = (
                    _ref_map(cal.tz, base, day, it.start),
                    _ref_map(cal.tz, base, end_day, it.end),
                )
                if s < e:
                    out.append((s, e, i))
    return sorted(out, key=lambda x: (x[0], x[2]))  # by start, then listing order


def _reference(cal: Calendar, base: date, a: int, b: int) -> list[tuple[str, str | None] | None]:
    """Per minute of [a, b) (grid minutes): the stop (kind, name), None for production."""
    n = b - a
    by_name: dict[str, list[bool]] = {s.name: [False] * n for s in cal.shifts}
    for s, e, i in _ref_occurrences(cal, base, cal.shifts):
        for m in range(max(s, a) - a, min(e, b) - a):
            by_name[cal.shifts[i].name][m] = True
    in_shift = [not cal.shifts or any(v[m] for v in by_name.values()) for m in range(n)]
    g0 = _grid(cal.tz, base)[0]
    # (rank, order, kind, name, mask or None, s, e)
    paint: list[tuple[int, int, str, str | None, list[bool] | None, int, int]] = []
    for s, e, i in _ref_occurrences(cal, base, cal.breaks):
        br = cal.breaks[i]
        mask = in_shift if br.shift is None else by_name[br.shift]
        paint.append((3, len(cal.planned) + i, "break", br.name, mask, s, e))
    rank = {"maintenance": 0, "no_order": 1, "other": 2, "break": 3}
    for i, p in enumerate(cal.planned):
        s, e = (p.start - g0) // MIN, (p.end - g0) // MIN
        paint.append((rank[p.kind], i, p.kind, p.reason, None, s, e))
    out: list[tuple[str, str | None] | None] = [None if x else ("no_shift", None) for x in in_shift]
    for _, _, kind, name, where, s, e in sorted(paint, reverse=True):  # winners paint last
        for m in range(max(s, a) - a, min(e, b) - a):
            if where is None or where[m]:
                out[m] = (kind, name)
    return out


times = st.one_of(
    st.sampled_from([time(0), time(1, 30), time(1, 45), time(2), time(2, 15), time(2, 30)]),
    st.integers(0, 24 * 60 - 1).map(lambda m: time(m // 60, m % 60)),
)
days = st.frozensets(st.integers(0, 6), min_size=1)


@st.composite
def cases(draw: st.DrawFn) -> tuple[Calendar, date, datetime, datetime]:
    zone, base = draw(st.sampled_from(ZONE_DAYS))
    b0 = datetime.combine(base, time(0), tzinfo=UTC)
    minutes = st.integers(-24 * 60, 2 * 24 * 60).map(lambda m: b0 + m * MIN)
    shifts = draw(
        st.lists(st.builds(Shift, st.sampled_from("xyz"), times, times, days), max_size=3)
    )
    names = st.sampled_from([None] + [s.name for s in shifts])
    breaks = draw(
        st.lists(st.builds(Break, st.sampled_from("bc"), times, times, days, names), max_size=3)
    )
    kinds: st.SearchStrategy[PlannedKind] = st.sampled_from(
        ["maintenance", "no_order", "break", "other"]
    )
    planned = []
    for _ in range(draw(st.integers(0, 3))):
        s = draw(minutes)
        length = draw(st.integers(0, 12 * 60)) * MIN
        planned.append(
            PlannedPeriod(s, s + length, draw(kinds), draw(st.sampled_from([None, "r"])))
        )
    cal = Calendar(zone, tuple(shifts), tuple(breaks), tuple(planned), draw(times))
    start = draw(minutes)
    return cal, base, start, start + draw(st.integers(0, 24 * 60)) * MIN


@settings(max_examples=200, deadline=None)
@given(cases())
def test_stops_partition_the_range(case: tuple[Calendar, date, datetime, datetime]) -> None:
    cal, base, start, end = case
    stops = cal.planned_stops(start, end)
    for s in stops:
        assert start <= s.start < s.end <= end and s.start.tzinfo is UTC
    for x, y in zip(stops, stops[1:], strict=False):
        assert x.end <= y.start and (x.end < y.start or (x.kind, x.name) != (y.kind, y.name))
    g0 = _grid(cal.tz, base)[0]
    a, b = (start - g0) // MIN, (end - g0) // MIN
    got: list[tuple[str, str | None] | None] = [None] * (b - a)
    for s in stops:
        assert (s.start - start) % MIN == timedelta(0) and (s.end - start) % MIN == timedelta(0)
        lo, hi = (s.start - start) // MIN, (s.end - start) // MIN
        got[lo:hi] = [(s.kind, s.name)] * (hi - lo)
    ref = _reference(cal, base, a, b)
    assert got == ref
    production = sum(x is None for x in ref) * MIN
    assert total(stops) + production == end - start


@settings(max_examples=200, deadline=None)
@given(cases(), st.integers(0, 24 * 60))
def test_shifts_agree_with_the_reference(
    case: tuple[Calendar, date, datetime, datetime], offset: int
) -> None:
    cal, base, start, end = case
    g0 = _grid(cal.tz, base)[0]
    occurrences = _ref_occurrences(cal, base, cal.shifts)
    expected = [
        ShiftInstance(cal.shifts[i].name, g0 + s * MIN, g0 + e * MIN)
        for s, e, i in occurrences
        if g0 + s * MIN < end and g0 + e * MIN > start
    ]
    assert cal.shifts_between(start, end) == expected
    t = start + offset * MIN
    containing = [x for x in cal.shifts_between(t - 2 * H, t + 2 * H) if x.start <= t < x.end]
    latest = max(containing, key=lambda x: x.start, default=None)
    assert cal.shift_at(t) == latest
    assert cal.shift_window(t) == (None if latest is None else (latest.start, latest.end))
    day_start, day_end = cal.day_window(t)
    assert day_start <= t < day_end
    local = day_start.astimezone(ZoneInfo(cal.tz)).date()
    assert (g0 + _ref_map(cal.tz, base, local, cal.day_start) * MIN) == day_start
    assert (g0 + _ref_map(cal.tz, base, local + timedelta(days=1), cal.day_start) * MIN) == day_end


# --- shift ids: `{local start date}/{name}`, previous shift (Europe/Berlin) -------------------

THREE = (
    Shift("early", time(6), time(14)),
    Shift("late", time(14), time(22)),
    Shift("night", time(22), time(6)),
)


def test_a_shift_is_named_by_its_local_start_date() -> None:
    cal = Calendar("Europe/Berlin", THREE)
    # 2026-12-06 23:30 UTC is 00:30 local on the 7th: inside the night shift that began at
    # 22:00 local on the 6th, so its id keeps the 6th.
    night = cal.shift_at(u(2026, 12, 6, 23, 30))
    assert night is not None
    assert (night.id, night.start, night.end) == (
        "2026-12-06/night",
        u(2026, 12, 6, 21),
        u(2026, 12, 7, 5),
    )
    assert cal.shift_by_id("2026-12-06/night") == night
    assert cal.shift_by_id("2026-12-06/night").day == date(2026, 12, 6)  # type: ignore[union-attr]
    assert cal.local_date(u(2026, 12, 6, 23, 30)) == date(2026, 12, 7)
    # The late shift is the one before; at its exact end the night shift is not yet over.
    late = cal.previous_shift(u(2026, 12, 6, 23, 30))
    assert late is not None and late.id == "2026-12-06/late"
    assert cal.previous_shift(u(2026, 12, 7, 5)).id == "2026-12-06/night"  # type: ignore[union-attr]


def test_shift_ids_across_the_dst_changes() -> None:
    cal = Calendar("Europe/Berlin", THREE)
    # Spring forward 2026-03-29 02:00 -> 03:00: the night of the 28th lasts 7 h.
    spring = cal.shift_by_id("2026-03-28/night")
    assert spring is not None
    assert (spring.start, spring.end) == (u(2026, 3, 28, 21), u(2026, 3, 29, 4))
    # Fall back 2026-10-25 03:00 -> 02:00: the night of the 24th lasts 9 h.
    fall = cal.shift_by_id("2026-10-24/night")
    assert fall is not None
    assert (fall.start, fall.end) == (u(2026, 10, 24, 20), u(2026, 10, 25, 5))
    assert fall.end - fall.start == 9 * H
    assert cal.shift_at(u(2026, 10, 25, 1, 30)).id == "2026-10-24/night"  # type: ignore[union-attr]


def test_a_shift_id_that_does_not_run_or_is_malformed() -> None:
    cal = Calendar("Europe/Berlin", (Shift("early", time(6), time(14), WEEKDAYS),))
    assert cal.shift_by_id("2026-12-06/early") is None  # a Sunday
    assert cal.shift_by_id("2026-12-07/late") is None  # no such shift
    assert cal.shift_by_id("2026-12-07/early") is not None
    for bad in ("2026-12-07", "07.12.2026/early", "2026-12-7/early", "/early", "2026-13-01/x"):
        with pytest.raises(ValueError) as e:
            cal.shift_by_id(bad)
        assert str(e.value) == (
            f"{bad!r} is not a shift: write its local start date and name, e.g. 2026-12-06/late"
        )
    with pytest.raises(ValueError, match="was not made by a calendar"):
        _ = ShiftInstance("early", u(2026, 12, 7, 5), u(2026, 12, 7, 13)).id
    assert Calendar("UTC").previous_shift(u(2026, 12, 7)) is None  # 24/7: no shifts
