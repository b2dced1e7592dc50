"""Simulator farms for the load benchmark: N machines × T tags in a few processes.

`start_farm` writes random-mode scenarios (a state change every ~10-60 s per machine,
cycle 1-3 s, fixed seeds) into a work folder, starts ``python -m simulators`` on free
ports, learns the bound ports from the summary each process prints, and yields a
`Farm`: the `Load` to give every contender, and the simulator pids (to measure their
CPU). The processes are stopped (SIGTERM, then SIGKILL) when the block exits.

    with start_farm("modbus", 500, 30, Path("/tmp/farm")) as farm:
        farm.load.dump(Path("/tmp/farm/load.json"))

Smoke test: start a farm, read every machine once, then measure the farm's CPU for
10 s while a client reads (Modbus) or subscribes to (OPC UA) every machine:

    .venv/bin/python -m bench.sims modbus 500 30
    .venv/bin/python -m bench.sims opcua 100 50
"""

from __future__ import annotations

import argparse
import asyncio
import math
import random
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from bench.endpoints import LIVE_TAGS, Load, Machine, register_count
from bench.procstat import cpu_seconds

__all__ = ["Farm", "opcua_nodes", "start_farm"]

REPO_ROOT = Path(__file__).resolve().parents[1]
HOST = "127.0.0.1"
NAMESPACE_URI = "urn:oee-edge:simulator"
# Machines per simulator process, far from saturation (docs/simulator.md, "Load
# tests"): 200 Modbus machines read once a second cost ~4 % of a core and fit one port
# (247 unit ids); 50 OPC UA machines × 50 subscribed variables ~8 %.
PER_PROCESS = {"modbus": 200, "opcua": 50}
UNITS_PER_PORT = 247  # Modbus unit ids 1..247
MAX_EXTRA = 84  # the simulator's extra_tags limit (registers 16..99)
# The simulator's machine variables (docs/simulator.md, "Node tree"), in browse order.
LIVE_NODES: tuple[str, ...] = (
    "State",
    "Reason",
    "Running",
    "Fault",
    "Product",
    "Counters.Total",
    "Counters.Good",
    "Counters.Reject",
    "Counters.Total16",
    "Counters.Reject16",
    "Speed",
    "Temperature",
)
START_TIMEOUT_S = 120.0  # asyncua builds ~50 nodes per machine at start: seconds
READY_LINE = "serving; Ctrl-C to stop"
_MODBUS_LINE = re.compile(r"^\s+modbus tcp (\S+):(\d+) unit (\d+)\s+(\S+) \(")
_OPCUA_URL_LINE = re.compile(r"^\s+opc ua\s+(opc\.tcp://\S+)\s")
_OPCUA_NS_LINE = re.compile(r"^\s+opc ua\s+namespace (\d+) = (\S+)$")


@dataclass(frozen=True)
class Farm:
    """A running farm: what to poll (`load`) and the simulator processes' pids."""

    load: Load
    pids: list[int]


def live_count(protocol: str) -> int:
    """Tags every machine has before its extras: 11 Modbus tags, 12 OPC UA variables."""
    if protocol == "modbus":
        return len(LIVE_TAGS)
    if protocol == "opcua":
        return len(LIVE_NODES)
    raise ValueError(f"protocol must be modbus or opcua (got {protocol!r})")


def opcua_nodes(machine_id: str, tags: int) -> tuple[str, ...]:
    """String node ids of one machine's `tags` variables: the 12 live ones, then the
    extras ``<id>.Extra.X00``…"""
    extra = tags - len(LIVE_NODES)
    live = tuple(f"{machine_id}.{path}" for path in LIVE_NODES)
    return live + tuple(f"{machine_id}.Extra.X{i:02d}" for i in range(extra))


