"""A one-machine line and a finished two-hour shift of stored history whose report the
tests work out by hand (tests/api/test_report.py).

Shift `2026-11-03/early` 06:00-08:00 UTC, break 07:00-07:15 (planned: 6,300 s).
m1 (ideal 2 s): 06:00 running · 06:30 fault "Jam" (20) · 06:40 running · 07:30 idle ·
07:40 running. Counted 2,000 parts (20 rejects); 15 booked as scrap by hand by anna
(8 + 4 "Scratch" 101, 3 "Dent" 102); a suspect count held at 07:20; one alarm (raised
06:35, acknowledged by anna 06:36, cleared 06:40); the shift's note by ben; orders P-1
and P-2 and a changeover between them (tests/api/report_orders_plant.py).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

from core.alarms import Alarm, AlarmChange
from core.types import (
    CountDelta,
    Event,
    MachineState,
    ReasonAssigned,
    ScrapBooked,
    ShiftNote,
    SuspectCount,
)
from edge.config import Config
from tests.api.plant import state_changes
from tests.api.report_orders_plant import ORDER_HISTORY, P3

RUN, IDLE, FAULT = MachineState.RUNNING, MachineState.IDLE, MachineState.FAULT
SHIFT_URL = "/api/v1/shifts/2026-11-03/early/report"


def t(hh_mm: str) -> datetime:
    return datetime.fromisoformat(f"2026-11-03T{hh_mm}").replace(tzinfo=UTC)


def report_config(data_dir: Path) -> Config:
    return Config.model_validate(
        {
            "gateway": {"id": "gw1", "data_dir": str(data_dir)},
            "site": "plant1",
            "area": "press",
            "line": "line1",
            "calendar": {
                "timezone": "UTC",
                "shifts": [{"name": "early", "start": "06:00", "end": "08:00"}],
                "breaks": [{"name": "breakfast", "start": "07:00", "end": "07:15"}],
            },
            "reasons": {20: {"text": "Jam", "states": ["fault"]}},
            "scrap_reasons": {101: "Scratch", 102: "Dent"},
            "orders": {"fixed": [P3]},
            "machines": [
                {
                    "id": "m1",
                    "ideal_cycle_s": 2,
                    "tags": {"state": {"address": 0}},
                    "modbus": {"host": "127.0.0.1"},
                    "targets": {"per_shift": {"early": 2500}},
                }
            ],  # fmt: skip
        }
    )


def _scrap(at: str, quantity: int, code: int, reason: str, seq: int) -> list[Event]:
    return [
        CountDelta("m1", t(at), 0, -quantity, quantity),
        ScrapBooked("m1", t(at), quantity, code, reason, "anna", seq=seq),
    ]


_RAISED = Alarm("m1.stop.1", "m1", "long_stop", "stop", "warning", "m1 stopped", t("06:35"))
_ACKED = replace(_RAISED, acked_by="anna", acked_at=t("06:36"))
_CLEARED = replace(_ACKED, cleared=t("06:40"))

HISTORY: list[Event] = [
    *state_changes(
        "m1",
        [
            ("06:00:00", RUN, None, None),
            ("06:30:00", FAULT, None, None),
            ("06:40:00", RUN, None, None),
            ("07:30:00", IDLE, None, None),
            ("07:40:00", RUN, None, None),
        ],
    ),  # fmt: skip
    ReasonAssigned("m1", t("06:30"), FAULT, 20, "Jam", t("06:45"), source="anna"),
    CountDelta("m1", t("06:30"), 1000, 990, 10),
    CountDelta("m1", t("07:30"), 600, 600, 0),
    CountDelta("m1", t("08:00"), 400, 390, 10),
    *_scrap("07:45", 8, 101, "Scratch", 1),
    *_scrap("07:50", 4, 101, "Scratch", 2),
    *_scrap("07:55", 3, 102, "Dent", 3),
    SuspectCount("m1", t("07:20"), 9000, 9000, 0, None, 1, "parts", 40, 60.0),
    AlarmChange("m1", t("06:35"), "raised", _RAISED, (_RAISED,), seq=1),
    AlarmChange("m1", t("06:36"), "acknowledged", _ACKED, (_ACKED,), seq=2),
    AlarmChange("m1", t("06:40"), "cleared", _CLEARED, (), seq=3),
    ShiftNote("line1", "press", "2026-11-03/early", "Die 4 worn", t("07:58"), "ben"),
    *ORDER_HISTORY,
]
