"""InfluxSink and InfluxHistory against real servers: influxd 1.6.7 (v1 /write, InfluxQL)
and victoria-metrics (the v2 write API through influxdb-client)."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from connectors.influxdb.influxql import InfluxHistory
from connectors.influxdb.sink import InfluxSink
from connectors.influxdb.write import api_for_version
from core.types import (
    CountDelta,
    MachineRef,
    MachineState,
    OeeUpdate,
    Quality,
    Sample,
    SampleBatch,
    StateChange,
    StateRecord,
)
from edge.config import InfluxConfig
from edge.outbox import Journal, Outbox
from tests.fixtures.influx import InfluxServer, VictoriaServer, free_port, start_influxd

T0 = datetime(2026, 11, 25, 3, 0, 0, 123000, tzinfo=UTC)
T0_NS = 1795575600123000000
REF = MachineRef(site="s1", area="a1", line="l1", machine="m1")
TAGS = {"site": "s1", "area": "a1", "line": "l1", "machine": "m1"}


def cfg(url: str, **kw: Any) -> InfluxConfig:
    return InfluxConfig(url=url, **({"flush_interval_s": 0.05, "timeout_s": 2.0} | kw))


async def until(cond: Callable[[], bool], within_s: float = 5.0) -> None:
    deadline = time.monotonic() + within_s
    while not cond():
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.01)


def change(
    ts: datetime, state: MachineState, reason: str | None = None, machine: str = "m1"
) -> StateChange:
    return StateChange(machine, state, None, ts, None, None, 1, None, reason)


def oee_update(machine: str = "m1") -> OeeUpdate:
    return OeeUpdate(
        machine, "15m", T0, 0.9, 0.75, None, None, 810.0, 900.0, 0.0, 900.0, 120, 118, 2
    )


def test_api_for_version() -> None:
    assert api_for_version("1.6.7~rc0") == "v1"
    assert api_for_version("1.7.11") == "v1"
    assert api_for_version("1.8.10") == "v2"
    assert api_for_version("v2.7.1") == "v2"
    assert api_for_version("3.0.0") == "v2"
    assert api_for_version(None) == "v2"  # victoria-metrics sends no header


async def test_v1_writes_every_measurement_exactly(influxd: InfluxServer, outbox: Outbox) -> None:
    db = influxd.new_database("v1")
    events = [
        StateChange("m1", MachineState.FAULT, MachineState.RUNNING, T0, None, 12.5, 4, 7, "jam"),
        CountDelta("m1", T0 + timedelta(milliseconds=1), 5, 4, 1, "P-1"),
        oee_update(),
        SampleBatch(
            "m1", T0, (Sample("speed", 1.5, Quality.GOOD, T0), Sample("x", None, Quality.BAD, T0))
        ),
    ]
    async with InfluxSink(
        cfg(influxd.url, database=db, api="auto"), {"m1": REF}, journal=Journal(outbox)
    ) as sink:
        await sink.handle(events)
        await until(lambda: sink.stats.written == 5)
        assert sink.api == "v1"  # 1.6.7 has no /api/v2/write
        assert sink.connected
    q = influxd.query
    assert q("SELECT * FROM machine_state", db) == [
        {"time": T0_NS, **TAGS, "state": "fault", "code": 4, "reason": "jam", "reason_code": 7}
        | {"duration_s": 12.5}
    ]
    assert q("SELECT * FROM production", db) == [
        {"time": T0_NS + 1_000_000, **TAGS, "total": 5, "good": 4, "reject": 1, "product": "P-1"}
    ]
    oee_row = {"time": T0_NS, **TAGS, "window": "15m", "availability": 0.9, "performance": 0.75}
    oee_row |= {"run_s": 810, "planned_s": 900, "unknown_s": 0}  # no oee/quality column
    oee_row |= {"window_s": 900, "total": 120, "good": 118, "reject": 2}
    assert q("SELECT * FROM oee", db) == [oee_row]
    # `tag` is an InfluxQL keyword: the measurement name needs double quotes there.
    assert q('SELECT * FROM "tag"', db) == [
        {"time": T0_NS, **TAGS, "tag": "speed", "value": 1.5, "quality": 192},
        {"time": T0_NS, **TAGS, "tag": "x", "value": None, "quality": 0},
    ]
    assert sink.stats.batches == 1


async def test_v1_escaping_round_trips(influxd: InfluxServer, outbox: Outbox) -> None:
    db = influxd.new_database("esc")
    ref = MachineRef(site="plant 1", area="area,a", line="line=1", machine="m 1")
    reason = 'jam "A" \\ left, side=2'
    async with InfluxSink(
        cfg(influxd.url, database=db, api="v1"), {"m 1": ref}, journal=Journal(outbox)
    ) as sink:
        await sink.handle([change(T0, MachineState.FAULT, reason, machine="m 1")])
        await until(lambda: sink.stats.written == 1)
    tags = {"site": "plant 1", "area": "area,a", "line": "line=1", "machine": "m 1"}
    assert influxd.query("SELECT * FROM machine_state", db) == [
        {"time": T0_NS, **tags, "state": "fault", "code": 4, "reason": reason}
    ]


async def test_v1_batches_by_size_and_interval(influxd: InfluxServer, outbox: Outbox) -> None:
    db = influxd.new_database("batch")
    deltas = [CountDelta("m1", T0 + timedelta(seconds=i), 1, 1, 0) for i in range(25)]
    config = cfg(influxd.url, database=db, api="v1", batch_size=10, flush_interval_s=1.0)
    async with InfluxSink(config, {"m1": REF}, journal=Journal(outbox)) as sink:
        await sink.handle(deltas)
        await until(lambda: sink.stats.written == 25)
        assert sink.stats.batches == 3  # 10 + 10 + the remainder of 5 at the interval
        began = time.monotonic()
        for d in deltas[:7]:  # single events, no full batch: one write at the interval
            await sink.handle([CountDelta("m1", d.ts + timedelta(days=1), 2, 2, 0)])
        took = time.monotonic() - began
        await until(lambda: sink.stats.written == 32)
        # One write for the 7, or on a loaded box (each hand-in commits to the outbox)
        # one more for every interval boundary that fell while they were handed in: a
        # span of `took` seconds holds at most int(took) + 1 boundaries of a 1 s timer
        # (0.9 s can straddle one). Never one write per event.
        assert 1 <= sink.stats.batches - 3 <= 2 + int(took / 1.0), (sink.stats, took)
    assert influxd.query("SELECT count(total), sum(total) FROM production", db)[0] == {
        "time": 0,
        "count": 32,
        "sum": 25 + 14,
    }


async def test_shutdown_flushes_the_buffer(influxd: InfluxServer, outbox: Outbox) -> None:
    db = influxd.new_database("shut")
    config = cfg(influxd.url, database=db, api="v1", flush_interval_s=60.0)
    async with InfluxSink(config, {"m1": REF}, journal=Journal(outbox)) as sink:
        await sink.handle([CountDelta("m1", T0 + timedelta(seconds=i), 1, 1, 0) for i in range(3)])
    assert sink.stats.batches == 1
    assert sink.buffered == 0 and outbox.depth("influxdb").records == 0
    assert len(influxd.query("SELECT * FROM production", db)) == 3


async def test_shutdown_is_bounded_when_the_server_is_down(outbox: Outbox) -> None:
    config = cfg(f"http://127.0.0.1:{free_port()}", api="v1", timeout_s=0.5)
    sink = InfluxSink(
        config, {"m1": REF}, backoff_initial_s=5.0, shutdown_timeout_s=1.0, journal=Journal(outbox)
    )
    started = time.monotonic()
    async with sink:
        await sink.handle([CountDelta("m1", T0, 1, 1, 0)])
        await until(lambda: sink.stats.errors >= 1)
    assert time.monotonic() - started < 3.0
    assert not sink.connected
    # Not dropped: the line waits in the outbox for the next start.
    assert sink.buffered == 1 and outbox.depth("influxdb").records == 1


async def test_bad_data_is_quarantined_and_counted(influxd: InfluxServer, outbox: Outbox) -> None:
    db = influxd.new_database("bad")
    # `total` exists as a float: our integer `total` is a field type conflict (HTTP 400).
    influxd.write(f"production total=1.5 {T0_NS - 1}", db)  # same shard as T0
    async with InfluxSink(
        cfg(influxd.url, database=db, api="v1"), {"m1": REF}, journal=Journal(outbox)
    ) as sink:
        await sink.handle([CountDelta("m1", T0, 1, 1, 0)])
        await until(lambda: sink.stats.quarantined == 1)
        await sink.handle([change(T0, MachineState.IDLE)])  # the sink is not stuck
        await until(lambda: sink.stats.written == 1)
        assert sink.connected
    assert sink.stats.errors == sink.stats.retried == 0
    assert influxd.query("SELECT state FROM machine_state", db) == [
        {"time": T0_NS, "state": "idle"}
    ]


async def test_database_down_at_start_then_up_loses_nothing(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, outbox: Outbox
) -> None:
    port = free_port()
    secret = "s3cr3t-pw"
    config = cfg(
        f"http://127.0.0.1:{port}", database="oee_test", username="u", password=SecretStr(secret)
    )
    caplog.set_level(logging.DEBUG, logger="connectors")
    sink = InfluxSink(
        config, {"m1": REF}, backoff_initial_s=0.05, backoff_max_s=0.2, journal=Journal(outbox)
    )
    server = None
    try:
        async with sink:
            states = [MachineState.RUNNING, MachineState.FAULT, MachineState.IDLE]
            await sink.handle([change(T0 + timedelta(seconds=i), s) for i, s in enumerate(states)])
            await until(lambda: sink.stats.errors >= 3)
            assert sink.api is None and not sink.connected and sink.stats.batches == 0
            await sink.handle([CountDelta("m1", T0, 3, 3, 0)])
            server = await asyncio.to_thread(start_influxd, tmp_path / "late", port)
            await until(lambda: sink.stats.written == 4, within_s=10.0)
            assert sink.connected and sink.api == "v1"
        rows = server.query("SELECT state FROM machine_state")
        assert [(r["time"], r["state"]) for r in rows] == [
            (T0_NS, "running"),
            (T0_NS + 1_000_000_000, "fault"),
            (T0_NS + 2_000_000_000, "idle"),
        ]
        assert server.query("SELECT total FROM production") == [{"time": T0_NS, "total": 3}]
    finally:
        if server is not None:
            server.stop()
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1  # the outage is reported once, then quietly retried
    assert any(r.levelno == logging.INFO and "reconnected" in r.message for r in caplog.records)
    assert all(secret not in r.getMessage() for r in caplog.records)


async def test_v2_write_api_against_victoria_metrics(
    victoria_metrics: VictoriaServer, outbox: Outbox
) -> None:
    ref = MachineRef(site="s1", area="a1", line="l1", machine="vm1")
    config = cfg(victoria_metrics.url, api="auto", bucket="oee", token=SecretStr("t"))
    async with InfluxSink(config, {"vm1": ref}, journal=Journal(outbox)) as sink:
        await sink.handle([oee_update("vm1"), CountDelta("vm1", T0, 7, 6, 1, "P")])
        await until(lambda: sink.stats.written == 2)
        assert sink.api == "v2"  # no X-Influxdb-Version on victoria-metrics' /ping
    series = victoria_metrics.export('{machine="vm1"}')
    got = {s["metric"].pop("__name__"): (s["metric"], s["values"], s["timestamps"]) for s in series}
    labels = {"site": "s1", "area": "a1", "line": "l1", "machine": "vm1"}
    ms = T0_NS // 1_000_000
    expected = {
        "oee_availability": 0.9,
        "oee_performance": 0.75,
        "oee_run_s": 810,
        "oee_planned_s": 900,
        "oee_unknown_s": 0,
        "oee_window_s": 900,
        "oee_total": 120,
        "oee_good": 118,
        "oee_reject": 2,
    }
    for name, value in expected.items():
        assert got[name] == (labels | {"window": "15m"}, [value], [ms])
    for name, value in {
        "production_total": 7,
        "production_good": 6,
        "production_reject": 1,
    }.items():
        assert got[name] == (labels, [value], [ms])


async def test_history_state_records_with_the_one_before_start(
    influxd: InfluxServer, outbox: Outbox
) -> None:
    db = influxd.new_database("hist")
    other = MachineRef(site="s2", area="a1", line="l1", machine="m'1")
    mine = MachineRef(site="s1", area="a1", line="l1", machine="m'1")
    t = [T0 + timedelta(minutes=i) for i in range(5)]
    events = [
        change(t[0], MachineState.RUNNING, machine="m'1"),
        change(t[1], MachineState.FAULT, "jam 'B'", machine="m'1"),
        change(t[2], MachineState.IDLE, machine="m'1"),
        change(t[3], MachineState.RUNNING, machine="m'1"),
        change(t[4], MachineState.SETUP, machine="m'1"),
    ]
    async with InfluxSink(
        cfg(influxd.url, database=db, api="v1"), {"m'1": mine}, journal=Journal(outbox)
    ) as sink:
        await sink.handle(events)
    async with InfluxSink(
        cfg(influxd.url, database=db, api="v1"), {"m'1": other}, journal=Journal(outbox)
    ) as sink:
        await sink.handle(
            [change(t[1] + timedelta(seconds=1), MachineState.OFFLINE, machine="m'1")]
        )
    async with InfluxHistory(cfg(influxd.url, database=db), {"m'1": mine}) as history:
        records = await history.state_history("m'1", t[1] + timedelta(seconds=30), t[4])
        assert records == [
            StateRecord("m'1", MachineState.FAULT, t[1], "jam 'B'"),
            StateRecord("m'1", MachineState.IDLE, t[2], None),
            StateRecord("m'1", MachineState.RUNNING, t[3], None),
        ]
        assert await history.state_history("m'1", t[0] - timedelta(hours=1), t[0]) == []
        assert await history.state_history("m'1", t[4], t[4] + timedelta(hours=1)) == [
            StateRecord("m'1", MachineState.RUNNING, t[3], None),
            StateRecord("m'1", MachineState.SETUP, t[4], None),
        ]
    # without a machine map, both gateways' records match the machine id
    async with InfluxHistory(cfg(influxd.url, database=db)) as history:
        records = await history.state_history("m'1", t[1], t[2])
        assert [r.state for r in records] == [
            MachineState.RUNNING,
            MachineState.FAULT,
            MachineState.OFFLINE,
        ]