@contextmanager
def start_farm(
    protocol: str,
    machines: int,
    tags: int,
    workdir: Path,
    processes: int | None = None,
    *,
    interval_s: float = 1.0,
    seed: int = 6,
) -> Iterator[Farm]:
    """Serve `machines` simulated machines (ids m001…) of `tags` tags each over
    `protocol` ("modbus" | "opcua") from `processes` simulator processes (default:
    enough for 200 Modbus / 50 OPC UA machines each); yields the running `Farm`.

    Scenario files and process logs go to `workdir`. Raises ValueError for a bad
    request, RuntimeError (with the log) if a simulator does not start.
    """
    live = live_count(protocol)
    extra = tags - live
    if not 0 <= extra <= MAX_EXTRA:
        raise ValueError(f"{protocol}: tags must be {live}..{live + MAX_EXTRA} (got {tags})")
    if machines < 1:
        raise ValueError(f"machines must be >= 1 (got {machines})")
    count = processes or math.ceil(machines / PER_PROCESS[protocol])
    workdir.mkdir(parents=True, exist_ok=True)
    ids = machine_ids(machines)
    started: list[subprocess.Popen[bytes]] = []
    try:
        for k, chunk in enumerate(split(ids, count)):
            scenario = write_scenario(workdir / f"farm-{protocol}-{k}.yaml", chunk, extra, seed + k)
            started.append(_launch(protocol, scenario, _log_path(workdir, protocol, k)))
        # All start at once (OPC UA takes seconds to build its nodes); then wait for each.
        summaries = [
            _wait_serving(proc, _log_path(workdir, protocol, k)) for k, proc in enumerate(started)
        ]
        found = [m for summary in summaries for m in _machines(protocol, summary, tags)]
        yield Farm(Load(protocol, interval_s, tags, tuple(found)), [p.pid for p in started])
    finally:
        for proc in started:
            stop(proc)


def machine_ids(machines: int) -> list[str]:
    """m001, m002, … (wider when there are more than 999)."""
    width = max(3, len(str(machines)))
    return [f"m{n:0{width}d}" for n in range(1, machines + 1)]


def split(items: Sequence[str], parts: int) -> list[list[str]]:
    """`items` in `parts` consecutive chunks whose sizes differ by at most one."""
    parts = max(1, min(parts, len(items)))
    size, rest = divmod(len(items), parts)
    chunks, start = [], 0
    for k in range(parts):
        end = start + size + (1 if k < rest else 0)
        chunks.append(list(items[start:end]))
        start = end
    return chunks


def write_scenario(path: Path, ids: Sequence[str], extra_tags: int, seed: int) -> Path:
    """One simulator's scenario: `ids` in random mode, 247 unit ids per port (the
    first port is ``--port``'s, further ones are free ports found now)."""
    rng = random.Random(f"farm:{seed}")
    ports: dict[int, int] = {}
    machines = []
    for n, machine_id in enumerate(ids):
        group, unit = divmod(n, UNITS_PER_PORT)
        entry = machine_params(rng, machine_id, unit + 1, 100 + n % 900, extra_tags)
        if group:
            # Only the scenario port can be chosen by the server (--port 0); a
            # further one has to be picked here (a small race, fine for a bench).
            entry["port"] = ports.setdefault(group, free_port())
        machines.append(entry)
    scenario = {"name": path.stem, "seed": seed, "time_scale": 1, "host": HOST, "port": 0}
    scenario["machines"] = machines
    path.write_text(yaml.safe_dump(scenario, sort_keys=False), encoding="utf-8")
    return path


def machine_params(
    rng: random.Random, machine_id: str, unit: int, product: int, extra_tags: int
) -> dict[str, Any]:
    """A lively random-mode machine (like the bundled demo): running stops every
    ~10-60 s (micro stops, faults, setups) and a break every 30 min."""
    return {
        "id": machine_id,
        "unit_id": unit,
        "cycle_s": rng.choice([1.0, 1.5, 2.0, 2.5, 3.0]),
        "reject_rate": round(rng.uniform(0.005, 0.04), 3),
        "product": product,
        "products": [product, product + 1000],
        "micro_stop_every_s": round(rng.uniform(15, 60), 1),
        "micro_stop_s": round(rng.uniform(3, 10), 1),
        "idle_reason": 10,
        "mtbf_s": round(rng.uniform(120, 600), 1),
        "mttr_s": round(rng.uniform(10, 60), 1),
        "fault_reasons": [11, 12, 13, 14],
        "setup_every_parts": rng.randint(100, 300),
        "setup_s": 60,
        "setup_reason": 20,
        "break_every_s": 1800,
        "break_s": 120,
        "break_reason": 30,
        "temp_base": round(rng.uniform(30, 60), 1),
        "extra_tags": extra_tags,
    }


def free_port() -> int:
    """A TCP port free on the loopback interface right now."""
    with socket.socket() as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


def _log_path(workdir: Path, protocol: str, k: int) -> Path:
    return workdir / f"farm-{protocol}-{k}.log"


def _launch(protocol: str, scenario: Path, log_path: Path) -> subprocess.Popen[bytes]:
    cmd = [sys.executable, "-m", "simulators", str(scenario), "--protocol", protocol]
    cmd += ["--port", "0"]
    if protocol == "opcua":
        # Security None needs no certificate, but keep any PKI out of the home folder.
        cmd += ["--opcua-port", "0", "--opcua-pki", str(log_path.parent / "pki")]
    with log_path.open("wb") as log:
        return subprocess.Popen(cmd, cwd=REPO_ROOT, stdout=log, stderr=subprocess.STDOUT)


