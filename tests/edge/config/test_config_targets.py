"""Configured output targets: a machine's per shift and per product, a line's per shift;
refusals name the field path and the fix."""

from __future__ import annotations

import pytest

from edge.config.loading import ConfigError, parse_config

BASE = """
gateway: {id: gw1}
site: s1
area: a1
line: l1
calendar:
  timezone: Europe/Berlin
  shifts:
    - {name: early, start: "06:00", end: "14:00"}
    - {name: late, start: "14:00", end: "22:00"}
lines:
  l1:
    targets: {per_shift: %(line)s}
machines:
  - id: press1
    modbus: {host: 127.0.0.1}
    tags: {code: {address: 0}, product: {address: 1}}
    state_rules: [{tag: code, map: {1: running}}]
    product_tag: product
    ideal_cycle_s: 12
    products: {"P-100": {ideal_cycle_s: 10, name: Bracket}}
    targets: {per_hour: %(hour)s, per_shift: %(shift)s}
"""


def text(line: str = "{}", hour: str = "{}", shift: str = "{}") -> str:
    return BASE % {"line": line, "hour": hour, "shift": shift}


def issues(config: str) -> list[str]:
    with pytest.raises(ConfigError) as e:
        parse_config(config, "t.yaml", {})
    return [str(i) for i in e.value.issues]


def test_targets_are_read() -> None:
    config = parse_config(
        text(line="{early: 1800}", hour='{"P-100": 300}', shift="{late: 900}"), "t.yaml", {}
    )
    machine = config.machine("press1")
    assert machine.targets is not None
    assert machine.targets.per_hour == {"P-100": 300.0}
    assert machine.targets.per_shift == {"late": 900}
    line = config.lines["l1"].targets
    assert line is not None and line.per_shift == {"early": 1800}


def test_unknown_shift_and_product_name_their_path() -> None:
    found = issues(text(line="{night: 1}", hour='{"P-999": 300}', shift="{nite: 5}"))
    assert found == [
        "machines[0].targets.per_shift.nite: 'nite' is not a shift of this calendar "
        "(shifts: early, late)",
        "machines[0].targets.per_hour.P-999: 'P-999' is not under `products` (known: P-100)",
        "lines.l1.targets.per_shift.night: 'night' is not a shift of this calendar "
        "(shifts: early, late)",
    ]


def test_ranges() -> None:
    found = issues(text(hour='{"P-100": 0}', shift="{early: 0}"))
    assert found == [
        "machines[0].targets.per_shift.early: 0 is out of range: write a whole number of "
        "parts from 1 to 100000000",
        "machines[0].targets.per_hour.P-100: 0 is out of range: write a number of parts per "
        "hour from 0.1 to 100000",
    ]
