"""Exact topics and payload bytes of the MQTT contract (DESIGN.md, "MQTT contract")."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone

import pytest

from connectors.mqtt.payloads import (
    OFFLINE,
    ONLINE,
    MachineTopics,
    count_payload,
    event_payload,
    gateway_status_topic,
    oee_payload,
    reason_payload,
    rfc3339,
    safe_segment,
    state_payload,
    tag_payload,
    tags_payload,
)
from connectors.mqtt.suspects import decision_payload, suspect_payload
from core.types import (
    CountDecision,
    CountDelta,
    MachineRef,
    MachineState,
    OeeUpdate,
    Quality,
    Sample,
    SampleBatch,
    StateChange,
    SuspectCount,
)

T0 = datetime(2026, 11, 25, 10, 0, 0, 123456, tzinfo=UTC)
T1 = datetime(2026, 11, 25, 9, 58, 30, tzinfo=UTC)
REF = MachineRef("plant1", "press", "line2", "p7")
HEAD = '{"v":2,"machine":"p7","path":"plant1/press/line2/p7",'


@pytest.fixture
def t() -> MachineTopics:
    return MachineTopics("oee", REF)


def change(**kw: object) -> StateChange:
    base: dict[str, object] = dict(
        machine="p7",
        state=MachineState.FAULT,
        previous=MachineState.RUNNING,
        ts=T0,
        since_previous=T1,
        duration_s=90.123,
        seq=42,
        reason_code=17,
        reason="Motorschutz ausgelöst",
    )
    base.update(kw)
    return StateChange(**base)  # type: ignore[arg-type]


def test_topics(t: MachineTopics) -> None:
    assert t.root == "oee/plant1/press/line2/p7"
    assert t.state == "oee/plant1/press/line2/p7/state"
    assert t.event == "oee/plant1/press/line2/p7/event"
    assert t.count == "oee/plant1/press/line2/p7/count"
    assert t.tags == "oee/plant1/press/line2/p7/tags"
    assert t.reason == "oee/plant1/press/line2/p7/reason"
    assert t.suspect == "oee/plant1/press/line2/p7/suspect"
    assert t.decision == "oee/plant1/press/line2/p7/decision"
    assert t.oee("15m") == "oee/plant1/press/line2/p7/oee/15m"
    assert t.oee("15m") is t.oee("15m")  # cached: no string building on the hot path
    assert t.tag("speed.rpm") == "oee/plant1/press/line2/p7/tag/speed.rpm"
    assert MachineTopics("acme/uns", REF).state == "acme/uns/plant1/press/line2/p7/state"
    assert gateway_status_topic("oee", "plant1", "gw-1") == "oee/plant1/_gateway/gw-1/status"
    assert (ONLINE, OFFLINE) == (b"online", b"offline")


@pytest.mark.parametrize("bad", ["a/b", "a+", "#", "", "x\0"])
def test_unsafe_topic_levels_are_rejected(t: MachineTopics, bad: str) -> None:
    with pytest.raises(ValueError, match="MQTT topic level"):
        t.tag(bad)
    with pytest.raises(ValueError, match="MQTT topic level"):
        safe_segment(bad)
    with pytest.raises(ValueError):
        MachineTopics("oee", MachineRef("plant1", "press", "line2", bad))
    with pytest.raises(ValueError):
        gateway_status_topic("oee", "plant1", bad)


def test_rfc3339() -> None:
    assert rfc3339(T0) == "2026-11-25T10:00:00.123Z"
    assert rfc3339(T1) == "2026-11-25T09:58:30.000Z"
    cet = T0.astimezone(timezone(timedelta(hours=1)))
    assert rfc3339(cet) == "2026-11-25T10:00:00.123Z"
    assert rfc3339(T0.replace(tzinfo=None)) == "2026-11-25T10:00:00.123Z"


def test_state_payload(t: MachineTopics) -> None:
    assert (
        state_payload(t, change())
        == (
            HEAD + '"state":"fault","since":"2026-11-25T10:00:00.123Z",'
            '"reason":"Motorschutz ausgelöst","reason_code":17,"ts":"2026-11-25T10:00:00.123Z"}'
        ).encode()
    )


def test_state_payload_without_reason(t: MachineTopics) -> None:
    ev = change(state=MachineState.RUNNING, reason=None, reason_code=None)
    assert (
        state_payload(t, ev)
        == (
            HEAD + '"state":"running","since":"2026-11-25T10:00:00.123Z",'
            '"reason":null,"reason_code":null,"ts":"2026-11-25T10:00:00.123Z"}'
        ).encode()
    )


def test_event_payload(t: MachineTopics) -> None:
    assert (
        event_payload(t, change(), "5e1f09a2")
        == (
            HEAD + '"state":"fault","previous":"running","ts":"2026-11-25T10:00:00.123Z",'
            '"duration_s":90.123,"reason":"Motorschutz ausgelöst","reason_code":17,"seq":42,'
            '"id":"5e1f09a2:p7:s42"}'
        ).encode()
    )


def test_first_event_has_no_previous(t: MachineTopics) -> None:
    ev = change(state=MachineState.IDLE, previous=None, since_previous=None, duration_s=None, seq=1)
    assert (
        event_payload(t, ev, "5e1f09a2")
        == (
            HEAD + '"state":"idle","previous":null,"ts":"2026-11-25T10:00:00.123Z",'
            '"duration_s":null,"reason":"Motorschutz ausgelöst","reason_code":17,"seq":1,'
            '"id":"5e1f09a2:p7:s1"}'
        ).encode()
    )


def test_count_payload(t: MachineTopics) -> None:
    ev = CountDelta("p7", T0, total=12, good=11, reject=1, product="A-100", seq=7)
    assert (
        count_payload(t, ev, "5e1f09a2")
        == (
            HEAD + '"total":12,"good":11,"reject":1,"product":"A-100",'
            '"ts":"2026-11-25T10:00:00.123Z","seq":7,"id":"5e1f09a2:p7:c7"}'
        ).encode()
    )
    # A delta made outside the gateway has no number, so no id either.
    ev = CountDelta("p7", T0, total=3, good=3, reject=0)
    assert (
        count_payload(t, ev, "5e1f09a2")
        == (
            HEAD + '"total":3,"good":3,"reject":0,"product":null,"ts":"2026-11-25T10:00:00.123Z",'
            '"seq":0,"id":null}'
        ).encode()
    )


SUSPECT = SuspectCount("p7", T0, 65135, 65135, 0, None, 1, "total", 11, 1.0)
ACCEPTED = CountDecision("p7", T0, "accept", "supervisor", 65135, 65135, 0, 43, 1, "restart", 1)


def test_a_reclassification_count_payload_carries_the_signs(t: MachineTopics) -> None:
    ev = CountDelta("p7", T0, total=0, good=-1, reject=1, product=None, seq=8)
    assert json.loads(count_payload(t, ev, "s"))["good"] == -1


def test_suspect_payload(t: MachineTopics) -> None:
    assert (
        suspect_payload(t, SUSPECT, "5e1f09a2")
        == (
            HEAD + '"total":65135,"good":65135,"reject":0,"product":null,"counter":"total",'
            '"allowed":11,"elapsed_s":1.0,"ts":"2026-11-25T10:00:00.123Z","seq":1,'
            '"id":"5e1f09a2:p7:x1"}'
        ).encode()
    )


def test_decision_payload(t: MachineTopics) -> None:
    assert (
        decision_payload(t, ACCEPTED, "5e1f09a2")
        == (
            HEAD + '"action":"accept","by":"supervisor","total":65135,"good":65135,"reject":0,'
            '"suspect_seq":1,"count_seq":43,"note":"restart","ts":"2026-11-25T10:00:00.123Z",'
            '"seq":1,"id":"5e1f09a2:p7:d1"}'
        ).encode()
    )


def test_oee_payload(t: MachineTopics) -> None:
    ev = OeeUpdate(
        "p7", "15m", T0, availability=0.8, performance=0.95, quality=0.99, oee=0.7524,
        run_s=720.0, planned_s=900.0, unknown_s=0.0, window_s=900.0, total=100, good=99,
        reject=1, state_s={"running": 720.0},
    )  # fmt: skip
    assert (
        oee_payload(t, ev)
        == (
            HEAD + '"availability":0.8,"performance":0.95,"quality":0.99,"oee":0.7524,'
            '"run_s":720.0,"planned_s":900.0,"unknown_s":0.0,"window_s":900.0,'
            '"total":100,"good":99,"reject":1,"window":"15m","ts":"2026-11-25T10:00:00.123Z"}'
        ).encode()
    )


def test_oee_payload_undefined_ratios_are_null(t: MachineTopics) -> None:
    nan = float("nan")
    ev = OeeUpdate(
        "p7", "1h", T0, availability=None, performance=nan, quality=None, oee=float("inf"),
        run_s=0.0, planned_s=0.0, unknown_s=3600.0, window_s=3600.0, total=0, good=0, reject=0,
    )  # fmt: skip
    assert (
        oee_payload(t, ev)
        == (
            HEAD + '"availability":null,"performance":null,"quality":null,"oee":null,'
            '"run_s":0.0,"planned_s":0.0,"unknown_s":3600.0,"window_s":3600.0,'
            '"total":0,"good":0,"reject":0,"window":"1h","ts":"2026-11-25T10:00:00.123Z"}'
        ).encode()
    )


def test_tags_payload(t: MachineTopics) -> None:
    batch = SampleBatch(
        "p7",
        T0,
        (
            Sample("speed", 1450.5, Quality.GOOD, T0),
            Sample("run", True, Quality.GOOD, T0),
            Sample("v", 3, Quality.UNCERTAIN, T1),
            Sample("order", "A-100", Quality.GOOD, T0),
            Sample("temp", None, Quality.BAD, T0),
            Sample("broken", float("nan"), Quality.BAD, T0),
        ),
    )
    assert (
        tags_payload(t, batch)
        == (
            HEAD + '"ts":"2026-11-25T10:00:00.123Z","tags":{'
            '"speed":{"value":1450.5,"quality":"good","ts":"2026-11-25T10:00:00.123Z"},'
            '"run":{"value":true,"quality":"good","ts":"2026-11-25T10:00:00.123Z"},'
            '"v":{"value":3,"quality":"uncertain","ts":"2026-11-25T09:58:30.000Z"},'
            '"order":{"value":"A-100","quality":"good","ts":"2026-11-25T10:00:00.123Z"},'
            '"temp":{"value":null,"quality":"bad","ts":"2026-11-25T10:00:00.123Z"},'
            '"broken":{"value":null,"quality":"bad","ts":"2026-11-25T10:00:00.123Z"}}}'
        ).encode()
    )


def test_tag_payload(t: MachineTopics) -> None:
    assert (
        tag_payload(t, Sample("speed", 12, Quality.GOOD, T0))
        == (
            HEAD + '"tag":"speed","value":12,"quality":"good","ts":"2026-11-25T10:00:00.123Z"}'
        ).encode()
    )


def test_every_payload_is_valid_json_with_common_fields(t: MachineTopics) -> None:
    payloads = [
        state_payload(t, change()),
        event_payload(t, change()),
        count_payload(t, CountDelta("p7", T0, 1, 1, 0)),
        tags_payload(t, SampleBatch("p7", T0, ())),
    ]
    for p in payloads:
        doc = json.loads(p)
        assert (doc["v"], doc["machine"], doc["path"]) == (2, "p7", "plant1/press/line2/p7")


def test_asyncapi_document_matches_the_payloads(t: MachineTopics) -> None:
    """docs/asyncapi.yaml lists exactly the fields the builders write, in every message."""
    import yaml

    from tests.connectors.mqtt.support import ROOT, count, oee

    doc = yaml.safe_load((ROOT / "docs" / "asyncapi.yaml").read_text())
    common = set(doc["components"]["schemas"]["Common"]["required"])

    def required(message: str) -> set[str]:
        parts = doc["components"]["messages"][message]["payload"]["allOf"][1:]
        return common | {k for p in parts for k in p.get("required", [])}

    raw = doc["components"]["schemas"]["RawValue"]["required"]
    from tests.connectors.mqtt.test_payloads_model import reason

    built = {
        "Reason": reason_payload(t, reason()),
        "State": state_payload(t, change()),
        "Event": event_payload(t, change()),
        "Count": count_payload(t, count("p7")),
        "Oee": oee_payload(t, oee("p7")),
        "Tags": tags_payload(t, SampleBatch("p7", T0, ())),
        "Suspect": suspect_payload(t, SUSPECT),
        "Decision": decision_payload(t, ACCEPTED),
    }
    for name, payload in built.items():
        assert set(json.loads(payload)) == required(name), name
    tag_fields = set(json.loads(tag_payload(t, Sample("x", 1, Quality.GOOD, T0))))
    assert tag_fields == common | set(raw) | {"tag"}


def test_tags_payload_formats_each_sample_time(t: MachineTopics) -> None:
    # An OPC UA batch: samples keep the times of the scans that changed them, equal
    # times as separate objects, one in another zone (each formatted once per payload).
    earlier = T0 - timedelta(seconds=1)
    same = datetime.fromtimestamp(earlier.timestamp(), UTC)
    east = earlier.astimezone(timezone(timedelta(hours=2)))
    batch = SampleBatch(
        "p7",
        T0,
        (
            Sample("a", 1, Quality.GOOD, earlier),
            Sample("b", 2, Quality.GOOD, T0),
            Sample("c", 3, Quality.GOOD, same),
            Sample("d", 4, Quality.GOOD, east),
            Sample("e", 5, Quality.GOOD, T1),
        ),
    )
    tags = json.loads(tags_payload(t, batch))["tags"]
    assert {n: v["ts"] for n, v in tags.items()} == {
        "a": "2026-11-25T09:59:59.123Z",
        "b": "2026-11-25T10:00:00.123Z",
        "c": "2026-11-25T09:59:59.123Z",
        "d": "2026-11-25T09:59:59.123Z",
        "e": "2026-11-25T09:58:30.000Z",
    }
