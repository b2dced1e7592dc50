"""The SPC engine with real batches and a fake clock: readings of a tag become points,
implausible readings are held out (and open an issue), trial limits come once after the
baseline, a freeze with exclusions, the checkpoint round trip, per-part readings, hand
readings and the config's hand limits.

Hand-computed I-MR case (NIST/SEMATECH e-Handbook §6.3.2.2 formulas, Montgomery 8th ed.
§6.4): readings 10, 12, 11, 13, 12 → x̄ = 58/5 = 11.6, moving ranges 2, 1, 2, 1 →
MR̄ = 1.5, σ̂ = MR̄/d2 = 1.5/1.128379 = 1.329341 (d2(2) = 2/√π exactly; Montgomery's
Appendix VI rounds it to 1.128), UCL = 11.6 + 3σ̂ = 15.58802, LCL = 7.61198; MR chart
UCL = D4·MR̄ = 3.26653 × 1.5 = 4.89980 (D4 = 1 + 3·d3/d2 = 1 + 3 × 0.852502/1.128379;
Appendix VI: 3.267).
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import pytest

from core.spc import SpcLimitsChange, SpcPoint, SpcViolation
from core.types import CountDelta, Event, MachineState, Quality, Sample, SampleBatch, StateChange
from edge.config import Config
from edge.config.loading import parse_config
from edge.engines.spc import STEADY, SpcEngine
from edge.engines.spc_views import BaselineError, UnknownChart
from edge.pipeline.issues import Issues

T0 = datetime(2026, 12, 7, 8, 0, tzinfo=UTC)
IMR = [10.0, 12.0, 11.0, 13.0, 12.0]

YAML = """
gateway: {id: gw}
site: s
area: a
line: l1
machines:
  - id: filler1
    modbus: {host: 127.0.0.1}
    tags:
      code: {address: 0}
      total: {address: 4, type: uint32}
      reject: {address: 8, type: uint32}
      fill_weight: {address: 136, type: float32, order: CDAB}
    state_rules: [{tag: code, map: {1: running, 2: idle}}]
    counters: {total: {tag: total}, reject: {tag: reject}}
    ideal_cycle_s: 1
spc:
  charts:
    - {id: weight, machine: filler1, tag: fill_weight, kind: imr, unit: g,
       valid: {min: 0, max: 2000}, baseline_subgroups: 5, spec: {lsl: 5, usl: 18}}
    - {id: weight5, machine: filler1, tag: fill_weight, kind: xbar_r,
       subgroup: {size: 2, per_part: true}, baseline_subgroups: 5}
    - {id: hand, machine: filler1, source: manual, kind: imr,
       limits: {center: 100, ucl: 106, lcl: 94}}