def _wait_serving(proc: subprocess.Popen[bytes], log_path: Path) -> list[str]:
    """The summary lines, once the process prints that it serves (it has bound every
    port by then); RuntimeError with its output if it exits or takes too long."""
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        lines = log_path.read_text(encoding="utf-8", errors="replace").splitlines()
        if READY_LINE in lines:
            return lines
        if proc.poll() is not None:
            break
        time.sleep(0.1)
    output = log_path.read_text(encoding="utf-8", errors="replace")
    raise RuntimeError(f"simulator {proc.args!r} did not start (exit {proc.poll()}):\n{output}")


def _machines(protocol: str, summary: list[str], tags: int) -> list[Machine]:
    if protocol == "modbus":
        registers = register_count(tags)
        return [
            Machine(m[4], m[1], port=int(m[2]), unit=int(m[3]), registers=registers)
            for m in map(_MODBUS_LINE.match, summary)
            if m
        ]
    url = next(m[1] for m in map(_OPCUA_URL_LINE.match, summary) if m)
    namespace = next(m[2] for m in map(_OPCUA_NS_LINE.match, summary) if m)
    # The URL line lists the ids: "opc.tcp://…/oee-edge/sim  m001 m002 … (random)".
    line = next(s for s in summary if url in s)
    ids = line.split(url, 1)[1].rsplit("(", 1)[0].split()
    return [
        Machine(mid, HOST, opcua_url=url, opcua_ns=namespace, nodes=opcua_nodes(mid, tags))
        for mid in ids
    ]


