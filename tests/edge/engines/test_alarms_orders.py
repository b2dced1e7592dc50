"""The order alarm kinds (`order_at_risk`, `order_late`): raised when the machine's
current order has that status (a late order from its due time), cleared when it ends."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

from core.alarms import AlarmChange
from core.orders import OrderProgress
from edge.config.loading import parse_config
from edge.engines.alarms import AlarmEngine
from tests.fixtures.order_events import NONE_RUNS, PROGRESS, T

CONFIG = """
gateway: {id: gw}
site: s
area: a
line: l1
machines:
  - id: m1
    modbus: {host: 127.0.0.1}
    tags: {code: {address: 0}}
    ideal_cycle_s: 1
alarms:
  rules:
    - {name: at-risk, kind: order_at_risk}
    - {name: late, kind: order_late, severity: critical}
"""
DUE = T + timedelta(hours=2, minutes=30)  # 12:00


def progress(status: str, at: timedelta) -> OrderProgress:
    assert PROGRESS.progress is not None
    p = dataclasses.replace(PROGRESS.progress, status=status)  # type: ignore[arg-type]
    return dataclasses.replace(PROGRESS, ts=T + at, progress=p)


def changes(engine: AlarmEngine, *events: OrderProgress) -> list[tuple[str, str, object]]:
    engine.observe(list(events))
    out = [c for batch in engine.publications(events[-1].ts) for c in batch]
    assert all(isinstance(c, AlarmChange) for c in out)
    return [(c.change, c.alarm.rule, c.ts) for c in out]


def test_an_order_at_risk_then_late_then_none() -> None:
    engine = AlarmEngine(parse_config(CONFIG, "t.yaml", {}))
    assert changes(engine, progress("on_track", timedelta(0))) == []
    assert changes(engine, progress("at_risk", timedelta(minutes=10))) == [
        ("raised", "at-risk", T + timedelta(minutes=10))
    ]
    assert changes(engine, progress("at_risk", timedelta(minutes=20))) == []  # once
    (alarm,) = engine.active("m1")
    assert alarm.message == "m1: order A at risk (due 2026-12-07 12:00 UTC)"
    late = progress("late", timedelta(hours=2, minutes=31))  # seen a minute after due
    assert changes(engine, late) == [
        ("cleared", "at-risk", late.ts),
        ("raised", "late", DUE),  # late from its due time on
    ]
    assert engine.active("m1")[0].severity == "critical"
    gone = dataclasses.replace(NONE_RUNS, ts=late.ts + timedelta(seconds=10))
    assert changes(engine, gone) == [("cleared", "late", gone.ts)]