"""


def at(s: float) -> datetime:
    return T0 + timedelta(seconds=s)


def config() -> Config:
    return parse_config(YAML, "t.yaml")


def batch(s: float, value: object, quality: Quality = Quality.GOOD) -> SampleBatch:
    return SampleBatch("filler1", at(s), (Sample("fill_weight", value, quality, at(s)),))  # type: ignore[arg-type]


def engine() -> tuple[SpcEngine, Issues]:
    e, issues = SpcEngine(config()), Issues("filler1")
    e.bind_issues({"filler1": issues})
    return e, issues


def published(e: SpcEngine, s: float) -> list[Event]:
    return [x for b in e.publications(at(s)) for x in b]


def of(chart: str, events: list[Event], kind: type) -> list:  # type: ignore[type-arg]
    return [x for x in events if isinstance(x, kind) and getattr(x, "chart", None) == chart]


def test_readings_become_points_and_trial_limits_come_once() -> None:
    e, _ = engine()
    for i, v in enumerate(IMR):
        e.take_samples(batch(i, v))
    out = published(e, 10)
    points = of("weight", out, SpcPoint)
    assert [(p.seq, p.value, p.spread, p.center, p.phase) for p in points] == [
        (1, 10.0, None, None, "I"), (2, 12.0, 2.0, None, "I"), (3, 11.0, 1.0, None, "I"),
        (4, 13.0, 2.0, None, "I"), (5, 12.0, 1.0, None, "I"),
    ]  # fmt: skip
    [trial] = of("weight", out, SpcLimitsChange)
    assert (trial.action, trial.ts, trial.by) == ("trial", at(4), None)
    assert (trial.baseline_from, trial.baseline_to) == (at(0), at(4))
    lim = trial.limits
    assert lim is not None and lim.subgroups == 5
    assert lim.center == pytest.approx(11.6)
    assert lim.sigma == pytest.approx(1.5 / 1.128379, rel=1e-6)
    assert (lim.ucl, lim.lcl) == (
        pytest.approx(15.58802, abs=1e-5),
        pytest.approx(7.61198, abs=1e-5),
    )
    assert lim.spread_ucl == pytest.approx(4.89980, abs=1e-5)
    # point 6 at 16.0 lies beyond the UCL: WE1, phase I (trial limits), judged live
    e.take_samples(batch(5, 16.0))
    out = published(e, 11)
    [p6] = of("weight", out, SpcPoint)
    assert (p6.seq, p6.zone, p6.phase, p6.violations) == (6, "beyond+", "I", ("WE1",))
    assert (p6.center, p6.ucl) == (pytest.approx(11.6), pytest.approx(15.58802, abs=1e-5))
    [v] = of("weight", out, SpcViolation)
    assert (v.rule, v.seq, v.points, v.side, v.value) == ("WE1", 6, (6,), "+", 16.0)
    assert of("weight", out, SpcLimitsChange) == []  # never recomputed silently
    assert e.state("weight").phase == "I" and e.state("weight").last == p6


def test_implausible_readings_are_held_out_and_open_an_issue() -> None:
    e, issues = engine()
    e.take_samples(batch(0, 10.0))
    e.take_samples(batch(1, math.nan))
    e.take_samples(batch(2, 3000.0))  # outside valid 0..2000
    e.take_samples(batch(3, 11.0, Quality.BAD))  # a failed read: no reading at all
    e.take_samples(batch(4, True))
    [issue] = issues.open()
    assert issue.kind == "implausible_value" and issue.count == 3
    assert (
        issue.detail
        == "SPC chart weight: tag fill_weight = True is not a number; held out of the chart"
    )
    e.take_samples(batch(5, 12.0))
    assert issues.open() == []  # a good reading ends it
    points = of("weight", published(e, 6), SpcPoint)
    assert [(p.value, p.held) for p in points] == [(10.0, 0), (12.0, 3)]


def test_no_readings_while_the_machine_is_offline() -> None:
    e, _ = engine()
    e.apply(StateChange("filler1", MachineState.OFFLINE, None, at(0), None, None, 1))
    e.take_samples(batch(1, 10.0))
    assert of("weight", published(e, 2), SpcPoint) == []


def test_per_part_readings_only_where_the_counter_moved() -> None:
    e, _ = engine()
    for s, v, parts in ((0, 1.0, 1), (1, 9.0, 0), (2, 3.0, 2), (3, 9.0, 0), (4, 5.0, 1)):
        if parts:
            e.apply(CountDelta("filler1", at(s), parts, parts, 0))
        e.take_samples(batch(s, v))
    [p] = of("weight5", published(e, 5), SpcPoint)
    assert (p.values, p.value, p.spread, p.n) == ((1.0, 3.0), 2.0, 2.0, 2.0)


def test_parts_between_two_polls_leave_readings_missing_and_say_so() -> None:
    # The counter moves by 2 at 2 s: one poll reads one part's weight, so one part has no
    # reading: an open issue of the machine (not silently thinner subgroups), counted.
    e, issues = engine()
    e.apply(CountDelta("filler1", at(2), 2, 2, 0))
    e.apply(CountDelta("filler1", at(3), 3, 3, 0))
    [issue] = issues.open()
    assert (issue.kind, issue.count) == ("per_part_missed", 2)
    assert issue.detail == (
        "SPC chart weight5: 3 part(s) without a reading of fill_weight: the counter moved by "
        "3 between two polls and a poll reads one part's value; poll faster than the parts "
        "come (poll_interval_s)"
    )
    for s in range(STEADY - 1):  # single parts a poll again: the issue stays a while ...
        e.apply(CountDelta("filler1", at(4 + s), 1, 1, 0))
    assert [i.kind for i in issues.open()] == ["per_part_missed"]
    e.apply(CountDelta("filler1", at(4 + STEADY), 1, 1, 0))
    assert issues.open() == []  # ... then ends


def test_freeze_a_baseline_with_an_excluded_point_then_restart() -> None:
    e, _ = engine()
    for i, v in enumerate([*IMR, 30.0]):  # point 6 (30.0) has an assignable cause
        e.take_samples(batch(i, v))
    published(e, 10)
    preview = e.freeze("weight", None, None, 6, [6], "ana", at(20), preview=True)
    assert preview.change is None and preview.excluded == (6,)
    assert preview.limits.center == pytest.approx(11.6)  # the hand-computed case again
    assert [p.seq for p in preview.points] == [1, 2, 3, 4, 5, 6]
    assert preview.points[5].violations[:1] == ("WE1",)
    assert e.state("weight").phase == "I"  # a preview changes nothing
    frozen = e.freeze("weight", None, None, 6, [6], "ana", at(20), preview=False)
    out = e.drain()
    assert of("weight", out, SpcLimitsChange) == [frozen.change]
    assert frozen.change is not None and (frozen.change.action, frozen.change.by) == (
        "frozen",
        "ana",
    )
    view = e.state("weight")
    assert view.phase == "II" and view.limits is not None and view.limits.frozen_by == "ana"
    meta = e.checkpoint(out)
    assert list(meta) == ["spc/weight"]
    again, _ = engine()
    again.restore(meta)
    assert again.state("weight").limits == view.limits
    again.take_samples(batch(30, 12.0))
    [p7] = of("weight", published(again, 31), SpcPoint)
    assert (p7.seq, p7.phase, p7.center) == (7, "II", pytest.approx(11.6))
    with pytest.raises(BaselineError, match="exclude: points 9 are not in the baseline"):
        e.freeze("weight", None, None, 6, [9], "ana", at(20), preview=True)


def test_unfreeze_goes_back_to_phase_one_and_trial_limits_come_again() -> None:
    e, _ = engine()
    for i, v in enumerate(IMR):
        e.take_samples(batch(i, v))
    e.freeze("weight", None, None, 5, [], "ana", at(10), preview=False)
    change = e.unfreeze("weight", "ana", at(11))
    assert (change.action, change.limits, e.state("weight").phase) == ("unfrozen", None, "I")
    published(e, 12)
    for i, v in enumerate(IMR):
        e.take_samples(batch(20 + i, v + 1))
    [trial] = of("weight", published(e, 30), SpcLimitsChange)
    assert trial.action == "trial" and trial.limits is not None
    assert trial.limits.center == pytest.approx(12.6) and trial.baseline_from == at(20)


def test_hand_readings_and_the_configs_hand_limits() -> None:
    e, _ = engine()
    first = published(e, 0)
    [manual] = of("hand", first, SpcLimitsChange)
    assert (manual.action, manual.by, manual.ts) == ("manual", "config", at(0))
    assert manual.limits is not None and manual.limits.sigma == pytest.approx(2.0)
    point = e.measure("hand", [107.0], at(1), "op")
    assert point is not None and point.violations == ("WE1",) and point.phase == "II"
    with pytest.raises(BaselineError, match="reads tag, not readings by hand"):
        e.measure("weight", [1.0], at(1), "op")
    with pytest.raises(UnknownChart):
        e.measure("nope", [1.0], at(1), "op")
    # a restart with the same config limits does not announce them again
    meta = e.checkpoint(e.drain())
    again, _ = engine()
    again.restore(meta)
    assert of("hand", published(again, 5), SpcLimitsChange) == []


def test_capability_of_the_current_shift() -> None:
    e, _ = engine()
    for i, v in enumerate(IMR):
        e.take_samples(batch(i, v))
    cap = e.capability("weight")
    assert (cap.n, cap.mean) == (5, pytest.approx(11.6))
    # overall σ of 10, 12, 11, 13, 12 = sqrt(5.2/4) = 1.140175; Pp = (18-5)/(6σ) = 1.900292;
    # within σ = MR̄/d2 = 1.5/1.128379 = 1.329341, Cp = 13/(6 × 1.329341) = 1.629880
    assert cap.sigma_overall == pytest.approx(1.140175, rel=1e-6)
    assert cap.pp == pytest.approx(1.900292, rel=1e-6)
    assert cap.cp == pytest.approx(1.629880, rel=1e-6)
    with pytest.raises(BaselineError, match="chart weight5 has no spec: give it spc.charts"):
        e.capability("weight5")


def test_a_subgroup_the_statistics_cannot_take_stays_with_its_chart() -> None:
    """x̄ of 1e308 and 1e308 overflows (math.fsum: 'intermediate overflow'): the per-part
    x̄-R chart `weight5` (no `valid` range) loses that subgroup and says so; `weight`
    (valid 0..2000) holds the readings out, and both go on."""
    e, issues = engine()
    for s, v in ((0, 1e308), (1, 1e308), (2, 10.0), (3, 12.0)):
        e.apply(CountDelta("filler1", at(s), 1, 1, 0))
        e.take_samples(batch(s, v))  # never raises
        if s == 1:
            held, error = issues.open()
            assert (held.kind, held.count) == ("implausible_value", 2)
            assert (error.kind, error.detail) == (
                "spc_error",
                "SPC chart weight5: OverflowError: intermediate overflow in fsum; "
                "subgroup left out",
            )
    out = published(e, 4)
    [p] = of("weight5", out, SpcPoint)  # numbered from 1: no gap for the lost subgroup
    assert (p.seq, p.values, p.value, p.spread) == (1, (10.0, 12.0), 11.0, 2.0)
    assert [(x.seq, x.value, x.held) for x in of("weight", out, SpcPoint)] == [
        (1, 10.0, 2), (2, 12.0, 0),
    ]  # fmt: skip
    assert [i.key for i in issues.open()] == []  # both charts made points again


def test_limits_in_force_for_the_live_view_after_a_restart() -> None:
    e, _ = engine()
    first = published(e, 0)
    for i, v in enumerate(IMR):
        e.take_samples(batch(i + 1, v))
    e.freeze("weight", None, None, 5, [], "ana", at(10), preview=False)
    meta = e.checkpoint([*first, *e.drain()])
    again, _ = engine()
    assert again.limits_in_force() == []  # the config's not announced yet
    again.restore(meta)
    by_chart = {c.chart: c for c in again.limits_in_force()}
    assert sorted(by_chart) == ["hand", "weight"]
    assert (by_chart["weight"].action, by_chart["weight"].by, by_chart["weight"].ts) == (
        "frozen", "ana", at(10),
    )  # fmt: skip
    assert by_chart["weight"].limits == e.state("weight").limits.limits  # type: ignore[union-attr]
    assert (by_chart["hand"].action, by_chart["hand"].by) == ("manual", "config")
