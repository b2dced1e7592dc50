"""A failure inside the pipeline for one machine stays with that machine (issue 15): seen
before, one bad value ended the poll task and the process, stopping every machine. Here an
engine that fails on one machine's events (as a bug in a new engine would) leaves the
other engines and machines running; it is logged once, counted, and shown in the API and
`/ready` until it works again."""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from datetime import datetime, timedelta
from pathlib import Path

import httpx
import pytest

from api.app import create_app
from connectors.sqlite.store import SqliteStore
from core.interfaces import HistoryReader, MachineEvent
from core.types import Event, Quality, Sample, SampleBatch
from edge.config import Config, SqliteConfig
from edge.pipeline import components
from edge.pipeline.gateway import Gateway
from tests.api.test_counts import NOW, T0

BROKEN = {"m1"}


class Picky:
    """An engine that fails on the events of the machines in BROKEN."""

    name = "Picky"
    lookback = timedelta(0)

    def __init__(self, config: Config) -> None:
        self.seen: list[MachineEvent] = []

    def apply(self, event: MachineEvent) -> None:
        if event.machine in BROKEN:
            raise ZeroDivisionError("division by zero")
        self.seen.append(event)

    async def preload(self, history: HistoryReader, now: datetime, last: datetime | None) -> int:
        return 0

    def publications(self, now: datetime) -> Iterator[Sequence[Event]]:
        yield from ()


def config(data_dir: Path) -> Config:
    machine = {
        "ideal_cycle_s": 2,
        "modbus": {"host": "127.0.0.1"},
        "tags": {"code": {"address": 0}, "total": {"address": 1}},
        "state_rules": [{"tag": "code", "map": {1: "running"}}],
        "counters": {"total": {"tag": "total", "bits": 16}},
    }
    return Config.model_validate(
        {
            "gateway": {"id": "gw", "data_dir": str(data_dir)},
            "site": "s",
            "area": "a",
            "line": "l",
            "oee": {"windows": ["1h"]},
            "machines": [{"id": "m1", **machine}, {"id": "m2", **machine}],
        }
    )


def batch(machine: str, t: float, total: int) -> SampleBatch:
    ts = T0 + timedelta(seconds=t)
    values = {"code": 1, "total": total}
    return SampleBatch(
        machine, ts, tuple(Sample(k, v, Quality.GOOD, ts) for k, v in values.items())
    )


async def test_a_failing_engine_is_contained_to_its_machine(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setitem(components.ENGINES, "picky", Picky)
    BROKEN.add("m1")
    caplog.set_level(logging.INFO, logger="edge.pipeline.issues")
    async with SqliteStore(SqliteConfig(path=tmp_path / "oee.sqlite")) as store:
        gw = Gateway(config(tmp_path / "data"), sinks=[store], history=store, clock=lambda: NOW)
        gw.live.started = True
        app = create_app(gw.config, gw.live, store, lambda: NOW, control=gw)
        client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gw")
        for t in range(4):
            for m in ("m1", "m2"):
                await gw.take(gw.normalisers[m], batch(m, t, 10 + t))
        # The other engine took every event of both machines; Picky those of m2.
        (u1,) = gw.engine.figures(T0 + timedelta(seconds=4), ["m1"])
        assert u1.total == 3
        picky = gw.engines["picky"]
        assert isinstance(picky, Picky) and {e.machine for e in picky.seen} == {"m2"}
        assert gw.machine_errors == {"m1": 4, "m2": 0}  # a state change and three counts
        async with client:
            m1 = (await client.get("/api/v1/machines/m1")).json()
            ready = (await client.get("/ready")).json()
        (issue,) = m1["issues"]
        assert (issue["kind"], issue["count"]) == ("pipeline_error", 4)
        assert issue["detail"] == "engine picky failed: ZeroDivisionError: division by zero"
        assert ready["machines_failing"] == ["m1"]
        assert "pipeline failing for: m1" in ready["not_ready"]
        BROKEN.clear()  # fixed (in the real world: a new version)
        await gw.take(gw.normalisers["m1"], batch("m1", 5, 20))
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://gw"
        ) as c:
            assert (await c.get("/api/v1/machines/m1")).json()["issues"] == []
            assert (await c.get("/ready")).json()["machines_failing"] == []
    errors = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert len(errors) == 1 and errors[0].exc_info is not None  # once, with the traceback
    assert caplog.records[-1].getMessage() == (
        "m1: ended after 4 time(s): engine picky failed: ZeroDivisionError: division by zero"
    )
