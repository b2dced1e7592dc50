"""Exact topics and payload bytes of the operator's input on MQTT: `…/scrap`,
`…/planned`, the retained `…/product` and `…/_line/notes` (README "MQTT", docs/asyncapi.yaml)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from connectors.mqtt.operator import (
    notes_payload,
    planned_payload,
    product_payload,
    scrap_payload,
)
from connectors.mqtt.payloads import LineTopics, MachineTopics
from core.types import (
    MachineRef,
    MachineState,
    ProductChanged,
    ScrapBooked,
    ShiftNote,
    StopPlanned,
)

T0 = datetime(2026, 11, 25, 10, 5, 0, tzinfo=UTC)
STOP = datetime(2026, 11, 25, 10, 0, 0, 123000, tzinfo=UTC)
MT = MachineTopics("oee", MachineRef("plant1", "press", "line2", "p7"))
LT = LineTopics("oee", "plant1", "press", "line2")


def test_scrap_topic_and_payload() -> None:
    ev = ScrapBooked("p7", T0, 5, 102, "Dent", "line3-tablet", "Surface", "101", "coil", 44, 1)
    assert MT.scrap == "oee/plant1/press/line2/p7/scrap"
    assert scrap_payload(MT, ev, "5e1f09a2") == (
        b'{"v":2,"machine":"p7","path":"plant1/press/line2/p7","quantity":5,'
        b'"reason_code":102,"reason":"Dent","category":"Surface","product":"101",'
        b'"note":"coil","by":"line3-tablet","count_seq":44,'
        b'"ts":"2026-11-25T10:05:00.000Z","seq":1,"id":"5e1f09a2:p7:k1"}'
    )


def test_planned_topic_and_payload_and_its_undoing() -> None:
    ev = StopPlanned("p7", STOP, MachineState.IDLE, T0, "ops", "meeting", "Shift meeting",
                     seq=2)  # fmt: skip
    assert MT.planned == "oee/plant1/press/line2/p7/planned"
    assert json.loads(planned_payload(MT, ev, "5e1f09a2")) == {
        "v": 2, "machine": "p7", "path": "plant1/press/line2/p7",
        "stop_ts": "2026-11-25T10:00:00.123Z", "state": "idle", "kind": "meeting",
        "reason": "Shift meeting", "previous_kind": None, "previous_reason": None,
        "by": "ops", "ts": "2026-11-25T10:05:00.000Z", "seq": 2, "id": "5e1f09a2:p7:p2",
    }  # fmt: skip
    undo = StopPlanned("p7", STOP, MachineState.IDLE, T0, "ops", None, None, "meeting",
                       "Shift meeting", 3)  # fmt: skip
    body = json.loads(planned_payload(MT, undo, "5e1f09a2"))
    assert (body["kind"], body["previous_kind"], body["id"]) == (None, "meeting", "5e1f09a2:p7:p3")


def test_notes_topic_and_payload() -> None:
    ev = ShiftNote("line2", "press", "2026-11-25/late", "Die 4 worn", T0, "ops", "old")
    assert LT.notes == "oee/plant1/press/line2/_line/notes"
    assert notes_payload(LT, ev) == (
        b'{"v":2,"line":"line2","path":"plant1/press/line2","shift":"2026-11-25/late",'
        b'"text":"Die 4 worn","previous_text":"old","by":"ops","ts":"2026-11-25T10:05:00.000Z"}'
    )


def test_product_topic_and_payload() -> None:
    ev = ProductChanged("p7", T0, "102", None, "line3-tablet", "Bracket B")
    assert MT.product == "oee/plant1/press/line2/p7/product"
    assert product_payload(MT, ev) == (
        b'{"v":2,"machine":"p7","path":"plant1/press/line2/p7","product":"102",'
        b'"name":"Bracket B","previous":null,"by":"line3-tablet",'
        b'"ts":"2026-11-25T10:05:00.000Z"}'
    )
