"""A machine's output against target in `GET /api/v1/machines` and `/machines/{id}`:
the figures of the live view's latest `OutputUpdate`, rounded as on MQTT."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx

from api.views import build_intervals, machine_detail
from core.types import LineOutputUpdate, OutputUpdate, ShiftRef, StateRecord
from edge.config import ProductConfig
from edge.pipeline.live import LiveView
from oee.states import MachineState
from oee.targets import Output
from tests.api.conftest import make_config

NOW = datetime(2026, 11, 3, 8, 0, tzinfo=UTC)
SHIFT = ShiftRef(
    "2026-11-03/early", "early", "2026-11-03", datetime(2026, 11, 3, 5, tzinfo=UTC),
    datetime(2026, 11, 3, 13, tzinfo=UTC), "Europe/Berlin",
)  # fmt: skip
OUT = Output(
    at=NOW, good=570, reject=30, total=600, target=2250.0, target_source="ideal", due=900.0,
    planned_s=27000.0, elapsed_s=10800.0, remaining_s=16200.0, rate_per_h=200.0 / 3,
    rate_window_s=900.0, average_per_h=190.0, expected=1470.0, on_track=False,
)  # fmt: skip
EXPECTED = {
    "ts": "2026-11-03T08:00:00.000Z",
    "final": False,
    "shift": {
        "id": "2026-11-03/early", "name": "early", "date": "2026-11-03",
        "start": "2026-11-03T05:00:00.000Z", "end": "2026-11-03T13:00:00.000Z",
        "timezone": "Europe/Berlin",
    },
    "good": 570, "reject": 30, "total": 600, "target": 2250.0, "target_source": "ideal",
    "due": 900.0, "planned_s": 27000.0, "elapsed_s": 10800.0, "remaining_s": 16200.0,
    "rate_per_h": 66.67, "rate_window_s": 900.0, "average_per_h": 190.0,
    "expected": 1470.0, "on_track": False,
}  # fmt: skip


async def test_machines_carry_their_output(client: httpx.AsyncClient, live: LiveView) -> None:
    live.machines["press1"].product_names["A-100"] = "Bracket A"
    live.machines["press1"].product = "A-100"
    live.apply(OutputUpdate("press1", NOW, SHIFT, OUT, "A-100", "Bracket A"))
    listed = (await client.get("/api/v1/machines")).json()
    assert [(m["id"], m["product_name"], m["output"]) for m in listed] == [
        ("press1", "Bracket A", EXPECTED),
        ("press2", None, None),
    ]
    one = (await client.get("/api/v1/machines/press1")).json()
    assert one["output"] == EXPECTED


async def test_a_line_s_output_between_two_publications(
    client: httpx.AsyncClient, live: LiveView
) -> None:
    before = (await client.get("/api/v1/lines/line1/output")).json()
    assert before == {"line": "line1", "machines": [], "output": None}
    live.apply(LineOutputUpdate("line1", "press", NOW, SHIFT, OUT, ("press1",)))
    body = (await client.get("/api/v1/lines/line1/output")).json()
    assert body == {"line": "line1", "machines": ["press1"], "output": EXPECTED}
    unknown = await client.get("/api/v1/lines/nope/output")
    assert unknown.status_code == 404
    assert unknown.json() == {
        "detail": "unknown line 'nope'; known lines: line1, line2",
        "known": ["line1", "line2"],
    }


async def test_a_machine_lists_its_products(client: httpx.AsyncClient) -> None:
    # None configured: an empty list (the scrap dialog then offers the current product).
    one = (await client.get("/api/v1/machines/press1")).json()
    assert one["products"] == []


def test_products_and_a_planned_stop_in_the_views() -> None:
    cfg = make_config().machines[0].model_copy(
        update={"products": {"A-100": ProductConfig(ideal_cycle_s=2, name="Bracket A"),
                             "B-7": ProductConfig(ideal_cycle_s=3)}}
    )  # fmt: skip
    live = LiveView.from_config(make_config())
    detail = machine_detail(live.machines["press1"], cfg, [], NOW)
    assert [p.model_dump() for p in detail.products] == [
        {"code": "A-100", "name": "Bracket A"},
        {"code": "B-7", "name": None},
    ]
    t0 = NOW - timedelta(minutes=10)
    records = [
        StateRecord("press1", MachineState.IDLE, t0, planned_kind="meeting",
                    planned_reason="Shift meeting"),
        StateRecord("press1", MachineState.RUNNING, t0 + timedelta(minutes=5)),
    ]  # fmt: skip
    stop, run = build_intervals(records, t0, NOW, NOW)
    assert (stop.planned_kind, stop.planned_reason) == ("meeting", "Shift meeting")
    assert (run.planned_kind, run.planned_reason) == (None, None)
