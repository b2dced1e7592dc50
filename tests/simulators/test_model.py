"""The machine model: determinism, exact script counts, counter wraps, rejects."""

from __future__ import annotations

import math

import pytest

from simulators.model import MachineModel, MachineParams, MachineState, Segment

S = MachineState

LIVELY = MachineParams(
    cycle_s=2.0,
    reject_rate=0.1,
    micro_stop_every_s=30,
    micro_stop_s=5,
    mtbf_s=120,
    mttr_s=20,
    fault_reasons=(11, 12, 13),
    setup_every_parts=40,
    setup_s=30,
    products=(101, 102, 103),
    break_every_s=600,
    break_s=60,
    break_reason=30,
)


def scripted(*segments: Segment, **kw: object) -> MachineModel:
    return MachineModel(MachineParams(script=segments, **kw), seed=1)  # type: ignore[arg-type]


def run_sampled(step: float, until: float, seed: int | str = 7) -> MachineModel:
    model = MachineModel(LIVELY, seed)
    t = 0.0
    for i in range(1, int(until / step) + 1):
        t = i * step
        model.advance_to(t)
    model.advance_to(until)
    return model


def test_same_seed_gives_same_event_sequence() -> None:
    a, b = MachineModel(LIVELY, 7), MachineModel(LIVELY, 7)
    a.advance_to(3600)
    b.advance_to(3600)
    assert list(a.history) == list(b.history)
    assert a.snapshot() == b.snapshot()
    # Lively enough to exercise every kind of stop within an hour.
    assert {t.state for t in a.history} == set(MachineState)


def test_different_seeds_differ() -> None:
    a, b = MachineModel(LIVELY, 7), MachineModel(LIVELY, 8)
    a.advance_to(3600)
    b.advance_to(3600)
    assert list(a.history) != list(b.history)


def test_sampling_rate_does_not_change_results() -> None:
    coarse = MachineModel(LIVELY, 7)
    coarse.advance_to(3600)
    for step in (0.05, 0.7, 13.0):
        fine = run_sampled(step, 3600)
        assert fine.snapshot() == coarse.snapshot()
        assert list(fine.history) == list(coarse.history)


def test_script_running_60s_at_2s_cycle_is_exactly_30_parts() -> None:
    m = scripted(Segment(S.RUNNING, 60), Segment(S.IDLE, reason=5), cycle_s=2.0)
    m.advance_to(59.999)
    assert m.snapshot().parts == 29
    m.advance_to(60)  # the 30th part completes as the segment ends
    snap = m.snapshot()
    assert (snap.parts, snap.state, snap.reason) == (30, S.IDLE, 5)
    m.advance_to(1e6)  # the last state is held forever
    snap = m.snapshot()
    assert (snap.parts, snap.state, snap.reason, snap.speed) == (30, S.IDLE, 5, 0.0)


def test_script_segments_reasons_and_products() -> None:
    m = scripted(
        Segment(S.RUNNING, 10),
        Segment(S.FAULT, 5, reason=12),
        Segment(S.SETUP, 5, reason=3, product=102),
        Segment(S.PLANNED_STOP, reason=90),
        cycle_s=1.0,
        product=101,
    )
    seen = []
    for t in (5, 12, 17, 100):
        m.advance_to(t)
        s = m.snapshot()
        seen.append((s.state, s.reason, s.product, s.parts))
    assert seen == [
        (S.RUNNING, 0, 101, 5),
        (S.FAULT, 12, 101, 10),
        (S.SETUP, 3, 102, 10),
        (S.PLANNED_STOP, 90, 102, 10),
    ]
    assert [(t.t, t.state) for t in m.history] == [
        (0.0, S.RUNNING),
        (10.0, S.FAULT),
        (15.0, S.SETUP),
        (20.0, S.PLANNED_STOP),
    ]


