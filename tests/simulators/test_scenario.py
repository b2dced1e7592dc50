"""Scenario loading and validation."""

from __future__ import annotations

from pathlib import Path

import pytest

from simulators.model import MachineState, Segment
from simulators.scenario import ScenarioError, load_scenario, parse_scenario


def minimal(**machine: object) -> dict[str, object]:
    return {"seed": 3, "machines": [{"id": "m1", "unit_id": 1, "cycle_s": 2, **machine}]}


def errors_of(data: object) -> str:
    with pytest.raises(ScenarioError) as info:
        parse_scenario(data, source="x.yaml")
    return str(info.value)


def test_bundled_demo_has_three_lively_machines_on_one_port() -> None:
    s = load_scenario("demo")
    assert (s.name, s.host, s.port, s.time_scale) == ("demo", "127.0.0.1", 5020, 1.0)
    assert [(m.id, m.unit_id, m.port) for m in s.machines] == [
        ("press1", 1, None),
        ("press2", 2, None),
        ("packer1", 3, None),
    ]
    assert all(not m.params.script and m.params.mtbf_s > 0 for m in s.machines)
    assert s.machines[2].params.counter_start == 65476


def test_bundled_test_scenario_is_scripted() -> None:
    s = load_scenario("test")
    m1 = s.machines[0]
    assert m1.params.script[0] == Segment(MachineState.RUNNING, 60.0)
    assert m1.params.script[-1] == Segment(MachineState.PLANNED_STOP, float("inf"), 90)
    assert (m1.params.cycle_s, m1.params.reject_every, m1.seed) == (2.0, 5, "1:m1")


def test_load_by_path(tmp_path: Path) -> None:
    path = tmp_path / "mine.yaml"
    path.write_text("machines: [{id: a, unit_id: 5, ideal_cycle_s: 1.5, port: 0}]\n")
    s = load_scenario(path)
    assert (s.name, s.seed, s.port) == ("mine", 0, 5020)
    assert (s.machines[0].params.cycle_s, s.machines[0].port) == (1.5, 0)


def test_defaults_and_overrides() -> None:
    s = parse_scenario(minimal()).with_overrides(port=0, time_scale=600)
    assert (s.port, s.time_scale, s.host) == (0, 600.0, "127.0.0.1")
    with pytest.raises(ScenarioError, match="time_scale"):
        s.with_overrides(time_scale=0)


def test_unknown_name_lists_bundled() -> None:
    with pytest.raises(ScenarioError, match=r"have: demo, test"):
        load_scenario("no-such-scenario")


def test_errors_name_field_paths() -> None:
    data = {
        "time_scale": -1,
        "colour": "red",
        "machines": [
            {"id": "a", "unit_id": 1, "cycle_s": 0, "reject_rate": 1.5},
            {"id": "a", "unit_id": 1, "fault_reasons": [], "mttr_s": "x"},
            {"id": "b", "unit_id": 300, "script": [{"state": "dancing"}, {"state": "idle"}]},
        ],
    }
    msg = errors_of(data)
    for expected in (
        "x.yaml: invalid scenario",
        "time_scale: must be > 0 (got -1)",
        "colour: unknown field",
        "machines[0].cycle_s: must be > 0 (got 0)",
        "machines[0].reject_rate: must be <= 1 (got 1.5)",
        "machines[1].fault_reasons: must be a non-empty list",
        "machines[1].mttr_s: must be a number (got 'x')",
        "machines[2].unit_id: must be <= 247 (got 300)",
        "machines[2].script[0].state: must be one of running|idle|fault|setup|planned_stop",
        "machines[2].script[0].for_s: required (only the last segment may omit it)",
    ):
        assert expected in msg


def test_duplicates_are_rejected() -> None:
    data = {
        "machines": [
            {"id": "a", "unit_id": 1},
            {"id": "a", "unit_id": 1},
            {"id": "c", "unit_id": 1, "port": 6000},
        ]
    }
    msg = errors_of(data)
    assert "machines[1].id: duplicate machine id 'a'" in msg
    assert "machines[1].unit_id: unit id 1 already used" in msg
    assert "machines[2]" not in msg  # same unit id on its own port is fine


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ([1, 2], "scenario: must be a mapping (got list)"),
        ({"machines": []}, "machines: must be a non-empty list"),
        (minimal(counter_start=2**32), "machines[0].counter_start: must be <= 4294967295"),
        (minimal(cycle_s=1, ideal_cycle_s=1), "give cycle_s or ideal_cycle_s, not both"),
        (minimal(reject_every=True), "reject_every: must be an integer (got True)"),
        (minimal(script=[{"state": "idle", "for_s": 1, "speed": 3}]), "script[0].speed: unknown"),
    ],
)
def test_single_errors(data: object, expected: str) -> None:
    assert expected in errors_of(data)


def test_invalid_yaml(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("machines: [\n")
    with pytest.raises(ScenarioError, match="invalid YAML"):
        load_scenario(path)
