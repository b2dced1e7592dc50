"""Node-RED + node-red-contrib-modbus (from npm) as a contender of the load benchmark.

It polls the same simulated machines as the gateway and publishes each machine's tags to
the same broker, the way a Node-RED user would build it:

- per machine a ``modbus-client`` config node (Modbus TCP, its own connection, the node's
  default queue and a 1 ms command delay, the smallest it takes) and a ``modbus-read``
  node (FC 3 holding registers 0 .. registers-1 every `Load.interval_s`);
- one shared ``function`` node that decodes the register array into the named tags of
  `bench.endpoints.modbus_tags` (uint16, uint32 ABCD, float32 ABCD / CDAB via a
  DataView) and builds ``{"ts": <ISO time of the read>, "values": {name: value}}``;
- one shared ``mqtt-broker`` config node and ``mqtt out`` node publishing QoS 0 to
  ``{topic_root}/{machine.id}/tags``.

Alternatives: `flow(..., shared_connections=True)`: one ``modbus-client`` per simulator
port (one TCP connection), the unit id on each ``modbus-read`` node and requests one at a
time ("UnitId's in parallel queues" off: in parallel, the client pipelines requests and
the simulator's pymodbus server answers only the first of several that arrive in one TCP
segment, so most reads time out). `queue=False`: the clients' "Queue commands" unticked,
which takes about a third of the CPU at 500 clients.

Packages: ``bench/nodered/package.json`` pins node-red and node-red-contrib-modbus; the
latter's dependency ``@openp4nr/modbus-serial`` is a tarball outside the npm registry, so
an ``overrides`` entry installs ``modbus-serial`` (its upstream, on npm) under that name.

`NodeRed(load, broker_host, broker_port, topic_root, workdir)` writes ``settings.js``
(headless: no editor, admin API or HTTP port; log level warn; no telemetry) and
``flows.json`` into `workdir`, runs ``node bench/nodered/node_modules/node-red/red.js``
with its output in ``workdir/nodered.log``, returns once the flows have started, and
stops it (SIGTERM, SIGKILL after 10 s) when the block exits. It needs
``npm ci --prefix bench/nodered`` first.

Smoke test (a real mosquitto and simulator; checks the decoded values against pymodbus):

    .venv/bin/python -m bench.nodered                      # the demo's 3 machines, 15 s
    .venv/bin/python -m bench.nodered --machines 500       # a farm: CPU, RSS, msgs/s
    .venv/bin/python -m bench.nodered --machines 500 --shared    # a client per port
    .venv/bin/python -m bench.nodered --machines 500 --no-queue  # "Queue commands" off
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import itertools
import json
import math
import re
import shutil
import statistics
import struct
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import Any

from bench.endpoints import Load, Machine, Tag, modbus_tags, register_count
from bench.procstat import cpu_seconds, rss_bytes
from bench.sims import stop

__all__ = ["NodeRed", "decoder_source", "flow", "settings_js"]

REPO_ROOT = Path(__file__).resolve().parents[1]
NODE_MODULES = REPO_ROOT / "bench" / "nodered" / "node_modules"
RED_JS = NODE_MODULES / "node-red" / "red.js"
INSTALL_HINT = "npm ci --prefix bench/nodered --no-audit --no-fund"
READY_MARK = "oee-bench: flows started"
START_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 10.0
TAB_ID = "0e0eb0000000000a"


def _node_id(*parts: object) -> str:
    """A stable 16-hex-digit Node-RED node id."""
    return hashlib.sha1(":".join(map(str, parts)).encode()).hexdigest()[:16]


def _rate(interval_s: float) -> tuple[int, str]:
    """`interval_s` as a modbus-read rate and unit: whole seconds, else milliseconds."""
    if interval_s <= 0:
        raise ValueError(f"interval_s must be > 0 (got {interval_s})")
    if float(interval_s).is_integer():
        return int(interval_s), "s"
    return max(1, round(interval_s * 1000)), "ms"


def decoder_source(tags: Sequence[Tag], topic_root: str) -> str:
    """The function node's code: `msg.payload` (the register array from modbus-read,
    holding register 0 first) to a JSON string of the tags, published on
    ``{topic_root}/{msg.topic}/tags`` (the read node's topic is the machine id)."""
    table = json.dumps([[t.name, t.address, t.type] for t in tags])
    root = json.dumps(topic_root + "/")
    return f"""\
const TAGS = {table};
const r = msg.payload;
const dv = new DataView(new ArrayBuffer(4));
const values = {{}};
for (let i = 0; i < TAGS.length; i++) {{
    const name = TAGS[i][0], a = TAGS[i][1], type = TAGS[i][2];
    if (type === "uint16") {{
        values[name] = r[a];
    }} else if (type === "uint32") {{
        values[name] = r[a] * 65536 + r[a + 1];
    }} else if (type === "float32") {{
        dv.setUint16(0, r[a]); dv.setUint16(2, r[a + 1]);
        values[name] = dv.getFloat32(0);
    }} else if (type === "float32_cdab") {{
        dv.setUint16(0, r[a + 1]); dv.setUint16(2, r[a]);
        values[name] = dv.getFloat32(0);
    }}
}}
return {{
    topic: {root} + msg.topic + "/tags",
    payload: JSON.stringify({{ts: new Date().toISOString(), values: values}}),
}};
"""


def _client_node(
    node_id: str,
    name: str,
    host: str,
    port: int,
    unit: int,
    *,
    queue: bool = True,
    parallel: bool = True,
) -> dict[str, Any]:
    """A modbus-client config node: the editor's defaults (modbus-client.html), with
    every log off and the smallest command delay (the node turns 0 into 1 ms).

    `queue` is the editor's "Queue commands" (on by default): requests go through the
    node's per-unit-id queues and state machine. `parallel` ("UnitId's in parallel
    queues", on by default) sends the queued requests of different unit ids at once,
    pipelined on the connection; off, one request at a time."""
    return {
        "id": node_id,
        "type": "modbus-client",
        "name": name,
        "clienttype": "tcp",
        "bufferCommands": queue,
        "stateLogEnabled": False,
        "queueLogEnabled": False,
        "failureLogEnabled": False,
        "tcpHost": host,
        "tcpPort": str(port),
        "tcpType": "DEFAULT",
        "serialPort": "/dev/ttyUSB",
        "serialType": "RTU-BUFFERD",
        "serialBaudrate": "9600",
        "serialDatabits": "8",
        "serialStopbits": "1",
        "serialParity": "none",
        "serialConnectionDelay": "100",
        "serialAsciiResponseStartDelimiter": "0x3A",
        "unit_id": str(unit),
        "commandDelay": "1",
        "clientTimeout": "1000",
        "reconnectOnTimeout": True,
        "reconnectTimeout": "2000",
        "parallelUnitIdsAllowed": parallel,
        "showErrors": False,
        "showWarnings": False,
        "showLogs": False,
    }


def flow(
    load: Load,
    broker_host: str,
    broker_port: int,
    topic_root: str,
    *,
    shared_connections: bool = False,
    queue: bool = True,
) -> list[dict[str, Any]]:
    """The Node-RED flow polling `load` and publishing to the broker (module docstring).

    `shared_connections`: one modbus-client (TCP connection) per simulator host:port,
    the unit id on each read node, requests one at a time (the simulator, like many
    devices, does not answer pipelined requests), instead of one client per machine.
    `queue=False` unticks the clients' "Queue commands" (the editor's default is on):
    each read goes straight to the connection; about a third of the CPU at 500 clients.
    """
    if load.protocol != "modbus":
        raise ValueError(f"Node-RED contender: Modbus only (got {load.protocol!r})")
    tags = modbus_tags(load.tags)
    rate, unit = _rate(load.interval_s)
    needed = register_count(load.tags)
    decoder_id = _node_id("decode")
    mqtt_out_id = _node_id("mqtt-out")
    broker_id = _node_id("mqtt-broker")
    nodes: list[dict[str, Any]] = [
        {"id": TAB_ID, "type": "tab", "label": "oee-edge bench", "disabled": False, "info": ""}
    ]
    clients: dict[tuple[str, int], str] = {}
    for k, m in enumerate(load.machines):
        if m.registers < needed:
            raise ValueError(f"{m.id}: {m.registers} registers, {load.tags} tags need {needed}")
        if shared_connections:
            key = (m.host, m.port)
            if key not in clients:
                clients[key] = _node_id("client", m.host, m.port)
                name = f"{m.host}:{m.port}"
                nodes.append(
                    _client_node(
                        clients[key], name, m.host, m.port, m.unit, queue=queue, parallel=False
                    )
                )
            client_id = clients[key]
        else:
            client_id = _node_id("client", m.id)
            nodes.append(_client_node(client_id, m.id, m.host, m.port, m.unit, queue=queue))
        nodes.append(
            {
                "id": _node_id("read", m.id),
                "type": "modbus-read",
                "z": TAB_ID,
                "name": m.id,
                "topic": m.id,
                "showStatusActivities": False,
                "logIOActivities": False,
                "showErrors": False,
                "showWarnings": False,
                "unitid": str(m.unit) if shared_connections else "",
                "dataType": "HoldingRegister",
                "adr": "0",
                "quantity": str(m.registers),
                "rate": str(rate),
                "rateUnit": unit,
                "delayOnStart": False,
                "enableDeformedMessages": False,
                "startDelayTime": "",
                "server": client_id,
                "useIOFile": False,
                "ioFile": "",
                "useIOForPayload": False,
                "emptyMsgOnFail": False,
                "x": 150,
                "y": 40 + 40 * k,
                "wires": [[decoder_id], []],
            }
        )
    nodes.append(
        {
            "id": decoder_id,
            "type": "function",
            "z": TAB_ID,
            "name": f"decode {len(tags)} tags",
            "func": decoder_source(tags, topic_root),
            "outputs": 1,
            "timeout": 0,
            "noerr": 0,
            "initialize": "",
            "finalize": "",
            "libs": [],
            "x": 400,
            "y": 40,
            "wires": [[mqtt_out_id]],
        }
    )
    nodes.append(
        {
            "id": mqtt_out_id,
            "type": "mqtt out",
            "z": TAB_ID,
            "name": "tags",
            "topic": "",
            "qos": "0",
            "retain": "false",
            "respTopic": "",
            "contentType": "",
            "userProps": "",
            "correl": "",
            "expiry": "",
            "broker": broker_id,
            "x": 620,
            "y": 40,
            "wires": [],
        }
    )
    nodes.append(
        {
            "id": broker_id,
            "type": "mqtt-broker",
            "name": "bench broker",
            "broker": broker_host,
            "port": str(broker_port),
            "clientid": "",
            "autoConnect": True,
            "usetls": False,
            "protocolVersion": "4",
            "keepalive": "60",
            "cleansession": True,
            "autoUnsubscribe": True,
            "birthTopic": "",
            "birthQos": "0",
            "birthRetain": "false",
            "birthPayload": "",
            "birthMsg": {},
            "closeTopic": "",
            "closeQos": "0",
            "closeRetain": "false",
            "closePayload": "",
            "closeMsg": {},
            "willTopic": "",
            "willQos": "0",
            "willRetain": "false",
            "willPayload": "",
            "willMsg": {},
            "userProps": "",
            "sessionExpiry": "",
        }
    )
    return nodes


def settings_js(flow_file: Path) -> str:
    """Node-RED settings: headless (no editor, admin API, HTTP nodes or port), log level
    warn plus one logger that prints `READY_MARK` when the flows have started, no
    credential encryption, telemetry, update checks, diagnostics or projects."""
    mark = json.dumps(READY_MARK)
    return f"""\
// Written by bench/nodered.py for oee-edge's load benchmark.
module.exports = {{
    flowFile: {json.dumps(str(flow_file))},
    flowFilePretty: true,
    credentialSecret: false,
    httpAdminRoot: false,
    httpNodeRoot: false,
    disableEditor: true,
    uiHost: "127.0.0.1",
    lang: "en-US",
    telemetry: {{ enabled: false, updateNotification: false }},
    diagnostics: {{ enabled: false, ui: false }},
    runtimeState: {{ enabled: false, ui: false }},
    externalModules: {{
        autoInstall: false,
        palette: {{ allowInstall: false }},
        modules: {{ allowInstall: false }},
    }},
    functionExternalModules: false,
    exportGlobalContextKeys: false,
    logging: {{
        console: {{ level: "warn", metrics: false, audit: false }},
        benchReady: {{
            level: "info", metrics: false, audit: false,
            handler: function () {{
                return function (msg) {{
                    if (typeof msg.msg === "string" && msg.msg.startsWith("Started flows")) {{
                        console.log({mark});
                    }}
                }};
            }},
        }},
    }},
}};
"""


def _log_tail(path: Path, lines: int = 40) -> str:
    if not path.exists():
        return "(no log)"
    return "\n".join(path.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:])


