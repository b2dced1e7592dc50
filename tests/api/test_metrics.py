"""`/metrics` of a running gateway against real simulators: a strict parse of the text
format (every family once, with HELP and TYPE; histograms whole) and exact values."""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from api import metrics
from core.types import CountDelta, Event, OeeUpdate, SampleBatch, StateChange
from edge.config.loading import parse_config
from edge.pipeline.live import LiveView
from tests.api.conftest import make_config
from tests.fixtures.ports import free_port
from tests.integration.gateway import SCENARIO, SIM_NS, running, wait_until

# ------------------------------------------------------------------ a strict parser

_NAME = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
_LABEL = r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\[\\"n])*)"'
_SAMPLE = re.compile(rf"^({_NAME})(?:\{{((?:{_LABEL},?)*)\}})? (\S+)$")
_TYPES = {"counter", "gauge", "histogram", "summary", "untyped"}
Key = tuple[str, tuple[tuple[str, str], ...]]


@dataclass
class Family:
    name: str
    kind: str
    help: str
    samples: dict[Key, float] = field(default_factory=dict)


def _unescape(v: str) -> str:
    return re.sub(r"\\(.)", lambda m: {"n": "\n"}.get(m[1], m[1]), v)


def _value(text: str) -> float:
    special = {"+Inf": math.inf, "-Inf": -math.inf, "NaN": math.nan}
    if text in special:
        return special[text]
    assert re.fullmatch(r"-?\d+(\.\d+)?(e[+-]?\d+)?", text), f"bad value {text!r}"
    return float(text)


def parse(text: str) -> dict[str, Family]:
    """Families by name. Fails on anything the 0.0.4 text format does not allow, and on
    what we promise on top: HELP then TYPE once, before the family's samples, which are
    contiguous; counters end in `_total`; histograms have whole, cumulative buckets."""
    assert text.endswith("\n")
    families: dict[str, Family] = {}
    current: Family | None = None
    pending_help: tuple[str, str] | None = None
    for line in text[:-1].split("\n"):
        if line.startswith("# HELP "):
            name, _, help_text = line[7:].partition(" ")
            assert name not in families and pending_help is None, f"HELP again: {line}"
            pending_help = (name, help_text)
        elif line.startswith("# TYPE "):
            name, _, kind = line[7:].partition(" ")
            assert pending_help is not None and pending_help[0] == name, f"TYPE w/o HELP: {line}"
            assert kind in _TYPES, line
            assert pending_help[1], f"empty HELP for {name}"
            current = families[name] = Family(name, kind, pending_help[1])
            pending_help = None
        else:
            m = _SAMPLE.match(line)
            assert m is not None, f"not a sample line: {line!r}"
            assert current is not None and pending_help is None, f"sample outside: {line}"
            name, labels_text, value = m[1], m[2] or "", m[len(m.groups())]
            base = (
                re.sub(r"_(bucket|sum|count)$", "", name) if current.kind == "histogram" else name
            )
            assert base == current.name, f"{name} inside family {current.name}"
            labels = tuple((k, _unescape(v)) for k, v in re.findall(_LABEL, labels_text))
            assert len({k for k, _ in labels}) == len(labels), f"label twice: {line}"
            key = (name, labels)
            assert key not in current.samples, f"sample twice: {line}"
            current.samples[key] = _value(value)
    for f in families.values():
        if f.kind == "counter":
            assert f.name.endswith("_total"), f"counter {f.name} without _total"
        if f.kind == "histogram":
            _check_histogram(f)
    return families


def _check_histogram(f: Family) -> None:
    series: dict[tuple[tuple[str, str], ...], list[tuple[float, float]]] = {}
    for (name, labels), v in f.samples.items():
        if name.endswith("_bucket"):
            rest = tuple(kv for kv in labels if kv[0] != "le")
            assert labels[-1][0] == "le", f"le not last in {name}{labels}"
            series.setdefault(rest, []).append((_value(labels[-1][1]), v))
    assert series, f"histogram {f.name} without buckets"
    for labels, buckets in series.items():
        bounds = [b for b, _ in buckets]
        counts = [c for _, c in buckets]
        assert bounds == sorted(bounds) and bounds[-1] == math.inf, (f.name, labels, bounds)
        assert counts == sorted(counts), f"{f.name}{labels}: buckets not cumulative {counts}"
        assert f.samples[(f.name + "_count", labels)] == counts[-1]
        assert (f.name + "_sum", labels) in f.samples


def value(families: dict[str, Family], name: str, **labels: str) -> float:
    """One sample's value, found by its full name and exact labels (any order)."""
    for ls, v in series_of(families, name).items():
        if dict(ls) == labels:
            return v
    raise KeyError(f"{name}{labels} not exposed")


def series_of(families: dict[str, Family], name: str) -> dict[tuple[tuple[str, str], ...], float]:
    """Every series of sample `name` (a histogram's `_bucket`, `_sum`, `_count` too)."""
    family = families.get(name) or families[re.sub(r"_(bucket|sum|count)$", "", name)]
    return {ls: v for (n, ls), v in family.samples.items() if n == name}


# ------------------------------------------------------------------ exposition units


def test_label_values_are_escaped_and_help_and_type_come_once() -> None:
    live = LiveView.from_config(make_config())
    tricky = 'a"b\\c\nd'
    live.counters = lambda: [
        ("oee_edge_x_total", {"path": tricky}, 3),
        ("oee_edge_x_total", {"path": "plain"}, 4),
    ]
    live.gauges = lambda: [("oee_edge_y_seconds", {}, math.inf), ("oee_edge_z", {}, 0.25)]
    text = metrics.render(live)
    lines = text.splitlines()
    assert 'oee_edge_x_total{path="a\\"b\\\\c\\nd"} 3' in lines
    assert "oee_edge_y_seconds +Inf" in lines and "oee_edge_z 0.25" in lines
    families = parse(text)
    assert value(families, "oee_edge_x_total", path=tricky) == 3
    assert [ln for ln in lines if ln.startswith("# TYPE oee_edge_x_total")] == [
        "# TYPE oee_edge_x_total counter"
    ]


# ------------------------------------------------------------------ a real gateway

CONFIG = """
gateway: {{id: gw-metrics, data_dir: "{data_dir}"}}
site: plant
area: area1
line: metrics
api: {{port: {api_port}}}
oee: {{windows: [1h], publish_interval_s: 0.2}}
machines:
  - id: m1
    modbus: {{host: 127.0.0.1, port: {modbus_port}, unit_id: 1, poll_interval_s: 0.05}}
    tags: {{code: {{address: 0}}, total: {{address: 4, type: uint32}}}}
    state_rules: [{{tag: code, map: {{1: running, 2: idle, 3: fault, 4: setup, 5: planned_stop}}}}]
    counters: {{total: {{tag: total}}}}
    publish_tags: true
    ideal_cycle_s: 2
  - id: dead
    modbus: {{host: 127.0.0.1, port: {closed_port}, poll_interval_s: 0.05,
             backoff_initial_s: 0.05, backoff_max_s: 0.1}}
    tags: {{code: {{address: 0}}}}
    state_rules: [{{tag: code, map: {{1: running}}}}]
    ideal_cycle_s: 2
  - id: ua1
    opcua: {{endpoint: "{endpoint}", mode: poll, poll_interval_s: 0.05}}
    tags: {{code: "nsu={ns};s=m1.State", total: "nsu={ns};s=m1.Counters.Total"}}
    state_rules: [{{tag: code, map: {{1: running, 2: idle, 3: fault, 4: setup, 5: planned_stop}}}}]
    ideal_cycle_s: 2
  - id: ua2
    opcua: {{endpoint: "{endpoint}", publishing_interval_s: 0.05}}
    tags: {{code: "nsu={ns};s=m2.State"}}
    state_rules: [{{tag: code, map: {{1: running, 2: idle}}}}]
    ideal_cycle_s: 1
"""


async def test_metrics_of_a_running_gateway(
    simulator_factory, opcua_simulator_factory, tmp_path: Path
) -> None:
    modbus = simulator_factory(SCENARIO)
    ua = opcua_simulator_factory(SCENARIO)
    api_port = free_port()
    text = CONFIG.format(
        data_dir=tmp_path, api_port=api_port, modbus_port=modbus.port, closed_port=free_port(),
        endpoint=ua.url, ns=SIM_NS,
    )  # fmt: skip
    config = parse_config(text, "metrics.yaml", {})
    seen: Counter[type] = Counter()
    batches: Counter[str] = Counter()  # SampleBatches per machine, as the live view saw them
    async with running(config) as gw:

        def listen(e: Event) -> None:
            seen[type(e)] += 1
            if isinstance(e, SampleBatch):
                batches[e.machine] += 1

        gw.live.listeners.append(listen)
        stats = gw.sources  # filled in once the gateway runs
        await wait_until(lambda: len(stats) == 4, 10, "the sources")
        await wait_until(
            lambda: (
                stats["m1"].stats.requests >= 20  # type: ignore[attr-defined]
                and stats["ua1"].stats.reads >= 10  # type: ignore[attr-defined]
                and gw.poll_errors["dead"] >= 3
                and seen[OeeUpdate] > 0
            ),
            20,
            "polls, failures and OEE figures",
        )
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{api_port}") as http:
            scraped = await http.get("/metrics")
        # A render and the live view's tally at one instant (no await in between).
        now = parse(metrics.render(gw.live))
        tally, polls = dict(seen), dict(batches)
        m1_requests = stats["m1"].stats.requests  # type: ignore[attr-defined]
        ua1_reads = stats["ua1"].stats.reads  # type: ignore[attr-defined]
        before = value(now, "oee_edge_poll_errors_total", machine="dead")
        await wait_until(lambda: gw.poll_errors["dead"] > before, 5, "more failures")
        later = parse(metrics.render(gw.live))

    assert scraped.status_code == 200
    first = parse(scraped.text)  # the HTTP answer is as strict as the direct render
    assert set(first) == set(now)

    # Poll latency: one observation per poll cycle that reached the device.
    hist = "oee_edge_poll_duration_seconds"
    assert now[hist].kind == "histogram"
    # Every batch of m1 and ua1 came from a poll cycle (they never failed to connect),
    # and the live view takes each batch in the step that observed its duration.
    assert value(now, hist + "_count", machine="m1") == polls["m1"] >= 20
    assert value(now, hist + "_count", machine="ua1") == polls["ua1"] == ua1_reads
    # One request per poll; the one in flight now is counted already, not yet observed.
    assert m1_requests - 1 <= polls["m1"] <= m1_requests
    assert value(now, hist + "_count", machine="dead") == 0  # never connected: no poll
    assert 0 < value(now, hist + "_sum", machine="m1") < 5 * m1_requests
    les = [dict(ls)["le"] for ls in series_of(now, hist + "_bucket") if dict(ls)["machine"] == "m1"]
    assert les == ["0.001", "0.0025", "0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5",
                   "1.0", "2.5", "5.0", "+Inf"]  # fmt: skip
    machines_with_hist = {dict(ls)["machine"] for ls in series_of(now, hist + "_count")}
    assert machines_with_hist == {"m1", "dead", "ua1"}  # ua2 subscribes: it is not polled

    # Connections and failures.
    connected = {dict(ls)["machine"]: (dict(ls)["protocol"], v)
                 for ls, v in series_of(now, "oee_edge_source_connected").items()}  # fmt: skip
    assert connected == {"m1": ("modbus", 1), "dead": ("modbus", 0),
                         "ua1": ("opcua", 1), "ua2": ("opcua", 1)}  # fmt: skip
    assert now["oee_edge_source_connected"].kind == "gauge"
    errors = {
        dict(ls)["machine"]: v for ls, v in series_of(now, "oee_edge_poll_errors_total").items()
    }
    assert errors["m1"] == errors["ua1"] == errors["ua2"] == 0
    assert errors["dead"] >= 3
    assert value(later, "oee_edge_poll_errors_total", machine="dead") > errors["dead"]
    assert value(now, "oee_edge_source_connect_failures_total", machine="dead") == errors["dead"]
    assert value(now, "oee_edge_sink_connected", sink="sqlite") == 1

    # Events by kind, as the live view saw them.
    events = {dict(ls)["kind"]: v for ls, v in series_of(now, "oee_edge_events_total").items()}
    assert set(events) == {
        "state",
        "count",
        "suspect",
        "decision",
        "oee",
        "line_oee",
        "output",
        "line_output",
        "reason",
        "scrap",
        "planned",
        "notes",
        "product",
        "tags",
        "alarm",
        "report",
        "spc",
        "spc_violation",
        "spc_limits",
        "order",
        "changeover",
        "order_command",
    }
    assert events["state"] == tally.get(StateChange, 0) >= 4  # each machine's first state
    assert events["count"] == tally.get(CountDelta, 0)
    assert events["oee"] == tally[OeeUpdate] > 0
    assert events["reason"] == events["alarm"] == events["report"] == events["product"] == 0
    assert events["spc"] == events["spc_violation"] == events["spc_limits"] == 0  # no charts
    assert events["order"] == events["changeover"] == events["order_command"] == 0  # no orders
    assert series_of(now, "oee_edge_orders_refused_total") == {(): 0}
    # No alarm rule: every machine has none active.
    assert set(series_of(now, "oee_edge_alarms_active").values()) == {0}
    assert events["tags"] > 0  # m1 publishes its raw tags

    # OEE gauges carry machine, window and figure.
    oee_labels = {tuple(k for k, _ in ls) for ls in series_of(now, "oee_edge_oee")}
    assert oee_labels == {("machine", "window", "figure")}
