"""The shift report (`GET /api/v1/shifts/{date}/{name}/report` and `.csv`) over a real
SQLite store holding the hand-computed shift of tests/api/report_plant.py, with a real
Gateway as the control: figures, losses, stops, scrap by reason, alarms, notes, flags;
kept at the first build and answered from the store; rebuilt after newer input."""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path

import httpx
import pytest

from api.app import create_app
from api.report_build import flags, outside_plan
from connectors.sqlite.config import SqliteConfig
from connectors.sqlite.store import SqliteStore
from core.types import CountDelta
from edge.config import Config
from edge.pipeline.gateway import Gateway
from tests.api.report_orders_plant import CHANGEOVERS, ORDERS, PLAN
from tests.api.report_plant import HISTORY, SHIFT_URL, report_config, t


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@contextlib.asynccontextmanager
async def api_client(
    config: Config, store: SqliteStore, clock: Clock
) -> AsyncIterator[httpx.AsyncClient]:
    """The API over `store` with a real Gateway as its control, on `clock`."""
    gateway = Gateway(config, sinks=[store], history=store, clock=clock)
    app = create_app(config, gateway.live, store, clock, control=gateway)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://g") as c:
        yield c


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SqliteStore]:
    async with SqliteStore(SqliteConfig(path=tmp_path / "r.sqlite")) as s:
        await s.handle(HISTORY)
        yield s


@pytest.fixture
def clock() -> Clock:
    return Clock(t("09:00"))


@pytest.fixture
async def client(
    tmp_path: Path, store: SqliteStore, clock: Clock
) -> AsyncIterator[httpx.AsyncClient]:
    async with api_client(report_config(tmp_path / "data"), store, clock) as c:
        yield c


# Planned time: 2 h - the 15 min break = 6,300 s. Down: fault 600 s + idle 600 s, so
# run 5,100 s and A = 5,100 / 6,300 = 0.80952. 2,000 parts at 2 s ideal = 4,000 s:
# P = 4,000 / 5,100 = 0.78431 (speed loss 1,100 s = 0.1746 points). Rejects: 20 counted
# by the machine + 15 booked by hand = 35; good 1,965: Q = 0.9825 (70 s of ideal time,
# 0.0111 points). OEE = 1,965 x 2 / 6,300 = 0.62381. Target 2,500: 1,965 / 2,500 = 0.786.
FIGURES = {
    "oee": 0.6238, "availability": 0.8095, "performance": 0.7843, "quality": 0.9825,
    "coverage": 1.0,
    "output": {"good": 1965, "reject": 35, "total": 2000, "target": 2500.0,
               "attainment": 0.786},
}  # fmt: skip
LOSSES = [
    ("breakdowns", "availability", 600.0, 0.0952),  # 600 / 6,300
    ("setup", "availability", 0.0, 0.0),
    ("idle", "availability", 600.0, 0.0952),
    ("unknown", "availability", 0.0, 0.0),
    ("small_stops", "performance", 0.0, 0.0),
    ("speed", "performance", 1100.0, 0.1746),  # 5,100 - 4,000; / 6,300
    ("startup_rejects", "quality", 0.0, 0.0),
    ("production_rejects", "quality", 70.0, 0.0111),  # 35 x 2 s; / 6,300
]
SHIFT = {
    "id": "2026-11-03/early", "name": "early", "date": "2026-11-03",
    "start": "2026-11-03T06:00:00.000Z", "end": "2026-11-03T08:00:00.000Z", "timezone": "UTC",
}  # fmt: skip


# Quality (tallies of (06:00, 08:00]): 2,000 parts, good 990 + 600 + 390 - 15 booked =
# 1,965, rejects 10 + 10 + 15 = 35: FPY 1,965 / 2,000 = 0.9825, scrap rate 35 / 2,000 =
# 0.0175. Pareto of the 35: Scratch 8 + 4 = 12 (12/35 = 0.342857), Dent 3 (3/35 =
# 0.085714; cumulative 15/35 = 0.428571), the machine's own 20 (20/35 = 0.571429; 1.0).
# One machine: the line's RTY is its FPY. One ideal cycle time (2 s): the OEE quality
# factor Q = 1,965 x 2 / (2,000 x 2) is the FPY.
QUALITY = {
    "total": 2000, "good": 1965, "reject": 35, "scrap_booked": 15, "fpy": 0.9825,
    "scrap_rate": 0.0175, "oee_quality": 0.9825,
    "products": [{"product": None, "name": None, "ideal_cycle_s": 2.0, "total": 2000,
                  "good": 1965, "reject": 35, "fpy": 0.9825, "scrap_rate": 0.0175}],
    "pareto": [
        {"reason_code": 101, "reason": "Scratch", "count": 12, "share": 0.3429,
         "cumulative": 0.3429},
        {"reason_code": 102, "reason": "Dent", "count": 3, "share": 0.0857, "cumulative": 0.4286},
        {"reason_code": None, "reason": "counted by the machine", "count": 20, "share": 0.5714,
         "cumulative": 1.0},
    ],
    "flags": [{"machine": "m1", "flag": "suspect_counts", "value": 1}],
}  # fmt: skip


