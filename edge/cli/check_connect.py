"""`oee-edge check CONFIG --connect`: try every configured connection once, concurrently.

Each Modbus machine: connect and read its planned registers once; each OPC UA machine:
open a session with its security and identity settings and read its node ids once (both
through the gateway's own source classes, so what passes here is what the gateway
does); the MQTT broker: connect (TLS and credentials as configured) with a client id of
its own, so a running gateway's session is left alone; InfluxDB: `/ping`, then
`SHOW DATABASES` with the configured credentials, which must list the database.
Reads only: nothing is written to a PLC, the broker or the database. First, the places
the gateway writes (`gateway.data_dir`, `outbox.path`, `sqlite.path`) are looked at
(`edge.config.preflight`: nothing is created).

Under each machine that answered it prints what it read and what the gateway makes of
it: every tag's value (so a wrong address, type or word order shows: a float32 without
CDAB reads -9.2e14), the state the rules give, the counters' values, and what is wrong
(a value no counter of its `bits` holds, a code outside a rule's map).
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import ssl
import sys
import time
from collections.abc import AsyncGenerator, Awaitable
from dataclasses import dataclass
from typing import Any, TextIO, cast

from core.types import SampleBatch
from edge.cli.readout import readout
from edge.config import Config, InfluxConfig, MachineConfig, MqttConfig
from edge.config.preflight import check_places
from edge.pipeline.components import SourceContext, build_source

__all__ = ["EXIT_CONNECT_FAILED", "Outcome", "check_connections", "main"]

EXIT_CONNECT_FAILED = 3  # distinct from 1, an invalid config
DEFAULT_TIMEOUT_S = 3.0


@dataclass(frozen=True)
class Outcome:
    """How one connection went: `detail` is what was done (ok) or what failed; `readout`
    what a machine's read gave (printed indented below the line)."""

    ok: bool
    kind: str  # modbus, opcua, mqtt, influxdb
    target: str  # what was tried: "press1 127.0.0.1:5020", "127.0.0.1:1883"
    detail: str
    readout: tuple[str, ...] = ()

    def line(self) -> str:
        if self.ok:
            return f"ok   {self.kind} {self.target} ({self.detail})"
        return f"FAIL {self.kind} {self.target}: {self.detail}"


def main(config: Config, timeout_s: float = DEFAULT_TIMEOUT_S, out: TextIO = sys.stdout) -> int:
    """Print one line per place and connection (and a machine's readout below it); 0
    when all work, `EXIT_CONNECT_FAILED` if not."""
    places = [Outcome(p.problem is None, p.field, str(p.path), p.problem or "writable")
              for p in check_places(config, create=False)]  # fmt: skip
    outcomes = places + asyncio.run(check_connections(config, timeout_s))
    for o in outcomes:
        print(o.line(), file=out)
        for text in o.readout:
            print("       " + text, file=out)
    return 0 if all(o.ok for o in outcomes) else EXIT_CONNECT_FAILED


async def check_connections(config: Config, timeout_s: float = DEFAULT_TIMEOUT_S) -> list[Outcome]:
    """Every connection of `config` tried at once; outcomes in config order (machines,
    then MQTT, then InfluxDB)."""
    probes: list[tuple[str, str, Awaitable[Outcome]]] = []
    shared = SourceContext()  # as the gateway: machines on one OPC UA server, one session
    for m in config.machines:
        kind, target = _machine_target(m)
        probes.append((kind, target, _machine(m, config, timeout_s, shared)))
    if config.mqtt is not None:
        mqtt = config.mqtt
        target = f"{mqtt.host}:{mqtt.port}"
        client_id = f"oee-edge-check-{config.gateway.id}-{os.getpid()}"
        probes.append(("mqtt", target, _mqtt(mqtt, target, client_id, timeout_s)))
    if config.influxdb is not None:
        probes.append(("influxdb", config.influxdb.url, _influx(config.influxdb, timeout_s)))
    return list(await asyncio.gather(*(_bounded(*p, timeout_s) for p in probes)))


async def _bounded(kind: str, target: str, probe: Awaitable[Outcome], timeout_s: float) -> Outcome:
    """The probe's outcome; a probe that hangs past its own timeouts, or breaks, fails."""
    limit = 2 * timeout_s + 1.0
    try:
        async with asyncio.timeout(limit):
            return await probe
    except TimeoutError:
        return Outcome(False, kind, target, f"no answer within {limit:g} s")
    except Exception as exc:  # one broken target must not hide the others' results
        return Outcome(False, kind, target, f"{type(exc).__name__}: {exc}")


