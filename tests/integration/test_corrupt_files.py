"""The gateway (`oee-edge run`, a real process) started on an unusable outbox or store
(issue 15): it does not die with a traceback into a restart loop, nor take an emptied
outbox for a new one. It names the file, moves it aside, logs once at ERROR, counts it in
/metrics and runs on a fresh one. Real Modbus simulator and Mosquitto on loopback."""

from __future__ import annotations

import asyncio
import json
import re
import sqlite3
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from connectors.sqlite.store import SqliteStore
from core.types import CountDelta
from edge.config import SqliteConfig
from tests.fixtures.gateway_process import GatewayProcess
from tests.fixtures.mosquitto import MosquittoBroker
from tests.fixtures.ports import free_port
from tests.integration.gateway import SCENARIO, modbus_machines

CONFIG = """
gateway: {id: gw-files, data_dir: "%(data)s", log_level: INFO}
site: plant
area: area1
line: %(line)s
api: {port: %(api)d}
oee: {windows: [1h], publish_interval_s: 0.5}
mqtt: {port: %(mqtt)d}
machines:""" + modbus_machines("%(modbus)d", {"m1": 0.0333333333})
STAMP = r"\d{8}T\d{6}Z"


def _gateway(tmp_path: Path, modbus: int, mqtt: int, line: str) -> GatewayProcess:
    api = free_port()
    text = CONFIG % {"data": tmp_path / "data", "line": line, "api": api, "mqtt": mqtt,
                     "modbus": modbus}  # fmt: skip
    config = tmp_path / "gateway.yaml"
    config.write_text(text)
    return GatewayProcess(config, tmp_path / "gateway.log", api)


def _errors(gw: GatewayProcess) -> list[str]:
    lines = gw.log.read_text(errors="replace").splitlines()
    return [x.split(": ", 1)[1] for x in lines if re.match(r"\S+ \S+ ERROR ", x)]


def _metrics(gw: GatewayProcess) -> str:
    return httpx.get(f"http://127.0.0.1:{gw.api_port}/metrics", timeout=5).text


@pytest.mark.parametrize(
    ("content", "why"),
    [(b"this is no outbox\n" * 400, "file is not a database"),
     (b"", "the file is empty (0 bytes)")],
    ids=["garbage", "empty"],
)  # fmt: skip
def test_a_gateway_on_an_unusable_outbox_starts_fresh_and_says_so(
    simulator_factory, mosquitto: MosquittoBroker, tmp_path: Path, content: bytes, why: str
) -> None:
    sim = simulator_factory(SCENARIO)
    outbox = tmp_path / "data" / "outbox.sqlite"
    outbox.parent.mkdir()
    outbox.write_bytes(content)
    line = f"files{uuid.uuid4().hex[:8]}"
    topic = f"oee/plant/area1/{line}/m1/event"
    gw = _gateway(tmp_path, sim.port, mosquitto.port, line)
    with mosquitto.collector(topic) as events:
        gw.start()
        try:
            gw.wait_reading(30)  # before: a traceback and exit 1, again at every restart
            first = events.wait_count(1, topic, 10)[0]
            metrics = _metrics(gw)
        finally:
            code, _ = gw.terminate()
    assert code == 0, gw.log_tail()
    assert json.loads(first.payload)["seq"] == 1  # a fresh outbox: the sequence restarts
    [aside] = outbox.parent.glob("outbox.sqlite.corrupt-*")
    assert re.fullmatch(rf"outbox\.sqlite\.corrupt-{STAMP}", aside.name)
    assert aside.read_bytes() == content
    stream = json.loads(first.payload)["id"].split(":")[0]
    assert _errors(gw) == [
        f"outbox {outbox} cannot be used ({why}); moved aside to {aside}. Started a fresh "
        "outbox: the records it held for the sinks and the machines' checkpoints are not "
        f"carried over, so sequence numbers restart at 1 (stream {stream})"
    ]
    assert 'oee_edge_corrupt_files_total{file="outbox"} 1\n' in metrics
    assert 'oee_edge_corrupt_files_total{file="sqlite"} 0\n' in metrics


async def test_a_gateway_on_a_store_with_a_damaged_page_goes_on_in_a_fresh_one(
    simulator_factory, mosquitto: MosquittoBroker, tmp_path: Path
) -> None:
    sim = simulator_factory(SCENARIO)
    store = tmp_path / "data" / "oee.sqlite"
    since = datetime.now(UTC) - timedelta(minutes=30)  # within the OEE engine's look-back
    async with SqliteStore(SqliteConfig(path=store)) as old:
        await old.handle(
            [CountDelta("m1", since + timedelta(seconds=i), 1, 1, 0) for i in range(2000)]
        )
    _damage(store, "production_machine_ts")  # the start reads it back, then every part
    gw = _gateway(tmp_path, sim.port, mosquitto.port, f"files{uuid.uuid4().hex[:8]}")
    gw.start()
    try:
        await asyncio.to_thread(gw.wait_reading, 30)
        api = f"http://127.0.0.1:{gw.api_port}"
        async with httpx.AsyncClient(base_url=api) as http:
            for _ in range(100):  # the scenario's m1 makes parts 2 s in
                states = (await http.get("/api/v1/machines/m1")).json()
                if states["counts"]["total"] >= 3:
                    break
                await asyncio.sleep(0.1)
            metrics = (await http.get("/metrics")).text
            intervals = (await http.get("/api/v1/machines/m1/states")).json()["intervals"]
    finally:
        code, _ = await asyncio.to_thread(gw.terminate)
    assert code == 0, gw.log_tail()
    # (its WAL beside it, when another connection, an API worker's, still had it open)
    [aside] = [
        p for p in store.parent.glob("oee.sqlite.corrupt-*") if p.name[-4:] not in ("-wal", "-shm")
    ]
    assert _errors(gw) == [
        f"SQLite store {store} cannot be used (database disk image is malformed); moved "
        f"aside to {aside}. Started a fresh store: the history it held (states, counts, OEE, "
        "raw tags) is not read any more; what is written from now on is kept"
    ]
    assert 'oee_edge_corrupt_files_total{file="sqlite"} 1\n' in metrics
    assert 'oee_edge_corrupt_files_total{file="outbox"} 0\n' in metrics
    assert 'oee_edge_sink_errors_total{sink="sqlite"} 0\n' in metrics
    assert 'oee_edge_sink_rows_lost_total{sink="sqlite"} 0\n' in metrics
    # The states read back come from the fresh store (the old one held counts only); m1
    # idles first, unless the first poll came after it began to run (a loaded machine).
    assert "running" in [i["state"] for i in intervals][:2]
    with sqlite3.connect(store) as conn:
        assert conn.execute("SELECT sum(total) FROM production").fetchone()[0] >= 3


def _damage(path: Path, name: str) -> None:
    """Overwrite the root page of table or index `name` with garbage (a bad sector)."""
    with sqlite3.connect(path) as conn:
        sql = "SELECT rootpage FROM sqlite_master WHERE name = ?"
        (root,) = conn.execute(sql, (name,)).fetchone()
        (size,) = conn.execute("PRAGMA page_size").fetchone()
    with path.open("r+b") as f:
        f.seek((root - 1) * size)
        f.write(b"\xff" * size)