class NodeRed:
    """Node-RED running `flow(...)` as a subprocess (see the module docstring)."""

    def __init__(
        self,
        load: Load,
        broker_host: str,
        broker_port: int,
        topic_root: str,
        workdir: Path,
        *,
        shared_connections: bool = False,
        queue: bool = True,
        start_timeout_s: float = START_TIMEOUT_S,
    ) -> None:
        self.load = load
        self.broker_host, self.broker_port, self.topic_root = broker_host, broker_port, topic_root
        self.workdir = workdir
        self.shared_connections = shared_connections
        self.queue = queue
        self.start_timeout_s = start_timeout_s
        self.settings = workdir / "settings.js"
        self.flows = workdir / "flows.json"
        self.log = workdir / "nodered.log"
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int:
        if self.proc is None:
            raise RuntimeError("Node-RED is not running")
        return self.proc.pid

    def write_files(self) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)
        nodes = flow(
            self.load,
            self.broker_host,
            self.broker_port,
            self.topic_root,
            shared_connections=self.shared_connections,
            queue=self.queue,
        )
        self.flows.write_text(json.dumps(nodes, indent=1), encoding="utf-8")
        self.settings.write_text(settings_js(self.flows), encoding="utf-8")

    def start(self) -> NodeRed:
        """Start Node-RED and return once its flows have started; RuntimeError (with the
        end of its log) if it exits first or does not get there in `start_timeout_s`."""
        if not RED_JS.exists():
            raise RuntimeError(f"Node-RED is not installed ({RED_JS} missing): run {INSTALL_HINT}")
        node = shutil.which("node")
        if node is None:
            raise RuntimeError("node (Node.js >= 20) is not on PATH")
        self.write_files()
        cmd = [node, str(RED_JS), "--userDir", str(self.workdir), "--settings", str(self.settings)]
        offset = self.log.stat().st_size if self.log.exists() else 0  # the log is appended
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(
                cmd, cwd=self.workdir, stdin=subprocess.DEVNULL, stdout=out, stderr=out
            )
        deadline = time.monotonic() + self.start_timeout_s
        while READY_MARK.encode() not in self.log.read_bytes()[offset:]:
            if self.proc.poll() is not None:
                code = self.proc.returncode
                self.proc = None
                raise RuntimeError(f"Node-RED exited with {code} at start:\n{_log_tail(self.log)}")
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(
                    f"Node-RED did not start its flows within {self.start_timeout_s:g} s:\n"
                    f"{_log_tail(self.log)}"
                )
            time.sleep(0.1)
        return self

    def stop(self) -> None:
        """SIGTERM, SIGKILL after 10 s; always reaped."""
        proc, self.proc = self.proc, None
        if proc is not None:
            stop(proc, STOP_TIMEOUT_S)

    def __enter__(self) -> NodeRed:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


