"""The InfluxDB sink through the durable outbox, against real servers killed for real:
points wait on disk while the database is down, arrive exactly once it is back (counted
with InfluxQL), survive a stop of the sink itself, and go out through the v2 write API
after an outage too. Priorities for the outbox's disk limit come from the event kind."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import time
from collections.abc import Iterable
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from pydantic import SecretStr

from connectors.influxdb.sink import InfluxSink
from core.records import Priority
from core.types import CountDelta, MachineState, Quality, ReasonAssigned, Sample, SampleBatch
from edge.outbox import Journal, Outbox
from tests.connectors.influxdb.test_influxdb import REF, T0, cfg, change, until
from tests.connectors.line_report import line
from tests.connectors.oee_report import worked_update
from tests.fixtures.influx import InfluxServer, VictoriaServer, free_port, start_influxd
from tests.fixtures.outbox import open_outbox
from tests.fixtures.tcp_proxy import TcpProxy


def deltas(n: int, start: int = 0, machine: str = "m1") -> list[CountDelta]:
    """`n` production points a second apart; totals 1..7 (good = total)."""
    return [
        CountDelta(machine, T0 + timedelta(seconds=i), 1 + i % 7, 1 + i % 7, 0)
        for i in range(start, start + n)
    ]


def totals(n: int) -> int:
    return sum(1 + i % 7 for i in range(n))


def production(server: InfluxServer, db: str | None = None) -> tuple[int, int]:
    rows = server.query("SELECT count(total), sum(total) FROM production", db)
    return (rows[0]["count"], rows[0]["sum"]) if rows else (0, 0)


async def test_points_wait_in_the_outbox_through_outages_and_arrive_exactly(
    tmp_path: Path, outbox: Outbox, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="connectors.influxdb")
    port = free_port()  # nothing listens there yet: the database is down at start
    config = cfg(f"http://127.0.0.1:{port}", database="oee_test", api="v1", batch_size=200)
    sink = InfluxSink(
        config, {"m1": REF}, journal=Journal(outbox), backoff_initial_s=0.05, backoff_max_s=0.2
    )
    points = deltas(1500)
    server = None
    try:
        async with sink:
            for k in range(10):  # 1,000 points while the database is down
                started = time.monotonic()
                await sink.handle(points[100 * k : 100 * (k + 1)])
                assert time.monotonic() - started < 0.5  # committed, not sent
            assert outbox.depth("influxdb").records == sink.buffered == 1000
            await until(lambda: sink.stats.errors >= 2)
            assert sink.stats.written == 0 and not sink.connected
            assert outbox.depth("influxdb").records == 1000

            server = await asyncio.to_thread(start_influxd, tmp_path / "influxd", port)
            await until(lambda: sink.buffered == 0, within_s=15.0)
            assert sink.connected and outbox.depth("influxdb").records == 0
            assert production(server) == (1000, totals(1000))

            # A real outage: influxd stops (SIGTERM), 500 more points come, it restarts.
            await asyncio.to_thread(server.stop)
            errors = sink.stats.errors
            await sink.handle(points[1000:])
            await until(lambda: sink.stats.errors > errors)
            assert outbox.depth("influxdb").records == sink.buffered == 500
            assert not sink.connected
            server = await asyncio.to_thread(start_influxd, tmp_path / "influxd", port)
            await until(lambda: sink.buffered == 0, within_s=15.0)
        assert production(server) == (1500, totals(1500))
    finally:
        if server is not None:
            await asyncio.to_thread(server.stop)
    assert outbox.depth("influxdb").records == 0
    st = sink.stats
    assert (st.written, st.batches) == (1500, 5 + 3)  # batches of 200: 5, then 200+200+100
    assert st.split == st.quarantined == 0
    # A write that reaches influxd between its /ping answering and the fixture creating
    # the database gets 404 "database not found": retried like any other failure.
    assert st.retried <= 1
    outages = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(outages) == 2  # each outage is reported once, then quietly retried
    assert sum("reconnected" in r.getMessage() for r in caplog.records) == 2


async def test_a_stopped_sink_leaves_its_lines_for_the_next_start(
    influxd: InfluxServer, tmp_path: Path
) -> None:
    db = influxd.new_database("restart")
    path = tmp_path / "outbox.sqlite"
    points = deltas(50)
    async with TcpProxy(influxd.port) as proxy:
        proxy.cut()  # the database is unreachable
        config = cfg(f"http://127.0.0.1:{proxy.port}", database=db, api="v1")
        box = open_outbox(path)
        sink = InfluxSink(config, {"m1": REF}, journal=Journal(box), shutdown_timeout_s=0)
        started = time.monotonic()
        async with sink:
            await sink.handle(points)
            await until(lambda: sink.stats.errors >= 1)
        assert time.monotonic() - started < 2.0
        assert sink.buffered == 50 and sink.stats.written == 0
        box.close()

        box = open_outbox(path)  # the next start of the gateway
        try:
            assert box.depth("influxdb").records == 50
            proxy.resume()
            async with InfluxSink(config, {"m1": REF}, journal=Journal(box)) as again:
                assert again.buffered == 50
                await until(lambda: again.buffered == 0)
            assert again.stats.written == 50 and again.stats.batches == 1
            assert box.depth("influxdb").records == 0
        finally:
            box.close()
    assert production(influxd, db) == (50, totals(50))


async def test_v2_write_api_after_an_outage(
    victoria_metrics: VictoriaServer, outbox: Outbox
) -> None:
    port = urlsplit(victoria_metrics.url).port
    assert port is not None
    async with TcpProxy(port) as proxy:
        proxy.cut()
        config = cfg(f"http://127.0.0.1:{proxy.port}", api="v2", bucket="oee", token=SecretStr("t"))
        ref = REF.__class__("s1", "a1", "l1", "vmo")
        sink = InfluxSink(
            config, {"vmo": ref}, journal=Journal(outbox), backoff_initial_s=0.05, backoff_max_s=0.2
        )
        async with sink:
            await sink.handle(deltas(200, machine="vmo"))
            await until(lambda: sink.stats.errors >= 2)
            assert outbox.depth("influxdb").records == sink.buffered == 200
            proxy.resume()
            await until(lambda: sink.buffered == 0, within_s=10.0)
        assert sink.stats.written == 200
    (series,) = victoria_metrics.export_settled('{__name__="production_total",machine="vmo"}')
    assert len(series["values"]) == 200
    assert sum(series["values"]) == totals(200)


async def test_records_carry_the_priority_of_their_event(outbox: Outbox) -> None:
    """Raw tags go first when the disk limit is reached, then OEE points, never events."""
    config = cfg(f"http://127.0.0.1:{free_port()}", api="v1")
    refs = {"m1": REF, "m2": REF.__class__("s1", "a1", "l1", "m2")}
    events = [
        SampleBatch("m1", T0, (Sample("speed", 1.5, Quality.GOOD, T0),)),
        worked_update("m1"),  # an oee point and eight oee_loss points
        replace(line(), area="a1", line="l1"),  # line_oee
        change(T0, MachineState.FAULT),
        CountDelta("m1", T0, 1, 1, 0),
        ReasonAssigned("m1", T0, MachineState.FAULT, 7, "Jam", T0 + timedelta(minutes=1)),
    ]
    async with InfluxSink(config, refs, journal=Journal(outbox), shutdown_timeout_s=0) as sink:
        await sink.handle(events)
        assert sink.buffered == 14
    with sqlite3.connect(outbox.path) as db:
        rows = db.execute("SELECT priority, data FROM outbox ORDER BY id").fetchall()
    got = [(Priority(p), bytes(d).decode().split(",")[0]) for p, d in rows]
    assert got == [
        (Priority.TAGS, "tag"),
        (Priority.OEE, "oee"),
        *[(Priority.OEE, "oee_loss")] * 8,
        (Priority.OEE, "line_oee"),
        (Priority.EVENTS, "machine_state"),
        (Priority.EVENTS, "production"),
        (Priority.EVENTS, "machine_state"),
    ]


async def test_a_full_outbox_refuses_and_says_so(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="edge.journal")
    config = cfg(f"http://127.0.0.1:{free_port()}", api="v1")
    line_bytes = len(b"production,area=a1,line=l1,machine=m1,site=s1 total=1i,good=1i,reject=0i ")
    line_bytes += len(str(1795575600123000000))
    box = open_outbox(tmp_path / "small.sqlite", max_bytes=10 * line_bytes)
    try:
        async with InfluxSink(
            config, {"m1": REF}, journal=Journal(box), shutdown_timeout_s=0
        ) as sink:
            await sink.handle(deltas(8))
            await sink.handle(deltas(8, start=8))  # 2 fit, 6 refused
            await sink.handle(deltas(1, start=16))  # refused too: logged once
            assert box.depth("influxdb").records == 10
        assert box.stats.refused["events"] == 7
    finally:
        box.close()
    full = [(r.levelno, r.getMessage()) for r in caplog.records if "outbox full" in r.getMessage()]
    assert full == [
        (logging.ERROR, "outbox full: 6 of 8 records refused"),
        (logging.DEBUG, "outbox full: 1 of 1 records refused"),
    ]


class AckFails(Outbox):
    """An outbox whose first `failures` removals fail, as a disk giving I/O errors would."""

    def __init__(self, path: Path, failures: int) -> None:
        super().__init__(path, 1 << 30)
        self.failures = failures

    def ack(self, sink: str, ids: Iterable[int]) -> int:
        if self.failures > 0:
            self.failures -= 1
            raise sqlite3.OperationalError("disk I/O error")
        return super().ack(sink, ids)


async def test_a_written_batch_the_outbox_cannot_remove_is_not_written_again(
    tmp_path: Path, influxd: InfluxServer, caplog: pytest.LogCaptureFixture
) -> None:
    """The server took the batch, the outbox failed to remove it: the drain retries the
    removal (not the write), logs the local outage once and counts each failed round."""
    caplog.set_level(logging.DEBUG, logger="connectors.influxdb")
    db = influxd.new_database()
    config = cfg(influxd.url, database=db, api="v1", batch_size=5, flush_interval_s=0.05)
    with AckFails(tmp_path / "outbox.sqlite", failures=3) as box:
        sink = InfluxSink(
            config, {"m1": REF}, journal=Journal(box), backoff_initial_s=0.05, backoff_max_s=0.1
        )
        async with sink:
            await sink.handle(deltas(5))
            await until(lambda: box.depth("influxdb").records == 0, 10)
        assert (sink.stats.batches, sink.stats.written, sink.stats.outbox_errors) == (1, 5, 3)
    assert production(influxd, db) == (5, totals(5))
    said = [(r.levelno, r.getMessage()) for r in caplog.records if "outbox (" in r.getMessage()]
    assert [level for level, _ in said] == [
        logging.ERROR, logging.DEBUG, logging.DEBUG, logging.INFO
    ]  # fmt: skip
    assert said[0][1].startswith(
        "InfluxDB outbox (influxdb): OperationalError: disk I/O error; retrying in "
    )
    assert said[-1][1] == "InfluxDB outbox (influxdb): reconnected"
