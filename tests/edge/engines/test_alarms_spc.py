"""The alarm engine's `spc` rules: fed the SPC engine's points and violations as they are
emitted (`observe`), raised at the violation's time, acknowledged (still active), cleared
at the eighth point in control, in either order of a point and its violation, and kept
across a restart until the chart is seen in control. Points one a minute from 10:00."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from core.alarms import AlarmChange
from core.spc import SpcPoint, SpcViolation
from edge.config.loading import parse_config
from edge.engines.alarms import AlarmEngine

T0 = datetime(2026, 12, 7, 10, 0, tzinfo=UTC)
CONFIG = """
gateway: {id: gw}
site: s
area: a
line: l1
machines:
  - id: filler1
    name: Filler 1
    modbus: {host: 127.0.0.1}
    tags: {code: {address: 0}, weight: {address: 10, type: float32}}
    ideal_cycle_s: 1
  - id: press2
    line: l2
    modbus: {host: 127.0.0.1}
    tags: {code: {address: 0}}
    ideal_cycle_s: 1
spc:
  charts:
    - {id: filler1-weight, machine: filler1, name: Filler 1 fill weight, unit: g,
       tag: weight, kind: xbar_r, subgroup: {size: 5}}
alarms:
  rules:
    - {name: spc-zone, kind: spc, rules: [WE1, WE2], severity: critical, lines: [l1]}
"""
WE2 = "2 of 3 beyond 2σ on one side"


def at(seq: int) -> datetime:
    return T0 + timedelta(minutes=seq)


def pt(seq: int, *rules: str, chart: str = "filler1-weight", machine: str = "filler1") -> SpcPoint:
    return SpcPoint(chart, machine, at(seq), seq, "xbar_r", 500.0, 1.2, 5, 500.0, 503.0,
                    497.0, "C+", "II", rules)  # fmt: skip


def violation(seq: int, rule: str = "WE2", value: float = 503.1) -> SpcViolation:
    return SpcViolation("filler1-weight", "filler1", at(seq), seq, rule, WE2,
                        (seq - 1, seq), "+", value, "II")  # fmt: skip


@pytest.fixture
def engine() -> AlarmEngine:
    return AlarmEngine(parse_config(CONFIG, "t.yaml", {}))


def feed(engine: AlarmEngine, *events: object) -> list[AlarmChange]:
    engine.observe(events)  # type: ignore[arg-type]
    return engine.drain()


def test_raised_at_the_violation_acknowledged_and_cleared_after_8_points(
    engine: AlarmEngine,
) -> None:
    assert feed(engine, *(pt(s) for s in range(1, 6))) == []
    (raised,) = feed(engine, pt(6, "WE2"), violation(6))
    a = raised.alarm
    assert (raised.change, raised.ts, raised.seq) == ("raised", at(6), 1)
    assert (a.id, a.rule, a.kind, a.severity, a.value) == (
        f"filler1.spc-zone.{int(at(6).timestamp() * 1000)}", "spc-zone", "spc", "critical",
        503.1,
    )  # fmt: skip
    assert (
        a.message == "Filler 1: Filler 1 fill weight: WE2 2 of 3 beyond 2σ on one side at 503.1 g"
    )
    # Acknowledged as the other kinds are: still active until its condition ends.
    (ack,) = [engine.acknowledge(a.id, "ana", at(7) + timedelta(seconds=5))]
    assert engine.drain() == [ack] and ack.alarm.active
    assert feed(engine, *(pt(s) for s in range(7, 14))) == []  # 13 - 6 = 7 points
    (cleared,) = feed(engine, pt(14))  # the eighth point in control
    assert (cleared.change, cleared.ts, cleared.seq) == ("cleared", at(14), 3)
    assert (cleared.alarm.acked_by, cleared.alarm.cleared) == ("ana", at(14))
    assert engine.active() == []


def test_a_violation_before_its_point_and_a_rule_it_does_not_watch(
    engine: AlarmEngine,
) -> None:
    name = "9 points in a row on one side"
    n2 = SpcViolation("filler1-weight", "filler1", at(3), 3, "N2", name, (1, 2, 3), "+", 500.2, "I")
    assert feed(engine, n2, pt(3, "N2")) == []
    (raised,) = feed(engine, violation(4, "WE1", 506.0), pt(4, "WE1"))
    assert raised.ts == at(4) and raised.alarm.value == 506.0
    # Another machine's chart, on a line the rule does not watch: nothing.
    assert feed(engine, pt(1, "WE1", chart="press2-force", machine="press2")) == []


def test_kept_across_a_restart_until_seen_in_control(engine: AlarmEngine) -> None:
    (raised,) = feed(engine, pt(6, "WE2"), violation(6))
    meta = engine.checkpoint([raised])
    again = AlarmEngine(parse_config(CONFIG, "t.yaml", {}))
    again.restore(meta)
    assert [c for b in again.publications(at(30)) for c in b] == []  # no chart seen yet
    assert feed(again, *(pt(s) for s in range(31, 38))) == []  # 7 points seen since
    (cleared,) = feed(again, pt(38))
    assert (cleared.alarm.id, cleared.seq, cleared.ts) == (raised.alarm.id, 2, at(38))