def test_partial_cycle_is_carried_across_a_stop() -> None:
    m = scripted(
        Segment(S.RUNNING, 3),
        Segment(S.IDLE, 10),
        Segment(S.RUNNING, 1),
        Segment(S.IDLE),
        cycle_s=2.0,
    )
    m.advance_to(100)
    assert m.snapshot().parts == 2  # 3 s + 1 s of running = two 2 s cycles


def test_reject_every_is_exact() -> None:
    m = scripted(Segment(S.RUNNING, 100), Segment(S.IDLE), cycle_s=1.0, reject_every=4)
    m.advance_to(200)
    s = m.snapshot()
    assert (s.total, s.good, s.reject) == (100, 75, 25)


def test_reject_rate_is_seeded() -> None:
    params = MachineParams(cycle_s=1.0, reject_rate=0.1)
    a, b = MachineModel(params, 3), MachineModel(params, 3)
    a.advance_to(10_000)
    for t in range(1, 10_001, 333):
        b.advance_to(t)
    b.advance_to(10_000)
    assert a.snapshot() == b.snapshot()
    assert a.snapshot().total == 10_000
    assert 900 <= a.snapshot().reject <= 1100


def test_16_bit_counters_wrap() -> None:
    m = scripted(
        Segment(S.RUNNING, 30), Segment(S.IDLE), cycle_s=1.0, reject_every=3, counter_start=65530
    )
    m.advance_to(5)
    assert (m.snapshot().total16, m.snapshot().total) == (65535, 65535)
    m.advance_to(6)
    assert (m.snapshot().total16, m.snapshot().total) == (0, 65536)
    m.advance_to(100)
    s = m.snapshot()
    assert (s.total, s.good, s.reject, s.total16, s.reject16) == (65560, 65550, 65540, 24, 4)


def test_32_bit_counters_wrap() -> None:
    start = 2**32 - 6
    m = scripted(Segment(S.RUNNING, 20), Segment(S.FAULT), cycle_s=1.0, counter_start=start)
    m.advance_to(6)
    assert m.snapshot().total == 0
    m.advance_to(100)
    s = m.snapshot()
    assert (s.total, s.good, s.reject, s.total16, s.reject16) == (14, 14, start, 14, 65530)


def test_setup_every_n_parts_changes_product() -> None:
    params = MachineParams(cycle_s=1.0, setup_every_parts=10, setup_s=5, products=(7, 8))
    m = MachineModel(params, 1)
    m.advance_to(10)
    assert (m.snapshot().state, m.snapshot().parts, m.snapshot().product) == (S.SETUP, 10, 8)
    m.advance_to(15)
    assert (m.snapshot().state, m.snapshot().product) == (S.RUNNING, 8)
    m.advance_to(25)
    assert (m.snapshot().state, m.snapshot().parts, m.snapshot().product) == (S.SETUP, 20, 7)


def test_planned_breaks_follow_the_schedule() -> None:
    params = MachineParams(cycle_s=1.0, break_every_s=100, break_s=10, break_reason=30)
    m = MachineModel(params, 1)
    m.advance_to(1000)
    breaks = [(t.t, t.reason) for t in m.history if t.state is S.PLANNED_STOP]
    assert breaks == [(100.0 * k, 30) for k in range(1, 11)]
    assert m.snapshot().parts == 910  # 1000 s minus nine finished 10 s breaks


def test_faults_use_listed_reasons_and_zero_speed() -> None:
    m = MachineModel(MachineParams(cycle_s=1.0, mtbf_s=50, mttr_s=10, fault_reasons=(4, 9)), 2)
    m.advance_to(5000)
    reasons = {t.reason for t in m.history if t.state is S.FAULT}
    assert reasons == {4, 9}


def test_speed_and_temperature() -> None:
    m = MachineModel(
        MachineParams(cycle_s=2.0, temp_base=40, temp_amplitude=5, temp_period_s=600), 1
    )
    m.advance_to(150)
    s = m.snapshot()
    assert s.speed == 30.0
    assert s.temperature == pytest.approx(45.0)
    assert s.state is S.RUNNING and math.isinf(m._seg_end)


