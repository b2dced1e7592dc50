"""The components of a gateway, built from its config through explicit registries:
a source per machine (`SOURCES`), the engines (`ENGINES`), the sinks, the history reader
and the durable outbox."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, TypeVar

from core.interfaces import Engine, HistoryReader, IssueLog, SampleObserver, Sink, Source
from edge.config import Config, MachineConfig
from edge.engines.alarms import AlarmEngine
from edge.engines.oee import OeeEngine
from edge.engines.orders import OrderEngine
from edge.engines.output import OutputEngine
from edge.engines.spc import SpcEngine
from edge.outbox import Journal, Outbox
from edge.pipeline.live import machine_refs, spc_chart_infos

if TYPE_CHECKING:
    from connectors.mqtt.intake import OrderIntake

# The name it had before the move: operators filter on it.
log = logging.getLogger("edge.components")


T = TypeVar("T")


class SourceContext:
    """What the sources of one gateway run share (e.g. an OPC UA session per endpoint),
    one object per kind. Whoever builds the sources makes one for the run: never
    module-global, so two gateways in one process, or a connection check beside a
    running gateway, share nothing."""

    def __init__(self) -> None:
        self._shared: dict[type, object] = {}

    def get(self, kind: type[T]) -> T:
        """The run's one `kind()`, made at the first ask."""
        found = self._shared.get(kind)
        if found is None:
            found = self._shared[kind] = kind()
        assert isinstance(found, kind)
        return found


def _modbus_source(m: MachineConfig, config: Config, ctx: SourceContext) -> Source:
    from connectors.modbus.source import ModbusSource

    assert m.modbus is not None
    phase = m.modbus.poll_phase
    if phase is None:
        polled = [x.id for x in config.machines if x.modbus is not None]
        phase = poll_phase(polled.index(m.id), len(polled))
    return ModbusSource(m.id, m.modbus, m.modbus_tags, phase=phase)


POLL_SLOTS = 20
MACHINES_PER_SLOT = 25


