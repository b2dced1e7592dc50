"""What the SPC engine costs at 1,000 charts updated every second: `SpcEngine`
(edge/engines/spc.py) fed real `SampleBatch`es, its publications drained and checkpointed
as the gateway does, and the events encoded as the MQTT sink does.

The config: machines (200 for 1,000 charts) with 5 process tags each, one chart per tag.
The mix: `imr` (every chart I-MR), `xbar_r` (every chart X̄-R, n 5) or `mix` (w0, w1 I-MR;
w2..w4 X̄-R n 5). Every other chart has all 12 run rules on (Western Electric 1-4 and
Nelson 1-8), the others the default WE 1-4. Each machine sends one batch per simulated
second (state code, counters, its 5 readings, as a Modbus poll gives them), the readings
normal (500, 2) from a fixed seed, generated before the clock starts. A warm-up (untimed)
fills the Phase I baselines, so every chart has trial limits; then half the charts (two of
every four, so each rule set is in both phases) are frozen through `SpcEngine.freeze`
(Phase II) and the timed run starts: every simulated second each machine's batch goes to
`take_samples` and its `CountDelta` to `apply`; every 10 s (`oee.publish_interval_s`'
default) `publications(now)` is drained, each batch passed to `observe`, `checkpoint`
and the live view (the gateway's `_deliver`) and encoded into the MQTT sink's outbox
records (`connectors.mqtt.encoder.Encoder`: the retained `…/spc/{chart}` of each chart
once per emit, every violation).
"""

from __future__ import annotations

import random
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import yaml

from connectors.mqtt.config import MqttConfig
from connectors.mqtt.encoder import Encoder
from connectors.mqtt.stats import MqttStats
from core.spc import SpcPoint, SpcViolation
from core.types import CountDelta, Event, Quality, Sample, SampleBatch
from edge.config import Config
from edge.config.loading import parse_config
from edge.engines.spc import SpcEngine
from edge.pipeline.issues import Issues
from edge.pipeline.live import LiveView, machine_refs, spc_chart_infos

__all__ = ["EngineRun", "build_config", "run_engine"]

T0 = datetime(2026, 12, 7, 6, 0, tzinfo=UTC)
TAGS = ("w0", "w1", "w2", "w3", "w4")
ALL_RULES = {"western_electric": [1, 2, 3, 4], "nelson": list(range(1, 9))}
BASELINE = 25  # subgroups of each chart's Phase I trial limits (the config's default)


def _kind(mix: str, tag: int) -> str:
    if mix == "mix":
        return "imr" if tag < 2 else "xbar_r"
    return mix


def chart_yaml(machine: str, tag: int, mix: str, index: int) -> dict[str, Any]:
    kind = _kind(mix, tag)
    chart: dict[str, Any] = {
        "id": f"{machine}-{TAGS[tag]}", "machine": machine, "tag": TAGS[tag], "kind": kind,
        "unit": "g", "valid": {"min": 0, "max": 2000}, "baseline_subgroups": BASELINE,
        "spec": {"lsl": 490, "usl": 510, "target": 500},
    }  # fmt: skip
    if kind == "xbar_r":
        chart["subgroup"] = {"size": 5}
    if index % 2:
        chart["rules"] = ALL_RULES
    return chart


def build_config(machines: int, mix: str | None, plain: int = 0, data_dir: str = "data") -> Config:
    """`machines` machines with charts on their 5 tags (`mix`; None: no `spc` section) and
    `plain` more machines without charts."""
    tags: dict[str, Any] = {
        "code": {"address": 0}, "total": {"address": 4, "type": "uint32"},
        "reject": {"address": 8, "type": "uint32"},
    }  # fmt: skip
    for i, tag in enumerate(TAGS):
        tags[tag] = {"address": 100 + 2 * i, "type": "float32", "order": "CDAB"}
    ids = [f"m{i:03d}" for i in range(machines)] + [f"p{i:03d}" for i in range(plain)]
    doc: dict[str, Any] = {
        "gateway": {"id": "bench", "data_dir": data_dir}, "site": "s", "area": "a", "line": "l",
        "machines": [
            {"id": m, "modbus": {"host": "127.0.0.1"}, "tags": tags,
             "state_rules": [{"tag": "code", "map": {1: "running", 2: "idle"}}],
             "counters": {"total": {"tag": "total"}, "reject": {"tag": "reject"}},
             "ideal_cycle_s": 1}
            for m in ids
        ],
    }  # fmt: skip
    if mix is not None:
        charts = [chart_yaml(f"m{m:03d}", t, mix, m * 5 + t) for m in range(machines)
                  for t in range(len(TAGS))]  # fmt: skip
        doc["spc"] = {"charts": charts}
    return parse_config(yaml.safe_dump(doc), "bench.yaml")


