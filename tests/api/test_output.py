"""A machine's output against target in `GET /api/v1/machines` and `/machines/{id}`:
the figures of the live view's latest `OutputUpdate`, rounded as on MQTT."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx

from core.types import OutputUpdate, ShiftRef
from edge.pipeline.live import LiveView
from oee.targets import Output

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
