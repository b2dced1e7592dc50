"""The order payloads on MQTT (`…/order`, `…/changeover`): exact documents, and
docs/asyncapi.yaml's schemas and examples hold for them and for the intake."""

from __future__ import annotations

import json

from connectors.mqtt.orders import changeover_payload, order_payload
from connectors.mqtt.payloads import MachineTopics
from core.types import MachineRef
from edge.config.orders import OrderIn
from tests.fixtures.order_events import (
    CHANGEOVER,
    DOC,
    NONE_RUNS,
    PROGRESS,
    asyncapi_errors,
)

TOPICS = MachineTopics("oee", MachineRef("plant1", "press", "line1", "m1"))


def test_the_order_document_carries_the_progress() -> None:
    doc = json.loads(order_payload(TOPICS, PROGRESS))
    assert TOPICS.order == "oee/plant1/press/line1/m1/order"
    assert doc == {
        "v": 2, "machine": "m1", "path": "plant1/press/line1/m1",
        "ts": "2026-12-07T09:30:00.000Z",
        "order": {"id": "A", "product": "p1", "quantity": 1000,
                  "due": "2026-12-07T12:00:00.000Z", "planned_start": "2026-12-07T08:00:00.000Z",
                  "ideal_cycle_s": None, "customer": "ACME"},
        "source": "operator", "status": "at_risk",
        "progress": {
            "started": "2026-12-07T08:00:00.000Z", "ended": None,
            "paused": [{"start": "2026-12-07T08:50:00.000Z", "end": "2026-12-07T09:00:00.000Z"}],
            "good": 540, "reject": 3, "scrap": 1, "remaining": 460, "percent": 54.0,
            "production_s": 4800.0, "rate_now": 0.1125, "rate_shift": 0.1,
            "eta_now": "2026-12-07T10:30:00.000Z", "eta_shift": "2026-12-07T10:50:00.000Z",
            "eta_ideal": None, "finished": None, "complete": False, "on_time": None,
            "state_s": {"idle": 300.0, "running": 4500.0}, "oee": 0.5625,
        },
    }  # fmt: skip
    assert asyncapi_errors("OrderProgress", doc) == []
    empty = json.loads(order_payload(TOPICS, NONE_RUNS))
    assert {k: empty[k] for k in ("order", "source", "status", "progress")} == dict.fromkeys(
        ("order", "source", "status", "progress")
    )
    assert asyncapi_errors("OrderProgress", empty) == []


def test_the_changeover_document_and_its_event_id() -> None:
    doc = json.loads(changeover_payload(TOPICS, CHANGEOVER, "5e1f"))
    assert doc == {
        "v": 2, "machine": "m1", "path": "plant1/press/line1/m1",
        "ts": "2026-12-07T09:30:00.000Z", "seq": 1, "from_product": "p1", "to_product": "p2",
        "from_order": "A", "to_order": "B", "start": "2026-12-07T09:10:00.000Z",
        "end": "2026-12-07T09:20:00.000Z", "duration_s": 600.0,
        "at_rate": "2026-12-07T09:20:00.000Z", "parts_to_rate": 0, "reason": "Die change",
        "standard_s": 480.0, "loss_s": 120.0, "event_id": "5e1f:m1:o1",
    }  # fmt: skip
    assert asyncapi_errors("Changeover", doc) == []


def test_the_documents_examples_hold_and_the_intake_example_is_accepted() -> None:
    messages = DOC["components"]["messages"]
    for name in ("OrderProgress", "Changeover", "OrderIntake"):
        for example in messages[name]["examples"]:
            assert asyncapi_errors(name, example["payload"]) == [], name
    (intake,) = messages["OrderIntake"]["examples"]
    assert [OrderIn.model_validate(o).id for o in intake["payload"]] == ["W1", "W2"]
    assert asyncapi_errors("OrderIntake", {"id": "X"}) != []  # a schema that can refuse
