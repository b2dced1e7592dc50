"""The gateway's own figures for /metrics, gathered when scraped: every int field of the
sources' and sinks' `stats` as counters, failed polls and emitted events, the outbox's
and the journal's counters; the connection state of every source, the poll duration
histograms and the outbox depth as levels.

`FAMILIES` gives each family its Prometheus type and help text; `api.metrics` writes them.
A histogram travels as its `_bucket` (with `le`), `_sum` and `_count` samples.
"""

from __future__ import annotations

import dataclasses
import logging
import math
from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Protocol

from connectors.common.latency import LatencyHistogram
from core.alarms import AlarmChange
from core.interfaces import Sink, Source
from core.orders import ChangeoverDone, OrderCommand, OrderProgress
from core.types import (
    CountDecision,
    CountDelta,
    Event,
    LineOeeUpdate,
    LineOutputUpdate,
    OeeUpdate,
    OutputUpdate,
    ProductChanged,
    ReasonAssigned,
    SampleBatch,
    ScrapBooked,
    ShiftNote,
    ShiftReportDone,
    SpcLimitsChange,
    SpcPoint,
    SpcViolation,
    StateChange,
    StopPlanned,
    SuspectCount,
)
from edge.config import Config, MachineConfig
from edge.outbox import Journal, Outbox
from edge.pipeline.components import DURABLE, SOURCES
from edge.pipeline.live import LiveView
from edge.pipeline.normaliser import MachineNormaliser

__all__ = ["FAMILIES", "EventCounts", "Observed", "counters", "describe", "gauges"]

# The name it had before the move: operators filter on it.
log = logging.getLogger("edge.telemetry")

Sample = tuple[str, dict[str, str], float]
IntSample = tuple[str, dict[str, str], int]

POLL_DURATION = "oee_edge_poll_duration_seconds"
CORRUPT_FILES = "oee_edge_corrupt_files_total"
_SRC, _SINK, _BOX = "oee_edge_source_", "oee_edge_sink_", "oee_edge_outbox_"

