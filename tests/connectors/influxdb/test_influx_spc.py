"""The SPC measurements (README "InfluxDB"): `spc` (each point), `spc_violation` (each
rule broken) and `spc_limits` (each change of a chart's limits), as lines and through
the sink's outbox into a real influxd, read back with InfluxQL."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import replace

from connectors.influxdb.influxql import InfluxHistory
from connectors.influxdb.lineprotocol import encode
from connectors.influxdb.sink import InfluxSink
from core.interfaces import SpcHistory
from core.types import MachineRef
from edge.config import InfluxConfig
from edge.outbox import Journal, Outbox
from tests.fixtures.influx import InfluxServer
from tests.fixtures.spc_events import FROZEN, POINT, TRIAL, UNFROZEN, VIOLATION, point

REF = MachineRef("s1", "a1", "l1", "m1")
TAGS = {"site": "s1", "area": "a1", "line": "l1", "machine": "m1"}
# 2026-12-07T09:01:00Z, the point's time, in ns since the epoch.
POINT_NS = 1_796_634_060_000_000_000


def test_the_lines_of_a_point_a_violation_and_the_limits_changes() -> None:
    assert encode(POINT, REF) == [
        "spc,area=a1,chart=filler1-weight,kind=xbar_r,line=l1,machine=m1,site=s1 "
        "value=503.456789,spread=0.8,n=5.0,center=500.0123456,ucl=501.742987,"
        'lcl=498.281704,seq=61i,violations=1i,held=1i,phase="II",zone="beyond+",'
        # The readings as repr writes them (the shortest text of the same float).
        'rules="WE1",values="503.1,503.6,503.2,503.9,503.483945",product="P100" '
        f"{POINT_NS}"
    ]
    assert encode(VIOLATION, REF) == [
        "spc_violation,area=a1,chart=filler1-weight,line=l1,machine=m1,rule=WE1,site=s1 "
        'seq=61i,value=503.456789,points="61",name="1 point beyond 3σ",side="+",'
        f'phase="II" {POINT_NS}'
    ]
    (frozen,) = encode(FROZEN, REF)
    assert frozen == (
        "spc_limits,action=frozen,area=a1,chart=filler1-weight,line=l1,machine=m1,site=s1 "
        "frozen=true,center=500.0123456,ucl=501.742987,lcl=498.281704,sigma=1.28987654,"
        "n=5.0,spread_center=3.0004321,spread_ucl=6.3444,spread_lcl=0.0,"
        'source="computed",kind="xbar_r",subgroups=25i,by="ana",'
        # 08:00 and 08:24 in ms; 09:00 in ns
        'baseline_from_ms=1796630400000i,baseline_to_ms=1796631840000i,excluded="7,12" '
        "1796634000000000000"
    )
    # Unfrozen: no limits, only who did it (and `frozen`, so the line has a field always).
    assert encode(UNFROZEN, REF) == [
        "spc_limits,action=unfrozen,area=a1,chart=filler1-weight,line=l1,machine=m1,"
        'site=s1 frozen=false,by="ana" 1796635800000000000'
    ]
    # Trial limits: computed, not frozen by anyone.
    assert encode(TRIAL, REF)[0].split(" ")[1].startswith("frozen=false,center=500.0123456,")
    # A point without limits yet (Phase I before the baseline) leaves them out.
    early = replace(point(3), center=None, ucl=None, lcl=None, zone=None, phase="I")
    (bare,) = encode(early, REF)
    assert "center=" not in bare and "zone=" not in bare and 'phase="I"' in bare
    # An attributes point: no readings, no product, no rule broken: those fields left out.
    counted = replace(early, kind="p", values=(), product=None, spread=None)
    (bare,) = encode(counted, REF)
    assert bare.split(" ")[1] == 'value=500.25,n=5.0,seq=3i,violations=0i,held=0i,phase="I"'
    # 0.1 + 0.2 is 0.30000000000000004: repr keeps every digit a float needs.
    (exact,) = encode(replace(point(4), values=(0.1 + 0.2, 1e-07, 2.0)), REF)
    assert 'values="0.30000000000000004,1e-07,2.0"' in exact


async def _until(cond: Callable[[], bool], within_s: float = 5.0) -> None:
    deadline = time.monotonic() + within_s
    while not cond():
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.01)


async def test_through_the_outbox_into_influxd(influxd: InfluxServer, outbox: Outbox) -> None:
    db = influxd.new_database("spc")
    cfg = InfluxConfig(url=influxd.url, database=db, api="v1", flush_interval_s=0.05)  # type: ignore[call-arg]
    events = [TRIAL, point(26), FROZEN, POINT, VIOLATION, UNFROZEN]
    async with InfluxSink(cfg, {"m1": REF}, journal=Journal(outbox)) as sink:
        await sink.handle(events)  # type: ignore[arg-type]
        await _until(lambda: sink.stats.written == 6)
    q = influxd.query
    assert q("SELECT * FROM spc", db) == [
        {"time": 1_796_631_960_000_000_000, **TAGS, "chart": "filler1-weight",
         "kind": "xbar_r", "value": 500.25, "spread": 2.5, "n": 5, "center": 500.0123456,
         "ucl": 501.742987, "lcl": 498.281704, "seq": 26, "violations": 0, "held": 0,
         "phase": "II", "zone": "C+", "rules": None,
         "values": "500.0,500.5,500.25,499.75,501.0", "product": "P100"},
        {"time": POINT_NS, **TAGS, "chart": "filler1-weight", "kind": "xbar_r",
         "value": 503.456789, "spread": 0.8, "n": 5, "center": 500.0123456,
         "ucl": 501.742987, "lcl": 498.281704, "seq": 61, "violations": 1, "held": 1,
         "phase": "II", "zone": "beyond+", "rules": "WE1",
         "values": "503.1,503.6,503.2,503.9,503.483945", "product": "P100"},
    ]  # fmt: skip
    assert q("SELECT * FROM spc_violation", db) == [
        {"time": POINT_NS, **TAGS, "chart": "filler1-weight", "rule": "WE1", "seq": 61,
         "value": 503.456789, "points": "61", "name": "1 point beyond 3σ", "side": "+",
         "phase": "II"},
    ]  # fmt: skip
    rows = q('SELECT action, frozen, center, "by", excluded FROM spc_limits', db)  # BY: keyword
    assert [(r["action"], r["frozen"], r["center"], r["by"], r["excluded"]) for r in rows] == [
        ("trial", False, 500.0123456, None, None),
        ("frozen", True, 500.0123456, "ana", "7,12"),
        ("unfrozen", False, None, "ana", None),
    ]
    # Read back for the SPC routes as from the SQLite store (test_influx_spc_read.py).
    assert isinstance(InfluxHistory(cfg), SpcHistory)