def poll_slots(n: int) -> int:
    """How many slots `n` polled machines share: one per `MACHINES_PER_SLOT` machines, at
    most `POLL_SLOTS`. Each slot costs the same whatever it holds (an outbox commit, a
    store write, a delivery round), so a few machines share one slot rather than spread
    thinly over twenty; a slot never holds more than 25 until there are over 500."""
    return max(1, min(POLL_SLOTS, -(-n // MACHINES_PER_SLOT)))


def poll_phase(i: int, n: int) -> float:
    """Where machine `i` of `n` polls in its interval: in one of `poll_slots(n)` slots,
    round robin. The machines of a slot poll together, so their records share one outbox
    commit (a commit per machine would cost several times the CPU); the slots keep each
    burst small, so the last machine of a slot waits little (latency)."""
    slots = poll_slots(n)
    return (i % slots) / slots


def _opcua_source(m: MachineConfig, config: Config, ctx: SourceContext) -> Source:
    from connectors.opcua.endpoint import OpcUaEndpoints
    from connectors.opcua.pki import Pki
    from connectors.opcua.source import OpcUaSource

    assert m.opcua is not None
    pki = Pki(config.gateway.data_dir / "pki")  # security.trust_dir, if set, wins
    app_uri = f"urn:oee-edge:{config.gateway.id}"
    endpoint = None  # share_session off: the source opens a session of its own
    if m.opcua.share_session:
        endpoints = ctx.get(OpcUaEndpoints)
        endpoint = endpoints.get(
            m.opcua, pki, application_uri=app_uri, name=f"oee-edge {config.gateway.id}"
        )
    return OpcUaSource(
        m.id,
        m.opcua,
        m.opcua_tags,
        pki=pki,
        application_uri=app_uri,
        numeric=numeric_tags(m, config),
        endpoint=endpoint,
    )


# Which connection field of a machine selects which connector.
# A factory gets the run's `SourceContext` for what its sources share.
SOURCES: dict[str, Callable[[MachineConfig, Config, SourceContext], Source]] = {
    "modbus": _modbus_source,
    "opcua": _opcua_source,
}


# The engines every gateway runs, in this order (name -> factory). A new engine (SPC,
# orders, energy) is one more entry; the gateway feeds and publishes each alike.
ENGINES: dict[str, Callable[[Config], Engine]] = {
    "oee": OeeEngine,
    "output": OutputEngine,
    "spc": SpcEngine,
    "orders": OrderEngine,
    "alarms": AlarmEngine,  # after OEE: it judges the figures OEE publishes in the same tick
}


def order_engine(engines: Mapping[str, Engine]) -> OrderEngine:
    """The order engine among `engines` (every gateway runs one)."""
    engine = engines["orders"]
    assert isinstance(engine, OrderEngine)
    return engine


def order_intake(config: Config, take: Callable[[bytes], Awaitable[None]]) -> OrderIntake | None:
    """The subscription to `orders.intake_topic` (None: no MQTT, or the topic is off)."""
    if config.mqtt is None:
        return None
    topic = config.orders.topic(config.mqtt.prefix, config.site)
    if topic is None:
        return None
    from connectors.mqtt.intake import OrderIntake

    client_id = f"{config.mqtt.client_id or config.gateway.id}-orders-in"
    return OrderIntake(config.mqtt, client_id, topic, take)


def build_engines(config: Config) -> dict[str, Engine]:
    """One of each registered engine."""
    return {name: factory(config) for name, factory in ENGINES.items()}


def sample_observers(
    engines: dict[str, Engine], issues: Mapping[str, IssueLog]
) -> dict[str, list[tuple[str, SampleObserver]]]:
    """Per machine, the engines that take its raw batches (most machines: none, so the
    gateway's hot path skips them with one lookup); each told where to report."""
    out: dict[str, list[tuple[str, SampleObserver]]] = {}
    for name, engine in engines.items():
        if isinstance(engine, SampleObserver):
            engine.bind_issues(issues)
            for machine in engine.sampled():
                out.setdefault(machine, []).append((name, engine))
    return out


def build_source(m: MachineConfig, config: Config, ctx: SourceContext) -> Source:
    """The source of machine `m`, sharing what it can with the other sources of `ctx`."""
    for field, factory in SOURCES.items():
        if getattr(m, field, None) is not None:
            return factory(m, config, ctx)
    raise ValueError(f"machine {m.id} has no connection ({' or '.join(SOURCES)})")


def numeric_tags(m: MachineConfig, config: Config | None = None) -> set[str]:
    """Tags that feed state rules, counters or SPC charts, which must read as numbers or
    booleans."""
    out: set[str] = set()
    if config is not None:
        out.update(c.tag for c in config.spc.charts if c.machine == m.id and c.tag)
    for rule in m.state_rules:
        out.update(t for t in (getattr(rule, "tag", None), getattr(rule, "reason_tag", None)) if t)
    if m.counters is not None:
        out.update(c.tag for c in (m.counters.total, m.counters.good, m.counters.reject) if c)
    return out


def outbox_for(config: Config) -> Outbox:
    """The durable outbox of the MQTT and InfluxDB sinks (not opened yet)."""
    path = config.outbox.path or config.gateway.data_dir / "outbox.sqlite"
    return Outbox(path, max_bytes=int(config.outbox.max_mb * 1024 * 1024))


@asynccontextmanager
async def opened(sinks: Sequence[Sink]) -> AsyncIterator[None]:
    """Enter the sinks in order; at the end close them all at once, so that each one's
    stop deadline (`outbox.stop_flush_s`) runs alongside the others', not after them."""
    entered: list[Sink] = []
    try:
        for sink in sinks:
            await sink.__aenter__()
            entered.append(sink)
        yield
    finally:
        outcomes = await asyncio.gather(
            *(s.__aexit__(None, None, None) for s in entered), return_exceptions=True
        )
        for sink, outcome in zip(entered, outcomes, strict=True):
            if isinstance(outcome, Exception):
                log.error("sink %s did not close cleanly: %s", sink.name, outcome)


def _mqtt_sink(config: Config, journal: Journal) -> Sink:
    from connectors.mqtt.sink import MqttSink

    assert config.mqtt is not None
    tags = {m.id for m in config.machines if m.publish_tags}
    return MqttSink(
        config.mqtt, config.gateway.id, config.site, machine_refs(config), tags,
        journal=journal, shutdown_timeout_s=config.outbox.stop_flush_s,
        reconnect_min_s=config.mqtt.reconnect_min_s,
        reconnect_max_s=config.mqtt.reconnect_max_s,
        inflight=config.mqtt.max_inflight, tags_direct=config.mqtt.tags_direct,
        spc_charts=spc_chart_infos(config),
    )  # fmt: skip


def _influx_sink(config: Config, journal: Journal) -> Sink:
    from connectors.influxdb.sink import InfluxSink

    assert config.influxdb is not None
    stop_s = config.outbox.stop_flush_s
    return InfluxSink(
        config.influxdb, machine_refs(config), journal=journal, shutdown_timeout_s=stop_s
    )


def _webhook_sink(config: Config, journal: Journal) -> Sink:
    from connectors.webhook.sink import WebhookSink

    assert config.alarms.webhook is not None
    stop_s = config.outbox.stop_flush_s
    return WebhookSink(
        config.alarms.webhook, machine_refs(config), journal=journal, shutdown_timeout_s=stop_s
    )


# Which config section selects which sink (a sink's `name` is its section's); each one
# delivers through the durable outbox.
SINKS: dict[str, Callable[[Config, Journal], Sink]] = {
    "mqtt": _mqtt_sink,
    "influxdb": _influx_sink,
    "webhook": _webhook_sink,  # the section is `alarms.webhook`
}


def _section(config: Config, sink: str) -> object:
    """The config section of a sink of `SINKS` (None: not configured)."""
    return config.alarms.webhook if sink == "webhook" else getattr(config, sink)


DURABLE = frozenset(SINKS)


def build_sinks(config: Config, journal: Journal) -> tuple[list[Sink], HistoryReader]:
    """A sink per configured section of `SINKS`, delivering through the outbox of
    `journal`; the history reader is InfluxDB's when configured, else the embedded
    SQLite store, which is a sink too (local and durable itself)."""
    sinks = [
        build(config, journal)
        for section, build in SINKS.items()
        if _section(config, section) is not None
    ]
    if config.influxdb is not None:
        from connectors.influxdb.influxql import InfluxHistory

        return sinks, InfluxHistory(config.influxdb, machine_refs(config))
    from connectors.sqlite.config import SqliteConfig
    from connectors.sqlite.store import SqliteStore

    section = config.sqlite or SqliteConfig()
    store = SqliteStore(section.model_copy(update={"path": config.sqlite_path}))
    return [*sinks, store], store
