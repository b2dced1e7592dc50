"""Line protocol encoding: exact strings for every measurement, escaping and omissions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from connectors.influxdb.lineprotocol import (
    encode,
    escape_key,
    escape_measurement,
    escape_string,
    timestamp_ns,
)
from core.types import (
    CountDecision,
    CountDelta,
    MachineRef,
    MachineState,
    OeeUpdate,
    Quality,
    ReasonAssigned,
    Sample,
    SampleBatch,
    StateChange,
    SuspectCount,
)
from oee.losses import Counts, LossReport, TimeSplit
from tests.connectors.oee_report import W1, worked_update

TS = datetime(2026, 11, 25, 3, 0, 0, 123456, tzinfo=UTC)
NS = "1795575600123456000"
REF = MachineRef(site="s1", area="a1", line="l1", machine="m1")
TAGS = "area=a1,line=l1,machine=m1,site=s1"


def state(**kw: object) -> StateChange:
    args: dict[str, object] = dict(
        machine="m1",
        state=MachineState.FAULT,
        previous=MachineState.RUNNING,
        ts=TS,
        since_previous=TS - timedelta(seconds=12.5),
        duration_s=12.5,
        seq=3,
    )
    return StateChange(**(args | kw))  # type: ignore[arg-type]


def oee(**kw: object) -> OeeUpdate:
    args: dict[str, object] = dict(
        machine="m1",
        window="15m",
        ts=TS,
        availability=0.9,
        performance=0.75,
        quality=1.0,
        oee=0.675,
        run_s=810.0,
        planned_s=900,
        unknown_s=0.0,
        window_s=900.0,
        total=120,
        good=118,
        reject=2,
    )
    return OeeUpdate(**(args | kw))  # type: ignore[arg-type]


def test_timestamp_is_exact_nanoseconds() -> None:
    assert timestamp_ns(TS) == 1795575600123456000
    assert timestamp_ns(datetime(1970, 1, 1, tzinfo=UTC)) == 0
    assert timestamp_ns(datetime(2026, 11, 25, 3, 0, 0, 123456)) == 1795575600123456000


def test_escaping_rules() -> None:
    assert escape_measurement("my meas,x=1") == r"my\ meas\,x=1"
    assert escape_key("a b,c=d") == r"a\ b\,c\=d"
    assert escape_key("two\nlines") == r"two\ lines"
    assert escape_string('say "hi" \\ bye') == r'"say \"hi\" \\ bye"'
    assert escape_string("a,b=c d") == '"a,b=c d"'


def test_machine_state_full() -> None:
    line = encode(state(reason="jam", reason_code=7), REF)
    assert line == [
        f'machine_state,{TAGS} state="fault",code=4i,reason="jam",reason_code=7i,'
        f"duration_s=12.5 {NS}"
    ]


def test_machine_state_reason_code_without_text() -> None:
    assert encode(state(reason_code=20), REF) == [
        f'machine_state,{TAGS} state="fault",code=4i,reason_code=20i,duration_s=12.5 {NS}'
    ]


def reason(**kw: object) -> ReasonAssigned:
    args: dict[str, object] = dict(
        machine="m1",
        stop_ts=TS,
        state=MachineState.SETUP,
        reason_code=20,
        reason='Changeover "B"',
        ts=TS + timedelta(minutes=5),
    )
    return ReasonAssigned(**(args | kw))  # type: ignore[arg-type]


def test_reason_assigned_is_a_state_point_at_the_stop_time() -> None:
    assert encode(reason(), REF) == [
        f'machine_state,{TAGS} state="setup",code=3i,reason="Changeover \\"B\\"",'
        f"reason_code=20i {NS}"
    ]


def test_reason_assigned_clears_the_text_and_the_code() -> None:
    # Line protocol has no null: "" and 0 ("no reason", as PLCs say it) overwrite the old.
    assert encode(reason(reason=None, reason_code=None), REF) == [
        f'machine_state,{TAGS} state="setup",code=3i,reason="",reason_code=0i {NS}'
    ]
    assert encode(reason(reason="", reason_code=4), REF) == [
        f'machine_state,{TAGS} state="setup",code=3i,reason="",reason_code=4i {NS}'
    ]


def test_machine_state_omits_missing_and_empty_fields() -> None:
    first = state(state=MachineState.OFFLINE, previous=None, duration_s=None, reason="")
    assert encode(first, REF) == [f'machine_state,{TAGS} state="offline",code=0i {NS}']


def test_machine_state_duration_is_always_float() -> None:
    assert encode(state(duration_s=12), REF) == [
        f'machine_state,{TAGS} state="fault",code=4i,duration_s=12.0 {NS}'
    ]


def test_escaped_tags_and_reason() -> None:
    ref = MachineRef(site="plant 1", area="area,a", line="line=1", machine="m 1")
    line = encode(state(reason='jam "A" \\ x'), ref)
    assert line == [
        r"machine_state,area=area\,a,line=line\=1,machine=m\ 1,site=plant\ 1 "
        r'state="fault",code=4i,reason="jam \"A\" \\ x",duration_s=12.5 ' + NS
    ]


def test_production() -> None:
    delta = CountDelta(machine="m1", ts=TS, total=5, good=4, reject=1, product='P-1 "x"')
    assert encode(delta, REF) == [
        f'production,{TAGS} total=5i,good=4i,reject=1i,product="P-1 \\"x\\"" {NS}'
    ]
    plain = CountDelta(machine="m1", ts=TS, total=0, good=0, reject=0)
    assert encode(plain, REF) == [f"production,{TAGS} total=0i,good=0i,reject=0i {NS}"]


def test_oee_full() -> None:
    assert encode(oee(), REF) == [
        f"oee,{TAGS},window=15m availability=0.9,performance=0.75,quality=1.0,oee=0.675,"
        f"run_s=810.0,planned_s=900.0,unknown_s=0.0,window_s=900.0,total=120i,good=118i,"
        f"reject=2i {NS}"
    ]


def test_oee_omits_none_ratios() -> None:
    empty = oee(
        availability=None, performance=None, quality=None, oee=None, total=0, good=0, reject=0
    )
    assert encode(empty, REF) == [
        f"oee,{TAGS},window=15m run_s=810.0,planned_s=900.0,unknown_s=0.0,window_s=900.0,"
        f"total=0i,good=0i,reject=0i {NS}"
    ]


def test_oee_drops_non_finite_floats() -> None:
    assert encode(oee(performance=float("inf"), quality=float("nan")), REF) == [
        f"oee,{TAGS},window=15m availability=0.9,oee=0.675,"
        f"run_s=810.0,planned_s=900.0,unknown_s=0.0,window_s=900.0,total=120i,good=118i,"
        f"reject=2i {NS}"
    ]


def test_oee_with_a_report_has_the_details_and_one_point_per_loss() -> None:
    ns = "1795572000000000000"  # OeeUpdate.ts: the window end, 2026-11-25 02:00 UTC
    lines = encode(worked_update(), REF)
    assert lines[0] == (
        f"oee,{TAGS},window=1h availability=0.5,performance=0.8333333333333334,quality=0.95,"
        "oee=0.3958333333333333,run_s=1800.0,planned_s=3600.0,unknown_s=0.0,window_s=3600.0,"
        "total=100i,good=95i,reject=5i,coverage=1.0,planned_stop_s=0.0,breakdown_s=600.0,"
        "setup_s=0.0,idle_s=1200.0,small_stop_s=30.0,speed_loss_s=270.0,ideal_s=1500.0,"
        "fully_productive_s=1425.0,startup_reject=2i,performance_flagged=false,failures=1i,"
        f"mtbf_s=1800.0,mttr_s=600.0,off_plan_run_s=0.0,off_plan_total=0i {ns}"
    )
    loss = "oee_loss,area=a1,line=l1,loss={},machine=m1,site=s1,window=1h {} " + ns
    assert lines[1:] == [
        loss.format("breakdowns", 'seconds=600.0,points=0.16666666666666666,factor="availability"'),
        loss.format("setup", 'seconds=0.0,points=0.0,factor="availability"'),
        loss.format("idle", 'seconds=1200.0,points=0.3333333333333333,factor="availability"'),
        loss.format("unknown", 'seconds=0.0,points=0.0,factor="availability"'),
        loss.format("small_stops", 'seconds=30.0,points=0.008333333333333333,factor="performance"'),
        loss.format("speed", 'seconds=270.0,points=0.075,factor="performance"'),
        loss.format("startup_rejects", 'seconds=30.0,points=0.008333333333333333,factor="quality"'),
        loss.format("production_rejects", 'seconds=45.0,points=0.0125,factor="quality"'),
    ]


def test_oee_details_omit_none_and_write_a_flag_as_boolean() -> None:
    # An empty window: every ratio and MTBF/MTTR undefined, no loss has points.
    empty = OeeUpdate.of("m1", "1h", W1, W1, LossReport(TimeSplit(timedelta(0))))
    line, *losses = encode(empty, REF)
    assert line == (
        f"oee,{TAGS},window=1h run_s=0.0,planned_s=0.0,unknown_s=0.0,window_s=0.0,total=0i,"
        "good=0i,reject=0i,planned_stop_s=0.0,breakdown_s=0.0,setup_s=0.0,idle_s=0.0,"
        "small_stop_s=0.0,speed_loss_s=0.0,ideal_s=0.0,fully_productive_s=0.0,"
        "startup_reject=0i,performance_flagged=false,failures=0i,off_plan_run_s=0.0,"
        "off_plan_total=0i 1795572000000000000"
    )
    assert losses[0] == (
        "oee_loss,area=a1,line=l1,loss=breakdowns,machine=m1,site=s1,window=1h "
        'seconds=0.0,factor="availability" 1795572000000000000'
    )
    # 100 s of ideal time in 60 s of running: P = 5/3, flagged.
    fast = LossReport(
        TimeSplit(timedelta(seconds=60), run=timedelta(seconds=60)),
        Counts(total=10, good=10, ideal_ns=100 * 10**9, fully_productive_ns=100 * 10**9),
    )
    line = encode(OeeUpdate.of("m1", "1h", W1 - timedelta(seconds=60), W1, fast), REF)[0]
    assert line == (
        f"oee,{TAGS},window=1h availability=1.0,performance=1.6666666666666667,quality=1.0,"
        "oee=1.6666666666666667,run_s=60.0,planned_s=60.0,unknown_s=0.0,window_s=60.0,"
        "total=10i,good=10i,reject=0i,coverage=1.0,planned_stop_s=0.0,breakdown_s=0.0,"
        "setup_s=0.0,idle_s=0.0,small_stop_s=0.0,speed_loss_s=-40.0,ideal_s=100.0,"
        "fully_productive_s=100.0,startup_reject=0i,performance_flagged=true,failures=0i,"
        "off_plan_run_s=0.0,off_plan_total=0i "
        "1795572000000000000"
    )


def test_tags_every_value_kind() -> None:
    ts2 = TS + timedelta(milliseconds=1)
    batch = SampleBatch(
        machine="m1",
        ts=TS,
        samples=(
            Sample("speed", 1.5, Quality.GOOD, TS),
            Sample("on", True, Quality.GOOD, TS),
            Sample("off", False, Quality.GOOD, TS),
            Sample("count", 3, Quality.UNCERTAIN, TS),
            Sample("recipe name", 'R "7"', Quality.GOOD, TS),
            Sample("lost", None, Quality.BAD, ts2),
        ),
    )
    t = f"tag,{TAGS},tag="
    assert encode(batch, REF) == [
        f"{t}speed value=1.5,quality=192i {NS}",
        f"{t}on value=1.0,quality=192i {NS}",
        f"{t}off value=0.0,quality=192i {NS}",
        f"{t}count value=3.0,quality=64i {NS}",
        f'{t}recipe\\ name value_str="R \\"7\\"",quality=192i {NS}',
        f"{t}lost quality=0i 1795575600124456000",
    ]


def test_empty_batch_gives_no_lines() -> None:
    assert encode(SampleBatch(machine="m1", ts=TS, samples=()), REF) == []


def test_unknown_event_type_is_an_error() -> None:
    with pytest.raises(TypeError):
        encode("nope", REF)  # type: ignore[arg-type]


def test_suspect_count_and_decision() -> None:
    """Issue 15: a held count and the decision on it, one point each."""
    held = SuspectCount("m1", TS, 65135, 65135, 0, "P1", 1, "total", 11, 1.0)
    assert encode(held, REF) == [
        f'suspect_count,{TAGS} total=65135i,good=65135i,reject=0i,product="P1",'
        f'counter="total",allowed=11i,elapsed_s=1.0,seq=1i {NS}'
    ]
    accepted = CountDecision("m1", TS, "accept", "supervisor", 65135, 65135, 0, 43, 1, None, 2)
    assert encode(accepted, REF) == [
        f'count_decision,{TAGS} action="accept",by="supervisor",total=65135i,good=65135i,'
        f"reject=0i,suspect_seq=1i,count_seq=43i,seq=2i {NS}"
    ]
    moved = CountDelta("m1", TS, total=0, good=-1, reject=1)
    assert encode(moved, REF) == [f"production,{TAGS} total=0i,good=-1i,reject=1i {NS}"]
