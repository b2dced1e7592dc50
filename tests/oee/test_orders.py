"""Work orders, their progress and expected completion, and the rates they use: hand-
computed cases (two shifts with breaks, a night across each DST change in Europe/Berlin,
a pause, a zero rate, a gap in the counts, orders finished early and late) and every
ValueError of bad input, message and all."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest

from oee.calendar import Break, Calendar, Shift
from oee.orders import OrderRun, WorkOrder, progress
from oee.prodtime import advance, current_rate, production_seconds, rate, shift_rate

# Europe/Berlin is UTC+1 in December: early 06:00-14:00 local = 05:00Z-13:00Z with its
# break 10:00-10:30 = 09:00Z-09:30Z; late 14:00-22:00 = 13:00Z-21:00Z with its break
# 18:00-18:30 = 17:00Z-17:30Z. Nothing is planned 21:00Z-05:00Z.
CAL = Calendar(
    "Europe/Berlin",
    shifts=(Shift("early", time(6), time(14)), Shift("late", time(14), time(22))),
    breaks=(
        Break("lunch", time(10), time(10, 30), shift="early"),
        Break("dinner", time(18), time(18, 30), shift="late"),
    ),
)
# A night shift only, 22:00-06:00 local: 9 h on the fall-back night, 7 h on spring-forward.
NIGHTS = Calendar("Europe/Berlin", shifts=(Shift("night", time(22), time(6)),))
H = 3600.0


def z(h: int, m: int = 0, day: int = 7, month: int = 12) -> datetime:
    return datetime(2026, month, day, h, m, tzinfo=UTC)


DUE = z(20)


def order(quantity: int = 1000, due: datetime = DUE, **kw: object) -> WorkOrder:
    return WorkOrder("WO-1", "P1", quantity, due, "m1", **kw)  # type: ignore[arg-type]


def test_eta_across_two_shifts_and_their_breaks() -> None:
    # Started 05:00Z, at 08:00Z 400 of 1000 good: remaining 600, 40 %; production time
    # 05:00Z-08:00Z = 3 h = 10800 s (no break yet).
    # Current rate 1/40 per s: 600 x 40 = 24000 s = 6 h 40 min of production:
    #   08:00Z-09:00Z 1 h (5 h 40 left), break, 09:30Z-13:00Z 3.5 h (2 h 10 left),
    #   late shift from 13:00Z: 15:10Z.
    # Shift's rate 1/60 per s: 600 x 60 = 36000 s = 10 h: 1 h, 3.5 h (5.5 h left),
    #   13:00Z-17:00Z 4 h (1.5 h left), dinner break, 17:30Z + 1.5 h = 19:00Z.
    # Ideal 20 s: 600 x 20 = 12000 s = 3 h 20: 1 h, then 09:30Z + 2 h 20 = 11:50Z.
    # Due 20:00Z, margin 1 h: 15:10Z <= 19:00Z: on track.
    p = progress(
        order(ideal_cycle_s=20.0), OrderRun(started=z(5), good=400, reject=7), z(8),
        calendar=CAL, rate_now=1 / 40, rate_shift=1 / 60, at_risk_margin=timedelta(hours=1),
    )  # fmt: skip
    assert (p.remaining, p.percent, p.production_s) == (600, 40.0, 10800.0)
    assert (p.eta_now, p.eta_shift, p.eta_ideal) == (z(15, 10), z(19), z(11, 50))
    assert (p.status, p.finished, p.complete, p.on_time) == ("on_track", None, False, None)


@pytest.mark.parametrize(
    ("due", "status"),
    [
        (z(15, 30), "at_risk"),  # eta 15:10Z > 15:30Z - 1 h = 14:30Z, <= due
        (z(15), "late"),  # eta 15:10Z > due 15:00Z
        (z(16, 10), "on_track"),  # eta 15:10Z == 16:10Z - 1 h: not after it
    ],
)
def test_status_against_due_and_margin(due: datetime, status: str) -> None:
    p = progress(
        order(due=due), OrderRun(started=z(5), good=400), z(8), calendar=CAL,
        rate_now=1 / 40, rate_shift=None, at_risk_margin=timedelta(hours=1),
    )  # fmt: skip
    assert p.status == status


def test_shift_rate_stands_in_when_the_current_rate_is_unknown() -> None:
    # No current rate: the shift's (1/60 per s) gives 19:00Z (first test), due 18:30Z: late.
    p = progress(
        order(due=z(18, 30)), OrderRun(started=z(5), good=400), z(8), calendar=CAL,
        rate_now=None, rate_shift=1 / 60,
    )  # fmt: skip
    assert (p.eta_now, p.eta_shift, p.status) == (None, z(19), "late")


def test_eta_over_the_fall_back_night_2026_10_25() -> None:
    # The night of Oct 24 runs 22:00 CEST (20:00Z) to 06:00 CET (05:00Z): 9 h, as clocks
    # go back from 03:00 to 02:00 at 01:00Z. At 23:00Z 300 of 1000 good: 700 parts at
    # 100/h (1/36 per s) = 7 h. 23:00Z-05:00Z holds 6 h (5 h on the wall clock plus the
    # repeated hour); 1 h more from the next night, Oct 25 22:00 CET = 21:00Z: 22:00Z.
    p = progress(
        order(due=z(23, day=26, month=10)), OrderRun(started=z(20, day=24, month=10), good=300),
        z(23, day=24, month=10), calendar=NIGHTS, rate_now=1 / 36, rate_shift=None,
    )  # fmt: skip
    assert p.eta_now == z(22, day=25, month=10)
    assert p.production_s == 3 * H  # 20:00Z-23:00Z
    assert p.status == "on_track"


def test_eta_over_the_spring_forward_night_2026_03_29() -> None:
    # The night of Mar 28 runs 22:00 CET (21:00Z) to 06:00 CEST (04:00Z): 7 h, clocks
    # jump 02:00 -> 03:00 at 01:00Z. At 22:00Z, 700 parts at 100/h = 7 h: 22:00Z-04:00Z
    # holds 6 h; 1 h more from Mar 29 22:00 CEST = 20:00Z: 21:00Z.
    p = progress(
        order(due=z(20, day=29, month=3)), OrderRun(started=z(21, day=28, month=3), good=300),
        z(22, day=28, month=3), calendar=NIGHTS, rate_now=1 / 36, rate_shift=None,
    )  # fmt: skip
    assert p.eta_now == z(21, day=29, month=3)
    assert p.status == "late"  # 21:00Z is after the due 20:00Z
    # The same night on the calendar alone: 7 h of production time, 9 h in October.
    assert production_seconds(NIGHTS, z(12, day=28, month=3), z(12, day=29, month=3)) == 7 * H
    assert production_seconds(NIGHTS, z(12, day=24, month=10), z(12, day=25, month=10)) == 9 * H


def test_paused_and_resumed_order() -> None:
    # Started 05:00Z, paused 07:00Z-07:30Z (another order ran), at 08:00Z:
    # production time 3 h - 0.5 h = 9000 s. 100 of 1000 good: 900 parts at 1/10 per s
    # = 9000 s = 2.5 h: 08:00Z-09:00Z 1 h, break, 09:30Z + 1.5 h = 11:00Z.
    run = OrderRun(started=z(5), good=100, paused=((z(7), z(7, 30)),))
    p = progress(order(), run, z(8), calendar=CAL, rate_now=0.1, rate_shift=None)
    assert (p.production_s, p.eta_now) == (9000.0, z(11))


def test_open_pause_counts_until_now_and_assumes_resuming_now() -> None:
    # Paused since 07:30Z, at 08:00Z: production 05:00Z-07:30Z = 9000 s; the expected
    # completion assumes it resumes at 08:00Z: 11:00Z as above.
    run = OrderRun(started=z(5), good=100, paused=((z(7, 30), None),))
    p = progress(order(), run, z(8), calendar=CAL, rate_now=0.1, rate_shift=None)
    assert (p.production_s, p.eta_now) == (9000.0, z(11))


def test_zero_rate_gives_no_eta() -> None:
    # A zero current rate and no shift's rate: no date (not infinity), and a started
    # order without a date is at risk (due not yet passed).
    p = progress(
        order(), OrderRun(started=z(5), good=100), z(8), calendar=CAL, rate_now=0.0,
        rate_shift=None,
    )  # fmt: skip
    assert (p.eta_now, p.eta_shift, p.eta_ideal, p.status) == (None, None, None, "at_risk")


def test_not_started_counts_from_its_planned_start() -> None:
    # Planned to start 13:00Z, at 08:00Z: 1000 x 10 s = 10000 s ideal from 13:00Z:
    # 13:00Z-17:00Z 4 h = 14400 s >= 10000 s: 15:46:40Z.
    o = order(planned_start=z(13), ideal_cycle_s=10.0)
    p = progress(o, OrderRun(), z(8), calendar=CAL, rate_now=None, rate_shift=None)
    assert (p.status, p.production_s) == ("not_started", 0.0)
    assert p.eta_ideal == z(15, 46) + timedelta(seconds=40)


def test_finished_early_is_on_time() -> None:
    # Ended 11:00Z with 500 of 500 good, due 20:00Z: done, on time; production time
    # 05:00Z-11:00Z less the 30 min break = 19800 s.
    run = OrderRun(started=z(5), ended=z(11), good=500)
    p = progress(order(500), run, z(12), calendar=CAL, rate_now=0.1, rate_shift=0.1)
    assert (p.status, p.finished, p.on_time, p.complete) == ("done", z(11), True, True)
    assert (p.production_s, p.remaining, p.percent, p.eta_now) == (19800.0, 0, 100.0, None)


def test_finished_late_and_reaching_the_quantity_is_done_at_that_instant() -> None:
    # Ended 21:00Z, due 20:00Z: late. Not ended but 510 good of 500 at 19:00Z: done at
    # 19:00Z (now), on time; percent is capped at 100.
    late = progress(
        order(500), OrderRun(started=z(5), ended=z(21), good=500), z(22), calendar=CAL,
        rate_now=None, rate_shift=None,
    )  # fmt: skip
    assert (late.status, late.on_time) == ("done", False)
    reached = progress(
        order(500), OrderRun(started=z(5), good=510), z(19), calendar=CAL, rate_now=None,
        rate_shift=None,
    )  # fmt: skip
    assert (reached.finished, reached.on_time, reached.percent) == (z(19), True, 100.0)


def test_closed_short_is_done_but_not_on_time() -> None:
    # Ended by the operator at 11:00Z with 450 of 500: done, not complete, not on time.
    p = progress(
        order(500), OrderRun(started=z(5), ended=z(11), good=450), z(12), calendar=CAL,
        rate_now=None, rate_shift=None,
    )  # fmt: skip
    assert (p.status, p.complete, p.on_time, p.remaining) == ("done", False, False, 50)


POINTS = [(z(5), 0), (z(7), 300), (z(7, 30), 300), (z(8), 330)]
PAUSE = [(z(7), z(7, 30))]


def test_current_and_shift_rate_skip_the_pause() -> None:
    # Current rate at 08:00Z over 900 s: (07:45Z, 08:00Z]. The pair 07:30Z-08:00Z made
    # 30 parts over 1800 s of production time; 900 s of it fall in the window: 15 parts,
    # 15 / 900 = 1/60 per s.
    assert current_rate(POINTS, CAL, z(8), exclude=PAUSE) == pytest.approx(1 / 60, rel=1e-12)
    # Window 3600 s reaches back over the pause: 07:30Z-08:00Z and 06:30Z-07:00Z.
    # 300 x 1800 / 7200 = 75 parts + 30 = 105 in 3600 s = 7/240 per s.
    r = current_rate(POINTS, CAL, z(8), window_s=3600, exclude=PAUSE)
    assert r == pytest.approx(105 / 3600, rel=1e-12)
    # Shift's rate: since 05:00Z (early), 330 parts in 9000 s = 11/300 per s.
    assert shift_rate(POINTS, CAL, z(8), exclude=PAUSE) == pytest.approx(330 / 9000, rel=1e-12)


def test_rate_leaves_gaps_unknown_and_is_zero_without_parts() -> None:
    # Points 07:00Z 0, 07:10Z 20, 07:50Z 60, 08:00Z 120, max gap 900 s: the 2400 s pair
    # 07:10Z-07:50Z is unknown; known 600 + 600 s with 20 + 60 parts: 80 / 1200 = 1/15.
    # Without a gap limit: 120 / 3600 = 1/30.
    pts = [(z(7), 0), (z(7, 10), 20), (z(7, 50), 60), (z(8), 120)]
    assert shift_rate(pts, CAL, z(8), max_gap_s=900) == pytest.approx(1 / 15, rel=1e-12)
    assert shift_rate(pts, CAL, z(8)) == pytest.approx(1 / 30, rel=1e-12)
    assert rate([(z(7, 45), 100), (z(8), 100)], CAL, z(7, 45), z(8)) == 0.0
    assert rate([(z(7, 45), 100)], CAL, z(7, 45), z(8)) is None  # one point: no pair
    # Parts counted across the break: 09:00Z-09:30Z is no production time, so 30 parts
    # over 08:45Z-09:45Z spread over 1800 s: 1/60 per s.
    assert rate([(z(8, 45), 0), (z(9, 45), 30)], CAL, z(8), z(10)) == pytest.approx(1 / 60)


def test_advance_gives_none_without_production_time() -> None:
    # A calendar whose only shift is Monday's never reaches 400 days of production.
    mondays = Calendar("UTC", shifts=(Shift("mon", time(6), time(7), frozenset({0})),))
    assert advance(mondays, z(8), 400 * 24 * H) is None
    assert advance(CAL, z(9, 10), 0) == z(9, 10)  # nothing left: now, even in a break


def test_bad_input_is_refused_with_a_clear_message() -> None:
    with pytest.raises(ValueError) as e:
        WorkOrder("WO-1", "P1", 10, datetime(2026, 12, 7, 20), "m1")
    assert str(e.value) == "due: naive datetime 2026-12-07T20:00:00, pass an aware (UTC) one"
    with pytest.raises(ValueError) as e:
        WorkOrder("WO-1", "P1", 0, z(20), "m1")
    assert str(e.value) == "quantity must be a whole number > 0, got 0"
    with pytest.raises(ValueError) as e:
        WorkOrder("WO-1", "P1", 10, z(20), "m1", ideal_cycle_s=0.0)
    assert str(e.value) == "ideal_cycle_s must be a finite number > 0, got 0.0"
    with pytest.raises(ValueError) as e:
        WorkOrder("", "P1", 10, z(20), "m1")
    assert str(e.value) == "id must be a non-empty string, got ''"
    with pytest.raises(ValueError) as e:
        WorkOrder("WO-1", "P1", 10, z(20), "m1", planned_start=datetime(2026, 12, 7, 5))
    assert str(e.value) == (
        "planned_start: naive datetime 2026-12-07T05:00:00, pass an aware (UTC) one"
    )
    with pytest.raises(ValueError) as e:
        OrderRun(started=z(8), ended=z(7))
    assert str(e.value) == (
        "ended (2026-12-07T07:00:00+00:00) before started (2026-12-07T08:00:00+00:00)"
    )
    with pytest.raises(ValueError) as e:
        OrderRun(ended=z(7))
    assert str(e.value) == "ended is set but started is not"
    with pytest.raises(ValueError) as e:
        OrderRun(started=z(5), good=-1)
    assert str(e.value) == "good must be a whole number >= 0, got -1"
    with pytest.raises(ValueError) as e:
        OrderRun(started=z(5), paused=((z(7), z(6)),))
    assert str(e.value) == "paused[0] ends (2026-12-07T06:00:00+00:00) before it starts"
    with pytest.raises(ValueError) as e:
        OrderRun(started=z(5), paused=((z(6), None), (z(7), z(8))))
    assert str(e.value) == "paused[0] is open (no end) but is not the last pause"
    with pytest.raises(ValueError) as e:
        progress(order(), OrderRun(), datetime(2026, 12, 7, 8), calendar=CAL, rate_now=None,
                 rate_shift=None)  # fmt: skip
    assert str(e.value) == "now: naive datetime 2026-12-07T08:00:00, pass an aware (UTC) one"


def test_an_order_complete_before_due_stays_on_time_when_asked_after_due() -> None:
    """500 of 500 good at 19:00Z (due 20:00Z), never ended (an operator's order waits for
    its end): asked at 22:00Z it is done at 19:00Z and on time, not done "now" and late.
    Found on review: `finished` was the instant of asking."""
    run = OrderRun(started=z(5), good=500, completed=z(19))
    p = progress(order(500), run, z(22), calendar=CAL, rate_now=None, rate_shift=None)
    assert (p.status, p.finished, p.on_time) == ("done", z(19), True)
    # Without the instant known (an old checkpoint), the best known is the asking time.
    unknown = progress(
        order(500), OrderRun(started=z(5), good=500), z(22), calendar=CAL, rate_now=None,
        rate_shift=None,
    )  # fmt: skip
    assert (unknown.finished, unknown.on_time) == (z(22), False)
