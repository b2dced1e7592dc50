"""`build_intervals`: state records -> intervals clipped to [from, min(to, now)]."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from api.views import build_intervals
from core.types import MachineState, StateRecord

T0 = datetime(2026, 11, 3, 7, 0, tzinfo=UTC)
RUN, IDLE, FAULT = MachineState.RUNNING, MachineState.IDLE, MachineState.FAULT


def _at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def _rows(records: list[StateRecord], start: float, end: float, now: float) -> list[tuple]:
    out = build_intervals(records, _at(start), _at(end), _at(now))
    return [(i.state, i.start, i.end, i.duration_s, i.reason) for i in out]


def test_record_before_the_range_is_clipped_to_its_start() -> None:
    recs = [StateRecord("m", IDLE, _at(-30)), StateRecord("m", RUN, _at(10), "go")]
    assert _rows(recs, 0, 60, 120) == [
        (IDLE, _at(0), _at(10), 600.0, None),
        (RUN, _at(10), _at(60), 3000.0, "go"),
    ]


def test_last_interval_ends_now_when_the_range_reaches_the_future() -> None:
    recs = [StateRecord("m", FAULT, _at(5), "jam")]
    assert _rows(recs, 0, 60, 20) == [(FAULT, _at(5), _at(20), 900.0, "jam")]


def test_change_exactly_at_from_leaves_no_empty_interval() -> None:
    recs = [StateRecord("m", IDLE, _at(-5)), StateRecord("m", RUN, _at(0))]
    assert _rows(recs, 0, 1, 60) == [(RUN, _at(0), _at(1), 60.0, None)]


def test_range_wholly_in_the_future_is_empty() -> None:
    assert _rows([StateRecord("m", RUN, _at(0))], 30, 60, 10) == []


def test_no_records_no_intervals() -> None:
    assert _rows([], 0, 60, 60) == []


def test_records_out_of_order_are_sorted_and_durations_are_millisecond_exact() -> None:
    recs = [
        StateRecord("m", RUN, _at(0) + timedelta(milliseconds=250)),
        StateRecord("m", IDLE, _at(0)),
    ]
    assert _rows(recs, 0, 1, 60) == [
        (IDLE, _at(0), _at(0) + timedelta(milliseconds=250), 0.25, None),
        (RUN, _at(0) + timedelta(milliseconds=250), _at(1), 59.75, None),
    ]
