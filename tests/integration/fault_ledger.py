"""Counting every point after a fault-injection run: what the simulator's deterministic
model says happened, what InfluxDB holds and what the durable MQTT subscriber got.

`tally(scenario, until_s, influx, arrivals, machines)` returns a `Ledger`: the figures
(`report`, JSON-ready) and `violations`, each a sentence saying which number differs
from which. Nothing is eyeballed: counts are compared exactly.

- Expected: the model of each machine (`Scenario.model`) advanced to `until_s` (wall
  seconds since the epoch): final counters minus the start, and its transitions merged
  the way the gateway sees them (a new reason in the same state is no state change).
- InfluxDB: sums of `production`; the `machine_state` sequence without `offline`,
  merged; a state stored twice in a row is a duplicate (a restart that forgot it).
- MQTT: `…/event` `seq` is 1..N without a gap, copies byte-identical, N = the state
  points in InfluxDB, same timestamps; `…/count` deduplicated by `id` (else topic and
  payload) equals InfluxDB's `production` point for point; `…/oee/{window}` gives the
  same (machine, window, ts) set as the `oee` and `line_oee` points.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from simulators.scenario import Scenario
from tests.fixtures.durable_subscriber import Arrival
from tests.fixtures.influx import InfluxServer

__all__ = ["Ledger", "expected_states", "tally", "transition_times"]

_STATES = {1: "running", 2: "idle", 3: "fault", 4: "setup", 5: "planned_stop"}
LINE = "_line"  # the machine key of a line's OEE
Key = tuple[Any, ...]
# The report's keys, present even when zero.
LOST = ("parts_influx", "count_points_influx", "count_messages_mqtt", "transitions",
        "events_mqtt", "oee_mqtt", "oee_influx")  # fmt: skip
DUPLICATED = ("parts_influx", "state_points_influx", "event_mqtt", "count_mqtt", "oee_mqtt")


def _merged(states: list[tuple[str, int | None]]) -> list[tuple[str, int | None]]:
    """Consecutive entries of the same state merged (the first one's reason kept)."""
    out: list[tuple[str, int | None]] = []
    for s in states:
        if not out or out[-1][0] != s[0]:
            out.append(s)
    return out


def _model(scenario: Scenario, machine: str, until_s: float) -> Any:
    model = scenario.model(machine, history_size=None)
    model.advance_to(until_s * scenario.time_scale)
    return model


def expected_states(
    scenario: Scenario, machine: str, until_s: float
) -> list[tuple[str, int | None]]:
    """The state sequence the gateway should see until `until_s` (since the epoch)."""
    hist = _model(scenario, machine, until_s).history
    return _merged([(_STATES[int(t.state)], t.reason or None) for t in hist])


def transition_times(scenario: Scenario, until_s: float) -> list[float]:
    """Every machine's state changes (as the gateway sees them), in wall seconds."""
    out = []
    for spec in scenario.machines:
        last = None
        for t in _model(scenario, spec.id, until_s).history:
            if int(t.state) != last and t.t > 0:
                out.append(t.t / scenario.time_scale)
            last = int(t.state)
    return sorted(out)


def _ms(rfc3339: str) -> int:
    return int(datetime.fromisoformat(rfc3339.replace("Z", "+00:00")).timestamp() * 1000 + 0.5)


def _rows(influx: InfluxServer, fields: str, measurement: str, where: str) -> list[dict[str, Any]]:
    """All rows in time order, paged (a long soak holds more than one answer should
    carry). Pages overlap by their last timestamp, so rows of two series at the same
    time are not skipped; the overlap is dropped again."""
    rows: list[dict[str, Any]] = []
    seen: set[tuple[Any, ...]] = set()
    after, limit = 0, 10000
    while True:
        page = influx.query(
            f"SELECT {fields} FROM {measurement} WHERE {where} AND time >= {after} "
            f"ORDER BY time ASC LIMIT {limit}"
        )
        for r in page:
            key = tuple(sorted(r.items()))
            if key not in seen:
                seen.add(key)
                rows.append(r)
        if len(page) < limit:
            return rows
        after = page[-1]["time"]


@dataclass
class Ledger:
    report: dict[str, Any] = field(default_factory=dict)
    violations: list[str] = field(default_factory=list)


def tally(
    scenario: Scenario,
    until_s: float,
    influx: InfluxServer,
    arrivals: list[Arrival],
    machines: list[str],
) -> Ledger:
    """Compare the model, InfluxDB and MQTT (see the module docstring)."""
    led = Ledger()
    bad = led.violations.append
    mqtt = _MqttTally(arrivals, bad)
    counted: dict[str, Counter[str]] = {"influx": Counter(), "mqtt": Counter(mqtt.counted)}
    lost: Counter[str] = Counter(dict.fromkeys(LOST, 0))
    dup: Counter[str] = Counter(dict.fromkeys(DUPLICATED, 0))
    dup.update(mqtt.duplicated)  # (`+` would drop the zeros)
    parts: dict[str, dict[str, tuple[int, ...]]] = {}
    for m in machines:
        model = _model(scenario, m, until_s).snapshot()
        want = (model.parts, model.parts - model.rejects, model.rejects)
        prod = _rows(influx, "total, good, reject", "production", f"machine = '{m}'")
        points = Counter((_ns_ms(r["time"]), r["total"], r["good"], r["reject"]) for r in prod)
        got = tuple(sum(r[k] for r in prod) for k in ("total", "good", "reject"))
        # Multisets: two distinct messages alike would be one point in InfluxDB (same
        # series and time), so one of them lost there.
        msgs = Counter(mqtt.counts[m])
        via_mqtt = tuple(sum(p[i] for p in mqtt.counts[m]) for i in (1, 2, 3))
        counted["influx"]["production"] += len(prod)
        parts[m] = {"model": want, "influx": got, "mqtt": via_mqtt}
        for where, have in (("InfluxDB", got), ("MQTT", via_mqtt)):
            if have != want:
                bad(f"{m}: (total, good, reject) in {where} {have} != the model's {want}")
        lost["parts_influx"] += max(0, want[0] - got[0])
        dup["parts_influx"] += max(0, got[0] - want[0])
        only_mqtt, only_influx = (
            sorted((msgs - points).elements()),
            sorted((points - msgs).elements()),
        )
        lost["count_points_influx"] += len(only_mqtt)
        lost["count_messages_mqtt"] += len(only_influx)
        if msgs != points:
            bad(
                f"{m}: …/count messages vs production points (ms, total, good, reject): "
                f"only on MQTT {only_mqtt[:5]} ({len(only_mqtt)}), "
                f"only in InfluxDB {only_influx[:5]} ({len(only_influx)})"
            )
        rows = _rows(influx, "state, reason_code", "machine_state", f"machine = '{m}'")
        counted["influx"]["machine_state"] += len(rows)
        raw = [(r["state"], r["reason_code"]) for r in rows]
        repeats = sum(1 for a, b in zip(raw, raw[1:], strict=False) if a[0] == b[0])
        dup["state_points_influx"] += repeats
        if repeats:
            bad(f"{m}: {repeats} state point(s) in InfluxDB repeat the state before: {raw}")
        seen = _merged([s for s in raw if s[0] != "offline"])
        want_states = expected_states(scenario, m, until_s)
        if seen != want_states:
            lost["transitions"] += max(0, len(want_states) - len(seen))
            bad(f"{m}: states in InfluxDB {seen}\n   != the model's {want_states}")
        lost["events_mqtt"] += mqtt.check_events(m, {_ns_ms(r["time"]) for r in rows}, bad)
    # Tag keys selected next to a field come back as columns.
    oee_influx = {(r["machine"], r["window"], _ns_ms(r["time"])) for r in _rows(
        influx, 'machine, "window", window_s', "oee", "time > 0")}  # fmt: skip
    oee_influx |= {(LINE, r["window"], _ns_ms(r["time"])) for r in _rows(
        influx, '"window", window_s', "line_oee", "time > 0")}  # fmt: skip
    counted["influx"]["oee"] = len(oee_influx)
    lost["oee_mqtt"] = len(oee_influx - mqtt.oee)
    lost["oee_influx"] = len(mqtt.oee - oee_influx)
    if oee_influx != mqtt.oee:
        bad(
            f"OEE (machine, window, ms): only on MQTT {sorted(mqtt.oee - oee_influx)[:5]} "
            f"({lost['oee_influx']}), only in InfluxDB {sorted(oee_influx - mqtt.oee)[:5]} "
            f"({lost['oee_mqtt']})"
        )
    led.report = {
        "counted": {k: dict(v) for k, v in counted.items()},
        "parts_total_good_reject": parts,
        "lost": dict(lost),
        "duplicated": dict(dup),
        "lost_total": sum(lost.values()),
    }
    return led


def _ns_ms(ns: int) -> int:
    return int(ns) // 1_000_000


class _MqttTally:
    """The subscriber's arrivals, deduplicated per topic kind."""

    def __init__(self, arrivals: list[Arrival], bad: Any) -> None:
        self.counted: Counter[str] = Counter(arrivals=len(arrivals))
        self.duplicated: Counter[str] = Counter()
        self.events: dict[str, dict[int, bytes]] = defaultdict(dict)
        self.counts: dict[str, list[Key]] = defaultdict(list)  # distinct by id
        self.oee: set[Key] = set()
        count_ids: dict[str, dict[Any, bytes]] = defaultdict(dict)
        count_seqs: dict[str, set[int]] = defaultdict(set)
        oee_copies: set[Key] = set()
        for a in arrivals:
            level = a.topic.split("/")
            if len(level) < 6 or level[2] == "_gateway":
                continue
            machine, kind = level[4], level[5]
            if kind == "oee":
                doc = json.loads(a.payload)
                self.counted["oee"] += 1
                key = (a.topic, a.payload)
                self.duplicated["oee_mqtt"] += key in oee_copies
                oee_copies.add(key)
                self.oee.add((machine, doc["window"], _ms(doc["ts"])))
            elif kind == "event":
                doc = json.loads(a.payload)
                seqs = self.events[machine]
                if doc["seq"] not in seqs:
                    seqs[doc["seq"]] = a.payload
                    continue
                first = seqs[doc["seq"]]
                self.duplicated["event_mqtt"] += 1
                if first != a.payload:
                    bad(f"{machine}: two different …/event payloads with seq {doc['seq']}:"
                        f"\n   {first!r}\n   {a.payload!r}")  # fmt: skip
            elif kind == "count":
                doc = json.loads(a.payload)
                ident = doc.get("id", a.payload)
                ids = count_ids[machine]
                if ident in ids:
                    self.duplicated["count_mqtt"] += 1
                    if ids[ident] != a.payload:
                        bad(f"{machine}: two different …/count payloads with id {ident!r}")
                    continue
                ids[ident] = a.payload
                self.counts[machine].append(
                    (_ms(doc["ts"]), doc["total"], doc["good"], doc["reject"])
                )
                if "seq" in doc:
                    count_seqs[machine].add(doc["seq"])
        self.counted["event"] = sum(len(v) for v in self.events.values())
        self.counted["count"] = sum(len(v) for v in self.counts.values())
        self.counted["oee_distinct"] = len(self.oee)
        for machine, numbers in count_seqs.items():
            n = len(self.counts[machine])
            if numbers != set(range(1, n + 1)):
                bad(f"{machine}: …/count seq values are not 1..{n}: {_gaps(numbers)}")

    def check_events(self, machine: str, influx_ts: set[int], bad: Any) -> int:
        """`…/event` seq 1..N, N and timestamps as in InfluxDB; returns how many are lost."""
        seqs = self.events[machine]
        n = len(influx_ts)
        lost = len(set(range(1, n + 1)) - set(seqs))
        if set(seqs) != set(range(1, len(seqs) + 1)):
            bad(f"{machine}: …/event seq values are not 1..N: {_gaps(set(seqs))}")
        if len(seqs) != n:
            bad(f"{machine}: {len(seqs)} distinct …/event seq values, {n} state points in InfluxDB")
        ts = {_ms(json.loads(p)["ts"]) for p in seqs.values()}
        if ts != influx_ts:
            bad(f"{machine}: …/event ts vs state points: {sorted(ts ^ influx_ts)[:5]} differ")
        return lost + len(influx_ts - ts)


def _gaps(seqs: set[int]) -> str:
    top = max(seqs, default=0)
    missing = sorted(set(range(1, top + 1)) - seqs)
    extra = sorted(s for s in seqs if s < 1)
    return f"max {top}, missing {missing[:10]}, out of range {extra[:10]}"
