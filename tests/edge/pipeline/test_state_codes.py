"""A state code outside the map (issue 15): seen to become `default_state` for ever, with
no log, no metric, and nothing on the page. Now each such code is logged once, counted,
and shown as an issue until the tag reads a listed code again."""

import logging
from datetime import UTC, datetime, timedelta

import pytest

from core.types import MachineState, Quality, Sample, SampleBatch, StateChange
from edge.config import MachineConfig
from edge.pipeline.normaliser import MachineNormaliser

T0 = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)


def machine() -> MachineConfig:
    return MachineConfig.model_validate(
        {
            "id": "m1",
            "modbus": {"host": "127.0.0.1"},
            "tags": {"code": {"address": 0}, "why": {"address": 1, "type": "float32"}},
            "state_rules": [
                {"tag": "code", "map": {1: "running", 3: "fault"}, "reason_tag": "why"}
            ],
            "ideal_cycle_s": 2,
        }
    )


def read(n: MachineNormaliser, t: float, code: object, why: object = 0) -> list[StateChange]:
    ts = T0 + timedelta(seconds=t)
    samples = (Sample("code", code, Quality.GOOD, ts), Sample("why", why, Quality.GOOD, ts))  # type: ignore[arg-type]
    return [e for e in n.update(SampleBatch("m1", ts, samples)) if isinstance(e, StateChange)]


def test_an_unmapped_code_is_said_once_counted_and_shown(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="edge.pipeline.issues")
    n = MachineNormaliser(machine())
    (idle,) = read(n, 0, 7)
    assert idle.state is MachineState.IDLE  # the default state, as before
    for t in (1, 2, 3):
        assert read(n, t, 7) == []
    read(n, 4, 9)
    assert n.stats.state_code_unmapped == 5
    issues = n.issues.open()
    assert [(i.kind, i.count) for i in issues] == [
        ("state_code_unmapped", 4),
        ("state_code_unmapped", 1),
    ]
    assert issues[0].detail == (
        "tag code read 7, a code its state map does not list (1, 3): the next rule or "
        "`default_state` decides"
    )
    (running,) = read(n, 5, 1)
    assert running.state is MachineState.RUNNING and n.issues.open() == []
    said = [(r.levelname, r.getMessage()) for r in caplog.records]
    unmapped = "a code its state map does not list (1, 3): the next rule or `default_state` decides"
    assert said[:2] == [
        ("WARNING", f"m1: tag code read 7, {unmapped}"),
        ("WARNING", f"m1: tag code read 9, {unmapped}"),
    ]
    assert [lv for lv, _ in said[2:]] == ["INFO", "INFO"]  # both ended by the listed code


def test_a_code_that_is_no_number_is_no_crash() -> None:
    """Seen: `int(nan)` on a float code or reason tag raised in the poll task."""
    n = MachineNormaliser(machine())
    assert read(n, 0, float("nan"))[0].state is MachineState.IDLE
    (fault,) = read(n, 1, 3, why=float("inf"))
    assert (fault.state, fault.reason_code) == (MachineState.FAULT, None)
    assert read(n, 2, 3.0, why=12.0) == []  # a whole float is its code
