"""What the InfluxDB sink does with each kind of failed write: 429 and 503 (retried after
Retry-After or a backoff), 413 (split), 400 (bisected, bad lines quarantined). The
status codes come from a small local HTTP server (tests/fixtures/fake_influx.py), as
issue 5 allows; the 400 of a real field type conflict comes from the real influxd."""

from __future__ import annotations

import email.utils
import json
import logging
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from connectors.influxdb.lineprotocol import encode
from connectors.influxdb.sink import InfluxSink
from connectors.influxdb.write import retry_after, server_message
from core.types import CountDelta, MachineState, Quality, Sample, SampleBatch
from edge.config import InfluxConfig
from edge.outbox import Journal, Outbox
from tests.connectors.influxdb.test_influx_outbox import deltas, production, totals
from tests.connectors.influxdb.test_influxdb import REF, T0, T0_NS, cfg, change, until
from tests.fixtures.fake_influx import Answer, FakeInflux
from tests.fixtures.influx import InfluxServer

REFS = {"m1": REF}
CONFLICT = (
    'partial write: field type conflict: input field "total" on measurement "production" '
    "is type integer, already exists as type float dropped=1"
)


def lines(events: list[Any]) -> list[str]:
    return [line for e in events for line in encode(e, REF)]


def config_for(api: str, url: str, **kw: Any) -> InfluxConfig:
    if api == "v2":
        kw |= {"bucket": "oee", "token": SecretStr("t")}
    return cfg(url, api=api, **kw)


def error(api: str, message: str) -> dict[str, str]:
    """An error body as InfluxDB 1.x (`error`) or 2.x (`code`, `message`) sends it."""
    return {"error": message} if api == "v1" else {"code": "invalid", "message": message}


def quarantined(sink: InfluxSink) -> list[dict[str, Any]]:
    text = sink.quarantine_path.read_text() if sink.quarantine_path.exists() else ""
    return [json.loads(row) for row in text.splitlines()]


def test_retry_after_header() -> None:
    now = 1_800_000_000.0
    assert retry_after("2", now) == 2.0
    assert retry_after(" 0.5 ", now) == 0.5
    assert retry_after(email.utils.formatdate(now + 30, usegmt=True), now) == 30.0
    assert retry_after(email.utils.formatdate(now - 30, usegmt=True), now) == 0.0
    assert retry_after("-3", now) == 0.0
    assert retry_after("soon", now) is None
    assert retry_after("", now) is None
    assert retry_after(None, now) is None


def test_server_message() -> None:
    assert server_message('{"error":"partial write: x dropped=1"}') == "partial write: x dropped=1"
    assert server_message(b'{"code":"invalid","message":"unable to parse"}') == "unable to parse"
    assert server_message("Request Entity Too Large\n") == "Request Entity Too Large"


@pytest.mark.parametrize("api", ["v1", "v2"])
async def test_429_waits_for_retry_after_then_writes_the_batch_once(
    api: str, outbox: Outbox
) -> None:
    """v1 sends Retry-After in seconds, v2 as an HTTP date (1 s resolution: 1-2 s ahead)."""

    def answer(got: list[str], n: int) -> Answer:
        if n > 0:
            return Answer()
        wait = "2" if api == "v1" else email.utils.formatdate(time.time() + 2, usegmt=True)
        return Answer(429, error(api, "too many requests"), {"Retry-After": wait})

    events = deltas(10)
    with FakeInflux(answer) as server:
        config = config_for(api, server.url, batch_size=10)
        async with InfluxSink(
            config, REFS, journal=Journal(outbox), backoff_initial_s=0.05
        ) as sink:
            await sink.handle(events)
            await until(lambda: sink.stats.retried == 1)
            assert not sink.connected and sink.buffered == 10
            await until(lambda: sink.buffered == 0)
            assert sink.connected
        first, second = server.requests
    assert (first.status, second.status) == (429, 204)
    assert first.lines == second.lines == lines(events)
    waited = second.at - first.at
    assert (1.9 if api == "v1" else 0.9) <= waited < 3.0  # not the 0.05 s backoff
    assert server.accepted == lines(events)
    st = sink.stats
    assert (st.retried, st.errors, st.batches, st.written, st.split) == (1, 0, 1, 10, 0)


