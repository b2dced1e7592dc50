"""InfluxHistory's reads for the API against a real influxd: at most `limit` rows, and
the rows of a range counted by InfluxDB (`history_rows`) without sending them."""

from __future__ import annotations

from datetime import timedelta

from connectors.influxdb.influxql import InfluxHistory
from connectors.influxdb.sink import InfluxSink
from core.types import CountDelta, MachineState, Quality, Sample, SampleBatch
from edge.outbox import Journal, Outbox
from tests.connectors.influxdb.test_influxdb import REF, T0, cfg, change
from tests.fixtures.influx import InfluxServer

STATES = [MachineState.RUNNING, MachineState.IDLE, MachineState.FAULT]


async def test_limits_and_row_counts(influxd: InfluxServer, outbox: Outbox) -> None:
    db = influxd.new_database("limits")
    t = [T0 + timedelta(minutes=i) for i in range(10)]
    events = [change(t[i], STATES[i % 3]) for i in range(10)]
    events += [CountDelta("m1", t[i] + timedelta(seconds=30), 2, 2, 0, None) for i in range(10)]
    events += [
        SampleBatch("m1", t[i], [Sample("speed", float(i), Quality.GOOD, t[i])]) for i in range(10)
    ]
    async with InfluxSink(
        cfg(influxd.url, database=db, api="v1"), {"m1": REF}, journal=Journal(outbox)
    ) as sink:
        await sink.handle(events)
    async with InfluxHistory(cfg(influxd.url, database=db), {"m1": REF}) as history:
        states = await history.state_history("m1", t[2] + timedelta(seconds=1), t[9], limit=3)
        assert [r.ts for r in states] == [t[2], t[3], t[4], t[5]]  # in force, then 3
        counts = await history.count_history("m1", t[0], t[9], limit=4)
        assert [c.ts for c in counts] == [x + timedelta(seconds=30) for x in t[:4]]
        speed = await history.tag_history("m1", "speed", t[0], t[9], limit=2)
        assert [s.value for s in speed] == [0.0, 1.0]
        assert await history.history_rows("m1", t[0], t[9] + timedelta(minutes=1)) == 20
        assert await history.history_rows("m1", t[2], t[5]) == 3 + 3
        assert await history.history_rows("nope", t[0], t[9]) == 0