def _stop(start: str, end: str, state: str, code: int | None, reason: str | None,
          by: str | None) -> dict[str, object]:  # fmt: skip
    return {
        "machine": "m1", "start": f"2026-11-03T{start}:00.000Z",
        "end": f"2026-11-03T{end}:00.000Z", "duration_s": 600.0, "state": state,
        "reason_code": code, "reason": reason, "by": by, "planned": False,
        "planned_kind": None, "planned_reason": None,
    }  # fmt: skip


async def test_the_report_of_a_finished_shift(client: httpx.AsyncClient) -> None:
    r = await client.get(SHIFT_URL)
    assert r.status_code == 200, r.text
    doc = r.json()
    assert {k: doc[k] for k in ("v", "line", "area", "shift", "timezone", "final", "until")} == {
        "v": 3, "line": "line1", "area": "press", "shift": SHIFT, "timezone": "UTC",
        "final": True, "until": "2026-11-03T08:00:00.000Z",
    }  # fmt: skip
    assert {k: doc[k] for k in FIGURES} == FIGURES
    assert [(x["name"], x["factor"], x["seconds"], x["points"]) for x in doc["losses"]] == LOSSES
    (m1,) = doc["machines"]
    assert {k: m1[k] for k in FIGURES} == FIGURES  # one machine: the line's roll-up is its own
    assert doc["stops"] == [
        _stop("06:30", "06:40", "fault", 20, "Jam", "anna"),
        _stop("07:30", "07:40", "idle", None, None, None),
    ]
    assert [(s["reason_code"], s["reason"], s["quantity"], s["booked"]) for s in doc["scrap"]] == [
        (101, "Scratch", 12, True),  # 8 + 4
        (102, "Dent", 3, True),
        (None, "counted by the machine", 20, False),  # 35 rejects - 15 booked
    ]
    assert doc["alarms"] == [
        {"machine": "m1", "rule": "long_stop", "severity": "warning", "message": "m1 stopped",
         "raised": "2026-11-03T06:35:00.000Z", "cleared": "2026-11-03T06:40:00.000Z",
         "acked_by": "anna", "acked_at": "2026-11-03T06:36:00.000Z"},
    ]  # fmt: skip
    assert doc["flags"] == [{"machine": "m1", "flag": "suspect_counts", "value": 1}]
    assert m1["quality_figures"] == QUALITY
    assert doc["quality_figures"] == QUALITY | {
        "rty": 0.9825, "machines": [{"machine": "m1", "total": 2000, "fpy": 0.9825}],
        "missing": [],
    }  # fmt: skip
    assert doc["notes"] == {"text": "Die 4 worn", "by": "ben", "ts": "2026-11-03T07:58:00.000Z"}


async def test_the_report_has_the_shifts_orders_changeovers_and_plan(
    client: httpx.AsyncClient,
) -> None:
    doc = (await client.get(SHIFT_URL)).json()
    assert doc["orders"] == ORDERS
    assert doc["changeovers"] == CHANGEOVERS
    assert doc["plan"] == PLAN


