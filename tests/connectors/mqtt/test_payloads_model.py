"""Payloads of the full OEE model: `…/reason`, and `…/oee/{window}` with a loss report."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import yaml

from connectors.mqtt.payloads import MachineTopics, oee_payload, reason_payload
from core.types import MachineRef, MachineState, OeeUpdate, ReasonAssigned
from oee.calendar import PlantDay, ShiftInstance
from tests.connectors.mqtt.support import ROOT
from tests.connectors.oee_report import DETAILS, HEADLINE, LOSSES, PARETO, wire, worked_update

REF = MachineRef("plant1", "press", "line2", "p7")
HEAD = '{"v":2,"machine":"p7","path":"plant1/press/line2/p7",'
STOP = datetime(2026, 11, 25, 10, 0, 0, 123456, tzinfo=UTC)
T = MachineTopics("oee", REF)


def reason(**kw: object) -> ReasonAssigned:
    base: dict[str, object] = dict(
        machine="p7",
        stop_ts=STOP,
        state=MachineState.FAULT,
        reason_code=20,
        reason="Motorschutz ausgelöst",
        ts=datetime(2026, 11, 25, 10, 5, tzinfo=UTC),
        category="mechanical",
        previous_reason_code=17,
    )
    return ReasonAssigned(**(base | kw))  # type: ignore[arg-type]


def test_reason_payload() -> None:
    assert (
        reason_payload(T, reason(seq=3), "5e1f09a2")
        == (
            HEAD + '"stop_ts":"2026-11-25T10:00:00.123Z","state":"fault","reason_code":20,'
            '"reason":"Motorschutz ausgelöst","category":"mechanical","source":"operator",'
            '"previous_reason_code":17,"previous_reason":null,"ts":"2026-11-25T10:05:00.000Z",'
            '"seq":3,"id":"5e1f09a2:p7:r3"}'
        ).encode()
    )


def test_reason_payload_of_a_cleared_reason_from_the_plc() -> None:
    cleared = reason(
        reason_code=None, reason=None, source="plc", category=None, previous_reason="Jam"
    )
    assert (
        reason_payload(T, cleared)
        == (
            HEAD + '"stop_ts":"2026-11-25T10:00:00.123Z","state":"fault","reason_code":null,'
            '"reason":null,"category":null,"source":"plc","previous_reason_code":17,'
            '"previous_reason":"Jam","ts":"2026-11-25T10:05:00.000Z","seq":0,"id":null}'
        ).encode()
    )


def test_oee_payload_with_the_loss_report() -> None:
    doc = json.loads(oee_payload(T, worked_update("p7")))
    common = {"v": 2, "machine": "p7", "path": "plant1/press/line2/p7"}
    assert doc == wire(
        {
            **common,
            **HEADLINE,
            "window": "1h",
            "ts": "2026-11-25T02:00:00.000Z",
            "start": "2026-11-25T01:00:00.000Z",
            **DETAILS,
            "losses": LOSSES,
            "pareto": PARETO,
        }
    )
    assert (doc["performance"], doc["oee"]) == (0.8333, 0.3958)  # 1500/1800, 1425/3600
    today = [*common, *HEADLINE, "window", "ts"]  # the keys without a report, in order
    assert list(doc) == [*today, "start", *DETAILS, "losses", "pareto"]
    assert isinstance(doc["startup_reject"], int) and doc["performance_flagged"] is False


def test_oee_payload_with_a_report_but_no_start_nor_pareto() -> None:
    doc = json.loads(oee_payload(T, replace(worked_update("p7"), start=None, pareto=())))
    assert (doc["start"], doc["pareto"], doc["mtbf_s"]) == (None, [], 1800.0)


def test_asyncapi_describes_the_reason_and_the_oee_details() -> None:
    spec = yaml.safe_load((ROOT / "docs" / "asyncapi.yaml").read_text())
    channel = spec["channels"]["{prefix}/{site}/{area}/{line}/{machine}/reason"]
    assert channel["subscribe"]["bindings"]["mqtt"] == {
        "qos": 1,
        "retain": False,
        "bindingVersion": "0.1.0",
    }
    schemas = spec["components"]["schemas"]
    oee = spec["components"]["messages"]["Oee"]["payload"]["allOf"]
    assert oee[-1] == {"$ref": "#/components/schemas/OeeDetails"}
    headline = set(schemas["Common"]["required"]) | set(oee[1]["required"])
    extra = set(json.loads(oee_payload(T, worked_update("p7")))) - headline
    assert extra == set(schemas["OeeDetails"]["properties"])
    losses = schemas["OeeDetails"]["properties"]["losses"]
    assert losses["description"] == "In this order: " + ", ".join(x["name"] for x in LOSSES)
    pareto = schemas["OeeDetails"]["properties"]["pareto"]["items"]
    assert set(pareto["required"]) == set(PARETO[0])


def test_the_shift_and_day_windows_name_their_occurrence() -> None:
    # The late shift of 2026-11-25 in Berlin, 14:00-22:00 local = 13:00-21:00 UTC (CET).
    late = ShiftInstance("late", at_utc(13), at_utc(21), date(2026, 11, 25))
    shift = replace(worked_update("p7", "shift"), shift=late)
    doc = json.loads(oee_payload(T, shift))
    assert doc["shift"] == {
        "id": "2026-11-25/late",
        "name": "late",
        "date": "2026-11-25",
        "start": "2026-11-25T13:00:00.000Z",
        "end": "2026-11-25T21:00:00.000Z",
    }
    assert list(doc)[list(doc).index("ts") + 1] == "shift"  # after the headline, before start
    # The plant day of 2026-11-25 from 00:00 Berlin: 23:00 UTC the day before, 24 h.
    day = PlantDay(date(2026, 11, 25), at_utc(-1), at_utc(23))
    doc = json.loads(oee_payload(T, replace(worked_update("p7", "day"), day=day)))
    assert doc["day"] == {
        "date": "2026-11-25",
        "start": "2026-11-24T23:00:00.000Z",
        "end": "2026-11-25T23:00:00.000Z",
    }
    assert "shift" not in doc and "day" not in json.loads(oee_payload(T, worked_update("p7")))


def at_utc(hour: int) -> datetime:
    return datetime(2026, 11, 25, tzinfo=UTC) + timedelta(hours=hour)


def test_off_plan_production_is_on_the_payload() -> None:
    # The day of tests/oee/test_off_plan.py: 6300 s run and 28 parts while no shift.
    from oee import compute
    from oee.losses import Production
    from tests.oee.test_off_plan import CAL, COUNTS, NOW, STATES, t

    prods = [Production(at, n, n, 0, 1.0) for at, n in COUNTS]
    r = compute(STATES, prods, start=t(0), end=NOW, calendar=CAL)
    doc = json.loads(oee_payload(T, OeeUpdate.of("p7", "day", t(0), NOW, r.report)))
    assert (doc["off_plan_run_s"], doc["off_plan_total"], doc["total"]) == (6300.0, 28, 135)
