"""A line of three machines and a morning of stored counts and booked scrap whose quality
figures tests/api/test_quality.py works out by hand (the numbers are in its comments).

Shift `2026-11-03/early` 06:00-14:00 UTC (and `late` 14:00-22:00); the tests' now 09:00.
m1 (products A "Bracket A", B): 05:50 100 parts of C (before the shift) · 06:30 500 of A
(10 rejects) · 07:00 300 of B (6 rejects) · 07:10 8 of A booked "Scratch" (101) · 07:20
4 of A booked "Dent" (102) · 07:30 a reject of B found good (good +1, reject -1) · 07:40 a
counter movement held as suspect · 07:45 1 of C booked "Burr" (103): C made none in the
shift. m2: 06:45 780 parts (20 rejects) · 07:50 5 booked "Burr". m3: nothing counted.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from core.types import CountDelta, Event, ScrapBooked, SuspectCount
from edge.config import Config

NOW_TEXT = "09:00"


def t(hh_mm: str) -> datetime:
    return datetime.fromisoformat(f"2026-11-03T{hh_mm}").replace(tzinfo=UTC)


def quality_config(data_dir: Path, api: dict[str, object] | None = None) -> Config:
    machine = {"tags": {"state": {"address": 0}}, "modbus": {"host": "127.0.0.1"}}
    return Config.model_validate(
        {
            "gateway": {"id": "gw1", "data_dir": str(data_dir)},
            "site": "plant1",
            "area": "body",
            "line": "line1",
            "calendar": {
                "timezone": "UTC",
                "shifts": [
                    {"name": "early", "start": "06:00", "end": "14:00"},
                    {"name": "late", "start": "14:00", "end": "22:00"},
                ],
            },
            "scrap_reasons": {101: "Scratch", 102: "Dent", 103: "Burr"},
            "machines": [
                {
                    "id": "m1",
                    "ideal_cycle_s": 2,
                    "products": {
                        "A": {"ideal_cycle_s": 2, "name": "Bracket A"},
                        "B": {"ideal_cycle_s": 3},
                    },
                    **machine,
                },
                {"id": "m2", "ideal_cycle_s": 2, **machine},
                {"id": "m3", "ideal_cycle_s": 2, **machine},
                {"id": "other", "line": "line2", "ideal_cycle_s": 2, **machine},
            ],
            "api": api or {},
        }
    )


def _scrap(
    machine: str, at: str, quantity: int, code: int, reason: str, product: str | None, seq: int
) -> list[Event]:
    return [
        CountDelta(machine, t(at), 0, -quantity, quantity, product),
        ScrapBooked(machine, t(at), quantity, code, reason, "anna", product=product, seq=seq),
    ]


HISTORY: list[Event] = [
    CountDelta("m1", t("05:50"), 100, 100, 0, "C"),
    CountDelta("m1", t("06:30"), 500, 490, 10, "A"),
    CountDelta("m1", t("07:00"), 300, 294, 6, "B"),
    *_scrap("m1", "07:10", 8, 101, "Scratch", "A", 1),
    *_scrap("m1", "07:20", 4, 102, "Dent", "A", 2),
    CountDelta("m1", t("07:30"), 0, 1, -1, "B"),
    SuspectCount("m1", t("07:40"), 9000, 9000, 0, "B", 1, "parts", 40, 60.0),
    *_scrap("m1", "07:45", 1, 103, "Burr", "C", 3),
    CountDelta("m2", t("06:45"), 780, 760, 20),
    *_scrap("m2", "07:50", 5, 103, "Burr", None, 1),
]
