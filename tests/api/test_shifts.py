"""`GET /api/v1/shifts` and `/days` (the plant's shift occurrences and days, newest first)
and `?shift=` / `?day=` on the figure routes.

The listings run on a Europe/Berlin plant with three shifts (early 06-14, late 14-22,
night 22-06 local) around both DST changes of 2026; the figures on the plant of
tests/api/plant.py (UTC, `early` 06:00-14:00, now 2026-11-03 08:00).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from api.app import create_app
from connectors.sqlite.store import SqliteStore
from edge.config import Config, SqliteConfig
from edge.pipeline.live import LiveView
from tests.api.plant import z

# Sunday 2026-10-25, 11:00 CET (clocks went back 03:00 CEST -> 02:00 CET that night).
FALL_NOW = datetime(2026, 10, 25, 10, 0, tzinfo=UTC)


def berlin_config() -> Config:
    machine = {"modbus": {"host": "127.0.0.1"}, "tags": {"state": {"address": 0}}}
    shifts = [
        {"name": "early", "start": "06:00", "end": "14:00"},
        {"name": "late", "start": "14:00", "end": "22:00"},
        {"name": "night", "start": "22:00", "end": "06:00"},
    ]
    return Config.model_validate(
        {
            "gateway": {"id": "gw1"},
            "site": "plant1",
            "area": "press",
            "line": "line1",
            "calendar": {"timezone": "Europe/Berlin", "shifts": shifts},
            "machines": [{"id": "press1", "ideal_cycle_s": 2, **machine}],
            "oee": {"windows": ["15m"]},
        }
    )


@pytest.fixture
async def berlin(tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    config = berlin_config()
    async with SqliteStore(SqliteConfig(path=tmp_path / "b.sqlite")) as store:
        app = create_app(config, LiveView.from_config(config), store, clock=lambda: FALL_NOW)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://gw") as c:
            yield c


def span(rows: list[dict[str, Any]]) -> list[tuple[str, str, str, float]]:
    """(id or date, start, end, hours) of each row."""

    def hours(r: dict[str, Any]) -> float:
        a, b = (datetime.fromisoformat(r[k]) for k in ("start", "end"))
        return (b - a).total_seconds() / 3600

    return [(r.get("id", r.get("date")), r["start"], r["end"], hours(r)) for r in rows]


async def test_shifts_of_two_plant_days_across_the_fall_back_night(
    berlin: httpx.AsyncClient,
) -> None:
    r = await berlin.get("/api/v1/shifts", params={"from": "2026-10-24", "to": "2026-10-25"})
    assert r.status_code == 200
    body = r.json()
    # The 24th from 00:00 CEST (22:00Z on the 23rd) to the end of the 25th, 00:00 CET on
    # the 26th (23:00Z): the 25th has 25 h. CEST = UTC+2 until 03:00 on the 25th, then
    # CET = UTC+1. The night of the 24th, 22:00 CEST (20:00Z) to 06:00 CET (05:00Z), is 9 h.
    assert (body["timezone"], body["from"], body["to"]) == (
        "Europe/Berlin", "2026-10-23T22:00:00.000Z", "2026-10-25T23:00:00.000Z",
    )  # fmt: skip
    assert span(body["shifts"]) == [
        ("2026-10-25/night", "2026-10-25T21:00:00.000Z", "2026-10-26T05:00:00.000Z", 8.0),
        ("2026-10-25/late", "2026-10-25T13:00:00.000Z", "2026-10-25T21:00:00.000Z", 8.0),
        ("2026-10-25/early", "2026-10-25T05:00:00.000Z", "2026-10-25T13:00:00.000Z", 8.0),
        ("2026-10-24/night", "2026-10-24T20:00:00.000Z", "2026-10-25T05:00:00.000Z", 9.0),
        ("2026-10-24/late", "2026-10-24T12:00:00.000Z", "2026-10-24T20:00:00.000Z", 8.0),
        ("2026-10-24/early", "2026-10-24T04:00:00.000Z", "2026-10-24T12:00:00.000Z", 8.0),
        # Started on the 23rd, it reaches into the 24th.
        ("2026-10-23/night", "2026-10-23T20:00:00.000Z", "2026-10-24T04:00:00.000Z", 8.0),
    ]
    flags = [(s["name"], s["date"], s["finished"], s["current"]) for s in body["shifts"][:4]]
    assert flags == [
        ("night", "2026-10-25", False, False),
        ("late", "2026-10-25", False, False),
        ("early", "2026-10-25", False, True),  # now: 11:00 CET
        ("night", "2026-10-24", True, False),
    ]


async def test_the_spring_forward_night_shift_is_7_hours(berlin: httpx.AsyncClient) -> None:
    # 2026-03-28 22:00 CET = 21:00Z to 2026-03-29 06:00 CEST = 04:00Z.
    params = {"from": "2026-03-28T21:00:00Z", "to": "2026-03-28T21:00:00.001Z"}
    body = (await berlin.get("/api/v1/shifts", params=params)).json()
    assert span(body["shifts"]) == [
        ("2026-03-28/night", "2026-03-28T21:00:00.000Z", "2026-03-29T04:00:00.000Z", 7.0),
    ]


async def test_days_are_23_or_25_hours_and_the_default_is_the_last_seven(
    berlin: httpx.AsyncClient,
) -> None:
    body = (await berlin.get("/api/v1/days", params={"from": "2026-10-24"})).json()
    assert span(body["days"]) == [
        ("2026-10-25", "2026-10-24T22:00:00.000Z", "2026-10-25T23:00:00.000Z", 25.0),
        ("2026-10-24", "2026-10-23T22:00:00.000Z", "2026-10-24T22:00:00.000Z", 24.0),
    ]
    assert [(d["finished"], d["current"]) for d in body["days"]] == [(False, True), (True, False)]
    spring = await berlin.get("/api/v1/days", params={"from": "2026-03-29", "to": "2026-03-29"})
    assert span(spring.json()["days"]) == [
        ("2026-03-29", "2026-03-28T23:00:00.000Z", "2026-03-29T22:00:00.000Z", 23.0)
    ]
    # Default: today and the 6 plant days before (the 19th to the 25th), up to now.
    week = (await berlin.get("/api/v1/days")).json()
    assert [d["date"] for d in week["days"]] == [f"2026-10-{d}" for d in range(25, 18, -1)]
    assert (week["from"], week["to"]) == ("2026-10-18T22:00:00.000Z", "2026-10-25T10:00:00.000Z")
    shifts = (await berlin.get("/api/v1/shifts")).json()["shifts"]
    # The night of the 18th reaches into the 19th; 19th-24th: 3 each; the 25th: early.
    assert (len(shifts), shifts[0]["id"], shifts[-1]["id"]) == (
        20, "2026-10-25/early", "2026-10-18/night",
    )  # fmt: skip


async def test_listing_errors(berlin: httpx.AsyncClient) -> None:
    r = await berlin.get("/api/v1/shifts", params={"machine": "nope"})
    assert (r.status_code, r.json()["known"]) == (404, ["press1"])
    r = await berlin.get("/api/v1/days", params={"from": "2026-10-25", "to": "2026-10-24"})
    assert (r.status_code, r.json()) == (422, {"detail": "`from` must be earlier than `to`"})


URL = "/api/v1/machines/press1/oee"
EARLY = {
    "id": "2026-11-03/early",
    "name": "early",
    "date": "2026-11-03",
    "start": z("06:00:00"),
    "end": z("14:00:00"),
}


async def test_a_shift_by_id_is_its_range_from_the_store(plant_client: httpx.AsyncClient) -> None:
    # The current shift without a configured `shift` window: [06:00, now = 08:00) from
    # the store, the same figures as that range, named.
    body = (await plant_client.get(URL, params={"shift": "2026-11-03/early"})).json()
    same = await plant_client.get(URL, params={"from": z("06:00:00"), "to": z("08:00:00")})
    assert (body["shift"], body["source"], body["start"], body["ts"]) == (
        EARLY, "history", z("06:00:00"), z("08:00:00"),
    )  # fmt: skip
    assert {k: v for k, v in body.items() if k != "shift"} == {
        k: v for k, v in same.json().items() if k != "shift"
    }
    current = (await plant_client.get(URL, params={"shift": "current"})).json()
    assert current == body
    # The previous one: 2026-11-02 06:00-14:00, whole (8 h), finished.
    prev = (await plant_client.get(URL, params={"shift": "previous"})).json()
    assert (prev["shift"]["id"], prev["window_s"]) == ("2026-11-02/early", 28800.0)
    line = await plant_client.get("/api/v1/lines/line1/oee", params={"shift": "previous"})
    assert line.json()["shift"]["id"] == "2026-11-02/early"


async def test_a_day_by_date(plant_client: httpx.AsyncClient) -> None:
    body = (await plant_client.get("/api/v1/plant/oee", params={"day": "2026-11-02"})).json()
    assert body["day"] == {
        "date": "2026-11-02",
        "start": "2026-11-02T00:00:00.000Z",
        "end": "2026-11-03T00:00:00.000Z",
    }
    assert (body["from"], body["to"], body["source"]) == (
        "2026-11-02T00:00:00.000Z", "2026-11-03T00:00:00.000Z", "history",
    )  # fmt: skip
    today = (await plant_client.get(URL, params={"day": "current"})).json()
    assert (today["day"]["date"], today["start"], today["ts"]) == (
        "2026-11-03", z("00:00:00"), z("08:00:00"),
    )  # fmt: skip


@pytest.mark.parametrize(
    "params, status, body",
    [
        (
            {"shift": "2026-11-03/late"},
            404,
            {
                # No `late` shift here: the shifts around midday of that date.
                "detail": "shift '2026-11-03/late' does not run; nearest: 2026-11-04/early, "
                "2026-11-03/early, 2026-11-02/early",
                "known": ["2026-11-04/early", "2026-11-03/early", "2026-11-02/early"],
            },
        ),
        (
            {"shift": "2026-11-04/early"},
            404,
            {
                "detail": "shift '2026-11-04/early' has not begun; nearest: 2026-11-05/early, "
                "2026-11-04/early, 2026-11-03/early",
                "known": ["2026-11-05/early", "2026-11-04/early", "2026-11-03/early"],
            },
        ),
        (
            {"shift": "late"},
            422,
            {
                "detail": "query.shift: 'late' is not a shift: write its local start date and "
                "name, e.g. 2026-12-06/late"
            },
        ),
        (
            {"day": "2026-11-04"},
            404,
            {
                "detail": "day '2026-11-04' has not begun; nearest: 2026-11-03, 2026-11-02",
                "known": ["2026-11-03", "2026-11-02"],
            },
        ),
        (
            {"day": "3 Nov"},
            422,
            {"detail": "query.day: '3 Nov' is not a plant date: write e.g. 2026-12-06"},
        ),
        (
            {"shift": "previous", "window": "1h"},
            422,
            {"detail": "give `shift` or `day` alone, without `window` or `from`/`to`"},
        ),
        (
            {"shift": "previous", "from": "2026-11-02"},
            422,
            {"detail": "give `shift` or `day` alone, without `window` or `from`/`to`"},
        ),
        (
            {"shift": "previous", "day": "previous"},
            422,
            {"detail": "give either `shift` or `day`, not both"},
        ),
    ],
)
async def test_shift_and_day_errors(
    plant_client: httpx.AsyncClient, params: dict[str, str], status: int, body: dict[str, Any]
) -> None:
    r = await plant_client.get(URL, params=params)
    assert (r.status_code, r.json()) == (status, body)
