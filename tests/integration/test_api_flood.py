"""A flood of half-open API connections against a real `oee-edge run` whose descriptor
limit is 256 (`ulimit -n`): the API takes what its cap allows (less than the limit
leaves after the machines' share) and answers the rest 503 at once, so the gateway
keeps descriptors: a PLC that restarts during the flood is read again, and the log
gets one line about the refusals instead of one per failed accept (340,000 lines,
151 MB, when 1,100 connections took every descriptor)."""

from __future__ import annotations

import contextlib
import socket
import sqlite3
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx

from tests.fixtures.gateway_process import GatewayProcess, SimulatorProcess
from tests.fixtures.ports import free_port
from tests.integration.gateway import SCENARIO, modbus_machines

NOFILE = 256
FLOOD = 400  # more than the descriptor limit
HALF_OPEN = b"GET /api/v1/machines HTTP/1.1\r\nHost: gw\r\n"  # never finished


def _config(tmp_path: Path, sim_port: int, api_port: int) -> Path:
    path = tmp_path / "flood.yaml"
    path.write_text(
        f"""gateway: {{id: gw-flood, data_dir: "{tmp_path / "data"}"}}
site: plant
area: area1
line: line1
api: {{port: {api_port}, limits: {{header_timeout_s: 120}}}}
oee: {{windows: [1h], publish_interval_s: 1}}
machines:"""
        + modbus_machines(str(sim_port), {"m1": 2.0, "m2": 1.0, "m3": 1.0})
    )
    return path


@contextlib.contextmanager
def flood(port: int, n: int) -> Iterator[tuple[list[socket.socket], int]]:
    """`n` connections that send half a request and hold; yields them and how many the
    server answered 503 (and closed) at once."""
    held, refused = [], 0
    try:
        for _ in range(n):
            s = socket.create_connection(("127.0.0.1", port), timeout=2)
            s.sendall(HALF_OPEN)
            held.append(s)
        time.sleep(0.5)
        for s in held:
            s.settimeout(0.01)
            with contextlib.suppress(TimeoutError, BlockingIOError):
                if s.recv(64).startswith(b"HTTP/1.1 503 "):
                    refused += 1
        yield held, refused
    finally:
        for s in held:
            s.close()


def _states_since(data: Path, machine: str, since: float) -> list[str]:
    with sqlite3.connect(f"file:{data / 'oee.sqlite'}?mode=ro", uri=True) as conn:
        rows = conn.execute(
            "SELECT state FROM machine_state WHERE machine = ? AND ts >= ? ORDER BY ts",
            (machine, int(since * 1000)),
        ).fetchall()
    return [r[0] for r in rows]


def _lines(log: Path) -> int:
    return len(log.read_bytes().splitlines())


def _wait(cond: Callable[[], bool], within_s: float, what: str, gw: GatewayProcess) -> None:
    deadline = time.monotonic() + within_s
    while not cond():
        assert gw.running, f"the gateway exited:\n{gw.log_tail()}"
        assert time.monotonic() < deadline, f"{what} within {within_s} s:\n{gw.log_tail()}"
        time.sleep(0.1)


def test_a_flood_cannot_take_the_descriptors_the_plcs_need(tmp_path: Path) -> None:
    sim = SimulatorProcess(SCENARIO, free_port(), time.time(), tmp_path / "sim.log")
    sim.start()
    api_port = free_port()
    gw = GatewayProcess(
        _config(tmp_path, sim.port, api_port), tmp_path / "gw.log", api_port, NOFILE
    )
    gw.start()
    try:
        gw.wait_reading(within_s=30)
        before = _lines(gw.log)
        with flood(api_port, FLOOD) as (held, refused):
            # 256 descriptors - 2 x 3 machines - 64 for the rest - 64 for a burst of
            # accepts: at most 122 served.
            assert refused == FLOOD - 122
            sim.kill()
            data = tmp_path / "data"
            _wait(lambda: "offline" in _states_since(data, "m1", 0), 15, "m1 not offline", gw)
            restart = time.time()
            sim.start()
            _wait(
                lambda: any(s != "offline" for s in _states_since(data, "m1", restart)),
                15, "m1 not read again after its PLC restarted", gw,
            )  # fmt: skip
            during = _lines(gw.log) - before
            assert len(held) == FLOOD
        # The refusals, each machine's outage and reconnection: a few lines, not thousands.
        assert during < 30, gw.log_tail()
        text = gw.log.read_text()
        assert text.count("API: 122 connections open, refusing more") == 1
        assert "Too many open files" not in text
        r = httpx.get(f"http://127.0.0.1:{api_port}/api/v1/machines", timeout=5)
        assert r.status_code == 200
    finally:
        gw.terminate()
        sim.stop()
