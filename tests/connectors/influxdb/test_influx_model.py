"""The OEE model in InfluxDB, against the real servers: reasons given to stored stops
(points merged by InfluxDB), count history, the oee details and the oee_loss points."""

from __future__ import annotations

from datetime import timedelta

from pydantic import SecretStr

from connectors.influxdb.influxql import InfluxHistory
from connectors.influxdb.sink import InfluxSink
from core.types import (
    CountDelta,
    MachineRef,
    MachineState,
    ReasonAssigned,
    StateChange,
    StateRecord,
    StopPlanned,
)
from edge.outbox import Journal, Outbox
from tests.connectors.influxdb.test_influxdb import REF, T0, T0_NS, TAGS, cfg, until
from tests.connectors.oee_report import worked_update
from tests.fixtures.influx import InfluxServer, VictoriaServer

S = MachineState
T1 = T0 + timedelta(minutes=1, microseconds=456)  # µs survive: ns in InfluxDB
T1_NS = T0_NS + 60_000_456_000
W1_NS = 1795572000000000000  # the worked example's window end, 2026-11-25T02:00:00Z


def stop(machine: str = "m1") -> StateChange:
    """A fault from T1; the running state before it lasted 60.000456 s."""
    return StateChange(machine, S.FAULT, S.RUNNING, T1, T0, 60.000456, 2, None, None)


def assign(code: int | None, reason: str | None, machine: str = "m1") -> ReasonAssigned:
    return ReasonAssigned(
        machine, T1, S.FAULT, code, reason, T1 + timedelta(minutes=5), previous_reason_code=None
    )


async def test_a_reason_merges_into_the_stored_stop(influxd: InfluxServer, outbox: Outbox) -> None:
    db = influxd.new_database("reason")
    first = StateChange("m1", S.RUNNING, None, T0, None, None, 1, None, None)
    async with InfluxSink(
        cfg(influxd.url, database=db, api="v1"), {"m1": REF}, journal=Journal(outbox)
    ) as sink:
        await sink.handle([first, stop()])
        await until(lambda: sink.stats.written == 2)
        await sink.handle([assign(20, "Motor overload")])
        await until(lambda: sink.stats.written == 3)
    async with InfluxHistory(cfg(influxd.url, database=db), {"m1": REF}) as history:
        assert await history.state_history("m1", T0, T1 + timedelta(hours=1)) == [
            StateRecord("m1", S.RUNNING, T0, None, None),
            StateRecord("m1", S.FAULT, T1, "Motor overload", 20),
        ]
    assert influxd.query("SELECT * FROM machine_state", db) == [
        {"time": T0_NS, **TAGS, "state": "running", "code": 1}
        | {"reason": None, "reason_code": None, "duration_s": None},
        {"time": T1_NS, **TAGS, "state": "fault", "code": 4, "reason": "Motor overload"}
        | {"reason_code": 20, "duration_s": 60.000456},  # duration_s survives the merge
    ]


async def test_a_cleared_reason_reads_as_none(influxd: InfluxServer, outbox: Outbox) -> None:
    db = influxd.new_database("clear")
    async with InfluxSink(
        cfg(influxd.url, database=db, api="v1"), {"m1": REF}, journal=Journal(outbox)
    ) as sink:
        # In one batch too: the later point of the same series and time wins field by field.
        await sink.handle([stop(), assign(20, "Motor overload"), assign(21, None)])
        await until(lambda: sink.stats.written == 3)
        await sink.handle([assign(22, "")])
        await until(lambda: sink.stats.written == 4)
    async with InfluxHistory(cfg(influxd.url, database=db), {"m1": REF}) as history:
        assert await history.state_history("m1", T1, T1 + timedelta(seconds=1)) == [
            StateRecord("m1", S.FAULT, T1, None, 22)
        ]
    assert influxd.query("SELECT reason, reason_code, duration_s FROM machine_state", db) == [
        {"time": T1_NS, "reason": "", "reason_code": 22, "duration_s": 60.000456}
    ]
    async with InfluxSink(
        cfg(influxd.url, database=db, api="v1"), {"m1": REF}, journal=Journal(outbox)
    ) as sink:
        await sink.handle([assign(None, None)])  # cleared entirely
        await until(lambda: sink.stats.written == 1)
    async with InfluxHistory(cfg(influxd.url, database=db), {"m1": REF}) as history:
        assert await history.state_history("m1", T1, T1 + timedelta(seconds=1)) == [
            StateRecord("m1", S.FAULT, T1, None, None)
        ]
    assert influxd.query("SELECT reason, reason_code, duration_s FROM machine_state", db) == [
        {"time": T1_NS, "reason": "", "reason_code": 0, "duration_s": 60.000456}
    ]