# family -> (type, help). Families not listed get a generic help (see `describe`).
FAMILIES: dict[str, tuple[str, str]] = {
    POLL_DURATION: ("histogram", "Duration of one poll cycle: a Modbus read of every planned "
                    "request, or an OPC UA batched read (mode poll; subscriptions are not "
                    "polled and have no samples)."),
    "oee_edge_poll_errors_total": ("counter", "Poll cycles that ended in an error (cannot "
                                   "connect, connection lost, a failed request); the "
                                   "machine's tags read bad for that cycle."),
    "oee_edge_source_connected": ("gauge", "1 while the connection to the machine's PLC is up."),
    "oee_edge_events_total": ("counter", "Events the gateway handed to its sinks, by kind "
                              "(state, count, oee, line_oee, reason, tags)."),
    "oee_edge_sink_handle_errors_total": ("counter", "Emits a sink failed to take."),
    _SRC + "requests_total": ("counter", "Modbus read requests sent."),
    _SRC + "errors_total": ("counter", "Modbus read requests that failed (timeout, "
                            "exception response, lost connection)."),
    _SRC + "connects_total": ("counter", "OPC UA sessions opened."),
    _SRC + "connect_failures_total": ("counter", "Connection attempts that failed."),
    _SRC + "reconnects_total": ("counter", "Outages that ended: Modbus, with a proper answer "
                                "(not a TCP connect); OPC UA, a session made again."),
    _SRC + "timeouts_total": ("counter", "Modbus requests without a (complete) answer in time."),
    _SRC + "bad_answers_total": ("counter", "Modbus answers that did not fit their request "
                                 "(unit id, function code, byte count, length): no data."),
    _SRC + "stale_answers_total": ("counter", "Modbus answers to an earlier request, skipped."),
    _SRC + "reads_total": ("counter", "OPC UA read requests answered (mode poll)."),
    _SRC + "notifications_total": ("counter", "OPC UA data change notifications received."),
    _SRC + "session_losses_total": ("counter", "OPC UA sessions lost while in use."),
    _SINK + "published_total": ("counter", "MQTT messages paho took while connected."),
    _SINK + "direct_total": ("counter", "MQTT tags records published at once, outside the "
                             "outbox (mqtt.tags_direct)."),
    _SINK + "acked_total": ("counter", "Outbox records the MQTT broker acknowledged."),
    _SINK + "republished_total": ("counter", "MQTT records sent again after a lost connection."),
    _SINK + "written_total": ("counter", "Lines InfluxDB took."),
    _SINK + "retried_total": ("counter", "Writes answered with a retryable error (InfluxDB; "
                              "webhook: 408, 429, 5xx)."),
    _SINK + "delivered_total": ("counter", "Alarm changes the webhook's receiver took (2xx)."),
    _SINK + "dropped_total": ("counter", "Alarm changes the webhook's receiver refused for "
                              "good (a 4xx but 408/429), dropped."),
    _SINK + "quarantined_total": ("counter", "Lines InfluxDB refused for good (quarantined)."),
    _SINK + "restated_total": ("counter", "Retained MQTT states queued again after a reconnect."),
    _SINK + "connects_total": ("counter", "MQTT connections made (first and again)."),
    _SINK + "disconnects_total": ("counter", "MQTT connections lost."),
    _SINK + "unknown_machine_total": ("counter", "Events for a machine the sink does not know."),
    _SINK + "unknown_line_total": ("counter", "Line updates for a line of no known machine."),
    _SINK + "batches_total": ("counter", "InfluxDB write requests the server took."),
    _SINK + "split_total": ("counter", "InfluxDB batches split in halves (413, bad lines)."),
    _SINK + "outbox_errors_total": ("counter", "InfluxDB drain rounds the local outbox failed."),
    _SINK + "rows_written_total": ("counter", "SQLite rows inserted (and rows given a reason)."),
    _SINK + "rows_lost_total": ("counter", "SQLite rows of writes that failed (not stored)."),
    _SINK + "rows_pruned_total": ("counter", "SQLite rows removed by retention."),
    _SINK + "commits_total": ("counter", "SQLite transactions written."),
    _SINK + "reasons_unmatched_total": ("counter", "Reasons for a stop the SQLite store lacks."),
    _SINK + "errors_total": ("counter", "Sink errors (mqtt: failed publishes; influxdb: "
                             "writes without an answer; sqlite: failed writes)."),
    _BOX + "appended_total": ("counter", "Records appended to the durable outbox."),
    _BOX + "acked_total": ("counter", "Outbox records delivered and removed."),
    _BOX + "evicted_total": ("counter", "Outbox records evicted to stay within max_mb."),
    _BOX + "refused_total": ("counter", "Records the full outbox refused."),
    _BOX + "commits_total": ("counter", "Outbox transactions written."),
    _BOX + "commit_errors_total": ("counter", "Outbox commits that failed (records held)."),
    _BOX + "dropped_total": ("counter", "Records dropped: held in memory past the limit."),
    _BOX + "held_records": ("gauge", "Records held in memory for an unwritable outbox."),
    _BOX + "records": ("gauge", "Records waiting in the outbox per sink."),
    _BOX + "bytes": ("gauge", "Bytes waiting in the outbox per sink."),
    _BOX + "oldest_age_seconds": ("gauge", "Age of the oldest record waiting per sink."),
    "oee_edge_counter_invalid_total": ("counter", "Counter readings no counter of the "
                                       "configured width can hold (negative, past `bits`, "
                                       "not finite), left out of the counts."),
    "oee_edge_counts_suspect_total": ("counter", "Counter movements the machine could not "
                                      "have made, held as suspect counts."),
    "oee_edge_state_code_unmapped_total": ("counter", "Reads of a state code its rule's map "
                                           "does not list."),
    "oee_edge_pipeline_errors_total": ("counter", "Failures inside the pipeline for a "
                                       "machine (normaliser, engines), contained to it."),
    "oee_edge_engine_errors_total": ("counter", "Publications of an engine that failed."),
    "oee_edge_orders_refused_total": ("counter", "Orders refused at the intake topic "
                                      "(orders.intake_topic): each is logged once."),
    "oee_edge_suspect_counts": ("gauge", "Suspect counts waiting for a decision."),
    "oee_edge_machine_issues": ("gauge", "Open issues of a machine's input (see the API)."),
    "oee_edge_alarms_active": ("gauge", "Alarms raised and not yet cleared (acknowledged "
                               "or not), per machine."),
    _SINK + "ack_timeouts_total": ("counter", "MQTT connections dropped because the broker "
                                   "acknowledged nothing within mqtt.ack_timeout_s."),
    _SINK + "stuck": ("gauge", "1 while the sink's server takes messages but acknowledges "
                      "none (mqtt: no PUBACK within mqtt.ack_timeout_s), until it does."),
    CORRUPT_FILES: ("counter", "Local SQLite files found unusable (garbage, truncated, a "
                    "damaged page, emptied), moved aside and replaced by fresh ones, by file "
                    "(outbox, sqlite)."),
}  # fmt: skip