def stop(proc: subprocess.Popen[bytes], timeout_s: float = 5.0) -> None:
    """SIGTERM, then SIGKILL after `timeout_s`; always reaped."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)


# -- smoke test ------------------------------------------------------------------------


async def _read_modbus(load: Load) -> dict[str, list[int] | str]:
    """Holding registers 0..registers-1 of every machine, one read each."""
    from pymodbus.client import AsyncModbusTcpClient

    clients: dict[tuple[str, int], AsyncModbusTcpClient] = {}
    got: dict[str, list[int] | str] = {}
    try:
        for m in load.machines:
            key = (m.host, m.port)
            if key not in clients:
                clients[key] = AsyncModbusTcpClient(m.host, port=m.port, timeout=5)
                await clients[key].connect()
            rr = await clients[key].read_holding_registers(0, count=m.registers, device_id=m.unit)
            got[m.id] = str(rr) if rr.isError() else list(rr.registers)
    finally:
        for client in clients.values():
            client.close()
    return got


async def _poll_modbus(load: Load, seconds: float) -> int:
    """Read every machine once per `load.interval_s` for `seconds`: reads done."""
    from pymodbus.client import AsyncModbusTcpClient

    by_port: dict[tuple[str, int], list[Machine]] = {}
    for m in load.machines:
        by_port.setdefault((m.host, m.port), []).append(m)

    async def port_loop(host: str, port: int, machines: list[Machine]) -> int:
        client = AsyncModbusTcpClient(host, port=port, timeout=5)
        await client.connect()
        done, end = 0, time.monotonic() + seconds
        try:
            while time.monotonic() < end:
                tick = time.monotonic()
                for m in machines:
                    rr = await client.read_holding_registers(0, count=m.registers, device_id=m.unit)
                    done += not rr.isError()
                await asyncio.sleep(max(0.0, load.interval_s - (time.monotonic() - tick)))
        finally:
            client.close()
        return done

    counts = await asyncio.gather(*(port_loop(h, p, ms) for (h, p), ms in by_port.items()))
    return sum(counts)


async def _subscribe_opcua(
    load: Load, seconds: float, subscribed: Callable[[], None]
) -> tuple[dict[str, object], int]:
    """Subscribe to every node (publishing interval `load.interval_s`), call
    `subscribed()` once all subscriptions exist, then listen for `seconds`: the first
    value of each node and the number of notifications."""
    from asyncua import Client, ua
    from asyncua.common.subscription import DataChangeEvent

    first: dict[str, object] = {}
    count = 0
    by_url: dict[str, list[Machine]] = {}
    for m in load.machines:
        by_url.setdefault(m.opcua_url, []).append(m)
    ready = asyncio.Barrier(len(by_url) + 1)
    start = asyncio.Event()

    async def one_server(url: str, machines: list[Machine]) -> None:
        nonlocal count
        async with Client(url, timeout=30) as client:
            idx = await client.get_namespace_index(machines[0].opcua_ns)
            nodes = [client.get_node(f"ns={idx};s={n}") for m in machines for n in m.nodes]
            period = ua.Double(load.interval_s * 1000)
            sub = await client.create_subscription(period, queue_maxsize=10**6)
            # Queue size 1: the latest value per publish. asyncua's server turns 0 (the
            # spec's "1") into 10,000 and would send every 50 ms Temperature update.
            await sub.subscribe_data_change(nodes, queuesize=1, sampling_interval=period)
            await ready.wait()
            await start.wait()
            end = time.monotonic() + seconds
            while (left := end - time.monotonic()) > 0:
                event = await sub.next_event(timeout=left)
                if isinstance(event, DataChangeEvent):
                    count += 1
                    first.setdefault(str(event.node.nodeid.Identifier), event.value)
            await sub.delete()

    async def starter() -> None:
        await ready.wait()
        subscribed()
        start.set()

    await asyncio.gather(starter(), *(one_server(url, ms) for url, ms in by_url.items()))
    return first, count


def _cpu(pids: list[int]) -> list[float]:
    return [cpu_seconds(pid) for pid in pids]


def _report_cpu(pids: list[int], before: list[float], seconds: float) -> None:
    after = _cpu(pids)
    shares = [(b - a) / seconds * 100 for a, b in zip(before, after, strict=True)]
    for pid, share in zip(pids, shares, strict=True):
        print(f"  pid {pid}: {share:.1f} % of a core")
    print(f"  farm: {sum(shares):.1f} % of a core over {seconds:g} s")


def _smoke_modbus(farm: Farm, seconds: float) -> list[float]:
    """Read every machine once and show some; then poll: the CPU counters at the start."""
    load = farm.load
    got = asyncio.run(_read_modbus(load))
    bad = {k: v for k, v in got.items() if isinstance(v, str)}
    print(f"  read {len(got) - len(bad)} machines ok, {len(bad)} errors")
    for machine_id, error in list(bad.items())[:3]:
        print(f"  {machine_id}: {error}")
    for m in load.machines[:3]:
        print(f"  {m.id} {m.host}:{m.port} unit {m.unit}: {got[m.id]}")
    before = _cpu(farm.pids)
    reads = asyncio.run(_poll_modbus(load, seconds))
    print(f"  polled: {reads} reads in {seconds:g} s")
    return before


def _smoke_opcua(farm: Farm, seconds: float) -> list[float]:
    """Subscribe to every node and show the first machine's first values: the CPU
    counters once the subscriptions exist."""
    before: list[float] = []

    def subscribed() -> None:
        before.extend(_cpu(farm.pids))

    first, count = asyncio.run(_subscribe_opcua(farm.load, seconds, subscribed))
    print(f"  subscribed: {len(first)} nodes, {count} notifications in {seconds:g} s")
    for node in farm.load.machines[0].nodes[:14]:
        print(f"  {node} = {first.get(node)!r}")
    return before


def _smoke(protocol: str, machines: int, tags: int, processes: int | None, seconds: float) -> None:
    with (
        tempfile.TemporaryDirectory(prefix="oee-farm-") as tmp,
        start_farm(protocol, machines, tags, Path(tmp), processes) as farm,
    ):
        load = farm.load
        endpoints = sorted({(m.opcua_url or f"{m.host}:{m.port}") for m in load.machines})
        print(
            f"{protocol}: {len(load.machines)} machines x {tags} tags, {len(farm.pids)} processes"
        )
        print(f"  endpoints: {', '.join(endpoints)}")
        smoke = _smoke_modbus if protocol == "modbus" else _smoke_opcua
        before = smoke(farm, seconds)
        _report_cpu(farm.pids, before, seconds)


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m bench.sims PROTOCOL MACHINES TAGS [--processes N] [--seconds S]``."""
    parser = argparse.ArgumentParser(
        prog="python -m bench.sims", description="Start a simulator farm and measure it."
    )
    parser.add_argument("protocol", choices=["modbus", "opcua"])
    parser.add_argument("machines", type=int)
    parser.add_argument("tags", type=int)
    parser.add_argument("--processes", type=int, default=None)
    parser.add_argument("--seconds", type=float, default=10.0, help="CPU measurement time")
    args = parser.parse_args(argv)
    _smoke(args.protocol, args.machines, args.tags, args.processes, args.seconds)
    return 0


if __name__ == "__main__":
    sys.exit(main())
