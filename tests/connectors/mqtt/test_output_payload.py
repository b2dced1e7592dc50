"""The retained `…/output` and `…/_line/output` payloads: exact JSON, rounded figures."""

import json
from datetime import UTC, datetime

from connectors.mqtt.payloads import LineTopics, MachineTopics, output_payload
from core.types import LineOutputUpdate, MachineRef, OutputUpdate, ShiftRef
from oee.targets import Output

T = datetime(2026, 12, 7, 8, tzinfo=UTC)
SHIFT = ShiftRef(
    "2026-12-07/early", "early", "2026-12-07", datetime(2026, 12, 7, 5, tzinfo=UTC),
    datetime(2026, 12, 7, 13, tzinfo=UTC), "Europe/Berlin",
)  # fmt: skip
OUT = Output(
    at=T, good=570, reject=30, total=600, target=2250.0, target_source="ideal",
    due=900.0, planned_s=27000.0, elapsed_s=10800.0, remaining_s=16200.0,
    rate_per_h=200.0 / 3, rate_window_s=900.0, average_per_h=190.0, expected=1470.123456,
    on_track=False,
)  # fmt: skip
FIGURES = {
    "good": 570, "reject": 30, "total": 600, "target": 2250.0, "target_source": "ideal",
    "due": 900.0, "planned_s": 27000.0, "elapsed_s": 10800.0, "remaining_s": 16200.0,
    "rate_per_h": 66.67, "rate_window_s": 900.0, "average_per_h": 190.0,
    "expected": 1470.12, "on_track": False,
}  # fmt: skip
SHIFT_DOC = {
    "id": "2026-12-07/early", "name": "early", "date": "2026-12-07",
    "start": "2026-12-07T05:00:00.000Z", "end": "2026-12-07T13:00:00.000Z",
    "timezone": "Europe/Berlin",
}  # fmt: skip


def test_machine_output_payload() -> None:
    t = MachineTopics("oee", MachineRef("s", "a", "l", "m1"))
    ev = OutputUpdate("m1", T, SHIFT, OUT, "P1", "Bracket")
    assert t.output == "oee/s/a/l/m1/output"
    assert json.loads(output_payload(t, ev)) == {
        "v": 2, "machine": "m1", "path": "s/a/l/m1", "ts": "2026-12-07T08:00:00.000Z",
        "final": False, "shift": SHIFT_DOC, "product": "P1", "product_name": "Bracket",
        **FIGURES,
    }  # fmt: skip


def test_line_output_payload() -> None:
    t = LineTopics("oee", "s", "a", "l")
    ev = LineOutputUpdate("l", "a", T, SHIFT, OUT, ("m1", "m2"), final=True)
    assert t.output == "oee/s/a/l/_line/output"
    assert json.loads(output_payload(t, ev)) == {
        "v": 2, "line": "l", "path": "s/a/l", "ts": "2026-12-07T08:00:00.000Z",
        "final": True, "shift": SHIFT_DOC, "machines": ["m1", "m2"], **FIGURES,
    }  # fmt: skip