async def test_503_without_retry_after_backs_off_and_retries(outbox: Outbox) -> None:
    def answer(got: list[str], n: int) -> Answer:
        return (
            Answer(503, {"error": "engine: cache maximum memory size exceeded"})
            if n < 2
            else Answer()
        )

    events = deltas(5)
    with FakeInflux(answer) as server:
        config = cfg(server.url, api="v1", batch_size=5)
        sink = InfluxSink(
            config, REFS, journal=Journal(outbox), backoff_initial_s=0.05, backoff_max_s=0.2
        )
        async with sink:
            await sink.handle(events)
            await until(lambda: sink.buffered == 0)
        assert server.statuses() == [503, 503, 204]
        assert server.requests[-1].at - server.requests[0].at < 1.0
        assert server.accepted == lines(events)
    assert (sink.stats.retried, sink.stats.errors, sink.stats.written) == (2, 0, 5)


async def test_413_splits_the_batch_and_every_line_arrives_once(outbox: Outbox) -> None:
    """The server takes at most 4 lines a request. The first batch of 10 is split in
    halves (5: still too large, 2 + 3); from then on requests stay under half of the
    largest body refused (2.5 lines: 2 lines a request)."""

    def answer(got: list[str], n: int) -> Answer:
        return Answer(413, {"error": "Request Entity Too Large"}) if len(got) > 4 else Answer()

    events = deltas(25)
    with FakeInflux(answer) as server:
        config = cfg(server.url, api="v1", batch_size=10)
        async with InfluxSink(config, REFS, journal=Journal(outbox)) as sink:
            await sink.handle(events)
            await until(lambda: sink.buffered == 0)
        sizes = [(len(r.lines), r.status) for r in server.requests]
    assert sizes == [(10, 413), (5, 413), (2, 204), (3, 204), (5, 413), (2, 204), (3, 204)] + [
        (2, 204)
    ] * 7 + [(1, 204)]
    assert server.accepted == lines(events)  # each line once, in order
    st = sink.stats
    assert (st.split, st.written, st.batches, st.quarantined, st.retried) == (3, 25, 12, 0, 0)
    assert outbox.depth("influxdb").records == 0


async def test_413_for_a_single_line_quarantines_it(outbox: Outbox) -> None:
    def answer(got: list[str], n: int) -> Answer:
        too_large = sum(len(line) + 1 for line in got) > 2000
        return Answer(413, {"error": "Request Entity Too Large"}) if too_large else Answer()

    huge = SampleBatch("m1", T0, (Sample("recipe", "x" * 3000, Quality.GOOD, T0),))
    events = [
        CountDelta("m1", T0, 1, 1, 0),
        huge,
        CountDelta("m1", T0 + timedelta(seconds=1), 2, 2, 0),
    ]
    with FakeInflux(answer) as server:
        async with InfluxSink(cfg(server.url, api="v1"), REFS, journal=Journal(outbox)) as sink:
            await sink.handle(events)
            await until(lambda: sink.buffered == 0)
        assert [(len(r.lines), r.status) for r in server.requests] == [
            (3, 413), (1, 204), (2, 413), (1, 413), (1, 204)
        ]  # fmt: skip
        assert server.accepted == lines([events[0], events[2]])
    (row,) = quarantined(sink)
    assert (row["line"], row["status"], row["error"]) == (
        lines([huge])[0],
        413,
        "Request Entity Too Large",
    )
    assert (sink.stats.quarantined, sink.stats.written, sink.stats.split) == (1, 2, 2)