CSV_HEAD = [
    "shift,line,section,machine,item,value,points,start,end,duration_s,state,reason_code,reason,by,"
    "share,cumulative,product",
    "2026-11-03/early,line1,figure,_line,oee,0.6238,,,,,,,,,,,",
    "2026-11-03/early,line1,figure,_line,availability,0.8095,,,,,,,,,,,",
    "2026-11-03/early,line1,figure,_line,performance,0.7843,,,,,,,,,,,",
    "2026-11-03/early,line1,figure,_line,quality,0.9825,,,,,,,,,,,",
    "2026-11-03/early,line1,figure,_line,coverage,1.0,,,,,,,,,,,",
    "2026-11-03/early,line1,output,_line,good,1965,,,,,,,,,,,",
]
# The quality sections of the line (m1's are the same, without `rty`): see QUALITY.
CSV_QUALITY = [
    "2026-11-03/early,line1,quality,_line,total,2000,,,,,,,,,,,",
    "2026-11-03/early,line1,quality,_line,good,1965,,,,,,,,,,,",
    "2026-11-03/early,line1,quality,_line,reject,35,,,,,,,,,,,",
    "2026-11-03/early,line1,quality,_line,scrap_booked,15,,,,,,,,,,,",
    "2026-11-03/early,line1,quality,_line,fpy,0.9825,,,,,,,,,,,",
    "2026-11-03/early,line1,quality,_line,scrap_rate,0.0175,,,,,,,,,,,",
    "2026-11-03/early,line1,quality,_line,oee_quality,0.9825,,,,,,,,,,,",
    "2026-11-03/early,line1,quality,_line,rty,0.9825,,,,,,,,,,,",
    "2026-11-03/early,line1,product,_line,total,2000,,,,,,,,,,,",
    "2026-11-03/early,line1,product,_line,good,1965,,,,,,,,,,,",
    "2026-11-03/early,line1,product,_line,reject,35,,,,,,,,,,,",
    "2026-11-03/early,line1,product,_line,fpy,0.9825,,,,,,,,,,,",
    "2026-11-03/early,line1,product,_line,scrap_rate,0.0175,,,,,,,,,,,",
    "2026-11-03/early,line1,product,_line,ideal_cycle_s,2.0,,,,,,,,,,,",
    "2026-11-03/early,line1,pareto,_line,1,12,,,,,,101,Scratch,,0.3429,0.3429,",
    "2026-11-03/early,line1,pareto,_line,2,3,,,,,,102,Dent,,0.0857,0.4286,",
    "2026-11-03/early,line1,pareto,_line,3,20,,,,,,,counted by the machine,,0.5714,1.0,",
]


async def test_the_csv_is_one_flat_table(client: httpx.AsyncClient) -> None:
    r = await client.get(SHIFT_URL + ".csv")
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "text/csv; charset=utf-8"
    assert r.headers["content-disposition"] == (
        'attachment; filename="report_line1_2026-11-03_early.csv"'
    )
    lines = r.text.split("\r\n")
    assert lines[: len(CSV_HEAD)] == CSV_HEAD
    sections = (",quality,_line,", ",product,_line,", ",pareto,_line,")
    assert [x for x in lines if any(s in x for s in sections)] == CSV_QUALITY
    assert [x for x in lines if ",quality,m1," in x][-1] == (
        "2026-11-03/early,line1,quality,m1,oee_quality,0.9825,,,,,,,,,,,"
    )
    rows = {(x.split(",")[2], x.split(",")[4]) for x in lines[1:] if x}
    assert [x for x in lines if ",stop," in x or ",scrap," in x or ",note," in x] == [
        "2026-11-03/early,line1,stop,m1,unplanned,,,2026-11-03T06:30:00.000Z,"
        "2026-11-03T06:40:00.000Z,600.0,fault,20,Jam,anna,,,",
        "2026-11-03/early,line1,stop,m1,unplanned,,,2026-11-03T07:30:00.000Z,"
        "2026-11-03T07:40:00.000Z,600.0,idle,,,,,,",
        "2026-11-03/early,line1,scrap,m1,booked,12,,,,,,101,Scratch,,,,",
        "2026-11-03/early,line1,scrap,m1,booked,3,,,,,,102,Dent,,,,",
        "2026-11-03/early,line1,scrap,m1,machine,20,,,,,,,counted by the machine,,,,",
        "2026-11-03/early,line1,note,_line,,,,2026-11-03T07:58:00.000Z,,,,,Die 4 worn,ben,,,",
    ]
    assert ("alarm", "long_stop") in rows and ("flag", "suspect_counts") in rows
    # 5 figures + 5 output + 8 losses + 7 quality + 6 of the one product (none known) +
    # 3 Pareto rows, for the line (and its rty) and m1; 2 stops, 3 scrap, 1 alarm, 1 note,
    # 1 flag; 2 orders, 1 changeover, 14 plan figures; the header; the empty string
    # after the last CRLF.
    assert len(lines) == 2 * 34 + 1 + 8 + 17 + 2
    assert [x for x in lines if ",order," in x or ",changeover," in x] == [
        "2026-11-03/early,line1,order,m1,P-1,990,100.0,,2026-11-03T06:30:00.000Z,,done,,,,,,A",
        "2026-11-03/early,line1,order,m1,P-2,975,97.5,,,,late,,,,,,B",
        "2026-11-03/early,line1,changeover,m1,A>B,300.0,300.0,2026-11-03T06:30:00.000Z,"
        "2026-11-03T06:40:00.000Z,600.0,,,Jam,,,,",
    ]
    assert [x for x in lines if ",plan," in x][2:4] == [
        "2026-11-03/early,line1,plan,_line,attainment,0.7172,,,,,,,,,,,",
        "2026-11-03/early,line1,plan,_line,volume_mix,0.7172,,,,,,,,,,,",
    ]


