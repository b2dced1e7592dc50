"""The shift report's quality figures of a line of three machines (the hand-computed
morning of tests/api/quality_plant.py, over a real SQLite store and a real Gateway):
the same figures as the quality routes give for the shift, the line's rolled
throughput yield with the machine left out, and a shift that only moved parts made
before it (flagged, no FPY)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from connectors.sqlite.config import SqliteConfig
from connectors.sqlite.store import SqliteStore
from core.types import CountDelta, ScrapBooked
from tests.api.quality_plant import HISTORY, quality_config, t
from tests.api.test_report import Clock, api_client

REPORT = "/api/v1/shifts/2026-11-03/{}/report"
SPAN = ("from", "to", "shift", "day")


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SqliteStore]:
    async with SqliteStore(SqliteConfig(path=tmp_path / "q.sqlite")) as s:
        await s.handle(HISTORY)
        yield s


@pytest.fixture
def clock() -> Clock:
    return Clock(t("09:00"))


@pytest.fixture
async def client(
    tmp_path: Path, store: SqliteStore, clock: Clock
) -> AsyncIterator[httpx.AsyncClient]:
    async with api_client(quality_config(tmp_path / "data"), store, clock) as c:
        yield c


def _pareto(*rows: tuple[int | None, str, int, float, float]) -> list[dict[str, Any]]:
    keys = ("reason_code", "reason", "count", "share", "cumulative")
    return [dict(zip(keys, r, strict=True)) for r in rows]


# The early shift so far (06:00-09:00), as tests/api/test_quality.py works it out:
# m1 800 parts, good 772 (FPY 0.965); m2 780, good 760 - 5 booked = 755 (0.967949);
# m3 none. The line: 1,580 parts, good 1,527 (0.96646), rejects 53 (0.03354), booked
# 13 + 5 = 18; RTY = 0.965 x 0.967949 = 0.934071 over m1 and m2, m3 left out. Pareto
# of the 53: Scratch 8 (0.1509), Burr 1 + 5 = 6 (0.1132; 14/53 = 0.2642), Dent 4
# (0.0755; 18/53 = 0.3396), the machines' own 15 + 20 = 35 (0.6604; 1.0).
async def test_the_shift_so_far_has_the_quality_routes_figures(
    client: httpx.AsyncClient,
) -> None:
    doc = (await client.get(REPORT.format("early"))).json()
    line = doc["quality_figures"]
    assert [line[k] for k in ("total", "good", "reject", "scrap_booked", "fpy", "scrap_rate")] == [
        1580, 1527, 53, 18, 0.9665, 0.0335]  # fmt: skip
    assert (line["rty"], line["missing"]) == (0.9341, ["m3"])
    assert line["machines"] == [
        {"machine": "m1", "total": 800, "fpy": 0.965},
        {"machine": "m2", "total": 780, "fpy": 0.9679},
        {"machine": "m3", "total": 0, "fpy": None},
    ]
    assert line["pareto"] == _pareto(
        (101, "Scratch", 8, 0.1509, 0.1509), (103, "Burr", 6, 0.1132, 0.2642),
        (102, "Dent", 4, 0.0755, 0.3396), (None, "counted by the machine", 35, 0.6604, 1.0),
    )  # fmt: skip
    m1, m2, m3 = doc["machines"]
    assert (m1["quality_figures"]["fpy"], m2["quality_figures"]["fpy"]) == (0.965, 0.9679)
    assert m3["quality_figures"]["pareto"] == [] and m3["quality_figures"]["fpy"] is None
    # The very figures the quality routes answer for the shift, but for their range.
    route = (await client.get("/api/v1/quality/lines/line1?shift=2026-11-03/early")).json()
    assert line == {k: v for k, v in route.items() if k not in (*SPAN, "line")}
    for part in doc["machines"]:
        machine = part["machine"]
        url = f"/api/v1/quality/machines/{machine}?shift=2026-11-03/early"
        route = (await client.get(url)).json()
        assert part["quality_figures"] == {
            k: v for k, v in route.items() if k not in (*SPAN, "machine")
        }
    quality_flags = [f for f in doc["flags"] if f["flag"] == "suspect_counts"]
    assert quality_flags == [{"machine": "m1", "flag": "suspect_counts", "value": 1}]


# The late shift (14:00-) so far at 14:30: m2 counted nothing, but 2 of its earlier
# parts were booked as scrap at 14:10 (good -2, reject +2): no FPY of m2 or the line,
# flagged `moves_before_window` with the 2; every machine is left out of the RTY.
async def test_a_shift_that_only_moved_earlier_parts(
    client: httpx.AsyncClient, store: SqliteStore, clock: Clock
) -> None:
    await store.handle(
        [
            CountDelta("m2", t("14:10"), 0, -2, 2),
            ScrapBooked("m2", t("14:10"), 2, 103, "Burr", "anna", seq=2),
        ]
    )
    clock.now = t("14:30")
    doc = (await client.get(REPORT.format("late"))).json()
    line = doc["quality_figures"]
    flag = {"machine": "m2", "flag": "moves_before_window", "value": 2}
    assert [line[k] for k in ("total", "good", "reject", "fpy", "scrap_rate", "rty")] == [
        0, -2, 2, None, None, None]  # fmt: skip
    assert line["missing"] == ["m1", "m2", "m3"]
    assert line["flags"] == [flag]
    assert line["pareto"] == _pareto((103, "Burr", 2, 1.0, 1.0))
    assert flag in doc["flags"]  # in the report's flags too (page, CSV)
    csv = (await client.get(REPORT.format("late") + ".csv")).text.split("\r\n")
    assert "2026-11-03/late,line1,flag,m2,moves_before_window,2,,,,,,,,,,," in csv
    assert [x for x in csv if ",rty" in x] == [
        "2026-11-03/late,line1,quality,_line,rty,,,,,,,,,,,,",
        "2026-11-03/late,line1,quality,m1,rty_missing,,,,,,,,,,,,",
        "2026-11-03/late,line1,quality,m2,rty_missing,,,,,,,,,,,,",
        "2026-11-03/late,line1,quality,m3,rty_missing,,,,,,,,,,,,",
    ]
