"""Shared bits of the MQTT sink tests: events, a config, a gateway subprocess to SIGKILL,
and reading counts back from what a subscriber received."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from connectors.mqtt.sink import MqttSink
from core.interfaces import RecordQueue
from core.types import CountDelta, MachineRef, MachineState, OeeUpdate, StateChange
from edge.config import MqttConfig
from edge.outbox import Journal

T0 = datetime(2026, 11, 25, 10, 0, 0, 250000, tzinfo=UTC)
ROOT = Path(__file__).resolve().parents[3]
CYCLE = [MachineState.RUNNING, MachineState.IDLE, MachineState.FAULT, MachineState.SETUP]


def unique_site() -> str:
    """A site id of its own per test: the session broker keeps retained messages."""
    return f"s{uuid.uuid4().hex[:10]}"


def ref(site: str, machine: str = "m1") -> MachineRef:
    return MachineRef(site, "area1", "line1", machine)


def make_sink(
    port: int,
    site: str,
    machines: tuple[str, ...] = ("m1",),
    *,
    outbox: RecordQueue,
    qos: int = 1,
    **kw: object,
) -> MqttSink:
    cfg = MqttConfig(host="127.0.0.1", port=port, qos=qos)  # type: ignore[arg-type]
    refs = {m: ref(site, m) for m in machines}
    kw.setdefault("reconnect_min_s", 0.1)
    kw.setdefault("reconnect_max_s", 0.2)
    return MqttSink(cfg, "gw1", site, refs, journal=Journal(outbox), **kw)  # type: ignore[arg-type]


def changes(n: int, machine: str = "m1", first_seq: int = 1) -> list[StateChange]:
    """`n` state changes, one every 10 s, seq from `first_seq`."""
    out = []
    for i in range(n):
        seq = first_seq + i
        out.append(
            StateChange(
                machine=machine,
                state=CYCLE[seq % 4],
                previous=CYCLE[(seq - 1) % 4],
                ts=T0 + timedelta(seconds=10 * seq),
                since_previous=T0 + timedelta(seconds=10 * (seq - 1)),
                duration_s=10.0,
                seq=seq,
            )
        )
    return out


def count(machine: str = "m1", total: int = 5) -> CountDelta:
    return CountDelta(machine, T0, total=total, good=total - 1, reject=1, product="A")


def numbered(n: int, machine: str = "m1", first: int = 0) -> list[CountDelta]:
    """`n` count events whose `total` numbers them `first`, `first + 1`, … (a stream a
    subscriber can check for gaps and copies; see `totals`)."""
    return [
        CountDelta(machine, T0 + timedelta(seconds=i), total=i, good=i, reject=0, product="A")
        for i in range(first, first + n)
    ]


def totals(payloads: object) -> list[int]:
    """The `total` of each `…/count` payload, in order."""
    return [json.loads(p)["total"] for p in payloads]  # type: ignore[attr-defined]


def oee(machine: str = "m1", window: str = "15m") -> OeeUpdate:
    return OeeUpdate(
        machine, window, T0, availability=0.5, performance=1.0, quality=0.75, oee=0.375,
        run_s=450.0, planned_s=900.0, unknown_s=0.0, window_s=900.0, total=4, good=3, reject=1,
    )  # fmt: skip


async def wait_until(pred: object, within: float = 5.0) -> None:
    """Poll `pred()` (a callable) until true, without blocking the event loop."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while not pred():  # type: ignore[operator]
        if loop.time() > deadline:
            raise AssertionError(f"condition not met within {within} s")
        await asyncio.sleep(0.01)


GATEWAY = """
import asyncio, sys
from datetime import UTC, datetime
from pathlib import Path
from connectors.mqtt.sink import MqttSink
from core.types import CountDelta, MachineRef
from edge.config import MqttConfig
from edge.outbox import Journal, Outbox

async def main() -> None:
    port, site, path, n = int(sys.argv[1]), sys.argv[2], Path(sys.argv[3]), int(sys.argv[4])
    cfg = MqttConfig(host="127.0.0.1", port=port)
    machines = {"m1": MachineRef(site, "area1", "line1", "m1")}
    with Outbox(path, max_bytes=64 * 1024 * 1024) as box:
        async with MqttSink(cfg, "gw1", site, machines, journal=Journal(box)) as sink:
            while not sink.connected:
                await asyncio.sleep(0.01)
            print("connected", flush=True)
            ts = datetime(2026, 11, 25, 10, tzinfo=UTC)
            # Committed before `handle` returns: all of them survive a SIGKILL from here on.
            await sink.handle([CountDelta("m1", ts, i, i, 0, "A") for i in range(n)])
            print("handled", flush=True)
            await asyncio.sleep(60)

asyncio.run(main())
"""


async def spawn_gateway(
    port: int, site: str, outbox: Path, events: int = 0
) -> asyncio.subprocess.Process:
    """A separate process running a connected MqttSink (to be killed with SIGKILL) on the
    outbox file `outbox`; once connected it handles `events` count events (`total` 0, 1,
    …) and prints `handled`."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-c", GATEWAY, str(port), site, str(outbox), str(events),
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    assert proc.stdout is not None
    line = await asyncio.wait_for(proc.stdout.readline(), 10)
    if line != b"connected\n":
        proc.kill()
        err = await proc.stderr.read() if proc.stderr else b""
        raise AssertionError(f"gateway did not connect: {line!r} {err.decode()}")
    return proc
