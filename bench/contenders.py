"""The contenders of the load benchmark, each started as its own process against the
same simulators and broker: the gateway (`oee-edge run`), Node-RED with
node-red-contrib-modbus, and the bare pymodbus / asyncua read loops (the floor)."""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import re
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.endpoints import Load
from bench.gateway_config import write_config
from bench.sims import stop
from edge.pipeline.components import poll_slots
from tests.fixtures.ports import free_port

__all__ = ["CONTENDERS", "Running", "Setting"]

ROOT = Path(__file__).resolve().parent.parent
TOPIC_ROOT = "bench-nr"  # Node-RED's topics: {root}/{machine}/tags


@dataclass(frozen=True)
class Setting:
    """What every contender is given."""

    load: Load
    load_file: Path
    mqtt_port: int
    workdir: Path
    influx_url: str | None = None
    aligned: bool = False  # the gateway polls every machine at once (default: spread)
    # Other builds (`--build NAME=CHECKOUT`): contender NAME runs CHECKOUT's gateway, for
    # an A/B of builds against the same farm in the same run.
    builds: dict[str, Path] = field(default_factory=dict)


@dataclass
class Running:
    """A started contender: its process id, and a function giving extra figures."""

    pid: int
    extra: Callable[[], dict[str, Any]] = field(default=lambda: {})


def _log_tail(path: Path, n: int = 30) -> str:
    lines = path.read_text(errors="replace").splitlines() if path.exists() else []
    return "\n".join(lines[-n:])


def contender(name: str, s: Setting) -> contextlib.AbstractContextManager[Running]:
    """The contender `name`: one of CONTENDERS, or a build given with `--build`."""
    if name in s.builds:
        return gateway(s, build=name)
    return CONTENDERS[name](s)


@contextlib.contextmanager
def gateway(s: Setting, build: str | None = None) -> Iterator[Running]:
    """`oee-edge run` of this checkout, or of the checkout `s.builds[build]`."""
    # Each build its own data directory: another checkout may have another schema.
    data = s.workdir / ("gateway-data" if build is None else f"gateway-data-{build}")
    exe = Path(sys.executable).with_name("oee-edge")
    if build is not None:
        exe = s.builds[build].resolve() / ".venv" / "bin" / "oee-edge"
    api_port = free_port()
    cfg = write_config(
        s.load, s.workdir / "gateway.yaml",
        data_dir=data, mqtt_port=s.mqtt_port, api_port=api_port, influx_url=s.influx_url,
        aligned=s.aligned,
    )  # fmt: skip
    log = s.workdir / "gateway.log"
    with log.open("ab") as out:
        proc = subprocess.Popen(
            [str(exe), "run", "-c", str(cfg)],
            stdout=out, stderr=subprocess.STDOUT, cwd=ROOT,
        )  # fmt: skip
    metrics = f"http://127.0.0.1:{api_port}/metrics"
    try:
        _wait_http(metrics, proc, log)
        yield Running(proc.pid, lambda: _gateway_figures(metrics))
    finally:
        stop(proc, 15.0)


def _wait_http(url: str, proc: subprocess.Popen[bytes], log: Path, within_s: float = 60) -> None:
    deadline = time.monotonic() + within_s
    while True:
        if proc.poll() is not None:
            raise RuntimeError(f"the gateway exited ({proc.returncode}):\n{_log_tail(log)}")
        with contextlib.suppress(OSError), urllib.request.urlopen(url, timeout=2):
            return
        if time.monotonic() > deadline:
            raise RuntimeError(f"the gateway did not answer {url}:\n{_log_tail(log)}")
        time.sleep(0.2)


_METRIC = re.compile(r"^(oee_edge_outbox_records)\{[^}]*\}\s+(\S+)$", re.M)


def _gateway_figures(metrics_url: str) -> dict[str, float]:
    """The outbox depth (records waiting for any sink) from /metrics."""
    with urllib.request.urlopen(metrics_url, timeout=5) as r:
        text = r.read().decode()
    return {"outbox_records": sum(float(v) for _, v in _METRIC.findall(text))}


@contextlib.contextmanager
def nodered(s: Setting) -> Iterator[Running]:
    from bench.nodered import NodeRed

    workdir = s.workdir / "nodered"
    workdir.mkdir(exist_ok=True)
    with NodeRed(s.load, "127.0.0.1", s.mqtt_port, TOPIC_ROOT, workdir) as nr:
        yield Running(nr.pid)


@contextlib.contextmanager
def bare(s: Setting, slots: int | None = None) -> Iterator[Running]:
    module = "bench.bare_modbus" if s.load.protocol == "modbus" else "bench.bare_opcua"
    stats = s.workdir / "bare-stats.json"
    stats.unlink(missing_ok=True)
    log = s.workdir / "bare.log"
    extra = ["--slots", str(slots)] if slots else []
    with log.open("ab") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", module, str(s.load_file), "--stats", str(stats), *extra],
            stdout=out, stderr=subprocess.STDOUT, cwd=ROOT,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
        )  # fmt: skip
    try:
        time.sleep(1.0)
        if proc.poll() is not None:
            raise RuntimeError(f"{module} exited ({proc.returncode}):\n{_log_tail(log)}")
        yield Running(proc.pid, lambda: _bare_figures(stats))
    finally:
        stop(proc, 15.0)


def _bare_figures(stats: Path) -> dict[str, Any]:
    with contextlib.suppress(OSError, ValueError):
        raw = json.loads(stats.read_text())
        figures: dict[str, Any] = {k: float(raw[k]) for k in ("requests", "values", "elapsed_s")}
        buckets = raw.get("answer_buckets", {})
        figures["answer_buckets"] = {int(k): int(v) for k, v in buckets.items()}
        return figures
    return {}


@contextlib.contextmanager
def bare_slots(s: Setting) -> Iterator[Running]:
    """The bare loop polling in the gateway's slots (a burst of machines at once)."""
    with bare(s, slots=poll_slots(len(s.load.machines))) as running:
        yield running


@contextlib.contextmanager
def gateway_aligned(s: Setting) -> Iterator[Running]:
    with gateway(dataclasses.replace(s, aligned=True)) as running:
        yield running


CONTENDERS: dict[str, Callable[[Setting], contextlib.AbstractContextManager[Running]]] = {
    "gateway": gateway,
    "gateway-aligned": gateway_aligned,
    "nodered": nodered,
    "bare": bare,
    "bare-slots": bare_slots,
}