async def test_a_finished_shift_is_kept_and_rebuilt_after_newer_input(
    client: httpx.AsyncClient, store: SqliteStore, clock: Clock
) -> None:
    first = (await client.get(SHIFT_URL)).json()
    await store.drain()
    built, text = await store.kept_report("line1", "2026-11-03/early") or (None, "")
    assert built == t("09:00") and json.loads(text) == first
    clock.now = t("09:30")  # the kept one is answered: built_at stays 09:00
    assert (await client.get(SHIFT_URL)).json()["built_at"] == "2026-11-03T09:00:00.000Z"
    # A reason given later to the idle stop: the next GET rebuilds and keeps the report.
    clock.now = t("10:00")
    r = await client.put("/api/v1/machines/m1/stops/2026-11-03T07:35:00Z/reason",
                         json={"code": None})  # fmt: skip
    assert r.status_code == 200, r.text
    clock.now = t("10:05")
    again = (await client.get(SHIFT_URL)).json()
    assert again["built_at"] == "2026-11-03T10:05:00.000Z"
    assert again["stops"][1]["by"] == "loopback"
    await store.drain()
    assert (await store.kept_report("line1", "2026-11-03/early") or (None,))[0] == t("10:05")
    rebuilt = (await client.get(SHIFT_URL, params={"rebuild": "true"})).json()
    assert rebuilt["built_at"] == "2026-11-03T10:05:00.000Z" and rebuilt["oee"] == 0.6238


async def test_the_current_shift_so_far_is_not_kept(
    client: httpx.AsyncClient, store: SqliteStore, clock: Clock
) -> None:
    clock.now = t("07:00")
    doc = (await client.get(SHIFT_URL)).json()
    # 06:00-07:00: fault 600 s of 3,600 s planned: A = 3,000 / 3,600 = 0.8333; 1,000
    # parts x 2 s / 3,000 s: P = 0.6667; 990 good: Q = 0.99; OEE = 1,980 / 3,600 = 0.55.
    assert (doc["final"], doc["until"]) == (False, "2026-11-03T07:00:00.000Z")
    assert [doc[k] for k in ("availability", "performance", "quality", "oee")] == [
        0.8333, 0.6667, 0.99, 0.55,
    ]  # fmt: skip
    await store.drain()
    assert await store.kept_report("line1", "2026-11-03/early") is None


async def test_refusals_say_why(client: httpx.AsyncClient) -> None:
    cases = [
        ("/api/v1/shifts/2026-11-03/late/report", 404, {
            "detail": "no shift 'late' starts on 2026-11-03 in the calendar of line line1; "
            "shifts: early", "known": ["early"]}),
        ("/api/v1/shifts/2026-11-04/early/report", 404, {
            "detail": "shift 2026-11-04/early of line line1 has not started yet"}),
        ("/api/v1/shifts/2026-13-03/early/report.csv", 422, None),
        ("/api/v1/shifts/2026-11-03/early/report?line=nope", 404, {
            "detail": "unknown line 'nope'; known lines: line1", "known": ["line1"]}),
    ]  # fmt: skip
    for url, status, body in cases:
        r = await client.get(url)
        assert r.status_code == status, (url, r.text)
        if body is not None:
            assert r.json() == body
        else:
            assert "2026-13-03" in r.json()["detail"]


def test_parts_counted_in_planned_stop_time_are_flagged() -> None:
    """`production_in_planned_stop`: the parts counted in none of the shift's planned
    production spans. Spans 06:00-07:00 and 07:15-08:00 (a break 07:00-07:15): counts at
    06:30 (5), 07:00 (3: the span's end belongs to it), 07:05 (4) and 07:10 (2, in the
    break) and 07:15 (1: a span's start does not) give 4 + 2 + 1 = 7 outside."""
    spans = [(t("06:00"), t("07:00")), (t("07:15"), t("08:00"))]
    counts = [
        CountDelta("m1", t(hh_mm), total, total, 0)
        for hh_mm, total in (("06:30", 5), ("07:00", 3), ("07:05", 4), ("07:10", 2), ("07:15", 1))
    ]
    assert outside_plan(counts, spans) == 7
    assert outside_plan(counts[:2], spans) == 0
    assert flags("m1", 0.9, False, 0, 7) == [
        {"machine": "m1", "flag": "production_in_planned_stop", "value": 7}
    ]
