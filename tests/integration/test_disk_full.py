"""Issue 5, zero data loss: the gateway's disk fills up under it, then is freed again.

Real processes on loopback ports: `oee-edge run` against the Modbus simulator
(disk_full_scenario.yaml, at 60x), Mosquitto and influxd (a fresh database, so there is
no local SQLite store: the outbox is the only file the gateway writes).

The disk is "full" for the gateway alone, without root: it runs with a small soft
RLIMIT_FSIZE. CPython ignores SIGXFSZ, so a write past the limit fails with EFBIG, which
SQLite reports as "disk I/O error" (its unixWrite maps every errno but ENOSPC to
SQLITE_IOERR_WRITE; a real full disk, ENOSPC, reads "database or disk is full"). Raising
the running process's limit with prlimit(2), allowed for a process of the same uid within
its hard limit, frees the disk.

Why 1 MiB is reached, and stays reached: in WAL mode every commit, the pipeline's records
and the sinks' acks alike, appends pages to `outbox.sqlite-wal`, and SQLite starts that
file over only after a checkpoint, which it runs by itself once the WAL holds 1000 pages
(~4 MiB). Measured: ~0.25 MB of WAL once both machines are read and idle, then ~1.5 MB/s
while they make parts (a commit per machine per 50 ms poll, plus the acks). So the limit
is hit ~0.5 s into the running phase whether or not the sinks drain (no need to stop the
broker or influxd), and no commit gets through until it is raised: below 1000 pages
there is no checkpoint to make room.
"""

from __future__ import annotations

import json
import re
import resource
import sqlite3
import string
import subprocess
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest

from simulators.scenario import Scenario, load_scenario
from tests.fixtures.gateway_process import OEE_EDGE, REPO_ROOT, SimulatorProcess
from tests.fixtures.influx import InfluxServer
from tests.fixtures.mosquitto import MosquittoBroker, MqttCollector
from tests.fixtures.ports import free_port
from tests.integration.gateway import modbus_machines

SCENARIO = Path(__file__).with_name("disk_full_scenario.yaml")
MACHINES = ("m1", "m2")
SINKS = ("mqtt", "influxdb")
PRIORITIES = ("tags", "oee", "events")
LINE = "diskfull"
# Wall seconds since the simulator's epoch (see the scenario).
IDLE_UNTIL_S = 3.0  # the first part
RUNNING_UNTIL_S = 10.0  # the last part; then both machines stop for good
OUTAGE_BY_S = 5.5  # the limit must have been hit by then (measured: ~3.7)
FREE_AT_S = 6.5  # the disk is freed: 3.5 s of parts are made after it
RECOVERY_S = 3.0  # the held records are committed within this once the disk is free
FSIZE_LIMIT = 1 << 20  # bytes; see the module docstring

# A string.Template. Ideal cycle times are the scenario's cycles in wall seconds (60x); m2
# reads the 16-bit counter copies, which wrap 236 parts in. No OEE ticks
# (publish_interval_s 60): once the machines have stopped nothing more is committed, so
# the outbox figures settle exactly.
CONFIG = """
gateway: {id: gw-diskfull, data_dir: "$data_dir", log_level: INFO}
site: plant
area: area1
line: $line
api: {port: $api_port}
oee: {windows: [1h], publish_interval_s: 60}
mqtt: {port: $mqtt_port}
influxdb: {url: "$influx_url", api: v1, database: $database, flush_interval_s: 0.2}
machines:""" + modbus_machines(
    "$modbus_port", {"m1": 0.0333333333, "m2": 0.0166666667}, timeout_s=0.5
)

T = TypeVar("T")
Metrics = dict[str, float]


def key(name: str, **labels: str) -> str:
    """A sample's key in `LimitedGateway.metrics()`: as the exposition writes it."""
    if not labels:
        return name
    return name + "{" + ",".join(f'{k}="{v}"' for k, v in labels.items()) + "}"


ERRORS = key("oee_edge_outbox_commit_errors_total")
HELD = key("oee_edge_outbox_held_records")
# What /metrics must expose for a gateway delivering to MQTT and InfluxDB.
DELIVERY = {"mqtt": ("published", "acked", "republished", "errors"),
            "influxdb": ("written", "retried", "quarantined", "errors")}  # fmt: skip
