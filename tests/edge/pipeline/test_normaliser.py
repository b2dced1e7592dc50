"""State rules, counter wrap/reset and seq of the normaliser."""

from datetime import UTC, datetime, timedelta

import pytest

from core.types import CountDelta, MachineState, Quality, Sample, SampleBatch, StateChange
from edge.config import MachineConfig
from edge.pipeline.normaliser import CounterTracker, MachineNormaliser

T0 = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)
G, B = Quality.GOOD, Quality.BAD


def machine(**over: object) -> MachineConfig:
    base: dict[str, object] = {
        "id": "m1",
        "modbus": {"host": "127.0.0.1"},
        "tags": {
            "code": {"address": 0},
            "reason": {"address": 2},
            "fault": {"address": 1, "type": "bit", "bit": 1},
            "total": {"address": 4, "type": "uint32"},
            "reject": {"address": 8, "type": "uint16"},
            "product": {"address": 3},
        },
        "state_rules": [
            {"tag": "fault", "state": "fault"},
            {"tag": "code", "map": {1: "running", 4: "setup"}, "reason_tag": "reason"},
            {"counter": "total", "within_s": 5},
        ],
        "counters": {"total": {"tag": "total"}, "reject": {"tag": "reject", "bits": 16}},
        "product_tag": "product",
        "ideal_cycle_s": 2,
        "reasons": {12: "Sensor fault"},
    }
    base.update(over)
    return MachineConfig.model_validate(base)


def batch(t: float, error: str | None = None, **values: object) -> SampleBatch:
    ts = T0 + timedelta(seconds=t)
    q = B if error else G
    return SampleBatch("m1", ts, tuple(Sample(k, v, q, ts) for k, v in values.items()), error)  # type: ignore[arg-type]


def test_first_match_wins_and_seq_increases() -> None:
    n = MachineNormaliser(machine())
    (e1,) = n.update(batch(0, code=1, fault=False, total=10, reject=0, reason=0, product=101))
    assert isinstance(e1, StateChange)
    assert (e1.state, e1.previous, e1.seq, e1.duration_s) == ("running", None, 1, None)
    (e2,) = n.update(batch(3, code=1, fault=True, total=10, reject=0, reason=12, product=101))
    assert (e2.state, e2.previous, e2.seq, e2.duration_s) == ("fault", "running", 2, 3.0)
    assert n.update(batch(4, code=1, fault=True, total=10, reject=0, reason=12, product=101)) == []
    (e3,) = n.update(batch(9, code=4, fault=False, total=10, reject=0, reason=12, product=101))
    assert (e3.state, e3.seq, e3.reason_code, e3.reason) == ("setup", 3, 12, "Sensor fault")


def test_unmapped_code_falls_through_to_counter_movement_then_default() -> None:
    n = MachineNormaliser(machine())
    n.update(batch(0, code=9, fault=False, total=100, reject=0, reason=0, product=1))
    assert n.state is MachineState.IDLE  # counter has not moved yet
    events = n.update(batch(1, code=9, fault=False, total=103, reject=1, reason=0, product=1))
    assert events[0] == CountDelta("m1", T0 + timedelta(seconds=1), 3, 2, 1, "1", seq=1)
    assert isinstance(events[1], StateChange) and events[1].state == "running"
    n.update(batch(6, code=9, fault=False, total=103, reject=1, reason=0, product=1))
    assert n.state is MachineState.RUNNING  # moved 5 s ago: still within_s
    n.update(batch(6.5, code=9, fault=False, total=103, reject=1, reason=0, product=1))
    assert n.state is MachineState.IDLE


def test_failed_read_is_offline_and_counts_resume_without_loss() -> None:
    n = MachineNormaliser(machine())
    n.update(batch(0, code=1, fault=False, total=100, reject=5, reason=0, product=1))
    (off,) = n.update(batch(1, error="timeout", code=None, fault=None, total=None, reject=None))
    assert (off.state, off.previous, off.seq) == ("offline", "running", 2)
    events = n.update(batch(5, code=1, fault=False, total=110, reject=6, reason=0, product=1))
    assert events[0] == CountDelta("m1", T0 + timedelta(seconds=5), 10, 9, 1, "1", seq=1)
    assert events[1].state == "running" and events[1].duration_s == 4.0


def test_bad_quality_rule_input_means_offline_not_a_guess() -> None:
    n = MachineNormaliser(machine())
    ts = T0
    samples = (Sample("fault", None, B, ts), Sample("code", 1, G, ts))
    (e,) = n.update(SampleBatch("m1", ts, samples))
    assert e.state == "offline"


@pytest.mark.parametrize(
    ("bits", "before", "after", "delta"),
    [
        (16, 65530, 4, 10),  # wrap
        (16, 65535, 0, 1),
        (32, 2**32 - 2, 3, 5),
        (64, 2**64 - 1, 0, 1),
        (16, 1200, 3, 3),  # reset to 0, then 3 counted
        (32, 500, 0, 0),  # reset, nothing counted yet
        (16, 100, 100, 0),
        (16, 100, 107, 7),
    ],
)
def test_counter_wrap_and_reset_never_negative(
    bits: int, before: int, after: int, delta: int
) -> None:
    t = CounterTracker(bits)
    assert t.update(before) == 0  # first value is the baseline
    assert t.update(after) == delta


def test_a_reject_read_after_its_part_moves_a_good_part_to_reject() -> None:
    """Issue 15: this was (1, 0, 1), a phantom part (see test_counter_trust.py)."""
    n = MachineNormaliser(machine())
    n.update(batch(0, code=1, fault=False, total=10, reject=0, reason=0, product=1))
    (d,) = n.update(batch(1, code=1, fault=False, total=10, reject=1, reason=0, product=1))
    assert (d.total, d.good, d.reject) == (0, -1, 1)


def test_good_and_reject_counters_derive_total() -> None:
    m = machine(
        tags={"g": {"address": 0}, "r": {"address": 1}},
        state_rules=[],
        counters={"good": {"tag": "g", "bits": 16}, "reject": {"tag": "r", "bits": 16}},
        product_tag=None,
    )
    n = MachineNormaliser(m)
    (s,) = n.update(SampleBatch("m1", T0, (Sample("g", 65535, G, T0), Sample("r", 7, G, T0))))
    assert s.state == "idle"  # no rules: the default state
    t1 = T0 + timedelta(seconds=1)
    (d,) = n.update(SampleBatch("m1", t1, (Sample("g", 2, G, t1), Sample("r", 8, G, t1))))
    assert (d.total, d.good, d.reject, d.product) == (4, 3, 1, None)


def test_go_offline_only_once() -> None:
    n = MachineNormaliser(machine())
    n.update(batch(0, code=1, fault=False, total=1, reject=0, reason=0, product=1))
    assert n.go_offline(T0 + timedelta(seconds=2)).state == "offline"
    assert n.go_offline(T0 + timedelta(seconds=3)) is None
