"""`GET /api/v1/quality/machines/{id}` and `/quality/lines/{line}` over a real SQLite
store holding the hand-computed morning of tests/api/quality_plant.py, with a real
Gateway as the control: FPY, scrap rate, by product, the defect Pareto, flags, RTY."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from api.app import create_app
from connectors.sqlite.config import SqliteConfig
from connectors.sqlite.store import SqliteStore
from edge.pipeline.gateway import Gateway
from tests.api.quality_plant import HISTORY, NOW_TEXT, quality_config, t

SHIFT = {
    "id": "2026-11-03/early", "name": "early", "date": "2026-11-03",
    "start": "2026-11-03T06:00:00.000Z", "end": "2026-11-03T14:00:00.000Z",
}  # fmt: skip


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SqliteStore]:
    async with SqliteStore(SqliteConfig(path=tmp_path / "q.sqlite")) as s:
        await s.handle(HISTORY)
        yield s


async def _client(tmp_path: Path, store: SqliteStore, **api: Any) -> httpx.AsyncClient:
    config = quality_config(tmp_path / "data", api)
    gateway = Gateway(config, sinks=[store], history=store, clock=lambda: t(NOW_TEXT))
    app = create_app(config, gateway.live, store, lambda: t(NOW_TEXT), control=gateway)
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://g")


@pytest.fixture
async def client(tmp_path: Path, store: SqliteStore) -> AsyncIterator[httpx.AsyncClient]:
    async with await _client(tmp_path, store) as c:
        yield c


def _pareto(*rows: tuple[int | None, str, int, float, float]) -> list[dict[str, Any]]:
    keys = ("reason_code", "reason", "count", "share", "cumulative")
    return [dict(zip(keys, r, strict=True)) for r in rows]


# m1 in the shift so far (06:00-09:00): 500 + 300 parts; good 490 + 294 - 8 - 4 + 1 - 1
# = 772, rejects 10 + 6 + 8 + 4 - 1 + 1 = 28: FPY 772 / 800 = 0.965, scrap 28 / 800 =
# 0.035. A: 500, good 490 - 12 = 478 (0.956); B: 300, good 294 + 1 = 295 (0.98333); C:
# none made in the shift, 1 booked: no figures. Booked 8 + 4 + 1 = 13; the machine's own
# 28 - 13 = 15 rejects last. Shares of 28: 8 -> 0.2857, 4 -> 0.1429 (cum. 12/28 0.4286),
# 1 -> 0.0357 (13/28 0.4643), 15 -> 0.5357 (1.0). The OEE quality factor of the same
# counts weighs each part by its ideal cycle time (A 2 s, B 3 s, C the machine's 2 s):
# (478 x 2 + 295 x 3 - 1 x 2) / (500 x 2 + 300 x 3) = 1839 / 1900 = 0.967895, not the
# FPY: flagged q_weighted_by_cycle (tests/api/test_quality_vs_oee.py).
M1_SHIFT = {
    "machine": "m1", "from": "2026-11-03T06:00:00.000Z", "to": "2026-11-03T09:00:00.000Z",
    "shift": SHIFT, "day": None,
    "total": 800, "good": 772, "reject": 28, "scrap_booked": 13,
    "fpy": 0.965, "scrap_rate": 0.035, "oee_quality": 0.9679,
    "products": [
        {"product": "A", "name": "Bracket A", "ideal_cycle_s": 2.0, "total": 500, "good": 478,
         "reject": 22, "fpy": 0.956, "scrap_rate": 0.044},
        {"product": "B", "name": None, "ideal_cycle_s": 3.0, "total": 300, "good": 295, "reject": 5,
         "fpy": 0.9833, "scrap_rate": 0.0167},
        {"product": "C", "name": None, "ideal_cycle_s": 2.0, "total": 0, "good": -1, "reject": 1,
         "fpy": None, "scrap_rate": None},
    ],
    "pareto": _pareto(
        (101, "Scratch", 8, 0.2857, 0.2857), (102, "Dent", 4, 0.1429, 0.4286),
        (103, "Burr", 1, 0.0357, 0.4643), (None, "counted by the machine", 15, 0.5357, 1.0),
    ),
    "flags": [
        {"machine": "m1", "flag": "suspect_counts", "value": 1},
        {"machine": "m1", "flag": "q_weighted_by_cycle", "value": None},
    ],
}  # fmt: skip


@pytest.mark.parametrize("query", ["?shift=current", "?shift=2026-11-03/early", ""])
async def test_a_machines_shift(client: httpx.AsyncClient, query: str) -> None:
    r = await client.get("/api/v1/quality/machines/m1" + query)
    assert (r.status_code, r.json()) == (200, M1_SHIFT)


async def test_a_range_before_any_scrap_was_booked(client: httpx.AsyncClient) -> None:
    # (06:00, 07:05]: 800 parts, 784 good, 16 rejects nobody booked: FPY 0.98, scrap 0.02.
    r = await client.get(
        "/api/v1/quality/machines/m1?from=2026-11-03T06:00:00Z&to=2026-11-03T07:05:00Z"
    )
    body = r.json()
    assert (body["total"], body["good"], body["reject"], body["scrap_booked"]) == (800, 784, 16, 0)
    assert (body["fpy"], body["scrap_rate"], body["shift"], body["day"]) == (0.98, 0.02, None, None)
    assert body["pareto"] == _pareto((None, "counted by the machine", 16, 1.0, 1.0))


async def test_a_window_that_only_moved_earlier_parts(client: httpx.AsyncClient) -> None:
    # (07:05, 07:25]: only the 12 parts booked as scrap (good -12, reject +12) of parts
    # counted before it: no yield of this window (null), flagged with the 12.
    r = await client.get(
        "/api/v1/quality/machines/m1?from=2026-11-03T07:05:00Z&to=2026-11-03T07:25:00Z"
    )
    body = r.json()
    assert (body["total"], body["good"], body["reject"]) == (0, -12, 12)
    assert (body["fpy"], body["scrap_rate"]) == (None, None)
    assert body["flags"] == [{"machine": "m1", "flag": "moves_before_window", "value": 12}]
    assert body["pareto"] == _pareto(
        (101, "Scratch", 8, 0.6667, 0.6667), (102, "Dent", 4, 0.3333, 1.0)
    )


async def test_an_empty_window(client: httpx.AsyncClient) -> None:
    r = await client.get("/api/v1/quality/machines/m3?shift=current")
    assert r.json() | {"shift": None} == {
        "machine": "m3", "from": "2026-11-03T06:00:00.000Z", "to": "2026-11-03T09:00:00.000Z",
        "shift": None, "day": None, "total": 0, "good": 0, "reject": 0, "scrap_booked": 0,
        "fpy": None, "scrap_rate": None, "oee_quality": None, "products": [], "pareto": [],
        "flags": [],
    }  # fmt: skip


async def test_the_plant_day(client: httpx.AsyncClient) -> None:
    # 00:00-09:00 adds the 100 parts of C at 05:50: C 100, good 99, reject 1 (0.99).
    body = (await client.get("/api/v1/quality/machines/m1?day=current")).json()
    assert body["day"] == {"date": "2026-11-03", "start": "2026-11-03T00:00:00.000Z",
                           "end": "2026-11-04T00:00:00.000Z"}  # fmt: skip
    assert (body["total"], body["good"], body["shift"]) == (900, 872, None)
    assert body["products"][2] == {"product": "C", "name": None, "ideal_cycle_s": 2.0,
                                   "total": 100, "good": 99, "reject": 1, "fpy": 0.99,
                                   "scrap_rate": 0.01}  # fmt: skip
    # Q weighs C's parts at 2 s: (478 x 2 + 295 x 3 + 99 x 2) / (500 x 2 + 300 x 3 + 100 x 2)
    # = 2039 / 2100 = 0.970952; FPY 872 / 900 = 0.968889.
    assert (body["oee_quality"], body["fpy"]) == (0.971, 0.9689)


# The line: m1 800 parts (772 good), m2 780 (760 - 5 = 755 good), m3 none. Summed: 1,580,
# good 1,527 (0.96646), rejects 53 (0.03354); booked 13 + 5 = 18. RTY = 0.965 x 755/780
# (0.967949) = 0.934071 over m1, m2; m3 missing. Pareto of 53: Scratch 8 (0.1509), Burr
# 1 + 5 = 6 (0.1132, cum. 14/53 0.2642), Dent 4 (0.0755, 18/53 0.3396), the machines' own
# 15 + 20 = 35 (0.6604, 1.0).
async def test_a_lines_rty_and_what_it_leaves_out(client: httpx.AsyncClient) -> None:
    body = (await client.get("/api/v1/quality/lines/line1?shift=current")).json()
    assert body["line"] == "line1" and body["shift"] == SHIFT
    assert [body[k] for k in ("total", "good", "reject", "scrap_booked", "fpy", "scrap_rate")] == [
        1580, 1527, 53, 18, 0.9665, 0.0335]  # fmt: skip
    assert body["rty"] == 0.9341
    assert body["machines"] == [
        {"machine": "m1", "total": 800, "fpy": 0.965},
        {"machine": "m2", "total": 780, "fpy": 0.9679},
        {"machine": "m3", "total": 0, "fpy": None},
    ]
    assert body["missing"] == ["m3"]
    assert body["pareto"] == _pareto(
        (101, "Scratch", 8, 0.1509, 0.1509), (103, "Burr", 6, 0.1132, 0.2642),
        (102, "Dent", 4, 0.0755, 0.3396), (None, "counted by the machine", 35, 0.6604, 1.0),
    )  # fmt: skip
    assert [p["product"] for p in body["products"]] == ["A", "B", "C", None]
    assert body["products"][3] == {"product": None, "name": None, "ideal_cycle_s": 2.0,
                                   "total": 780, "good": 755, "reject": 25, "fpy": 0.9679,
                                   "scrap_rate": 0.0321}  # fmt: skip
    assert body["flags"] == [
        {"machine": "m1", "flag": "suspect_counts", "value": 1},
        {"machine": "m1", "flag": "q_weighted_by_cycle", "value": None},
    ]


@pytest.mark.parametrize(
    ("path", "status", "detail"),
    [
        ("/api/v1/quality/machines/nope", 404,
         "unknown machine 'nope'; known machines: m1, m2, m3, other"),
        ("/api/v1/quality/lines/nope", 404, "unknown line 'nope'; known lines: line1, line2"),
        ("/api/v1/quality/machines/m1?shift=current&day=current", 422,
         "give either `shift` or `day`, not both"),
        ("/api/v1/quality/machines/m1?shift=current&from=2026-11-03", 422,
         "give `shift` or `day` alone, without `from`/`to`"),
        ("/api/v1/quality/machines/m1?to=2026-11-03T08:00:00Z", 422,
         "`from` is required with `to`"),
        ("/api/v1/quality/machines/m1?from=2026-11-03T10:00:00Z", 422,
         "`from` must be earlier than `to` (`to` defaults to now)"),
        ("/api/v1/quality/machines/m1?shift=2026-11-03/late", 404,
         "shift '2026-11-03/late' has not begun; nearest: 2026-11-04/early, 2026-11-03/late, "
         "2026-11-03/early, 2026-11-02/late, 2026-11-02/early"),
    ],
)  # fmt: skip
async def test_errors_say_what_to_change(
    client: httpx.AsyncClient, path: str, status: int, detail: str
) -> None:
    r = await client.get(path)
    assert (r.status_code, r.json()["detail"]) == (status, detail)


async def test_a_range_holding_more_rows_than_allowed(tmp_path: Path, store: SqliteStore) -> None:
    # 6 count deltas of m1 and 2 of m2 in [06:00, 09:00): 8 rows.
    async with await _client(tmp_path, store, limits={"max_history_rows": 5}) as c:
        r = await c.get("/api/v1/quality/lines/line1?shift=current")
    assert r.status_code == 422
    assert r.json()["detail"].startswith("[from, to) holds 8 stored state changes and counts")