_KINDS: dict[type, str] = {
    StateChange: "state",
    CountDelta: "count",
    OeeUpdate: "oee",
    LineOeeUpdate: "line_oee",
    OutputUpdate: "output",
    LineOutputUpdate: "line_output",
    ReasonAssigned: "reason",
    SampleBatch: "tags",
    SuspectCount: "suspect",
    CountDecision: "decision",
    ScrapBooked: "scrap",
    StopPlanned: "planned",
    ShiftNote: "notes",
    ProductChanged: "product",
    AlarmChange: "alarm",
    ShiftReportDone: "report",
    SpcPoint: "spc",
    SpcViolation: "spc_violation",
    SpcLimitsChange: "spc_limits",
    OrderProgress: "order",
    ChangeoverDone: "changeover",
    OrderCommand: "order_command",
}


def describe(family: str, default_kind: str) -> tuple[str, str]:
    """(type, help) of a family; unknown ones say where they come from."""
    known = FAMILIES.get(family)
    if known is not None:
        return known
    origin = "a sink's" if family.startswith(_SINK) else "a source's"
    return default_kind, f"Field `{family}` of {origin} stats (see its stats dataclass)."


class EventCounts:
    """Events handed to the sinks, per event type: one C-level `Counter.update` per emit."""

    def __init__(self) -> None:
        self.by_type: Counter[type] = Counter()

    def count(self, events: Iterable[Event]) -> None:
        self.by_type.update(map(type, events))

    def by_kind(self) -> dict[str, int]:
        return {kind: self.by_type[t] for t, kind in _KINDS.items()}


class Observed(Protocol):
    """What the figures are read from: the running gateway (`edge.pipeline.gateway`)."""

    config: Config
    sources: dict[str, Source]
    sinks: list[Sink]
    sink_errors: int
    poll_errors: dict[str, int]
    events_out: EventCounts
    outbox: Outbox | None
    journal: Journal | None
    normalisers: dict[str, MachineNormaliser]
    machine_errors: dict[str, int]
    engine_errors: dict[str, int]
    live: LiveView


def counters(gw: Observed) -> list[IntSample]:
    """Every int field of the sources' and sinks' `stats`, failed polls, emitted events,
    and the outbox's and journal's counters."""
    out: list[IntSample] = [("oee_edge_sink_handle_errors_total", {}, gw.sink_errors)]
    for machine, source in gw.sources.items():
        for k, v in _int_fields(getattr(source, "stats", None)):
            out.append((f"{_SRC}{k}_total", {"machine": machine}, v))
    for machine, n in gw.poll_errors.items():
        out.append(("oee_edge_poll_errors_total", {"machine": machine}, n))
    for kind, n in gw.events_out.by_kind().items():
        out.append(("oee_edge_events_total", {"kind": kind}, n))
    for sink in gw.sinks:
        for k, v in _int_fields(getattr(sink, "stats", None)):
            out.append((f"{_SINK}{k}_total", {"sink": sink.name}, v))
    return out + _input_counters(gw) + _outbox_counters(gw) + _corrupt_files(gw)


def _input_counters(gw: Observed) -> list[IntSample]:
    """What the machines' input held out of the figures, and the failures contained."""
    out: list[IntSample] = []
    for machine, n in gw.normalisers.items():
        for k, v in _int_fields(n.stats):
            out.append((f"oee_edge_{k}_total", {"machine": machine}, v))
        out.append(
            ("oee_edge_pipeline_errors_total", {"machine": machine}, gw.machine_errors[machine])
        )
    for engine, errors in gw.engine_errors.items():
        out.append(("oee_edge_engine_errors_total", {"engine": engine}, errors))
    orders = getattr(gw, "orders", None)  # a running gateway's order engine
    if orders is not None:
        out.append(("oee_edge_orders_refused_total", {}, orders.refused))
    return out


def _corrupt_files(gw: Observed) -> list[IntSample]:
    """Files set aside: the outbox's, and those of a sink that keeps its own (the store)."""
    out: list[IntSample] = []
    if gw.outbox is not None:
        out.append((CORRUPT_FILES, {"file": "outbox"}, len(gw.outbox.set_aside)))
    for sink in gw.sinks:
        files = getattr(sink, "set_aside", None)
        if isinstance(files, list):
            out.append((CORRUPT_FILES, {"file": sink.name}, len(files)))
    return out