async def test_a_stop_turned_into_planned_time_reads_back(
    influxd: InfluxServer, outbox: Outbox
) -> None:
    """The engine replays the stored states at a start: a stop an operator turned into
    planned time must come back planned (it came back a plain fault), and undone ("")
    must come back as a stop again."""
    db = influxd.new_database("planned")
    planned = StopPlanned("m1", T1, S.FAULT, T1 + timedelta(minutes=5), "ops", "meeting", "Talk")
    undone = StopPlanned("m1", T1, S.FAULT, T1 + timedelta(minutes=6), "ops", None)
    span = (T1, T1 + timedelta(seconds=1))
    async with InfluxSink(
        cfg(influxd.url, database=db, api="v1"), {"m1": REF}, journal=Journal(outbox)
    ) as sink:
        await sink.handle([stop(), planned])  # a planned stop is 2 points (stop_planned too)
        await until(lambda: sink.stats.written == 3)
        async with InfluxHistory(cfg(influxd.url, database=db), {"m1": REF}) as history:
            assert await history.state_history("m1", *span) == [
                StateRecord("m1", S.FAULT, T1, None, None, "meeting", "Talk")
            ]
        await sink.handle([undone])
        await until(lambda: sink.stats.written == 5)
    async with InfluxHistory(cfg(influxd.url, database=db), {"m1": REF}) as history:
        assert await history.state_history("m1", *span) == [StateRecord("m1", S.FAULT, T1)]


async def test_count_history(influxd: InfluxServer, outbox: Outbox) -> None:
    db = influxd.new_database("counts")
    other = MachineRef(site="s2", area="a1", line="l1", machine="m1")
    at = [T0 + timedelta(seconds=10 * i) for i in range(4)]
    async with InfluxSink(
        cfg(influxd.url, database=db, api="v1"), {"m1": REF}, journal=Journal(outbox)
    ) as sink:
        await sink.handle(
            [
                CountDelta("m1", at[0], 5, 4, 1, "P-1"),
                CountDelta("m1", at[1], 3, 3, 0),
                CountDelta("m1", at[2], 2, 1, 1, "P-2"),
                CountDelta("m1", at[3], 9, 9, 0),
            ]
        )
        await until(lambda: sink.stats.written == 4)
    async with InfluxSink(
        cfg(influxd.url, database=db, api="v1"), {"m1": other}, journal=Journal(outbox)
    ) as sink:
        await sink.handle([CountDelta("m1", at[1] + timedelta(seconds=1), 7, 7, 0)])
    async with InfluxHistory(cfg(influxd.url, database=db), {"m1": REF}) as history:
        assert await history.count_history("m1", at[1], at[3]) == [
            CountDelta("m1", at[1], 3, 3, 0, None),
            CountDelta("m1", at[2], 2, 1, 1, "P-2"),
        ]
        assert await history.count_history("m1", at[0], at[1]) == [
            CountDelta("m1", at[0], 5, 4, 1, "P-1")
        ]
        assert await history.count_history("m2", at[0], at[3]) == []
    async with InfluxHistory(cfg(influxd.url, database=db)) as history:  # both gateways
        got = await history.count_history("m1", at[1], at[2])
        assert got == [
            CountDelta("m1", at[1], 3, 3, 0, None),
            CountDelta("m1", at[1] + timedelta(seconds=1), 7, 7, 0, None),
        ]