# --- smoke test / measurement -------------------------------------------------------------

TOPIC_ROOT = "bench-nr"
_MODBUS_LINE = re.compile(r"^\s+modbus tcp (\S+):(\d+) unit (\d+)\s+(\S+) \(")
STATUS_BIT = {1: 1, 2: 16, 3: 2, 4: 4, 5: 8}  # state code -> status word (docs/simulator.md)


@contextlib.contextmanager
def _demo_simulator(workdir: Path, tags: int) -> Iterator[tuple[list[Machine], dict[str, int]]]:
    """``python -m simulators demo --port 0``: its machines and their counter_start."""
    from simulators.scenario import load_scenario

    log = workdir / "simulator.log"
    cmd = [sys.executable, "-m", "simulators", "demo", "--host", "127.0.0.1", "--port", "0"]
    with log.open("wb") as out:
        proc = subprocess.Popen(cmd, cwd=REPO_ROOT, stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 30
        while "serving; Ctrl-C to stop" not in log.read_text(errors="replace"):
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"simulator did not start:\n{_log_tail(log)}")
            time.sleep(0.05)
        machines = [
            Machine(m[4], m[1], port=int(m[2]), unit=int(m[3]), registers=register_count(tags))
            for m in map(_MODBUS_LINE.match, log.read_text().splitlines())
            if m
        ]
        scenario = load_scenario("demo")
        starts = {m.id: scenario.machine(m.id).params.counter_start for m in machines}
        yield machines, starts
    finally:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def decode_registers(regs: Sequence[int], tags: Sequence[Tag]) -> dict[str, float]:
    """What the function node computes, in Python (the reference for the check)."""
    out: dict[str, float] = {}
    for t in tags:
        a = t.address
        if t.type == "uint16":
            out[t.name] = regs[a]
        elif t.type == "uint32":
            out[t.name] = regs[a] << 16 | regs[a + 1]
        elif t.type == "float32":
            out[t.name] = struct.unpack(">f", struct.pack(">HH", regs[a], regs[a + 1]))[0]
        elif t.type == "float32_cdab":
            out[t.name] = struct.unpack(">f", struct.pack(">HH", regs[a + 1], regs[a]))[0]
        else:
            raise ValueError(f"unknown tag type {t.type!r}")
    return out