@pytest.mark.parametrize("api", ["v1", "v2"])
async def test_400_bisects_writes_the_good_lines_and_quarantines_the_bad_one(
    api: str, outbox: Outbox, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """One bad line (the 4th) in a batch of 10: 9 written, 1 quarantined, never again."""
    caplog.set_level(logging.INFO, logger="connectors.influxdb")
    events = deltas(10)
    bad = lines(events)[3]
    assert "total=4i" in bad

    def answer(got: list[str], n: int) -> Answer:
        return Answer(400, error(api, CONFLICT)) if bad in got else Answer()

    with FakeInflux(answer) as server:
        config = config_for(api, server.url, batch_size=10)
        async with InfluxSink(config, REFS, journal=Journal(outbox)) as sink:
            await sink.handle(events)
            await until(lambda: sink.buffered == 0)
            assert sink.connected
            # Bisection: 10 -> 5 (bad) -> 2 (ok) + 3 (bad) -> 1 (ok) + 2 (bad) -> 1 (bad) +
            # 1 (ok); then the other 5 (ok).
            assert [(len(r.lines), r.status) for r in server.requests] == [
                (10, 400), (5, 400), (2, 204), (3, 400), (1, 204), (2, 400), (1, 400),
                (1, 204), (5, 204),
            ]  # fmt: skip
            later = deltas(1, start=10)
            await sink.handle(later)  # the sink goes on; the bad line is not sent again
            await until(lambda: sink.stats.written == 10)
        assert server.accepted == [x for x in lines(events) if x != bad] + lines(later)
        assert sum(bad in r.lines for r in server.requests) == 5
        assert len(server.requests) == 10
    assert sink.quarantine_path == tmp_path / "influx-quarantine.jsonl"  # next to the outbox
    (row,) = quarantined(sink)
    assert (row["line"], row["status"], row["error"]) == (bad, 400, CONFLICT)
    assert row["time"].endswith("Z") and row["queued"].endswith("Z")
    assert outbox.depth("influxdb").records == 0
    st = sink.stats
    assert (st.written, st.quarantined, st.split, st.retried, st.errors) == (10, 1, 4, 0, 0)
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and CONFLICT in warnings[0].getMessage()


async def test_400_from_a_real_type_conflict(influxd: InfluxServer, outbox: Outbox) -> None:
    """influxd 1.6.7 answers a batch with one conflicting point "partial write" (400)."""
    db = influxd.new_database("conflict")
    # `code` exists as a float: our integer `code` is a field type conflict.
    influxd.write(f"machine_state code=1.5 {T0_NS - 1}", db)  # same shard as T0
    points = deltas(9)
    bad = change(T0 + timedelta(milliseconds=500), MachineState.FAULT)
    events = [*points[:6], bad, *points[6:]]
    config = cfg(influxd.url, database=db, api="v1", batch_size=10)
    async with InfluxSink(config, REFS, journal=Journal(outbox)) as sink:
        await sink.handle(events)
        await until(lambda: sink.buffered == 0)
    assert production(influxd, db) == (9, totals(9))
    (row,) = quarantined(sink)
    assert row["line"] == lines([bad])[0] and row["status"] == 400
    assert "field type conflict" in row["error"] and "code" in row["error"]
    assert (sink.stats.written, sink.stats.quarantined) == (9, 1)
    assert outbox.depth("influxdb").records == 0


async def test_shutdown_does_not_wait_for_a_long_retry_after(outbox: Outbox) -> None:
    def answer(got: list[str], n: int) -> Answer:
        return Answer(429, {"error": "slow down"}, {"Retry-After": "60"})

    with FakeInflux(answer) as server:
        sink = InfluxSink(
            cfg(server.url, api="v1"), REFS, journal=Journal(outbox), shutdown_timeout_s=0.5
        )
        started = time.monotonic()
        async with sink:
            await sink.handle(deltas(3))
            await until(lambda: sink.stats.retried == 1)
        assert time.monotonic() - started < 1.5
        assert len(server.requests) == 1
    assert sink.buffered == 3 == outbox.depth("influxdb").records