def _outbox_counters(gw: Observed) -> list[IntSample]:
    out: list[IntSample] = []
    if gw.outbox is not None:
        st = gw.outbox.stats
        out += [(_BOX + "appended_total", {}, st.appended), (_BOX + "acked_total", {}, st.acked)]
        for kind, counts in (("evicted", st.evicted), ("refused", st.refused)):
            for priority, n in counts.items():
                out.append((f"{_BOX}{kind}_total", {"priority": priority}, n))
    if gw.journal is not None:
        js = gw.journal.stats
        out += [(_BOX + "commits_total", {}, js.commits)]
        out += [(_BOX + "commit_errors_total", {}, js.commit_errors)]
        for priority, n in js.dropped.items():
            out.append((_BOX + "dropped_total", {"priority": priority}, n))
    return out


def gauges(gw: Observed) -> list[Sample]:
    """Each source's connection state and poll duration histogram; whether a sink's
    server is stuck; records held in memory for an unwritable outbox, and the outbox's
    depth per sink."""
    machines = {m.id: m for m in gw.config.machines}
    out: list[Sample] = []
    for machine, source in gw.sources.items():
        labels = {"machine": machine, "protocol": protocol(machines[machine])}
        up = bool(getattr(source, "connected", False))
        out.append(("oee_edge_source_connected", labels, int(up)))
    for machine, source in gw.sources.items():
        hist: LatencyHistogram | None = getattr(source, "poll_duration", None)
        if hist is not None and _polled(machines[machine]):
            out += histogram_samples(POLL_DURATION, {"machine": machine}, hist)
    for machine, n in gw.normalisers.items():
        out.append(("oee_edge_suspect_counts", {"machine": machine}, float(len(n.pending))))
        out.append(("oee_edge_machine_issues", {"machine": machine}, float(len(n.issues.open()))))
    for machine, live in gw.live.machines.items():
        out.append(("oee_edge_alarms_active", {"machine": machine}, float(len(live.alarms))))
    return out + _sink_gauges(gw) + _outbox_gauges(gw)


def _sink_gauges(gw: Observed) -> list[Sample]:
    """`stuck` of the sinks that can tell (MQTT)."""
    out: list[Sample] = []
    for sink in gw.sinks:
        stuck = getattr(sink, "stuck", None)
        if isinstance(stuck, bool):
            out.append((_SINK + "stuck", {"sink": sink.name}, int(stuck)))
    return out


def protocol(m: MachineConfig) -> str:
    """The machine's connection kind (`modbus`, `opcua`)."""
    return next((f for f in SOURCES if getattr(m, f, None) is not None), "unknown")


def _polled(m: MachineConfig) -> bool:
    return m.opcua is None or m.opcua.mode == "poll"


def histogram_samples(name: str, labels: dict[str, str], hist: LatencyHistogram) -> list[Sample]:
    """`_bucket` samples (cumulative, `le` last among the labels), `_sum` and `_count`."""
    out: list[Sample] = []
    total = 0
    for bound, total in hist.cumulative():
        le = "+Inf" if math.isinf(bound) else repr(bound)
        out.append((name + "_bucket", {**labels, "le": le}, total))
    return out + [(name + "_sum", labels, hist.sum), (name + "_count", labels, total)]


def _outbox_gauges(gw: Observed) -> list[Sample]:
    out: list[Sample] = []
    if gw.journal is not None:
        out += [(_BOX + "held_records", {}, gw.journal.stats.held)]
    box = gw.outbox
    if box is None or not box.is_open:
        return out
    for sink in gw.sinks:
        if sink.name not in DURABLE:
            continue
        try:
            d = box.depth(sink.name)
        except Exception as exc:  # a failing outbox must not take /metrics down with it
            log.debug("outbox depth of %s not read: %s", sink.name, exc)
            continue
        labels = {"sink": sink.name}
        out += [(_BOX + "records", labels, d.records)]
        out += [(_BOX + "bytes", labels, d.bytes)]
        out += [(_BOX + "oldest_age_seconds", labels, d.oldest_age_s or 0.0)]
    return out


def _int_fields(stats: object) -> list[tuple[str, int]]:
    if stats is None or not dataclasses.is_dataclass(stats):
        return []
    values = ((f.name, getattr(stats, f.name)) for f in dataclasses.fields(stats))
    return [(k, v) for k, v in values if isinstance(v, int)]


def sink_problems(sinks: Sequence[Sink]) -> dict[str, str]:
    """Why each sink that says so does not deliver (`problem`, e.g. the MQTT sink's stuck
    broker) though it is connected."""
    found = {s.name: getattr(s, "problem", None) for s in sinks}
    return {name: p for name, p in found.items() if isinstance(p, str)}