def consistency_errors(values: dict[str, Any], counter_start: int | None) -> list[str]:
    """What is wrong inside one decoded payload (all of it holds in every register image)."""
    errors = []
    code, total, good, reject = values["code"], values["total"], values["good"], values["reject"]
    if code not in STATUS_BIT:
        errors.append(f"code {code} not in 1..5")
    elif values["status"] != STATUS_BIT[code]:
        errors.append(f"status {values['status']} for code {code}")
    if values["total16"] != total % 65536 or values["reject16"] != reject % 65536:
        errors.append(f"16-bit copies {values['total16']}/{values['reject16']} vs {total}/{reject}")
    if counter_start is not None and (good + reject - total) % 2**32 != counter_start:
        errors.append(f"good {good} + reject {reject} != total {total} + start {counter_start}")
    speed = values["speed"]
    if (speed > 0) != (code == 1) or not 0 <= speed <= 120:
        errors.append(f"speed {speed} in state {code}")
    if not -50 < values["temperature"] < 150:
        errors.append(f"temperature {values['temperature']}")
    return errors


def _compare_with_pymodbus(
    collector: Any, machines: Sequence[Machine], tags: Sequence[Tag], topic_root: str
) -> list[str]:
    """For each machine: when Node-RED's next message arrives, read the same registers
    with pymodbus at once and decode them in Python; the two must be equal (allowing a
    few tries, as the registers may change between the two reads)."""
    from pymodbus.client import ModbusTcpClient

    problems = []
    for m in machines:
        topic = f"{topic_root}/{m.id}/tags"
        client = ModbusTcpClient(m.host, port=m.port, timeout=2)
        client.connect()
        try:
            last: tuple[dict[str, Any], dict[str, float]] | None = None
            for _ in range(8):
                seen = len(collector.on(topic))
                got = json.loads(collector.wait_count(seen + 1, topic, timeout=10)[-1].payload)
                rr = client.read_holding_registers(0, count=m.registers, device_id=m.unit)
                if rr.isError():
                    raise RuntimeError(f"pymodbus read of {m.id} failed: {rr}")
                want = decode_registers(rr.registers, tags)
                last = got["values"], want
                if got["values"] == want:
                    break
            else:
                problems.append(f"{m.id}: Node-RED {last[0] if last else None} != pymodbus {last}")
        finally:
            client.close()
    return problems