async def test_oee_details_and_loss_points(influxd: InfluxServer, outbox: Outbox) -> None:
    db = influxd.new_database("model")
    async with InfluxSink(
        cfg(influxd.url, database=db, api="v1"), {"m1": REF}, journal=Journal(outbox)
    ) as sink:
        await sink.handle([worked_update()])
        await until(lambda: sink.stats.written == 9)
        assert sink.stats.quarantined == 0
    (row,) = influxd.query("SELECT * FROM oee", db)
    assert row == {
        "time": W1_NS, **TAGS, "window": "1h",
        "availability": 0.5, "performance": 1500 / 1800, "quality": 0.95, "oee": 1425 / 3600,
        "run_s": 1800, "planned_s": 3600, "unknown_s": 0, "window_s": 3600,
        "total": 100, "good": 95, "reject": 5,
        "coverage": 1, "planned_stop_s": 0, "breakdown_s": 600, "setup_s": 0, "idle_s": 1200,
        "small_stop_s": 30, "speed_loss_s": 270, "ideal_s": 1500, "fully_productive_s": 1425,
        "startup_reject": 2, "performance_flagged": False, "failures": 1, "mtbf_s": 1800,
        "mttr_s": 600, "off_plan_run_s": 0, "off_plan_total": 0,
    }  # fmt: skip
    rows = influxd.query('SELECT * FROM oee_loss GROUP BY "loss"', db)
    got = {
        r["loss"]: (r["time"], r["window"], r["factor"], r["seconds"], r["points"]) for r in rows
    }
    assert got == {
        "breakdowns": (W1_NS, "1h", "availability", 600, 600 / 3600),
        "setup": (W1_NS, "1h", "availability", 0, 0),
        "idle": (W1_NS, "1h", "availability", 1200, 1200 / 3600),
        "unknown": (W1_NS, "1h", "availability", 0, 0),
        "small_stops": (W1_NS, "1h", "performance", 30, 30 / 3600),
        "speed": (W1_NS, "1h", "performance", 270, 270 / 3600),
        "startup_rejects": (W1_NS, "1h", "quality", 30, 30 / 3600),
        "production_rejects": (W1_NS, "1h", "quality", 45, 45 / 3600),
    }
    assert {r["site"] for r in rows} == {"s1"} and {r["machine"] for r in rows} == {"m1"}


async def test_v2_takes_the_whole_model(victoria_metrics: VictoriaServer, outbox: Outbox) -> None:
    ref = MachineRef(site="s1", area="a1", line="l1", machine="vm2")
    config = cfg(victoria_metrics.url, api="v2", bucket="oee", token=SecretStr("t"))
    events = [stop("vm2"), assign(20, "Motor overload", "vm2"), worked_update("vm2")]
    async with InfluxSink(config, {"vm2": ref}, journal=Journal(outbox)) as sink:
        await sink.handle(events)
        await until(lambda: sink.stats.written == 11)
        assert sink.stats.quarantined == 0
    series = victoria_metrics.export_settled('{machine="vm2"}')
    got = {
        (s["metric"]["__name__"], s["metric"].get("loss")): (s["values"], s["timestamps"])
        for s in series
    }
    w1_ms = W1_NS // 1_000_000
    assert got[("machine_state_reason_code", None)] == ([20], [T1_NS // 1_000_000])
    assert got[("machine_state_duration_s", None)] == ([60.000456], [T1_NS // 1_000_000])
    assert got[("oee_performance_flagged", None)] == ([0], [w1_ms])
    assert got[("oee_failures", None)] == ([1], [w1_ms])
    assert got[("oee_mtbf_s", None)] == ([1800], [w1_ms])
    assert got[("oee_loss_seconds", "speed")] == ([270], [w1_ms])
    assert got[("oee_loss_points", "production_rejects")] == ([0.0125], [w1_ms])
