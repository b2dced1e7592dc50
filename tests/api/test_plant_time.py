"""Date-only `from`/`to` in the plant's time zone (`api.plant_time`): a plant date is the
start (as `from`) or the end (as `to`) of that plant day; across DST the day is 23 or
25 h. A value that is neither form is a 422 naming the parameter and both forms."""

from __future__ import annotations

from datetime import UTC, datetime, time

import httpx
import pytest

from api.context import ApiError
from api.plant_time import plant_time, query_range
from oee.calendar import Calendar
from tests.api.plant import z

BERLIN = Calendar("Europe/Berlin", day_start=time(6))
HOW = "write an RFC 3339 time with an offset (2026-12-06T06:00:00Z) or a plant date (2026-12-06)"


def u(mo: int, d: int, h: int) -> datetime:
    return datetime(2026, mo, d, h, tzinfo=UTC)


def test_a_plant_date_is_its_day_from_day_start_to_day_start() -> None:
    # 2026-12-06 06:00 CET (UTC+1) = 05:00 UTC; the day ends 2026-12-07 06:00 CET.
    assert query_range("2026-12-06", "2026-12-06", BERLIN) == (u(12, 6, 5), u(12, 7, 5))


def test_a_plant_day_across_spring_forward_is_23_hours() -> None:
    # 2026-03-28 06:00 CET = 05:00 UTC; 2026-03-29 06:00 CEST (UTC+2) = 04:00 UTC.
    start, end = query_range("2026-03-28", "2026-03-28", BERLIN)
    assert (start, end) == (u(3, 28, 5), u(3, 29, 4))
    assert start is not None and end is not None and (end - start).total_seconds() == 23 * 3600


def test_a_plant_day_across_fall_back_is_25_hours() -> None:
    # 2026-10-24 06:00 CEST = 04:00 UTC; 2026-10-25 06:00 CET = 05:00 UTC.
    start, end = query_range("2026-10-24", "2026-10-24", BERLIN)
    assert (start, end) == (u(10, 24, 4), u(10, 25, 5))
    assert start is not None and end is not None and (end - start).total_seconds() == 25 * 3600


def test_a_time_with_an_offset_stays_that_instant() -> None:
    assert plant_time("2026-12-06T07:00:00+01:00", "from", BERLIN, end=False) == u(12, 6, 6)
    assert plant_time(None, "to", BERLIN, end=True) is None


@pytest.mark.parametrize(
    "value, detail",
    [
        ("yesterday", f"invalid request: query.from: {HOW}"),
        ("2026-12-06T07:00:00", f"invalid request: query.from: {HOW}"),  # no offset
        ("2026-02-30", f"invalid request: query.from: 2026-02-30 is not a date: {HOW}"),
        (
            "0944-12-20",
            "invalid request: query.from: times from 1970-01-01T00:00:00Z until "
            "2262-01-01T00:00:00Z, not 0944-12-20",
        ),
    ],
)
def test_a_bad_value_names_the_parameter_and_both_forms(value: str, detail: str) -> None:
    with pytest.raises(ApiError) as caught:
        plant_time(value, "from", BERLIN, end=False)
    assert (caught.value.status, caught.value.detail) == (422, detail)


async def test_the_routes_read_a_plant_date_in_the_machine_s_calendar(
    plant_client: httpx.AsyncClient,
) -> None:
    # The plant's calendar is UTC from 00:00: to=2026-11-03 is 2026-11-04T00:00Z, after
    # now (08:00): the states end at now, the figures' range is the whole day.
    r = await plant_client.get(
        "/api/v1/machines/press1/states", params={"from": "2026-11-03", "to": "2026-11-03"}
    )
    assert r.status_code == 200
    body = r.json()
    assert (body["from"], body["to"]) == (z("00:00:00"), "2026-11-04T00:00:00.000Z")
    r = await plant_client.get("/api/v1/plant/oee", params={"from": "2026-11-03"})
    assert (r.json()["from"], r.json()["to"]) == (z("00:00:00"), z("08:00:00"))
    r = await plant_client.get("/api/v1/machines/press1/oee", params={"to": "3 Nov"})
    assert r.status_code == 422
    assert r.json() == {"detail": f"invalid request: query.to: {HOW}"}
