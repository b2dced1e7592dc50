"""Scenario loading and validation."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest

from simulators.model import MachineModel, MachineState, Segment
from simulators.scenario import MAX_SCENARIO_BYTES, ScenarioError, load_scenario, parse_scenario


def minimal(**machine: object) -> dict[str, object]:
    return {"seed": 3, "machines": [{"id": "m1", "unit_id": 1, "cycle_s": 2, **machine}]}


def errors_of(data: object) -> str:
    with pytest.raises(ScenarioError) as info:
        parse_scenario(data, source="x.yaml")
    return str(info.value)


def test_bundled_demo_has_four_machines_on_one_port() -> None:
    s = load_scenario("demo")
    assert (s.name, s.host, s.port, s.time_scale) == ("demo", "127.0.0.1", 5020, 1.0)
    assert [(m.id, m.unit_id, m.port) for m in s.machines] == [
        ("press1", 1, None),
        ("press2", 2, None),
        ("packer1", 3, None),
        ("filler1", 4, None),
    ]
    press1, press2, packer1, filler1 = (m.params for m in s.machines)
    assert all(not m.script and m.mtbf_s > 0 for m in (press1, packer1))  # random mode
    assert (press2.repeat, sum(seg.for_s for seg in press2.script)) == (True, 600.0)
    assert packer1.counter_start == 65476
    # The fill weight the demo's SPC chart watches (tests/edge/cli/test_demo.py).
    assert (filler1.cycle_s, filler1.fill_mean, filler1.fill_sd) == (2.0, 500, 1)
    assert (filler1.fill_drift_at_s, filler1.fill_drift_shift) == (300, 2)


def test_the_demo_press2_faults_35_s_within_its_first_minute() -> None:
    # What an alarm "fault longer than 20 s" fires on: press2's script (sim seconds).
    # Faults of pass k (600 s each): [15 + 600k, 50 + 600k) reason 16 and the short
    # [469 + 600k, 484 + 600k) reason 11, which such an alarm lets pass.
    m = load_scenario("demo").model("press2", history_size=None)
    m.advance_to(1200)
    faults = [
        (a.t, b.t - a.t, a.reason)
        for a, b in zip(m.history, list(m.history)[1:], strict=False)
        if a.state is MachineState.FAULT
    ]
    assert faults == [(15.0, 35.0, 16), (469.0, 15.0, 11), (615.0, 35.0, 16), (1069.0, 15.0, 11)]
    # Products: 201, a changeover to 202 at 208 s, back to 201 at 554 s.
    assert [(t.t, t.product) for t in m.history if t.state is MachineState.SETUP][:2] == [
        (208.0, 202),
        (554.0, 201),
    ]


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


def test_a_scenario_file_is_read_only_up_to_its_bound(tmp_path: Path) -> None:
    # A wrong path to a huge file is refused after 4 MiB + 1 bytes, never read whole:
    # this one is sparse, 8 GiB long.
    huge = tmp_path / "huge.yaml"
    with huge.open("wb") as f:
        f.truncate(8 * 2**30)
    with pytest.raises(ScenarioError) as info:
        load_scenario(huge)
    assert str(info.value) == (
        f"{huge}: larger than 4 MiB; a scenario is a few kilobytes of YAML: check the path"
    )
    # Exactly at the bound it is read (and then judged as YAML: here a comment only).
    edge = tmp_path / "edge.yaml"
    edge.write_bytes(b"#" * (MAX_SCENARIO_BYTES - 1) + b"\n")
    with pytest.raises(ScenarioError) as info:
        load_scenario(edge)
    assert str(info.value) == (
        f"{edge}: invalid scenario:\n  scenario: must be a mapping (got NoneType)"
    )
    latin1 = tmp_path / "latin1.yaml"
    latin1.write_bytes(b"name: demo\n# Stra\xdfe\n")
    with pytest.raises(ScenarioError) as info:
        load_scenario(latin1)
    assert str(info.value) == f"{latin1}: line 2: not UTF-8 text"


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


def looping(**machine: object) -> dict[str, object]:
    script = [
        {"state": "running", "for_s": 10},
        {"state": "fault", "for_s": 5, "reason": 12},
        {"state": "idle", "for_s": 5, "reason": 7},
    ]
    return minimal(**{"repeat": True, "script": script, **machine})


def test_repeat() -> None:
    s = parse_scenario(looping())
    assert s.machines[0].params.repeat
    assert not parse_scenario(minimal(script=[{"state": "idle"}])).machines[0].params.repeat


@pytest.mark.parametrize(
    ("script", "expected"),
    [
        (
            [{"state": "running", "for_s": 10}, {"state": "idle", "for_s": 5}, {"state": "fault"}],
            "machines[0].script[2].for_s: must be finite when repeat is true",
        ),
        (
            [{"state": "running", "for_s": float("inf")}, {"state": "idle", "for_s": 5}],
            "machines[0].script[0].for_s: must be finite when repeat is true",
        ),
        (
            [{"state": "running"}, {"state": "idle", "for_s": 5}],
            "machines[0].script[0].for_s: must be finite when repeat is true",
        ),
    ],
)
def test_repeat_needs_finite_for_s(script: list[object], expected: str) -> None:
    msg = errors_of(minimal(repeat=True, script=script))
    assert msg == f"x.yaml: invalid scenario:\n  {expected}"


def test_repeat_errors() -> None:
    assert errors_of(looping(repeat="yes")) == (
        "x.yaml: invalid scenario:\n  machines[0].repeat: must be true or false (got 'yes')"
    )
    assert errors_of(minimal(repeat=True)) == (
        "x.yaml: invalid scenario:\n  machines[0].repeat: needs a script (random mode never ends)"
    )


def test_model_is_built_like_the_servers() -> None:
    s = load_scenario("test")
    m1 = s.model("m1")
    assert (m1.params, m1.sim_t, m1.history.maxlen) == (s.machine("m1").params, 0.0, 1000)
    m1.advance_to(180)
    snap = m1.snapshot()
    assert (snap.state, snap.reason, snap.product, snap.total, snap.good, snap.reject) == (
        MachineState.PLANNED_STOP, 90, 102, 50, 40, 10,
    )  # fmt: skip
    # Seeded like the servers' ("<seed>:<id>"): random mode gives the same history.
    demo = load_scenario("demo")
    a, b = (
        demo.model("press1", history_size=None),
        MachineModel(demo.machines[0].params, "42:press1"),
    )
    a.advance_to(3600)
    b.advance_to(3600)
    assert list(a.history) == list(b.history) and a.snapshot() == b.snapshot()
    assert a.history.maxlen is None
    with pytest.raises(KeyError, match="scenario 'test' has no machine 'm9'"):
        s.model("m9")


def test_epoch_override() -> None:
    s = load_scenario("test")
    assert s.epoch is None
    with pytest.raises(ValueError, match="no epoch"):
        s.sim_time_at(1000.0)
    epoched = s.with_overrides(epoch=1_000_000.5)
    assert epoched.epoch == 1_000_000.5
    assert epoched.with_overrides(port=0).epoch == 1_000_000.5  # kept by other overrides
    assert epoched.sim_time_at(1_000_010.5) == 600.0  # 10 s at 60x
    assert epoched.sim_time_at(999_999.0) == 0.0  # never negative


def test_epoch_must_be_past_and_finite() -> None:
    s = load_scenario("test")
    future = time.time() + 3600
    expected = re.escape(f"epoch: must not be in the future (got {future}, now ")
    with pytest.raises(ScenarioError, match=f"^{expected}"):
        s.with_overrides(epoch=future)
    with pytest.raises(
        ScenarioError, match=r"^epoch: must be a finite number of Unix seconds \(got nan\)$"
    ):
        s.with_overrides(epoch=float("nan"))


def test_extra_tags() -> None:
    assert parse_scenario(minimal()).machines[0].params.extra_tags == 0
    assert parse_scenario(minimal(extra_tags=84)).machines[0].params.extra_tags == 84
    data = {
        "machines": [
            {"id": "a", "unit_id": 1, "extra_tags": 85},
            {"id": "b", "unit_id": 2, "extra_tags": -1},
            {"id": "c", "unit_id": 3, "extra_tags": 1.5},
            {"id": "d", "unit_id": 4, "extra_tags": True},
        ]
    }
    assert errors_of(data) == (
        "x.yaml: invalid scenario:\n"
        "  machines[0].extra_tags: must be <= 84 (got 85)\n"
        "  machines[1].extra_tags: must be >= 0 (got -1)\n"
        "  machines[2].extra_tags: must be an integer (got 1.5)\n"
        "  machines[3].extra_tags: must be an integer (got True)"
    )
