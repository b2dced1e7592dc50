"""`InfluxHistory` as an `SpcHistory` (issue 18: chart data and capability over the API
whatever the store): SPC events written through the real sink's outbox into a real
influxd and read back with InfluxQL equal to the events that went out — points with their
readings, product and rules, violations in the engine's rule order, every limits change —
for a range, its latest `limit` points, a chart id that needs escaping, and two gateways
sharing the database with the same chart id."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from connectors.influxdb.influxql import InfluxHistory
from connectors.influxdb.sink import InfluxSink
from core.spc import Limits, SpcLimitsChange, SpcPoint
from core.types import MachineRef
from edge.outbox import Journal, Outbox
from tests.connectors.influxdb.test_influxdb import cfg, until
from tests.fixtures.influx import InfluxServer
from tests.fixtures.spc_events import (
    CHART,
    FROZEN,
    POINT,
    TRIAL,
    UNFROZEN,
    VIOLATION,
    at,
    point,
)  # fmt: skip

REF = MachineRef("s1", "a1", "l1", "m1")
OTHER = MachineRef("s2", "a1", "l1", "m1")  # another gateway's m1, in the same database

# The point beyond the UCL broke three rules; the engine lists them WE, then Nelson, then
# the spread chart (oee.spc.rules.RuleTracker.add), while InfluxDB, holding each rule in
# a series of its own, would return them by series key (N5, SPREAD, WE2).
RULES = ("WE2", "N5", "SPREAD")
BEYOND = replace(POINT, violations=RULES)
BROKEN = [
    replace(VIOLATION, rule="WE2", name="2 of 3 beyond 2σ on one side", points=(59, 61)),
    replace(VIOLATION, rule="N5", name="2 of 3 beyond 2σ on one side", points=(59, 61)),
    replace(VIOLATION, rule="SPREAD", name="spread point beyond its limits", side=None),
]
# Phase I before any limits, on an attributes chart: no spread, readings, product or zone.
BARE = SpcPoint(CHART, "m1", at(3), 3, "p", 0.04, None, 50, None, None, None, None, "I")
# Readings whose shortest repr needs every digit (0.1 + 0.2 = 0.30000000000000004).
EXACT = replace(point(4), values=(0.1 + 0.2, 1e-07, 123456.789012345, -2.5), product=None)
HAND = SpcLimitsChange(
    CHART, "m1", at(95), "manual",
    Limits(kind="p", center=0.05, sigma=0.0, n=50, ucl=0.142466, lcl=0.0, source="manual"),
    by="bo 'night'",
)  # fmt: skip


async def _write(influxd: InfluxServer, db: str, outbox: Outbox, ref: MachineRef,
                 events: list[Any]) -> None:  # fmt: skip
    """`events` of machine m1 at `ref` through the sink (its outbox) into `db`."""
    async with InfluxSink(
        cfg(influxd.url, database=db, api="v1"), {"m1": ref}, journal=Journal(outbox)
    ) as sink:
        await sink.handle(events)
        await until(lambda: sink.stats.written == len(events))


def _history(influxd: InfluxServer, db: str, ref: MachineRef) -> InfluxHistory:
    return InfluxHistory(cfg(influxd.url, database=db), {"m1": ref})


async def test_every_spc_event_reads_back_equal(influxd: InfluxServer, outbox: Outbox) -> None:
    db = influxd.new_database("spcread")
    events = [BARE, EXACT, TRIAL, point(26), FROZEN, BEYOND, *BROKEN, UNFROZEN, HAND]
    await _write(influxd, db, outbox, REF, events)
    async with _history(influxd, db, REF) as history:
        assert await history.spc_points(CHART, at(0), at(120)) == [BARE, EXACT, point(26), BEYOND]
        assert await history.spc_violations(CHART, at(0), at(120)) == BROKEN
        assert await history.spc_limits_history(CHART) == [TRIAL, FROZEN, UNFROZEN, HAND]
        # The range is [start, end): the point at 09:01 is in from 09:01, out to 09:01.
        assert await history.spc_points(CHART, at(61), at(62)) == [BEYOND]
        assert await history.spc_points(CHART, at(26), at(61)) == [point(26)]
        assert await history.spc_violations(CHART, at(0), at(61)) == []
        # `limit`: violations the oldest (as the SQLite store), points the latest.
        assert await history.spc_violations(CHART, at(0), at(120), limit=2) == BROKEN[:2]
        assert await history.spc_points(CHART, at(0), at(120), limit=2) == [point(26), BEYOND]
        assert await history.spc_points("filler2-weight", at(0), at(120)) == []
        assert await history.spc_limits_history("filler2-weight") == []


async def test_the_latest_points_of_a_long_chart(influxd: InfluxServer, outbox: Outbox) -> None:
    db = influxd.new_database("spclimit")
    points = [point(seq, value=500 + seq / 100) for seq in range(1, 41)]
    await _write(influxd, db, outbox, REF, points)
    async with _history(influxd, db, REF) as history:
        # The newest 5 of the 40, oldest first (a chart shows the end of its range).
        assert await history.spc_points(CHART, at(0), at(60), limit=5) == points[35:]
        assert await history.spc_points(CHART, at(10), at(20), limit=100) == points[9:19]
        assert await history.spc_points(CHART, at(0), at(60)) == points


async def test_a_chart_id_that_needs_escaping(influxd: InfluxServer, outbox: Outbox) -> None:
    db = influxd.new_database("spcescape")
    chart = "filler 1, 'net' \"weight\"=g"  # space, comma, quotes, equals sign
    events = [replace(point(26), chart=chart), replace(BEYOND, chart=chart),
              replace(BROKEN[0], chart=chart), replace(FROZEN, chart=chart)]  # fmt: skip
    await _write(influxd, db, outbox, REF, [*events, point(27)])
    async with _history(influxd, db, REF) as history:
        assert await history.spc_points(chart, at(0), at(120)) == events[:2]
        assert await history.spc_violations(chart, at(0), at(120)) == [events[2]]
        assert await history.spc_limits_history(chart) == [events[3]]
        assert await history.spc_points(CHART, at(0), at(120)) == [point(27)]


async def test_gateways_sharing_a_database(influxd: InfluxServer, outbox: Outbox) -> None:
    """Both gateways have a chart `filler1-weight` on a machine `m1`: each reads its own;
    the other's newer points do not push its own out of a `limit`."""
    db = influxd.new_database("spcshare")
    mine = [point(seq) for seq in range(1, 6)]
    theirs = [point(seq, value=480.0, minutes=seq + 10) for seq in range(1, 6)]
    await _write(influxd, db, outbox, REF, [*mine, VIOLATION, TRIAL])
    their_violation = replace(VIOLATION, ts=at(70), seq=62)
    await _write(influxd, db, outbox, OTHER, [*theirs, their_violation, UNFROZEN])
    async with _history(influxd, db, REF) as history:
        assert await history.spc_points(CHART, at(0), at(120), limit=3) == mine[2:]
        assert await history.spc_violations(CHART, at(0), at(120)) == [VIOLATION]
        assert await history.spc_limits_history(CHART) == [TRIAL]
    async with _history(influxd, db, OTHER) as history:
        assert await history.spc_points(CHART, at(0), at(120)) == theirs
        assert await history.spc_limits_history(CHART) == [UNFROZEN]
    # A reader given no machines (as the other reads: machine ids only) sees both.
    async with InfluxHistory(cfg(influxd.url, database=db)) as history:
        both = await history.spc_points(CHART, at(0), at(120), limit=4)
        assert [(p.seq, p.value) for p in both] == [(2, 480.0), (3, 480.0), (4, 480.0),
                                                    (5, 480.0)]  # fmt: skip
        assert await history.spc_violations(CHART, at(0), at(120)) == [
            VIOLATION, their_violation,
        ]  # fmt: skip