def _smoke(args: argparse.Namespace) -> int:
    from tests.fixtures.mosquitto import MosquittoBroker, MqttCollector

    tags = modbus_tags(args.tags)
    with contextlib.ExitStack() as stack:
        if args.workdir:
            workdir = Path(args.workdir)
            workdir.mkdir(parents=True, exist_ok=True)
        else:
            workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="oee-nr-")))
        broker = MosquittoBroker(workdir).start()
        stack.callback(broker.stop)
        starts: dict[str, int] = {}
        sim_pids: list[int] = []
        if args.machines:
            from bench.sims import start_farm

            farm = stack.enter_context(
                start_farm("modbus", args.machines, args.tags, workdir / "farm")
            )
            machines = list(farm.load.machines)
            sim_pids = farm.pids
            starts = {m.id: 0 for m in machines}  # the farm's machines count from 0
        else:
            machines, starts = stack.enter_context(_demo_simulator(workdir, args.tags))
        load = Load("modbus", args.interval, args.tags, tuple(machines))
        load.dump(workdir / "load.json")
        print(f"{len(machines)} machines x {args.tags} tags every {args.interval:g} s", flush=True)
        collector = MqttCollector(broker.host, broker.port, [f"{TOPIC_ROOT}/#"], qos=0).start()
        stack.callback(collector.stop)
        nr = NodeRed(
            load,
            broker.host,
            broker.port,
            TOPIC_ROOT,
            workdir / "nodered",
            shared_connections=args.shared,
            queue=not args.no_queue,
        )
        t_start = time.monotonic()
        stack.enter_context(nr)
        print(f"Node-RED pid {nr.pid}: flows started in {time.monotonic() - t_start:.1f} s")
        topics = {f"{TOPIC_ROOT}/{m.id}/tags" for m in machines}
        collector.wait_for(lambda ms: topics <= {x.topic for x in ms}, timeout=60)
        print(f"every machine published after {time.monotonic() - t_start:.1f} s", flush=True)
        time.sleep(args.warmup)
        collector.clear()
        cpu0, t0 = cpu_seconds(nr.pid), time.monotonic()
        sim0 = sum(map(cpu_seconds, sim_pids))
        rss: list[int] = []
        while time.monotonic() - t0 < args.seconds:
            time.sleep(min(1.0, max(0.0, args.seconds - (time.monotonic() - t0))))
            rss.append(rss_bytes(nr.pid))
        cpu1, t1 = cpu_seconds(nr.pid), time.monotonic()
        sim1 = sum(map(cpu_seconds, sim_pids))
        msgs = list(collector.messages)
        elapsed = t1 - t0
        per_machine = {t: 0 for t in topics}
        stamps: dict[str, list[float]] = {t: [] for t in topics}
        for msg in msgs:
            per_machine[msg.topic] = per_machine.get(msg.topic, 0) + 1
            ts = json.loads(msg.payload)["ts"].replace("Z", "+00:00")
            stamps.setdefault(msg.topic, []).append(datetime.fromisoformat(ts).timestamp())
        gaps = [b - a for ts_list in stamps.values() for a, b in itertools.pairwise(ts_list)]
        expected = len(machines) / args.interval
        print(
            f"over {elapsed:.1f} s: {len(msgs) / elapsed:.1f} msgs/s "
            f"({100 * len(msgs) / elapsed / expected:.1f} % of {expected:g} expected), "
            f"{len(msgs) * len(tags) / elapsed:.0f} tags/s; per machine min "
            f"{min(per_machine.values())} max {max(per_machine.values())} messages"
        )
        if gaps:
            gaps.sort()
            print(
                f"read-to-read interval (payload ts): mean {statistics.fmean(gaps):.4f} s, "
                f"p99 {gaps[int(0.99 * (len(gaps) - 1))]:.3f} s, max {gaps[-1]:.3f} s"
            )
        print(
            f"Node-RED CPU {100 * (cpu1 - cpu0) / elapsed:.1f} % of one core, "
            f"RSS max {max(rss) / 2**20:.0f} MiB"
            + (f"; simulators {100 * (sim1 - sim0) / elapsed:.1f} %" if sim_pids else "")
        )
        print("one payload:", msgs[-1].topic, msgs[-1].payload.decode())
        errors = []
        for msg in msgs:
            mid = msg.topic.split("/")[1]
            for e in consistency_errors(json.loads(msg.payload)["values"], starts.get(mid)):
                errors.append(f"{mid}: {e}")
        sample = machines if len(machines) <= 5 else [*machines[:3], machines[-1]]
        errors += _compare_with_pymodbus(collector, sample, tags, TOPIC_ROOT)
        if errors:
            print(f"{len(errors)} problems:", *errors[:20], sep="\n  ")
            return 1
        print(
            f"checked: {len(msgs)} payloads consistent, {len(sample)} machines equal to "
            "pymodbus's decoding"
        )
        return 0
    return 1  # unreachable (mypy: ExitStack may swallow)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.nodered",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--machines",
        type=int,
        default=0,
        help="a simulator farm of N machines (default: the demo's 3)",
    )
    parser.add_argument("--tags", type=int, default=11, help="tags per machine (>= 11)")
    parser.add_argument("--interval", type=float, default=1.0, help="poll interval, s")
    parser.add_argument("--seconds", type=float, default=15.0, help="measured time")
    parser.add_argument("--warmup", type=float, default=0.0, help="time before measuring")
    parser.add_argument(
        "--shared",
        action="store_true",
        help="one modbus-client per simulator port, not per machine",
    )
    parser.add_argument(
        "--no-queue",
        action="store_true",
        help='untick the clients\' "Queue commands" (on in the editor by default)',
    )
    parser.add_argument("--workdir", help="keep files here (default: a temp dir)")
    args = parser.parse_args(argv)
    if not math.isfinite(args.interval) or args.interval <= 0:
        parser.error("--interval must be > 0")
    return _smoke(args)


if __name__ == "__main__":
    sys.exit(main())