EXPOSED = [
    ERRORS,
    HELD,
    key("oee_edge_outbox_appended_total"),
    key("oee_edge_outbox_acked_total"),
    key("oee_edge_sink_handle_errors_total"),
    *(key(f"oee_edge_sink_{n}_total", sink=s) for s, names in DELIVERY.items() for n in names),
    *(key("oee_edge_sink_connected", sink=s) for s in SINKS),
    *(key(f"oee_edge_outbox_{g}", sink=s)
      for g in ("records", "bytes", "oldest_age_seconds") for s in SINKS),
    *(key(f"oee_edge_outbox_{n}_total", priority=p)
      for n in ("dropped", "refused", "evicted") for p in PRIORITIES),
]  # fmt: skip


class LimitedGateway:
    """`oee-edge run -c CONFIG` whose regular files may not grow past `fsize` bytes.

    Its output goes through a pipe, which RLIMIT_FSIZE does not cover (a log file would
    hit the limit too); a thread copies it to `log` and keeps the lines for `grep`."""

    def __init__(self, config: Path, log: Path, api_port: int, fsize: int) -> None:
        self.log, self.api = log, f"http://127.0.0.1:{api_port}"
        self._lines: list[str] = []
        self._lock = threading.Lock()

        def limit() -> None:  # in the child, between fork and exec
            resource.setrlimit(resource.RLIMIT_FSIZE, (fsize, resource.RLIM_INFINITY))

        self.proc = subprocess.Popen(
            [OEE_EDGE, "run", "-c", str(config)], cwd=REPO_ROOT, preexec_fn=limit,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )  # fmt: skip
        self._reader = threading.Thread(target=self._copy, name="gateway-log", daemon=True)
        self._reader.start()

    def _copy(self) -> None:
        assert self.proc.stdout is not None
        with self.log.open("w") as out:
            for line in self.proc.stdout:
                out.write(line)
                out.flush()
                with self._lock:
                    self._lines.append(line.rstrip("\n"))

    def free_disk(self) -> None:
        """Lift the file size limit of the running process."""
        unlimited = (resource.RLIM_INFINITY, resource.RLIM_INFINITY)
        resource.prlimit(self.proc.pid, resource.RLIMIT_FSIZE, unlimited)

    def grep(self, pattern: str) -> list[str]:
        with self._lock:
            return [line for line in self._lines if re.search(pattern, line)]

    def tail(self, n: int = 60) -> str:
        with self._lock:
            return "\n".join(self._lines[-n:])

    def get(self, path: str) -> httpx.Response:
        """GET from the API; fails the test with the log if the gateway has exited."""
        if self.proc.poll() is not None:
            self._reader.join(5)
            pytest.fail(f"the gateway exited with {self.proc.returncode}:\n{self.tail()}")
        r = httpx.get(self.api + path, timeout=5.0)
        r.raise_for_status()
        return r

    def api_up(self) -> bool:
        try:
            self.get("/health")
        except httpx.HTTPError:
            return False
        return True

    def metrics(self) -> Metrics:
        """/metrics as {key(name, **labels): value}."""
        out = {}
        for line in self.get("/metrics").text.splitlines():
            if line and not line.startswith("#"):
                name, _, value = line.rpartition(" ")
                out[name] = float(value)
        return out

    def machines(self) -> dict[str, dict[str, Any]]:
        return {m["id"]: m for m in self.get("/api/v1/machines").json()}

    def states(self) -> list[str | None]:
        return [m["state"] for m in self.machines().values()]

    def stop(self) -> int | None:
        """SIGTERM; the exit code (None if it had to be killed after 30 s)."""
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
                return None
        self._reader.join(5)
        return self.proc.returncode


def wait_for(gw: LimitedGateway, what: str, within_s: float, probe: Callable[[], T | None]) -> T:
    """Poll `probe` until it returns something truthy; fail with the gateway's log."""
    deadline = time.monotonic() + within_s
    while True:
        got = probe()
        if got:
            return got
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {within_s:.1f} s waiting for {what}:\n{gw.tail()}")
        time.sleep(0.05)


def made(scenario: Scenario, machine: str, at_s: float) -> tuple[int, int]:
    """(parts, rejects) the simulated machine had made `at_s` wall seconds into the run."""
    model = scenario.model(machine)
    model.advance_to(at_s * scenario.time_scale)
    snap = model.snapshot()
    return snap.parts, snap.rejects


def mqtt_counts(sub: MqttCollector) -> dict[str, list[dict[str, Any]]]:
    """The `…/count` payloads received so far, per machine, in arrival order."""
    out: dict[str, list[dict[str, Any]]] = {m: [] for m in MACHINES}
    for msg in list(sub.messages):
        payload = json.loads(msg.payload)
        out[payload["machine"]].append(payload)
    return out