def test_time_cannot_go_backwards() -> None:
    m = MachineModel(MachineParams(), 1)
    m.advance_to(10)
    with pytest.raises(ValueError, match="backwards"):
        m.advance_to(9)


# -- repeat: the script starts again after its last segment ----------------------------

# One 12 s pass: 7 s running (3.5 parts at 2 s/part), fault, setup to product 102; the
# next pass switches back to 101. Every 4th part is a reject.
LOOP = (
    Segment(S.RUNNING, 7, product=101),
    Segment(S.FAULT, 3, reason=12),
    Segment(S.SETUP, 2, reason=3, product=102),
)


def looping(**kw: object) -> MachineModel:
    params = MachineParams(script=LOOP, repeat=True, cycle_s=2.0, reject_every=4, **kw)  # type: ignore[arg-type]
    return MachineModel(params, seed=1, history_size=None)


def test_repeat_plays_the_script_again_with_exact_transition_times() -> None:
    m = looping()
    m.advance_to(36)  # three passes; the fourth starts at 36
    assert [(t.t, t.state, t.reason, t.product) for t in m.history] == [
        (0.0, S.RUNNING, 0, 101),
        (7.0, S.FAULT, 12, 101),
        (10.0, S.SETUP, 3, 102),
        (12.0, S.RUNNING, 0, 101),
        (19.0, S.FAULT, 12, 101),
        (22.0, S.SETUP, 3, 102),
        (24.0, S.RUNNING, 0, 101),
        (31.0, S.FAULT, 12, 101),
        (34.0, S.SETUP, 3, 102),
        (36.0, S.RUNNING, 0, 101),
    ]
    m.advance_to(1200)  # 100 passes
    assert m.transitions == 301
    assert [(t.t, t.state) for t in list(m.history)[-4:]] == [
        (1188.0, S.RUNNING),
        (1195.0, S.FAULT),
        (1198.0, S.SETUP),
        (1200.0, S.RUNNING),
    ]


def test_parts_and_rejects_continue_across_repetitions() -> None:
    m = looping()
    seen = []
    for t in (7, 12.999, 13, 36, 1200, 1205):
        m.advance_to(t)
        s = m.snapshot()
        seen.append((s.state, s.product, s.total, s.good, s.reject))
    assert seen == [
        (S.FAULT, 101, 3, 3, 0),  # 7 s running: 3 parts, the 4th half made
        (S.RUNNING, 101, 3, 3, 0),
        # The 4th part (a reject) was begun in pass 1 and finishes 1 s into pass 2.
        (S.RUNNING, 101, 4, 3, 1),
        (S.RUNNING, 101, 10, 8, 2),  # 21 s of running
        (S.RUNNING, 101, 350, 263, 87),  # 700 s of running
        (S.RUNNING, 101, 352, 264, 88),  # 705 s: part 352 is a reject
    ]


def test_repeat_is_the_same_as_the_script_written_out() -> None:
    unrolled = MachineParams(script=LOOP * 50 + (Segment(S.IDLE),), cycle_s=2.0, reject_rate=0.3)
    params = MachineParams(script=LOOP, repeat=True, cycle_s=2.0, reject_rate=0.3)
    a, b = MachineModel(unrolled, 9), MachineModel(params, 9)
    for t in (5.5, 12, 100, 333.3, 599.9):
        a.advance_to(t)
        b.advance_to(t)
        assert a.snapshot() == b.snapshot()
    assert list(a.history) == list(b.history)


def test_history_size() -> None:
    m = MachineModel(MachineParams(script=LOOP, repeat=True), 1, history_size=2)
    m.advance_to(1200)
    assert [t.t for t in m.history] == [1198.0, 1200.0]
    assert MachineModel(MachineParams()).history.maxlen == 1000


def test_repeat_needs_finite_segments() -> None:
    with pytest.raises(ValueError, match="finite for_s"):
        MachineModel(MachineParams(script=(Segment(S.RUNNING),), repeat=True))
