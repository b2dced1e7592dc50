"""`GET /api/v1/calendar`: the plant's clock for the live page. Exact answers at fixed
instants, hand-computed from the calendars below (in a comment at each case)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from api.app import create_app
from connectors.sqlite.store import SqliteStore
from edge.config import Config, SqliteConfig
from edge.config.loading import ConfigError, parse_config
from edge.pipeline.live import LiveView
from tests.api.conftest import NOW, make_config

BERLIN = {
    "timezone": "Europe/Berlin",
    "day_start": "06:00",
    "shifts": [
        {"name": "early", "start": "06:00", "end": "14:00", "days": "mon-fri"},
        {"name": "late", "start": "14:00", "end": "22:00", "days": "mon-fri"},
        {"name": "night", "start": "22:00", "end": "06:00"},
    ],
    "breaks": [{"name": "lunch", "start": "10:00", "end": "10:30", "shift": "early"}],
}
# line2 (press2) has a calendar of its own, in India (UTC+05:30, no DST).
KOLKATA = {
    "timezone": "Asia/Kolkata",
    "shifts": [{"name": "evening", "start": "20:00", "end": "23:00"}],
}


def config(**api: Any) -> Config:
    base = make_config(**api).model_dump(mode="json", exclude_none=True)
    for k in base["api"].get("keys", []):  # the dump hides secrets: put them back
        k["key"] = next(x["key"] for x in api["keys"] if x["name"] == k["name"])
    base.pop("api")
    return Config.model_validate(
        {**base, "api": api, "calendar": BERLIN, "lines": {"line2": {"calendar": KOLKATA}}}
    )


@contextlib.asynccontextmanager
async def client_at(now: datetime, tmp_path: Path, **api: Any) -> AsyncIterator[httpx.AsyncClient]:
    cfg = config(**api)
    async with SqliteStore(SqliteConfig(path=tmp_path / "cal.sqlite")) as store:
        app = create_app(cfg, LiveView.from_config(cfg), store, clock=lambda: now)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://gw") as c:
            yield c


async def get(now: datetime, tmp_path: Path, query: str = "", **api: Any) -> httpx.Response:
    async with client_at(now, tmp_path, **api) as c:
        return await c.get("/api/v1/calendar" + query)


async def test_the_plant_clock_in_the_early_shift(tmp_path: Path) -> None:
    # NOW is 2026-11-03T08:00Z, a Tuesday; Berlin is on CET (UTC+1): 09:00 local.
    # early 06:00-14:00 local = 05:00Z-13:00Z: 3 h of 8 gone -> 10800 s, 18000 s left,
    # progress 3/8 = 0.375. The next to start: late at 14:00 local = 13:00Z. The plant day
    # (06:00 to 06:00 local) = 2026-11-03T05:00Z to 2026-11-04T05:00Z. The lunch break
    # 10:00-10:30 local = 09:00Z-09:30Z lies inside the shift.
    r = await get(NOW, tmp_path, "?machine=press1")
    assert r.status_code == 200
    assert r.json() == {
        "calendar": "plant",
        "timezone": "Europe/Berlin",
        "day_start": "06:00",
        "now": "2026-11-03T08:00:00.000Z",
        "shifts": [
            {"name": "early", "start": "06:00", "end": "14:00",
             "days": ["mon", "tue", "wed", "thu", "fri"]},
            {"name": "late", "start": "14:00", "end": "22:00",
             "days": ["mon", "tue", "wed", "thu", "fri"]},
            {"name": "night", "start": "22:00", "end": "06:00",
             "days": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]},
        ],
        "shift": {
            "id": "2026-11-03/early", "name": "early", "date": "2026-11-03",
            "start": "2026-11-03T05:00:00.000Z", "end": "2026-11-03T13:00:00.000Z",
            "progress": 0.375, "elapsed_s": 10800.0, "remaining_s": 18000.0,
        },
        "next_shift": {
            "id": "2026-11-03/late", "name": "late", "date": "2026-11-03",
            "start": "2026-11-03T13:00:00.000Z", "end": "2026-11-03T21:00:00.000Z",
        },
        "day": {"date": "2026-11-03", "start": "2026-11-03T05:00:00.000Z",
                "end": "2026-11-04T05:00:00.000Z"},
        "planned_stops": [
            {"kind": "break", "name": "lunch", "start": "2026-11-03T09:00:00.000Z",
             "end": "2026-11-03T09:30:00.000Z"},
        ],
        "language": "auto",
        "scope": "admin",
    }  # fmt: skip
    # Without a machine or line: the plant's calendar, the same answer.
    assert (await get(NOW, tmp_path)).json() == r.json()


async def test_a_night_shift_across_the_fall_back_night(tmp_path: Path) -> None:
    # Berlin leaves summer time on 2026-10-25 at 03:00 CEST (01:00Z): the night shift of
    # Saturday 2026-10-24, 22:00 CEST (20:00Z) to 06:00 CET (05:00Z), lasts 9 h. At 02:00Z
    # (03:00 CET) 6 h are gone: 21600 s, 10800 s left, progress 6/9 = 0.6667 (4 decimals).
    # The plant day began 2026-10-24 06:00 CEST = 04:00Z and ends 06:00 CET = 05:00Z (25 h).
    body = (await get(datetime(2026, 10, 25, 2, 0, tzinfo=UTC), tmp_path)).json()
    assert body["shift"] == {
        "id": "2026-10-24/night", "name": "night", "date": "2026-10-24",
        "start": "2026-10-24T20:00:00.000Z", "end": "2026-10-25T05:00:00.000Z",
        "progress": 0.6667, "elapsed_s": 21600.0, "remaining_s": 10800.0,
    }  # fmt: skip
    assert body["day"] == {
        "date": "2026-10-24", "start": "2026-10-24T04:00:00.000Z",
        "end": "2026-10-25T05:00:00.000Z",
    }  # fmt: skip
    # Sunday: no early shift (mon-fri); the next is Sunday's night at 22:00 CET = 21:00Z.
    assert body["next_shift"]["id"] == "2026-10-25/night"
    assert body["next_shift"]["start"] == "2026-10-25T21:00:00.000Z"
    assert body["planned_stops"] == []


async def test_no_shift_planned_on_a_line_of_its_own_calendar(tmp_path: Path) -> None:
    # press2 sits on line2: Kolkata, UTC+05:30. NOW 08:00Z = 13:30 IST, outside the
    # evening shift (20:00-23:00 IST = 14:30Z-17:30Z): no shift, the next at 14:30Z. The
    # plant day (00:00 IST) = 2026-11-02T18:30Z to 2026-11-03T18:30Z; no breaks in it.
    for query in ("?machine=press2", "?line=line2"):
        body = (await get(NOW, tmp_path, query)).json()
        assert body["calendar"] == "line" and body["timezone"] == "Asia/Kolkata"
        assert body["shift"] is None
        assert body["next_shift"] == {
            "id": "2026-11-03/evening", "name": "evening", "date": "2026-11-03",
            "start": "2026-11-03T14:30:00.000Z", "end": "2026-11-03T17:30:00.000Z",
        }  # fmt: skip
        assert body["day"] == {
            "date": "2026-11-03", "start": "2026-11-02T18:30:00.000Z",
            "end": "2026-11-03T18:30:00.000Z",
        }  # fmt: skip
        assert body["planned_stops"] == []


async def test_without_any_calendar_the_day_is_utc_around_the_clock(tmp_path: Path) -> None:
    cfg = make_config()
    async with SqliteStore(SqliteConfig(path=tmp_path / "none.sqlite")) as store:
        app = create_app(cfg, LiveView.from_config(cfg), store, clock=lambda: NOW)
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://gw"
        ) as c:
            body = (await c.get("/api/v1/calendar?line=line1")).json()
    assert (body["calendar"], body["timezone"], body["shifts"]) == ("default", "UTC", [])
    assert body["shift"] is None and body["next_shift"] is None
    assert body["day"]["start"] == "2026-11-03T00:00:00.000Z"


KEYS = [
    {"name": "viewer", "key": "r-9f2c1e77b4d3a0"},
    {"name": "tablet", "key": "o-7c3e9b1d5f2a84", "scope": "operate"},
]


async def test_language_and_the_scope_of_the_key(tmp_path: Path) -> None:
    async with client_at(NOW, tmp_path, keys=KEYS, language="de") as c:
        assert (await c.get("/api/v1/calendar")).status_code == 401
        for key, scope in (("r-9f2c1e77b4d3a0", "read"), ("o-7c3e9b1d5f2a84", "operate")):
            r = await c.get("/api/v1/calendar", headers={"Authorization": f"Bearer {key}"})
            assert (r.json()["language"], r.json()["scope"]) == ("de", scope)


async def test_bad_requests_name_the_fix(tmp_path: Path) -> None:
    async with client_at(NOW, tmp_path) as c:
        r = await c.get("/api/v1/calendar?machine=press1&line=line1")
        assert (r.status_code, r.json()) == (
            422, {"detail": "give `machine` or `line`, not both (a machine's line is implied)"}
        )  # fmt: skip
        r = await c.get("/api/v1/calendar?line=line9")
        assert (r.status_code, r.json()) == (
            404, {"detail": "unknown line 'line9'; known lines: line1, line2",
                  "known": ["line1", "line2"]},
        )  # fmt: skip
        r = await c.get("/api/v1/calendar?machine=press9")
        assert r.status_code == 404 and r.json()["known"] == ["press1", "press2"]


def test_the_language_setting_is_checked() -> None:
    text = "gateway: {id: g}\nsite: s\narea: a\nline: l\napi: {language: fr}\nmachines: []\n"
    with pytest.raises(ConfigError) as e:
        parse_config(text, "c.yaml", {})
    assert "api.language" in str(e.value) and "'auto', 'en' or 'de'" in str(e.value)
