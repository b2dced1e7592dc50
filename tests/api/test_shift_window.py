"""The `shift` and `day` windows in the API: their figures name the shift occurrence and
the plant day; between shifts the `shift` window says "no shift planned".

The plant (tests/api/plant.py): calendar UTC, shift `early` 06:00-14:00, the plant day
from 00:00; now is 2026-11-03 08:00.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest

from connectors.sqlite.store import SqliteStore
from edge.pipeline.gateway import Gateway
from tests.api.conftest import NOW, plant_api, plant_gateway, publish_live
from tests.api.plant import make_plant_config, z

URL = "/api/v1/machines/press1/oee"
EARLY = {
    "id": "2026-11-03/early",
    "name": "early",
    "date": "2026-11-03",
    "start": z("06:00:00"),
    "end": z("14:00:00"),
}
DAY = {"date": "2026-11-03", "start": z("00:00:00"), "end": "2026-11-04T00:00:00.000Z"}


@pytest.fixture
async def shifted(
    tmp_path: Path, plant_store: SqliteStore
) -> AsyncIterator[tuple[httpx.AsyncClient, Gateway]]:
    config = make_plant_config(tmp_path / "data", windows=("15m", "shift", "day"))
    gateway = plant_gateway(config, plant_store)
    async with plant_api(config, plant_store, gateway) as c:
        yield c, gateway


async def test_the_shift_window_names_its_occurrence(
    shifted: tuple[httpx.AsyncClient, Gateway],
) -> None:
    client, gateway = shifted
    await publish_live(gateway)
    body = (await client.get(URL, params={"window": "shift"})).json()
    assert (body["shift"], body["day"], body["planned"], body["note"]) == (EARLY, None, True, None)
    assert (body["start"], body["ts"], body["computed"]) == (z("06:00:00"), z("08:00:00"), True)
    # The live shift is the range of the shift so far, computed from the store.
    params = {"from": "2026-11-03T06:00:00Z", "to": "2026-11-03T08:00:00Z"}
    history = (await client.get(URL, params=params)).json()
    assert {k: body[k] for k in ("oee", "run_s", "total", "losses")} == {
        k: history[k] for k in ("oee", "run_s", "total", "losses")
    }
    day = (await client.get(URL, params={"window": "day"})).json()
    assert (day["day"], day["shift"], day["planned"]) == (DAY, None, None)
    line = (await client.get("/api/v1/lines/line1/oee", params={"window": "shift"})).json()
    assert (line["shift"], line["planned"]) == (EARLY, True)
    machines = (await client.get("/api/v1/machines")).json()
    assert machines[0]["oee"]["shift"]["shift"] == EARLY
    assert machines[0]["oee"]["day"]["day"] == DAY


async def test_between_shifts_there_is_no_shift_planned(
    shifted: tuple[httpx.AsyncClient, Gateway],
) -> None:
    client, gateway = shifted
    await publish_live(gateway)
    # 15:00: the early shift ended at 14:00; the engine gives its final figures once,
    # dated at its end, then nothing until the next shift.
    await gateway.emit(gateway.engine.figures(NOW + timedelta(hours=7)))
    final = gateway.live.machines["press1"].oee["shift"]
    assert final.shift is not None and final.ts == final.shift.end
    body = (await client.get(URL, params={"window": "shift"})).json()
    no_shift = {"computed": False, "shift": None, "planned": False, "note": "no shift planned"}
    assert {k: body[k] for k in no_shift} == no_shift
    assert (body["oee"], body["total"], body["losses"]) == (None, None, [])
    line = (await client.get("/api/v1/lines/line1/oee", params={"window": "shift"})).json()
    assert {k: line[k] for k in no_shift} == no_shift and line["missing"] == []
    losses = await client.get("/api/v1/losses", params={"line": "line1", "window": "shift"})
    assert {k: losses.json()[k] for k in no_shift} == no_shift  # nobody "missing"
    assert (losses.json()["missing"], losses.json()["losses"]) == ([], [])
    machines = (await client.get("/api/v1/machines")).json()
    assert machines[0]["oee"]["shift"]["note"] == "no shift planned"
    day = (await client.get(URL, params={"window": "day"})).json()
    assert (day["computed"], day["day"]) == (True, DAY)  # the day goes on


async def test_the_current_shift_and_day_are_the_live_windows(
    shifted: tuple[httpx.AsyncClient, Gateway],
) -> None:
    client, gateway = shifted
    await publish_live(gateway)
    for name, value in (("shift", "current"), ("shift", "2026-11-03/early"), ("day", "current")):
        chosen = (await client.get(URL, params={name: value})).json()
        window = (await client.get(URL, params={"window": name})).json()
        assert chosen == window and chosen["source"] == "live", (name, value)