def _machine_target(m: MachineConfig) -> tuple[str, str]:
    if m.modbus is not None:
        return "modbus", f"{m.id} {m.modbus.host}:{m.modbus.port}"
    if m.opcua is not None:
        return "opcua", f"{m.id} {m.opcua.endpoint}"
    return "source", m.id


def _ms(started: float) -> str:
    return f"{(time.perf_counter() - started) * 1000:.1f} ms"


async def _machine(
    m: MachineConfig, config: Config, timeout_s: float, shared: SourceContext
) -> Outcome:
    kind, target = _machine_target(m)
    if m.modbus is not None:
        conn: Any = m.modbus.model_copy(update={"timeout_s": min(m.modbus.timeout_s, timeout_s)})
        return await _modbus(m.model_copy(update={"modbus": conn}), config, target, shared)
    if m.opcua is not None:
        # A read cycle is the check, whatever the gateway's mode.
        update = {"mode": "poll", "timeout_s": min(m.opcua.timeout_s, timeout_s)}
        conn = m.opcua.model_copy(update=update)
        return await _opcua(m.model_copy(update={"opcua": conn}), config, target, shared)
    return Outcome(False, kind, target, "no connection configured")


async def _modbus(m: MachineConfig, config: Config, target: str, shared: SourceContext) -> Outcome:
    from connectors.modbus.source import ModbusSource

    assert m.modbus is not None
    source = build_source(m, config, shared)
    assert isinstance(source, ModbusSource)
    started = time.perf_counter()
    try:
        batch = await source.read()
    finally:
        source.close()
    took = _ms(started)
    if source.stats.connect_failures:
        why = await tcp_failure(m.modbus.host, m.modbus.port, m.modbus.timeout_s)
        return Outcome(False, "modbus", target, why or batch.error or "cannot connect")
    if batch.error is not None:
        return Outcome(False, "modbus", target, batch.error)
    registers = sum(r.count for r in source.plan if not r.table.is_bit)
    bits = sum(r.count for r in source.plan if r.table.is_bit)
    what = [f"{registers} registers"] * bool(registers) + [f"{bits} bits"] * bool(bits)
    detail = f"{', '.join(what)} in {took}"
    return Outcome(True, "modbus", target, detail, readout(m, config, batch))


async def _opcua(m: MachineConfig, config: Config, target: str, shared: SourceContext) -> Outcome:
    from connectors.opcua.source import OpcUaSource

    assert m.opcua is not None
    source = build_source(m, config, shared)
    assert isinstance(source, OpcUaSource)
    started = time.perf_counter()
    # An async generator: closing it closes the session it opened.
    stream = cast(AsyncGenerator[SampleBatch, None], source.stream())
    try:
        batch = await anext(stream)
    finally:
        await stream.aclose()
        await source.__aexit__(None, None, None)
    took = _ms(started)
    if batch.error is not None:
        return Outcome(False, "opcua", target, batch.error.removeprefix(f"{m.opcua.endpoint}: "))
    n = len(m.opcua_tags)
    problems = source.problems
    if problems:
        first = next(iter(problems.items()))
        more = f" (+{len(problems) - 1} more)" if len(problems) > 1 else ""
        detail = f"{len(problems)} of {n} nodes unreadable: {first[0]}: {first[1]}{more}"
        return Outcome(False, "opcua", target, detail)
    return Outcome(True, "opcua", target, f"{n} nodes in {took}", readout(m, config, batch))


async def tcp_failure(host: str, port: int, timeout_s: float) -> str | None:
    """Why a TCP connection to host:port fails (None if it works now)."""
    try:
        async with asyncio.timeout(timeout_s):
            _, writer = await asyncio.open_connection(host, port)
    except TimeoutError:
        return f"no answer within {timeout_s:g} s"
    except ConnectionRefusedError:
        return "connection refused"
    except socket.gaierror as exc:
        return f"unknown host ({exc.strerror})"
    except OSError as exc:
        return exc.strerror or str(exc)
    writer.close()
    return None


async def _mqtt(cfg: MqttConfig, target: str, client_id: str, timeout_s: float) -> Outcome:
    started = time.perf_counter()
    error = await asyncio.to_thread(_mqtt_connect, cfg, client_id, timeout_s)
    if error is not None:
        return Outcome(False, "mqtt", target, error)
    tls = "TLS, " if cfg.tls is not None and cfg.tls.enabled else ""
    return Outcome(True, "mqtt", target, f"{tls}connected in {_ms(started)}")