def batches(machine: str, start: int, seconds: int, rng: random.Random) -> list[SampleBatch]:
    """One poll per second: running, a part a second, 5 readings normal (500, 2)."""
    out = []
    for s in range(start, start + seconds):
        ts = T0 + timedelta(seconds=s)
        fixed = [("code", 1), ("total", s + 1), ("reject", s // 50)]
        readings = [(t, rng.gauss(500, 2)) for t in TAGS]
        samples = tuple(Sample(n, v, Quality.GOOD, ts) for n, v in [*fixed, *readings])
        out.append(SampleBatch(machine, ts, samples))
    return out


@dataclass
class EngineRun:
    """One timed run: seconds of CPU per phase, what went through."""

    readings: int = 0
    points: int = 0
    violations: int = 0
    records: int = 0
    ingest_s: float = 0.0  # take_samples + apply (points judged, rules, moments)
    publish_s: float = 0.0  # publications + observe + checkpoint + live view (the emit)
    encode_s: float = 0.0  # the MQTT sink's records

    @property
    def total_s(self) -> float:
        return self.ingest_s + self.publish_s + self.encode_s


def _encoder(config: Config) -> Encoder:
    return Encoder("mqtt", MqttConfig(), machine_refs(config), set(), MqttStats(),
                   spc_chart_infos(config))  # fmt: skip


def _deltas(b: SampleBatch, seq: int) -> CountDelta:
    return CountDelta(b.machine, b.ts, 1, 1, 0, seq=seq)


class Feeder:
    """An engine, its encoder and the machines' batches, second by second."""

    def __init__(self, config: Config, seed: int) -> None:
        self.engine = SpcEngine(config)
        self.engine.bind_issues({m: Issues(m) for m in self.engine.machines})
        self.encoder = _encoder(config)
        self.live = LiveView.from_config(config)
        self.machines = sorted(self.engine.machines)
        self.rng = random.Random(seed)
        self.second = 0

    def ahead(self, seconds: int) -> list[list[SampleBatch]]:
        """The next `seconds` of batches, per second (made before the clock starts)."""
        per_machine = [batches(m, self.second, seconds, self.rng) for m in self.machines]
        self.second += seconds
        return [list(second) for second in zip(*per_machine, strict=True)]

    def feed(self, second: list[SampleBatch], run: EngineRun) -> None:
        t = time.thread_time()
        for b in second:
            self.engine.apply(_deltas(b, 0))
            self.engine.take_samples(b)
        run.ingest_s += time.thread_time() - t
        run.readings += len(second) * len(TAGS)

    def publish(self, now: datetime, run: EngineRun) -> None:
        t = time.thread_time()
        out = list(self.engine.publications(now))
        for events in out:
            self.engine.observe(events)
            self.engine.checkpoint(events)
            for e in events:
                self.live.apply(e)
        t2 = time.thread_time()
        for events in out:
            run.records += len(self.encoder.encode(events, {}, {}, "bench"))
        t3 = time.thread_time()
        run.publish_s += t2 - t
        run.encode_s += t3 - t2
        for e in _all(out):
            run.points += isinstance(e, SpcPoint)
            run.violations += isinstance(e, SpcViolation)


def _all(out: list[list[Event]]) -> Iterator[Event]:
    for events in out:
        yield from events


def warm_up(f: Feeder, seconds: int, publish_s: int) -> None:
    """Fill the baselines (trial limits), then freeze every other chart (Phase II)."""
    scratch = EngineRun()
    for s, second in enumerate(f.ahead(seconds), start=1):
        f.feed(second, scratch)
        if s % publish_s == 0:
            f.publish(T0 + timedelta(seconds=f.second - seconds + s), scratch)
    now = T0 + timedelta(seconds=f.second)
    views = f.engine.charts()
    missing = [v.chart for v in views if v.limits is None]
    assert not missing, f"no trial limits after the warm-up: {missing[:5]}"
    # Charts 0, 1 of every 4 frozen: Phase I and II each with both rule sets (odd: all 12).
    for v in [v for i, v in enumerate(views) if i % 4 < 2]:
        f.engine.freeze(v.chart, None, None, BASELINE, [], "bench", now, preview=False)
    f.publish(now, scratch)  # the frozen limits out; not timed


def run_engine(config: Config, seconds: int, seed: int, publish_s: int = 10) -> EngineRun:
    """One timed run of `seconds` simulated seconds after the warm-up."""
    f = Feeder(config, seed)
    warm_up(f, 6 * BASELINE + publish_s, publish_s)  # X̄-R n 5: 5 readings a point
    run = EngineRun()
    start = f.second
    for s, second in enumerate(f.ahead(seconds), start=1):
        f.feed(second, run)
        if s % publish_s == 0:
            f.publish(T0 + timedelta(seconds=start + s), run)
    return run
