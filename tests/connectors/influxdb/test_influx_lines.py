"""The `line_oee` measurement against the real influxd: the hand-computed two-machine line
(tests/connectors/line_report.py), summed on one line and bottleneck-paced on another."""

from __future__ import annotations

from dataclasses import replace

from connectors.influxdb.sink import InfluxSink
from core.types import MachineRef
from edge.outbox import Journal, Outbox
from tests.connectors.influxdb.test_influxdb import cfg, until
from tests.connectors.line_report import (
    BOTTLENECK,
    BOTTLENECK_RATIOS,
    DETAILS,
    SUM_RATIOS,
    SUMS,
    line,
)
from tests.fixtures.influx import InfluxServer

W1_NS = 1795572000000000000  # the window end, 2026-11-25T02:00:00Z


async def test_line_oee_points(influxd: InfluxServer, outbox: Outbox) -> None:
    db = influxd.new_database("lines")
    refs = {
        "m1": MachineRef("s1", "a1", "l1", "m1"),
        "m2": MachineRef("s1", "a1", "l1", "m2"),
        "m3": MachineRef("s1", "a2", "l2", "m3"),
    }
    summed = replace(line(), area="a1", line="l1")
    paced = replace(line(BOTTLENECK), area="a2", line="l2")
    stray = replace(summed, line="l9")  # no machine is on it: not stored
    async with InfluxSink(
        cfg(influxd.url, database=db, api="v1"), refs, journal=Journal(outbox)
    ) as sink:
        await sink.handle([summed, paced, stray])
        await until(lambda: sink.stats.written == 2)
        assert sink.stats.quarantined == 0
    rows = {r["line"]: r for r in influxd.query("SELECT * FROM line_oee", db)}
    figures = {**SUMS, **DETAILS}
    assert rows == {
        "l1": {"time": W1_NS, "site": "s1", "area": "a1", "line": "l1", "window": "1h",
               **SUM_RATIOS, **figures, "mode": "sum", "bottleneck": None},
        "l2": {"time": W1_NS, "site": "s1", "area": "a2", "line": "l2", "window": "1h",
               **BOTTLENECK_RATIOS, **figures, "mode": "bottleneck", "bottleneck": "m2"},
    }  # fmt: skip
    # No machine tag, no per-machine fields: the machines have their own `oee` points.
    tags = influxd.query("SHOW TAG KEYS FROM line_oee", db)
    assert sorted(t["tagKey"] for t in tags) == ["area", "line", "site", "window"]