def mqtt_sums(sub: MqttCollector) -> dict[str, tuple[int, int]]:
    """Per machine: the sums of the count messages' `total` and `reject`."""
    return {
        m: (sum(c["total"] for c in cs), sum(c["reject"] for c in cs))
        for m, cs in mqtt_counts(sub).items()
    }


def influx_production(influxd: InfluxServer, database: str) -> dict[str, tuple[int, int, int]]:
    """Per machine: the sums of `production` total and reject, and its number of points."""
    where = f"\"line\" = '{LINE}'"
    q = f'SELECT SUM("total"), SUM("reject"), COUNT("total") FROM "production" WHERE {where}'
    rows = influxd.query(q + ' GROUP BY "machine"', db=database)
    return {r["machine"]: (r["sum"], r["sum_1"], r["count"]) for r in rows}


def test_full_disk_holds_records_in_memory_and_delivers_them_once_freed(
    mosquitto: MosquittoBroker, influxd: InfluxServer, tmp_path: Path
) -> None:
    scenario = load_scenario(SCENARIO)
    database = influxd.new_database("diskfull")
    modbus_port, api_port = free_port(), free_port()
    data_dir = tmp_path / "data"
    config = tmp_path / "gateway.yaml"
    config.write_text(
        string.Template(CONFIG).substitute(
            data_dir=data_dir, line=LINE, api_port=api_port, mqtt_port=mosquitto.port,
            influx_url=influxd.url, database=database, modbus_port=modbus_port,
        )
    )  # fmt: skip
    # Spawned before the subscriber's thread exists: preexec_fn runs between fork and
    # exec, which is only safe while the parent has a single thread.
    gw = LimitedGateway(config, tmp_path / "gateway.log", api_port, FSIZE_LIMIT)
    sim: SimulatorProcess | None = None
    # A persistent session at QoS 1: the broker keeps every count message for it.
    sub = MqttCollector(
        mosquitto.host, mosquitto.port, [f"oee/plant/area1/{LINE}/+/count"],
        client_id=f"disk-full-{api_port}", clean_session=False, qos=1,
    )  # fmt: skip
    try:
        sub.start()
        wait_for(gw, "the API", 20, gw.api_up)
        # The gateway is up before the PLC (its machines are offline): sim time 0 is now.
        epoch = time.time()
        sim = SimulatorProcess(SCENARIO, modbus_port, epoch, tmp_path / "sim.log")
        sim.start()
        wait_for(gw, "both machines read", 5, lambda: gw.states() == ["idle", "idle"])
        read_s = time.time() - epoch
        # The counter baselines were read before the first part: the gateway must count
        # everything the machines make.
        assert read_s < IDLE_UNTIL_S, f"machines first read {read_s:.2f} s in"

        # ------------------------------------------------------------ the disk fills up
        def outage() -> Metrics | None:
            m = gw.metrics()
            return m if m[ERRORS] > 0 else None

        before = wait_for(gw, "a failed commit", OUTAGE_BY_S + 0.5 - read_s, outage)
        full_s = time.time() - epoch
        wal = data_dir / "outbox.sqlite-wal"
        assert full_s < OUTAGE_BY_S, f"the limit was hit {full_s:.2f} s in"
        assert full_s > IDLE_UNTIL_S, "the limit was hit before any part: nothing to hold"
        assert wal.stat().st_size == FSIZE_LIMIT  # the WAL is what hit the limit
        live_before = gw.machines()
        time.sleep(1.0)
        # The process keeps running and polling: counts go on in the live view, and each
        # new commit fails and is held (nothing is given up: that bound is 64 MiB).
        during = gw.metrics()
        live_during = gw.machines()
        for m in MACHINES:
            assert live_during[m]["state"] == "running"
            parts = [live[m]["counts"]["total"] for live in (live_before, live_during)]
            assert parts[1] > parts[0], (m, parts)
            requests = key("oee_edge_source_requests_total", machine=m)
            assert during[requests] >= before[requests] + 10, (m, before[requests], during)
        assert during[ERRORS] >= before[ERRORS] + 10, (before[ERRORS], during[ERRORS])
        assert during[HELD] > before[HELD] > 0, (before[HELD], during[HELD])
        for p in PRIORITIES:
            assert during[key("oee_edge_outbox_dropped_total", priority=p)] == 0

        # ------------------------------------------------------------ the disk is freed
        time.sleep(max(0.0, FREE_AT_S - (time.time() - epoch)))
        held_at_free = gw.metrics()[HELD]
        gw.free_disk()
        freed = time.monotonic()
        wait_for(gw, "the held records committed", RECOVERY_S, lambda: gw.metrics()[HELD] == 0)
        recovered_s = time.monotonic() - freed
        commit_errors = gw.metrics()[ERRORS]

        # ------------------------------------------------------------ the end of the run
        def stopped() -> bool:
            ended = time.time() - epoch > RUNNING_UNTIL_S
            return ended and gw.states() == ["planned_stop", "idle"]

        wait_for(gw, "the final stop", RUNNING_UNTIL_S + 5 - (time.time() - epoch), stopped)
        end_s = time.time() - epoch
        expected = {}
        for m in MACHINES:
            start, end = made(scenario, m, read_s), made(scenario, m, end_s)
            expected[m] = (end[0] - start[0], end[1] - start[1])
        assert expected == {"m1": (210, 42), "m2": (420, 140)}  # see the scenario
        wait_for(gw, "every count on MQTT", 10, lambda: mqtt_sums(sub) == expected)

        def in_influx() -> dict[str, tuple[int, int, int]] | None:
            got = influx_production(influxd, database)
            return got if {m: v[:2] for m, v in got.items()} == expected else None

        influx = wait_for(gw, "every count in InfluxDB", 10, in_influx)

        # Everything delivered and nothing more to commit: the metrics settle.
        def drained() -> Metrics | None:
            m = gw.metrics()
            return m if all(m[key("oee_edge_outbox_records", sink=s)] == 0 for s in SINKS) else None

        final = wait_for(gw, "the outbox drained", 10, drained)
    finally:
        code = gw.stop()
        sub.stop()
        if sim is not None:
            sim.stop()

    # MQTT: each machine's counts arrived as seq 1..N, in order: none lost, none twice.
    # InfluxDB holds one `production` point per count message, with the same sums.
    counts = mqtt_counts(sub)
    for m in MACHINES:
        seqs = [c["seq"] for c in counts[m]]
        assert seqs == list(range(1, len(seqs) + 1)), (m, seqs)
        assert influx[m] == (*expected[m], len(seqs)), (m, influx[m], len(seqs))

    # The log: the outage once at ERROR, its end once; nothing given up, nothing lost.
    # (Only the journal's lines: the InfluxDB drain logs each failed ack of the outage
    # with a traceback, ~every 0.5 s, a known fault not asserted here.)
    cannot = gw.grep(r"ERROR +edge\.journal: outbox: cannot be written")
    assert len(cannot) == 1, cannot
    assert re.search(r"cannot be written \(disk I/O error\); holding \d+ records$", cannot[0])
    assert len(gw.grep(r"INFO +edge\.journal: outbox: reconnected$")) == 1
    assert gw.grep(r"given up|are lost") == []
    assert held_at_free > during[HELD] and recovered_s < RECOVERY_S

    # /metrics once settled: every name there, exact values where the run fixes them.
    assert [k for k in EXPOSED if k not in final] == []
    assert final[ERRORS] == commit_errors > 0  # and none since the disk was freed
    assert final[HELD] == 0
    for s in SINKS:
        assert final[key("oee_edge_sink_connected", sink=s)] == 1
        for gauge in ("records", "bytes", "oldest_age_seconds"):
            assert final[key(f"oee_edge_outbox_{gauge}", sink=s)] == 0
    for p in PRIORITIES:
        for what in ("dropped", "refused", "evicted"):
            assert final[key(f"oee_edge_outbox_{what}_total", priority=p)] == 0
    mqtt_acked = final[key("oee_edge_sink_acked_total", sink="mqtt")]
    influx_written = final[key("oee_edge_sink_written_total", sink="influxdb")]
    # Everything committed was delivered once: the outbox's acks are the sinks' acks.
    appended = final[key("oee_edge_outbox_appended_total")]
    assert appended == final[key("oee_edge_outbox_acked_total")] == mqtt_acked + influx_written
    # MQTT published each record once, plus the `online` status (sent directly, not
    # through the outbox). No reconnect, so nothing was sent twice.
    assert final[key("oee_edge_sink_published_total", sink="mqtt")] == mqtt_acked + 1
    for name in ("republished", "errors"):
        assert final[key(f"oee_edge_sink_{name}_total", sink="mqtt")] == 0
    for name in ("retried", "quarantined", "errors"):
        assert final[key(f"oee_edge_sink_{name}_total", sink="influxdb")] == 0
    assert final[key("oee_edge_sink_handle_errors_total")] == 0

    # A clean stop delivers the final `offline` states too: the outbox file is empty.
    assert code == 0, gw.tail()
    with sqlite3.connect(data_dir / "outbox.sqlite") as conn:
        assert conn.execute("SELECT COUNT(*) FROM outbox").fetchone() == (0,)
