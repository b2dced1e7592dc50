"""The plant of the Grafana dashboard tests (tests/deploy/test_grafana*.py): a real
influxd that the real gateway (`oee-edge run`) fills from the Modbus simulator playing
grafana_scenario.yaml with grafana_gateway.yaml (its orders due relative to now)."""

from __future__ import annotations

import string
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.deploy.grafana_query import DataSource
from tests.fixtures.gateway_process import GatewayProcess, SimulatorProcess
from tests.fixtures.influx import InfluxServer
from tests.fixtures.ports import free_port

HERE = Path(__file__).parent
# Each machine's state changes (state, reason) up to its final state (the gateway
# starts before the simulator, so each machine is offline first).
OFFLINE = ("offline", None)
STATES = {
    "m1": [OFFLINE, ("idle", "Operator away"), ("running", None),
           ("setup", "Product changeover"), ("running", None), ("fault", "Sensor fault"),
           ("running", None), ("idle", "Operator away")],
    "m2": [OFFLINE, ("idle", None), ("running", None), ("fault", "Motor overload"),
           ("running", None), ("setup", "Product changeover")],
    "m3": [OFFLINE, ("idle", None), ("running", None), ("idle", "Waiting for material"),
           ("running", None), ("fault", "Hydraulic pressure low")],
}  # fmt: skip


def _wait(what: str, seen: Any, expected: Any, gateway: GatewayProcess) -> None:
    """Wait up to 30 s until `seen()` == `expected`; else fail with both and the log."""
    deadline = time.monotonic() + 30
    while (got := seen()) != expected:
        if time.monotonic() > deadline or not gateway.running:
            pytest.fail(f"{what}: {got} != {expected}; gateway log:\n{gateway.log_tail()}")
        time.sleep(0.2)


def _state_points(influx: InfluxServer, db: str) -> dict[str, list[tuple[str, str | None]]]:
    rows = influx.query('SELECT "state", "reason" FROM "machine_state" GROUP BY "machine"', db)
    out: dict[str, list[tuple[str, str | None]]] = {}
    for r in rows:
        out.setdefault(r["machine"], []).append((r["state"], r["reason"]))
    return out


def _oee_series_after(influx: InfluxServer, db: str, ns: int) -> tuple[int, ...]:
    """How many machine and line OEE series (one per window) have points after `ns`."""
    q = 'SELECT count("oee") FROM "{}" WHERE time > {} GROUP BY *'
    return tuple(len(influx.query(q.format(m, ns), db)) for m in ("oee", "line_oee"))


def _changeovers(influx: InfluxServer, db: str) -> dict[str, int]:
    rows = influx.query('SELECT count("duration_s") FROM "changeover" GROUP BY "machine"', db)
    return {r["machine"]: r["count"] for r in rows}


def _status(influx: InfluxServer, db: str, order: str) -> str | None:
    rows = influx.query(f'SELECT last("status") FROM "order" WHERE "order" = \'{order}\'', db)
    return rows[0]["last"] if rows else None


def _due(days: float) -> str:
    """A due time `days` from now (RFC 3339, UTC) for the config's fixed orders."""
    return (datetime.now(UTC) + timedelta(days=days)).isoformat()


def _gateway(influx: InfluxServer, db: str, work: Path, modbus_port: int) -> GatewayProcess:
    env = {"DATA_DIR": str(work / "data"), "API_PORT": str(free_port()), "INFLUX_URL": influx.url,
           "INFLUX_DB": db, "MODBUS_PORT": str(modbus_port), "DUE_PAST": _due(-1 / 24),
           "DUE_20D": _due(20), "DUE_365D": _due(365)}  # fmt: skip
    config = work / "gateway.yaml"
    config.write_text(string.Template((HERE / "grafana_gateway.yaml").read_text()).substitute(env))
    return GatewayProcess(config, work / "gateway.log", int(env["API_PORT"]))


def plant(influxd: InfluxServer, work: Path) -> Iterator[DataSource]:
    """The provisioned data source, on a database the gateway filled with the scenario
    (every machine in its final state, OEE of every machine and line published after
    that, the changeovers of m1 and m3 completed); the gateway goes on running meanwhile."""
    db = influxd.new_database("grafana")
    sim = SimulatorProcess(HERE / "grafana_scenario.yaml", free_port(), 0.0, work / "sim.log")
    gateway = _gateway(influxd, db, work, sim.port)

    def states() -> set[str]:
        return {m["state"] for m in gateway.machines() or []}

    # The gateway first: its machines are offline until the simulator serves, which then
    # plays its script from the start, however long the gateway took to start.
    gateway.start()
    try:
        _wait("machine states", states, {"offline"}, gateway)
        sim.epoch = time.time()
        sim.start()
        _wait("state changes", lambda: _state_points(influxd, db), STATES, gateway)
        last = influxd.query('SELECT last("state") FROM "machine_state"', db)[0]["time"]
        # 3 machines and 2 lines, 2 windows each.
        _wait("OEE series", lambda: _oee_series_after(influxd, db, last), (3 * 2, 2 * 2), gateway)
        # m1: 101 -> 102 at its setup; m3 goes from order C-3 (done) on to D-3, of the same
        # product without a stop: no changeover (docs/OEE.md), but C-3 done.
        _wait("changeovers", lambda: _changeovers(influxd, db), {"m1": 1}, gateway)
        _wait("C-3 done", lambda: _status(influxd, db, "C-3"), "done", gateway)
        yield DataSource.provisioned({"INFLUX_URL": influxd.url, "INFLUX_DB": db})
    finally:
        gateway.terminate()
        sim.stop()
