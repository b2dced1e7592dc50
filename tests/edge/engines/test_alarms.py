"""The alarm engine: raised at the threshold, cleared at the stop's end, acknowledged,
the figures of the OEE engine judged, held counts, and the active alarms across a
restart (checkpoint and restore)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from core.alarms import AlarmChange
from core.types import CountDecision, MachineState, StateChange, SuspectCount
from edge.config.loading import parse_config
from edge.engines.alarms import AlarmEngine, AlreadyAcknowledged, UnknownAlarm
from edge.engines.oee import OeeEngine

T0 = datetime(2026, 12, 7, 10, 0, tzinfo=UTC)
S = MachineState
CONFIG = """
gateway: {id: gw}
site: s
area: a
line: l1
oee: {windows: [1h]}
machines:
  - id: press1
    name: Press 1
    modbus: {host: 127.0.0.1}
    tags: {code: {address: 0}}
    state_rules: [{tag: code, map: {1: running, 2: fault}}]
    ideal_cycle_s: 1
  - id: press2
    line: l2
    modbus: {host: 127.0.0.1}
    tags: {code: {address: 0}}
    ideal_cycle_s: 1
alarms:
  rules:
    - {name: long-fault, kind: stop, longer_than: 10m, severity: critical, lines: [l1]}
    - {name: low-oee, kind: figure, window: 1h, below: 0.6, min_coverage: 0.5}
    - {name: suspect, kind: suspect_count}
"""


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def state(machine: str, s: MachineState, t: float, reason: str | None = None) -> StateChange:
    return StateChange(machine, s, None, at(t), None, None, 0, 7 if reason else None, reason)


def changes(engine: AlarmEngine, now: float) -> list[AlarmChange]:
    return [c for batch in engine.publications(at(now)) for c in batch]


@pytest.fixture
def engine() -> AlarmEngine:
    return AlarmEngine(parse_config(CONFIG, "t.yaml", {}))


def test_a_fault_raises_at_10_min_and_clears_at_its_end(engine: AlarmEngine) -> None:
    engine.apply(state("press1", S.FAULT, 0, "Die jam"))
    engine.apply(state("press2", S.FAULT, 0))  # on line l2: the rule does not watch it
    assert changes(engine, 599.999) == []
    (raised,) = changes(engine, 600.5)
    assert (raised.change, raised.ts, raised.seq) == ("raised", at(600), 1)
    a = raised.alarm
    assert (a.id, a.rule, a.kind, a.severity) == (
        f"press1.long-fault.{int(at(600).timestamp() * 1000)}",
        "long-fault",
        "stop",
        "critical",
    )
    assert a.message == "Press 1: fault (Die jam) for 10 min"
    assert raised.active == (a,) and engine.active_counts() == {"press1": 1, "press2": 0}
    engine.apply(state("press1", S.RUNNING, 725.25))
    (cleared,) = changes(engine, 726)
    assert (cleared.change, cleared.ts, cleared.seq) == ("cleared", at(725.25), 2)
    assert cleared.alarm.cleared == at(725.25) and cleared.active == ()
    assert engine.active() == []


def test_acknowledged_once_by_its_operator(engine: AlarmEngine) -> None:
    engine.apply(state("press1", S.FAULT, 0))
    (raised,) = changes(engine, 700)
    ack = engine.acknowledge(raised.alarm.id, "line-3-tablet", at(710))
    assert (ack.change, ack.ts, ack.seq) == ("acknowledged", at(710), 2)
    assert (ack.alarm.acked_by, ack.alarm.acked_at) == ("line-3-tablet", at(710))
    assert engine.drain() == [ack]
    with pytest.raises(
        AlreadyAcknowledged, match="acknowledged by line-3-tablet at 2026-12-07T10:11:50Z"
    ):
        engine.acknowledge(raised.alarm.id, "other", at(720))
    with pytest.raises(UnknownAlarm):
        engine.acknowledge("press1.nothing.1", "x", at(720))


def test_low_oee_from_the_oee_engines_figures(engine: AlarmEngine) -> None:
    config = parse_config(CONFIG, "t.yaml", {})
    oee = OeeEngine(config)
    # 10:00-10:40 running, 10:40-11:00 fault: A = 2400/3600 = 0.6667; no parts: P = 0,
    # OEE = 0 < 0.6 at 11:00 with the whole hour known (coverage 1.0).
    for ev in (state("press1", S.RUNNING, 0), state("press1", S.FAULT, 2400)):
        oee.apply(ev)
    figures = oee.figures(at(3600), ["press1"])
    engine.observe(figures)
    (raised,) = [c for c in engine.drain() if c.alarm.rule == "low-oee"]
    assert raised.ts == at(3600) and raised.alarm.value == 0.0
    assert raised.alarm.message == "press2: OEE 0.0 % over 1h (target 60.0 %)".replace(
        "press2", "Press 1"
    )


def test_suspect_counts_raise_until_decided(engine: AlarmEngine) -> None:
    held = SuspectCount("press2", at(5), 5000, 5000, 0, None, 3, "total", 12, 10.0)
    engine.observe([held])
    (raised,) = engine.drain()
    assert (raised.ts, raised.alarm.message) == (at(5), "press2: 1 suspect count held: decide it")
    engine.observe([CountDecision("press2", at(90), "discard", "anna", 0, 0, 0, None, 3)])
    (cleared,) = engine.drain()
    assert (cleared.change, cleared.ts) == ("cleared", at(90))


def test_active_alarms_survive_a_restart(engine: AlarmEngine) -> None:
    engine.apply(state("press1", S.FAULT, 0))
    (raised,) = changes(engine, 601)
    meta = engine.checkpoint([raised])
    assert list(meta) == ["alarms/press1"]
    again = AlarmEngine(parse_config(CONFIG, "t.yaml", {}))
    again.restore(meta)
    assert again.active() == [raised.alarm]
    # Its state unknown after the restart (no verdict): the same alarm stays active, and
    # the stop's end clears it with the next seq.
    assert changes(again, 900) == []
    again.apply(state("press1", S.RUNNING, 950))
    (cleared,) = changes(again, 951)
    assert (cleared.alarm.id, cleared.seq, cleared.ts) == (raised.alarm.id, 2, at(950))
