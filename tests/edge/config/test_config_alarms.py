"""The `alarms:` section: rule kinds, durations in seconds or minutes, ranges and the
errors that name their field path."""

from __future__ import annotations

import pytest

from edge.config.loading import ConfigError, parse_config
from oee.alarms import FigureRule, OfflineRule, SpcRule, StopRule, SuspectRule
from oee.states import MachineState

BASE = """
gateway: {id: gw}
site: s
area: a
line: l1
oee: {windows: [15m, 1h, day]}
machines:
  - id: press1
    name: Press 1
    modbus: {host: 127.0.0.1}
    tags: {code: {address: 0}}
    state_rules: [{tag: code, map: {1: running, 2: fault}}]
    ideal_cycle_s: 1
alarms:
"""


SPC_CHART = """spc:
  charts: [{id: press1-weight, machine: press1, tag: code, kind: imr}]
"""


def parse(alarms: str):  # type: ignore[no-untyped-def]
    return parse_config(BASE + alarms, "t.yaml", {"HOOK_TOKEN": "s3cret"})


def issues(alarms: str) -> list[str]:
    with pytest.raises(ConfigError) as e:
        parse(alarms)
    return [str(i) for i in e.value.issues]


def test_every_kind_of_rule() -> None:
    c = parse(
        """
  rules:
    - {name: long-fault, kind: stop, longer_than: 10m, severity: critical, reasons: [7]}
    - {name: fault-20s, kind: stop, states: [fault, setup], longer_than: 20s}
    - {name: low-oee, kind: figure, window: 1h, below: 0.6, machines: [press1]}
    - {name: suspect, kind: suspect_count, severity: info, lines: [l1]}
    - {name: gone, kind: offline, longer_than: 90}
  webhook:
    url: https://example.invalid/hook
    headers: {Authorization: "Bearer ${HOOK_TOKEN}"}
"""
    )
    rules = [r.to_rule() for r in c.alarms.rules]
    fault = frozenset({MachineState.FAULT})
    assert rules == [
        StopRule("long-fault", "critical", fault, 600.0, frozenset({7})),
        StopRule("fault-20s", "warning", fault | {MachineState.SETUP}, 20.0),
        FigureRule("low-oee", "warning", "oee", "1h", 0.6, 0.05, 0.5),
        SuspectRule("suspect", "info"),
        OfflineRule("gone", "warning", 90.0),
    ]
    assert c.alarms.webhook is not None
    assert c.alarms.webhook.headers["Authorization"].get_secret_value() == "Bearer s3cret"
    assert "s3cret" not in repr(c.alarms.webhook)


@pytest.mark.parametrize(
    ("alarms", "message"),
    [
        (
            "  rules: [{name: x, kind: stop, longer_than: 10 minutes}]",
            "alarms.rules[0].longer_than: '10 minutes' is not a duration: "
            "write e.g. 20s, 10m or 1h",
        ),
        (
            "  rules: [{name: x, kind: stop, longer_than: 0.5s}]",
            "alarms.rules[0].longer_than: 0.5 is out of range: write a "
            "number of seconds from 1 to 604800",
        ),
        (
            "  rules: [{name: x, kind: figure, window: 1h, below: 60}]",
            "alarms.rules[0].below: 60 is out of range: write a number from 0 to 1",
        ),
        (
            "  rules: [{name: x, kind: figure, window: 8h, below: 0.6}]",
            "alarms.rules[0].window: window '8h' is not in oee.windows (15m, 1h, day): add it",
        ),
        (
            "  rules: [{name: x, kind: offline, longer_than: 60, machines: [press9]}]",
            "alarms.rules[0].machines[0]: no machine 'press9': known are press1",
        ),
        (
            "  rules: [{name: x, kind: offline, longer_than: 60}, {name: x, kind: suspect_count}]",
            "alarms.rules[1].name: rule name 'x' is used twice: rename one",
        ),
        (
            "  webhook: {url: ftp://host/x}",
            "alarms.webhook.url: 'ftp://host/x' is not an HTTP URL: write e.g. https://host/path",
        ),
    ],
)
def test_errors_name_the_field(alarms: str, message: str) -> None:
    assert message in issues(alarms)


def test_an_unknown_kind_is_refused() -> None:
    (problem,) = issues("  rules: [{name: x, kind: energy}]")
    assert problem.startswith("alarms.rules[0]")
    assert "'stop', 'figure', 'suspect_count', 'offline', 'spc'" in problem


def test_an_spc_rule_and_its_defaults() -> None:
    c = parse(
        """
  rules:
    - {name: spc-any, kind: spc}
    - {name: spc-zone, kind: spc, severity: critical, rules: [WE1, WE2, N2, SPREAD],
       clear_after: 25, machines: [press1]}
"""
    )
    assert [r.to_rule() for r in c.alarms.rules] == [
        SpcRule("spc-any", "warning", None, None, 8),
        SpcRule("spc-zone", "critical", None, frozenset({"WE1", "WE2", "N2", "SPREAD"}), 25),
    ]


@pytest.mark.parametrize(
    ("alarms", "message"),
    [
        (
            "  rules: [{name: x, kind: spc, clear_after: 0}]",
            "alarms.rules[0].clear_after: 0 is out of range: write a whole number of points "
            "from 1 to 1000",
        ),
        (
            "  rules: [{name: x, kind: spc, charts: [filler1-weight]}]",
            "alarms.rules[0].charts[0]: no chart 'filler1-weight': known are none",
        ),
        (
            "  rules: [{name: x, kind: spc, charts: [press1-weigth]}]\n" + SPC_CHART,
            "alarms.rules[0].charts[0]: no chart 'press1-weigth': known are press1-weight",
        ),
    ],
)
def test_spc_rule_errors_name_the_field(alarms: str, message: str) -> None:
    assert message in issues(alarms)


def test_an_unknown_run_rule_is_refused_with_the_known_ones() -> None:
    (problem,) = issues("  rules: [{name: x, kind: spc, rules: [WE5]}]")
    assert problem == (
        "alarms.rules[0].rules[0]: Input should be 'WE1', 'WE2', 'WE3', 'WE4', 'N1', 'N2', "
        "'N3', 'N4', 'N5', 'N6', 'N7', 'N8' or 'SPREAD'"
    )
