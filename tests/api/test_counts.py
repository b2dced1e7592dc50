"""Suspect counts and counts by hand over the API (issue 15): a jump no machine could
make is held out of the figures and shown; an admin accepts it (its parts count now),
discards it, or counts parts by hand; each decision records who and when, and reaches
the engine, the live view and the store like the PLC's counts."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from api.app import create_app
from connectors.sqlite.store import SqliteStore
from core.types import Quality, Sample, SampleBatch
from edge.config import Config, SqliteConfig
from edge.pipeline.gateway import Gateway

T0 = datetime(2026, 11, 3, 8, 0, tzinfo=UTC)
NOW = T0 + timedelta(minutes=5)
ADMIN_KEY, READ_KEY = "a" * 32, "r" * 32


def config(data_dir: Path, **api: object) -> Config:
    return Config.model_validate(
        {
            "gateway": {"id": "gw1", "data_dir": str(data_dir)},
            "site": "plant1",
            "area": "press",
            "line": "line1",
            "oee": {"windows": ["1h"]},
            "machines": [
                {
                    "id": "m1",
                    "ideal_cycle_s": 2,
                    "modbus": {"host": "127.0.0.1"},
                    "tags": {"total": {"address": 0, "type": "uint32"}, "code": {"address": 2}},
                    "state_rules": [{"tag": "code", "map": {1: "running"}}],
                    "counters": {"total": {"tag": "total"}},
                }
            ],
            "api": api,
        }
    )


def batch(t: float, total: int) -> SampleBatch:
    ts = T0 + timedelta(seconds=t)
    values = {"total": total, "code": 1}
    return SampleBatch("m1", ts, tuple(Sample(k, v, Quality.GOOD, ts) for k, v in values.items()))


Plant = tuple[httpx.AsyncClient, Gateway, SqliteStore]


@pytest.fixture
async def plant(tmp_path: Path) -> AsyncIterator[Plant]:
    cfg = config(tmp_path / "data")
    async with SqliteStore(SqliteConfig(path=tmp_path / "oee.sqlite")) as store:
        gw = Gateway(cfg, sinks=[store], history=store, clock=lambda: NOW)
        app = create_app(cfg, gw.live, store, lambda: NOW, control=gw)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://gw") as client:
            yield client, gw, store


async def held(gw: Gateway) -> None:
    """A baseline, 4 parts, then 5000 a second later: held as suspect 1."""
    n = gw.normalisers["m1"]
    for t, total in ((0, 100), (10, 104), (11, 5104)):
        await gw.take(n, batch(t, total))


async def test_a_held_count_is_shown_and_left_out_of_every_figure(plant: Plant) -> None:
    client, gw, store = plant
    await held(gw)
    m1 = (await client.get("/api/v1/machines/m1")).json()
    assert (m1["counts"], m1["suspects"]) == ({"total": 4, "good": 4, "reject": 0}, 1)
    assert (await client.get("/api/v1/machines/m1/suspects")).json() == [
        {
            "seq": 1, "ts": "2026-11-03T08:00:11.000Z", "total": 5000, "good": 5000,
            "reject": 0, "product": None, "counter": "total", "allowed": 11, "elapsed_s": 1.0,
        }
    ]  # fmt: skip
    (u,) = gw.engine.figures(NOW)
    assert u.total == 4
    assert [c.total for c in await store.count_history("m1", T0, NOW)] == [4]


async def test_an_accepted_count_counts_now_and_says_who(plant: Plant) -> None:
    client, gw, store = plant
    await held(gw)
    r = await client.post("/api/v1/machines/m1/suspects/1/accept", json={"note": "restart"})
    assert r.status_code == 200
    assert r.json() == {
        "machine": "m1", "action": "accept", "by": "loopback", "ts": "2026-11-03T08:05:00.000Z",
        "total": 5000, "good": 5000, "reject": 0, "suspect_seq": 1, "count_seq": 2,
        "note": "restart", "seq": 1,
    }  # fmt: skip
    m1 = (await client.get("/api/v1/machines/m1")).json()
    assert (m1["counts"]["total"], m1["suspects"]) == (5004, 0)
    (u,) = gw.engine.figures(NOW)
    assert u.total == 5004
    stored = await store.count_history("m1", T0, NOW + timedelta(seconds=1))
    assert [(c.total, c.ts) for c in stored] == [(4, T0 + timedelta(seconds=10)), (5000, NOW)]
    again = await client.post("/api/v1/machines/m1/suspects/1/accept")
    assert again.status_code == 404
    assert again.json()["detail"] == "no suspect count 1 of m1 waits (waiting: none)"


async def test_a_discarded_count_is_gone_for_good_and_recorded(
    plant: Plant, tmp_path: Path
) -> None:
    client, gw, store = plant
    await held(gw)
    r = await client.post("/api/v1/machines/m1/suspects/1/discard")
    assert (r.status_code, r.json()["action"], r.json()["count_seq"]) == (200, "discard", None)
    assert (await client.get("/api/v1/machines/m1/suspects")).json() == []
    (u,) = gw.engine.figures(NOW)
    assert u.total == 4
    with sqlite3.connect(tmp_path / "oee.sqlite") as conn:
        rows = conn.execute("SELECT action, by, total, suspect_seq FROM count_decision").fetchall()
    assert rows == [("discard", "loopback", 5000, 1)]


async def test_parts_counted_by_hand_count_now(plant: Plant) -> None:
    client, gw, _ = plant
    await held(gw)
    r = await client.post(
        "/api/v1/machines/m1/counts", json={"good": 30, "reject": 2, "note": "outage 07:10"}
    )
    assert r.status_code == 200
    body = r.json()
    assert (body["action"], body["total"], body["good"], body["reject"]) == ("correct", 32, 30, 2)
    assert (body["count_seq"], body["suspect_seq"], body["note"]) == (2, None, "outage 07:10")
    (u,) = gw.engine.figures(NOW)
    assert (u.total, u.good, u.reject) == (36, 34, 2)


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        ({"good": 0, "reject": 0}, "body: a correction counts at least one part"),
        ({"good": 3, "reject": 1, "total": 5}, "body: total 5 is not good + reject (4)"),
        ({"good": -1, "reject": 1}, "body.good: Input should be greater than or equal to 0"),
        (
            {"good": 2_000_000, "reject": 0},
            "body.good: Input should be less than or equal to 1000000",
        ),
    ],
)
async def test_a_correction_that_does_not_add_up_is_refused(
    plant: Plant, body: dict[str, int], detail: str
) -> None:
    client, gw, _ = plant
    r = await client.post("/api/v1/machines/m1/counts", json=body)
    assert (r.status_code, r.json()) == (422, {"detail": f"invalid request: {detail}"})
    assert gw.normalisers["m1"].decision_seq == 0  # nothing recorded


async def test_decisions_name_the_admin_key_and_need_one(tmp_path: Path) -> None:
    keys = [
        {"name": "supervisor", "key": ADMIN_KEY, "scope": "admin"},
        {"name": "wall", "key": READ_KEY, "scope": "read"},
    ]
    cfg = config(tmp_path / "data", keys=keys)
    async with SqliteStore(SqliteConfig(path=tmp_path / "oee.sqlite")) as store:
        gw = Gateway(cfg, sinks=[store], history=store, clock=lambda: NOW)
        app = create_app(cfg, gw.live, store, lambda: NOW, control=gw)
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://gw"
        ) as c:
            await held(gw)
            url = "/api/v1/machines/m1/suspects/1/accept"
            read = await c.post(url, headers={"Authorization": f"Bearer {READ_KEY}"})
            assert read.status_code == 403
            admin = await c.post(url, headers={"Authorization": f"Bearer {ADMIN_KEY}"})
            assert admin.json()["by"] == "supervisor"


async def test_held_counts_and_moved_parts_are_in_the_metrics(plant: Plant) -> None:
    client, gw, _ = plant
    await held(gw)
    await gw.take(gw.normalisers["m1"], batch(12, 5105))
    text = (await client.get("/metrics")).text
    for line in (
        'oee_edge_counts_suspect_total{machine="m1"} 1',
        'oee_edge_suspect_counts{machine="m1"} 1.0',
        'oee_edge_counter_invalid_total{machine="m1"} 0',
        'oee_edge_pipeline_errors_total{machine="m1"} 0',
        'oee_edge_parts_total{machine="m1",kind="total"} 5',
        'oee_edge_parts_moved_total{machine="m1",to="reject"} 0',
    ):
        assert line in text.splitlines(), line
