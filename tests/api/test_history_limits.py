"""The history routes cannot be asked for more than the gateway can afford: `…/states`
has a range limit (`api.limits.max_range_days`) and pages of at most `max_rows`
intervals (`limit`, `next_from`); a range's figures and a downsampled tag may read at
most `max_history_rows` stored rows (a 422 says so before anything is computed). The
plant's history is tests/api/plant.py."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from api.app import create_app
from connectors.sqlite.store import SqliteStore
from core.types import Quality, Sample, SampleBatch
from edge.config import Config
from edge.pipeline.gateway import Gateway
from tests.api.conftest import NOW
from tests.api.plant import make_plant_config, t, z

STATES = "/api/v1/machines/press1/states"
DAY = {"from": "2026-11-03T06:00:00Z", "to": "2026-11-03T08:00:00Z"}
# press1's intervals of DAY (tests/api/plant.py): their starts, oldest first.
STARTS = [
    "06:30:00", "06:50:00", "06:55:00", "07:10:00", "07:20:00",
    "07:30:00", "07:30:20", "07:40:00", "07:45:00",
]  # fmt: skip


@contextlib.asynccontextmanager
async def plant_with(
    tmp_path: Path, store: SqliteStore, **limits: Any
) -> AsyncIterator[httpx.AsyncClient]:
    config = make_plant_config(tmp_path / "data", api={"limits": limits} if limits else None)
    gateway = Gateway(config, sinks=[store], history=store, clock=lambda: NOW)
    app = create_app(config, gateway.live, store, lambda: NOW, control=gateway)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gw") as c:
        yield c


def starts(body: dict[str, Any]) -> list[str]:
    return [i["start"] for i in body["intervals"]]


async def test_states_come_in_pages_of_limit(tmp_path: Path, plant_store: SqliteStore) -> None:
    async with plant_with(tmp_path, plant_store) as api:
        whole = (await api.get(STATES, params=DAY)).json()
        assert starts(whole) == [z(s) for s in STARTS] and whole["next_from"] is None
        pages, params = [], {**DAY, "limit": "4"}
        while True:
            body = (await api.get(STATES, params=params)).json()
            pages.append(body)
            if body["next_from"] is None:
                break
            params["from"] = body["next_from"]
    assert [starts(p) for p in pages] == [
        [z(s) for s in STARTS[0:4]],
        [z(s) for s in STARTS[4:8]],
        [z(s) for s in STARTS[8:]],
    ]
    assert [p["next_from"] for p in pages] == [z("07:20:00"), z("07:45:00"), None]
    # A page ends where the next begins; together they are the whole answer.
    assert pages[0]["intervals"][-1]["end"] == z("07:20:00")
    assert [i for p in pages for i in p["intervals"]] == whole["intervals"]
    assert [p["to"] for p in pages] == [z("08:00:00")] * 3


async def test_a_page_is_max_rows_long_by_default(tmp_path: Path, plant_store: SqliteStore) -> None:
    async with plant_with(tmp_path, plant_store, max_rows=5) as api:
        body = (await api.get(STATES, params=DAY)).json()
        assert starts(body) == [z(s) for s in STARTS[:5]]
        assert body["next_from"] == z("07:30:00")
        r = await api.get(STATES, params={**DAY, "limit": "6"})
    assert (r.status_code, r.json()) == (
        422,
        {"detail": "`limit` may be at most 5 (api.limits.max_rows)"},
    )


async def test_the_state_in_force_counts_as_the_first_row(
    tmp_path: Path, plant_store: SqliteStore
) -> None:
    """A page that opens inside an interval starts with it (clipped), then the changes."""
    async with plant_with(tmp_path, plant_store) as api:
        params = {"from": z("07:35:00"), "to": z("08:00:00"), "limit": "2"}
        body = (await api.get(STATES, params=params)).json()
    assert starts(body) == [z("07:35:00"), z("07:40:00")]
    assert body["next_from"] == z("07:45:00")


@pytest.mark.parametrize("limit", ["0", "-1", "x"])
async def test_a_bad_limit_is_a_422(tmp_path: Path, plant_store: SqliteStore, limit: str) -> None:
    async with plant_with(tmp_path, plant_store) as api:
        r = await api.get(STATES, params={**DAY, "limit": limit})
    assert r.status_code == 422
    assert r.json()["detail"].startswith("invalid request: query.limit: ")


async def test_states_of_more_than_92_days_are_a_422(
    tmp_path: Path, plant_store: SqliteStore
) -> None:
    async with plant_with(tmp_path, plant_store) as api:
        long = {"from": "2026-08-03T07:59:59.999Z", "to": "2026-11-03T08:00:00Z"}
        r = await api.get(STATES, params=long)
    assert (r.status_code, r.json()) == (
        422,
        {"detail": "`from` to `to` spans more than 92 days; ask for less"},
    )


async def test_states_of_more_than_max_range_days_are_a_422(
    tmp_path: Path, plant_store: SqliteStore
) -> None:
    async with plant_with(tmp_path, plant_store, max_range_days=30) as api:
        ok = {"from": "2026-10-04T08:00:00Z", "to": "2026-11-03T08:00:00Z"}
        assert (await api.get(STATES, params=ok)).status_code == 200
        long = {"from": "2026-10-04T07:59:59.999Z", "to": "2026-11-03T08:00:00Z"}
        r = await api.get(STATES, params=long)
        assert (r.status_code, r.json()) == (
            422,
            {"detail": "`from` to `to` spans more than 30 days; ask for less"},
        )
        # The OEE ranges have the same limit.
        r = await api.get("/api/v1/machines/press1/oee", params=long)
        assert (r.status_code, r.json()) == (
            422,
            {"detail": "`from` to `to` spans more than 30 days; ask for less"},
        )


RANGE = {"from": "2026-11-03T06:00:00Z", "to": "2026-11-03T08:00:00Z"}


async def test_a_range_reads_at_most_max_history_rows(
    tmp_path: Path, plant_store: SqliteStore
) -> None:
    """press1 has 9 state changes and 8 counts in RANGE (17 rows), press2 3 and 3."""
    async with plant_with(tmp_path, plant_store, max_history_rows=17) as api:
        assert (await api.get("/api/v1/machines/press1/oee", params=RANGE)).status_code == 200
        r = await api.get("/api/v1/lines/line1/oee", params=RANGE)
        assert (r.status_code, r.json()) == (
            422,
            {
                "detail": "[from, to) holds 23 stored state changes and counts of 2 machine(s), "
                "more than 17 (api.limits.max_history_rows): ask for a shorter range"
            },
        )
    async with plant_with(tmp_path, plant_store, max_history_rows=16) as api:
        r = await api.get("/api/v1/machines/press1/oee", params=RANGE)
        assert (r.status_code, r.json()) == (
            422,
            {
                "detail": "[from, to) holds 17 stored state changes and counts of 1 machine(s), "
                "more than 16 (api.limits.max_history_rows): ask for a shorter range"
            },
        )
        r = await api.get("/api/v1/losses", params={**RANGE, "machine": "press1"})
        assert r.status_code == 422
        r = await api.get("/api/v1/machines/press1/oee", params={**RANGE, "from": z("06:45:00")})
        assert r.status_code == 200  # 8 state changes (and the one in force), 7 counts


def _batch(s: float, value: float) -> SampleBatch:
    ts = t("07:00:00") + timedelta(seconds=s)
    return SampleBatch("press3", ts, [Sample("product", value, Quality.GOOD, ts)])


async def test_a_downsampled_tag_reads_at_most_max_history_rows(
    tmp_path: Path, plant_store: SqliteStore, plant_config: Config
) -> None:
    await plant_store.handle([_batch(s, s) for s in range(30)])
    url = "/api/v1/machines/press3/tags/product"
    params = {"from": z("07:00:00"), "to": z("07:01:00"), "every": "10s"}
    async with plant_with(tmp_path, plant_store, max_history_rows=30) as api:
        body = (await api.get(url, params=params)).json()
        assert [p["count"] for p in body["points"]] == [10, 10, 10]
    async with plant_with(tmp_path, plant_store, max_history_rows=29) as api:
        r = await api.get(url, params=params)
    assert (r.status_code, r.json()) == (
        422,
        {
            "detail": "[from, to) holds more than 29 stored values of 'product' "
            "(api.limits.max_history_rows): ask for a shorter range"
        },
    )
