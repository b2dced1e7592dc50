"""Why a machine's first-pass yield and its OEE quality factor Q differ for the same
range (docs/SPC.md "FPY and the OEE quality factor Q"): the hand-computed morning of
tests/api/quality_plant.py over a real SQLite store and a real Gateway, asked of the OEE
routes and the quality routes for the same shift (06:00, 09:00].

Both are good over all of the same counts of (from, to] (the same held-out suspect count,
the same bookings); FPY counts every part alike (ISO 22400-2 GP / IP), Q weighs each part
by its product's ideal cycle time (docs/OEE.md §2: the only weighting for which
A x P x Q = fully productive time / PPT). m1 made 500 of A (2 s) and 300 of B (3 s):
A's yield 478/500 = 0.956, B's 295/300 = 0.98333, and the 1 part of C (no product
config: the machine's 2 s) booked as scrap: good -1.
- FPY = (478 + 295 - 1) / (500 + 300) = 772 / 800 = 0.965
- Q   = (478x2 + 295x3 - 1x2) / (500x2 + 300x3) = 1839 / 1900 = 0.967895 (-> 0.9679)
B, with the better yield, weighs 3/2 as much in Q: Q > FPY. m2 has one cycle time: both
755 / 780 = 1510 / 1560 = 0.967949."""

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

SHIFT = "?shift=2026-11-03/early"


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SqliteStore]:
    async with SqliteStore(SqliteConfig(path=tmp_path / "q.sqlite")) as s:
        await s.handle(HISTORY)
        yield s


async def _client(tmp_path: Path, store: SqliteStore, lines: Any = None) -> httpx.AsyncClient:
    config = quality_config(tmp_path / "data")
    if lines is not None:
        config = config.model_validate({**config.model_dump(mode="json"), "lines": lines})
    gateway = Gateway(config, sinks=[store], history=store, clock=lambda: t(NOW_TEXT))
    app = create_app(config, gateway.live, store, lambda: t(NOW_TEXT), control=gateway)
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://g")


@pytest.fixture
async def client(tmp_path: Path, store: SqliteStore) -> AsyncIterator[httpx.AsyncClient]:
    async with await _client(tmp_path, store) as c:
        yield c


async def _get(client: httpx.AsyncClient, url: str) -> dict[str, Any]:
    r = await client.get(url)
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


async def test_m1_q_and_fpy_of_the_same_shift(client: httpx.AsyncClient) -> None:
    oee = await _get(client, "/api/v1/machines/m1/oee" + SHIFT)
    fpy = await _get(client, "/api/v1/quality/machines/m1" + SHIFT)
    # The same parts of the same range ...
    assert [oee[k] for k in ("total", "good", "reject")] == [800, 772, 28]
    assert [fpy[k] for k in ("total", "good", "reject")] == [800, 772, 28]
    # ... weighed differently: Q by ideal time, FPY by count.
    assert (oee["ideal_s"], oee["fully_productive_s"]) == (1900.0, 1839.0)
    assert (oee["quality"], fpy["fpy"]) == (0.9679, 0.965)
    # Each product has one ideal cycle time: its Q is its FPY.
    assert [(p["product"], p["fpy"]) for p in fpy["products"]] == [
        ("A", 0.956), ("B", 0.9833), ("C", None)]  # fmt: skip


async def test_one_cycle_time_gives_q_equal_to_fpy(client: httpx.AsyncClient) -> None:
    oee = await _get(client, "/api/v1/machines/m2/oee" + SHIFT)
    fpy = await _get(client, "/api/v1/quality/machines/m2" + SHIFT)
    assert (oee["ideal_s"], oee["fully_productive_s"]) == (1560.0, 1510.0)
    assert oee["quality"] == fpy["fpy"] == 0.9679  # 1510 / 1560 = 755 / 780 = 0.967949
