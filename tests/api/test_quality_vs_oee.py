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
from api.report_csv import report_csv
from api.report_schemas import ReportOut
from connectors.sqlite.config import SqliteConfig
from connectors.sqlite.store import SqliteStore
from core.types import CountDelta, ScrapBooked
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
    # Each product has one ideal cycle time: its Q is its FPY; the weights are given.
    assert [(p["product"], p["ideal_cycle_s"], p["fpy"]) for p in fpy["products"]] == [
        ("A", 2.0, 0.956), ("B", 3.0, 0.9833), ("C", 2.0, None)]  # fmt: skip
    # The quality answer carries the Q of its own counts, and says why they differ.
    assert fpy["oee_quality"] == oee["quality"] == 0.9679
    assert {"machine": "m1", "flag": "q_weighted_by_cycle", "value": None} in fpy["flags"]


async def test_one_cycle_time_gives_q_equal_to_fpy(client: httpx.AsyncClient) -> None:
    oee = await _get(client, "/api/v1/machines/m2/oee" + SHIFT)
    fpy = await _get(client, "/api/v1/quality/machines/m2" + SHIFT)
    assert (oee["ideal_s"], oee["fully_productive_s"]) == (1560.0, 1510.0)
    assert oee["quality"] == fpy["fpy"] == fpy["oee_quality"] == 0.9679  # 1510 / 1560 = 755 / 780
    assert fpy["flags"] == []


# The line, rollup sum (the default): Q of the summed ideal times, m1 1900 s (good 1839 s)
# + m2 780 x 2 = 1560 s (good 1510 s): 3349 / 3460 = 0.967919; its FPY 1527 / 1580 =
# 0.966456: both machines' mixes, and m1's parts weighed apart from m2's.
async def test_the_line_and_the_shift_report(client: httpx.AsyncClient) -> None:
    oee = await _get(client, "/api/v1/lines/line1/oee" + SHIFT)
    fpy = await _get(client, "/api/v1/quality/lines/line1" + SHIFT)
    assert (oee["quality"], fpy["oee_quality"], fpy["fpy"]) == (0.9679, 0.9679, 0.9665)
    doc = await _get(client, "/api/v1/shifts/2026-11-03/early/report")
    line = doc["quality_figures"]
    assert (doc["quality"], line["oee_quality"], line["fpy"]) == (0.9679, 0.9679, 0.9665)
    assert [(m["machine"], m["quality"], m["quality_figures"]["oee_quality"],
             m["quality_figures"]["fpy"]) for m in doc["machines"]] == [
        ("m1", 0.9679, 0.9679, 0.965), ("m2", 0.9679, 0.9679, 0.9679), ("m3", None, None, None),
    ]  # fmt: skip
    assert {"machine": "m1", "flag": "q_weighted_by_cycle", "value": None} in doc["flags"]
    csv = (await client.get("/api/v1/shifts/2026-11-03/early/report.csv")).text.split("\r\n")
    wanted = (",quality,m1,fpy,", ",quality,m1,oee_", ",m1,ideal_cycle_s,", ",flag,m1,q_")
    assert [x for x in csv if any(w in x for w in wanted)] == [
        "2026-11-03/early,line1,quality,m1,fpy,0.965,,,,,,,,,,,",
        "2026-11-03/early,line1,quality,m1,oee_quality,0.9679,,,,,,,,,,,",
        "2026-11-03/early,line1,product,m1,ideal_cycle_s,2.0,,,,,,,,,,,A",
        "2026-11-03/early,line1,product,m1,ideal_cycle_s,3.0,,,,,,,,,,,B",
        "2026-11-03/early,line1,product,m1,ideal_cycle_s,2.0,,,,,,,,,,,C",
        "2026-11-03/early,line1,flag,m1,q_weighted_by_cycle,,,,,,,,,,,,",
    ]


# rollup bottleneck (m1): the line's Q is the product of the machines' Q, 1839/1900 x
# 1510/1560 = 0.936872 (m3 counted nothing: left out), the ideal-time analogue of the
# RTY 772/800 x 755/780 = 0.934071, not of the line's FPY 0.9665.
async def test_a_bottleneck_lines_q_compares_with_its_rty(
    tmp_path: Path, store: SqliteStore
) -> None:
    lines = {"line1": {"rollup": "bottleneck", "bottleneck": "m1"}}
    async with await _client(tmp_path, store, lines) as c:
        oee = await _get(c, "/api/v1/lines/line1/oee" + SHIFT)
        fpy = await _get(c, "/api/v1/quality/lines/line1" + SHIFT)
        doc = await _get(c, "/api/v1/shifts/2026-11-03/early/report")
    assert (oee["mode"], oee["quality"], fpy["oee_quality"], fpy["rty"]) == (
        "bottleneck", 0.9369, 0.9369, 0.9341)  # fmt: skip
    assert (doc["quality"], doc["quality_figures"]["oee_quality"]) == (0.9369, 0.9369)


# More parts booked than counted: (09:00, 09:30] m2 makes 5 good parts, and 8 of its
# parts are booked as scrap (good 5 - 8 = -3). The OEE figures take the window as holding
# only its own 5 parts, all now rejects (good clamped to 0, docs/OEE.md §1 rule 4): Q = 0;
# FPY cannot tell which parts the bookings were of: null, flagged with the excess 3.
async def test_more_booked_than_counted(tmp_path: Path, store: SqliteStore) -> None:
    await store.handle([
        CountDelta("m2", t("09:10"), 5, 5, 0),
        CountDelta("m2", t("09:20"), 0, -8, 8),
        ScrapBooked("m2", t("09:20"), 8, 103, "Burr", "anna", seq=2),
    ])  # fmt: skip
    async with await _client(tmp_path, store) as c:
        span = "?from=2026-11-03T09:00:00Z&to=2026-11-03T09:30:00Z"
        oee = await _get(c, "/api/v1/machines/m2/oee" + span)
        fpy = await _get(c, "/api/v1/quality/machines/m2" + span)
    assert [oee[k] for k in ("total", "good", "reject", "quality")] == [5, 0, 5, 0.0]
    assert [fpy[k] for k in ("total", "good", "reject", "fpy", "oee_quality")] == [
        5, -3, 8, None, 0.0]  # fmt: skip
    assert fpy["flags"] == [{"machine": "m2", "flag": "moves_before_window", "value": 3}]


async def test_a_report_kept_before_oee_quality_still_answers(client: httpx.AsyncClient) -> None:
    # A v 2 report kept before `oee_quality` and `ideal_cycle_s` existed: it validates
    # (null), and its CSV leaves their rows out rather than failing.
    doc = await _get(client, "/api/v1/shifts/2026-11-03/early/report")
    parts = [doc["quality_figures"], *(m["quality_figures"] for m in doc["machines"])]
    for q in parts:
        del q["oee_quality"]
        for p in q["products"]:
            del p["ideal_cycle_s"]
    out = ReportOut.model_validate(doc).model_dump(mode="json", by_alias=True)
    assert out["quality_figures"]["oee_quality"] is None
    assert out["machines"][0]["quality_figures"]["products"][0]["ideal_cycle_s"] is None
    rows = report_csv(doc).split("\r\n")
    assert not [x for x in rows if ",oee_quality," in x or ",ideal_cycle_s," in x]
    assert "2026-11-03/early,line1,quality,m1,fpy,0.965,,,,,,,,,,," in rows