def _mqtt_connect(cfg: MqttConfig, client_id: str, timeout_s: float) -> str | None:
    """Connect, wait for the CONNACK, disconnect (in a worker thread); the error or None."""
    client = _mqtt_client(cfg, client_id, timeout_s)
    answers: list[Any] = []
    client.on_connect = lambda _c, _u, _flags, reason, _props: answers.append(reason)
    try:
        client.connect(cfg.host, cfg.port, keepalive=cfg.keepalive_s)
    except OSError as exc:
        return _socket_failure(exc, timeout_s)
    deadline = time.monotonic() + timeout_s
    try:
        while not answers and time.monotonic() < deadline:
            client.loop(timeout=0.05)
    finally:
        client.disconnect()
    if not answers:
        return f"no CONNACK within {timeout_s:g} s (is it an MQTT broker?)"
    if answers[0].is_failure:
        return f"the broker refused the connection ({answers[0]})"
    return None


def _mqtt_client(cfg: MqttConfig, client_id: str, timeout_s: float) -> Any:
    """A paho client with the sink's TLS and credentials, but a clean session of its own."""
    import paho.mqtt.client as paho
    from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion

    from connectors.mqtt.client import tls_context

    client = paho.Client(
        callback_api_version=CallbackAPIVersion.VERSION2,
        client_id=client_id,
        clean_session=True,
        protocol=MQTTProtocolVersion.MQTTv311,
    )
    if cfg.username is not None:
        password = cfg.password.get_secret_value() if cfg.password else None
        client.username_pw_set(cfg.username, password)
    if cfg.tls is not None and cfg.tls.enabled:
        client.tls_set_context(tls_context(cfg.tls))
    client.connect_timeout = timeout_s
    return client


def _socket_failure(exc: OSError, timeout_s: float) -> str:
    if isinstance(exc, ssl.SSLError):
        return f"TLS handshake failed ({exc.reason or exc})"
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, TimeoutError):
        return f"no answer within {timeout_s:g} s"
    if isinstance(exc, socket.gaierror):
        return f"unknown host ({exc.strerror})"
    return exc.strerror or str(exc)


async def _influx(cfg: InfluxConfig, timeout_s: float) -> Outcome:
    import httpx

    from connectors.influxdb.influxql import http_client

    started = time.perf_counter()
    cfg = cfg.model_copy(update={"timeout_s": min(cfg.timeout_s, timeout_s)})
    try:
        async with http_client(cfg) as http:
            ping = await http.get("/ping")
            if ping.status_code not in (200, 204):
                return _influx_fail(cfg, f"/ping answered HTTP {ping.status_code}")
            answer = await http.get("/query", params={"q": "SHOW DATABASES"})
    except httpx.TimeoutException:
        return _influx_fail(cfg, f"no answer within {cfg.timeout_s:g} s")
    except httpx.HTTPError as exc:
        return _influx_fail(cfg, _http_failure(exc))
    problem = _query_problem(cfg, answer.status_code, answer.text)
    if problem is not None:
        return _influx_fail(cfg, problem)
    version = ping.headers.get("X-Influxdb-Version", "unknown")
    detail = f"version {version}, database {cfg.database} in {_ms(started)}"
    return Outcome(True, "influxdb", cfg.url, detail)


def _query_problem(cfg: InfluxConfig, status: int, body: str) -> str | None:
    """What is wrong with the answer to SHOW DATABASES, if anything."""
    if status in (401, 403):
        return f"HTTP {status}: the server refused the credentials (username/password or token)"
    if status != 200:
        return f"/query answered HTTP {status}: {body[:200]}"
    databases = _databases(json.loads(body))
    if cfg.database not in databases:
        has = ", ".join(databases) or "none"
        return f"database '{cfg.database}' not found (the server has: {has}); create it"
    return None


def _http_failure(exc: BaseException) -> str:
    """The socket error under httpx's own ("All connection attempts failed")."""
    chain: list[BaseException] = []
    cause: BaseException | None = exc
    while cause is not None and cause not in chain:
        chain.append(cause)
        cause = cause.__cause__ or cause.__context__
    specific = (ConnectionRefusedError, socket.gaierror, ssl.SSLError)
    for e in chain:  # the innermost errors are the telling ones, anyio's OSError is not
        if isinstance(e, specific):
            return _socket_failure(e, 0)
    return str(exc) or type(exc).__name__


def _influx_fail(cfg: InfluxConfig, why: str) -> Outcome:
    return Outcome(False, "influxdb", cfg.url, why)


def _databases(body: dict[str, Any]) -> list[str]:
    names: list[str] = []
    for result in body.get("results", []):
        for series in result.get("series", []):
            names += [str(row[0]) for row in series.get("values", [])]
    return names
