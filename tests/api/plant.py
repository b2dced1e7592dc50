"""A small plant for the OEE routes: a calendar with a break, a reason tree, products,
micro-stops, two machines on line1 and one (whose product comes from a tag) on line2,
and a morning of stored history whose figures the tests work out by hand.

Timeline of 2026-11-03 (UTC; shift 06:00-14:00, planned break 07:00-07:15):

press1 (ideal 2 s; product 101: 1.5 s, 102: 3 s; micro_stop_s 30, startup_s 60)
    06:30 running · 06:50 fault 20 "Jam" · 06:55 running · 07:10 idle · 07:20 running
    07:30:00 idle (20 s: a micro-stop) · 07:30:20 running · 07:40 setup · 07:45 running
press2 (ideal 1 s)
    06:00 running · 07:20 fault (no reason) · 07:25 running
press3 (line2): no history at all.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from core.types import CountDelta, Event, MachineState, StateChange
from edge.config import Config

RUN, IDLE, FAULT, SETUP = (
    MachineState.RUNNING,
    MachineState.IDLE,
    MachineState.FAULT,
    MachineState.SETUP,
)


def t(hh_mm_ss: str) -> datetime:
    """A time on the test day in UTC, e.g. `t("07:30:20")`."""
    return datetime.fromisoformat(f"2026-11-03T{hh_mm_ss}").replace(tzinfo=UTC)


def z(hh_mm_ss: str) -> str:
    """The API's form of `t(hh_mm_ss)`, e.g. `"2026-11-03T07:30:20.000Z"`."""
    return f"2026-11-03T{hh_mm_ss}.000Z"


_MODBUS = {"modbus": {"host": "127.0.0.1"}}
_STATE_TAG = {"state": {"address": 0}}


def make_plant_config(
    data_dir: Path,
    lines: dict[str, Any] | None = None,
    api: dict[str, Any] | None = None,
    windows: tuple[str, ...] = ("15m", "1h"),
) -> Config:
    """The plant; `lines` is the `lines:` section (default: none, i.e. sum roll-up),
    `api` the `api:` section (default: none), `windows` `oee.windows`."""
    return Config.model_validate(
        {
            "gateway": {"id": "gw1", "data_dir": str(data_dir)},
            "site": "plant1",
            "area": "press",
            "line": "line1",
            "calendar": {
                "timezone": "UTC",
                "shifts": [{"name": "early", "start": "06:00", "end": "14:00"}],
                "breaks": [{"name": "breakfast", "start": "07:00", "end": "07:15"}],
            },
            "reasons": {
                10: {"text": "Material shortage", "category": "Logistics", "states": ["idle"]},
                20: {"text": "Jam", "category": "Mechanical/Feeder", "states": ["fault"]},
                30: {"text": "Changeover", "category": "Planned/Product", "states": ["setup"]},
            },
            "scrap_reasons": {101: "Scratch", 102: {"text": "Dent", "category": "Surface"}},
            "machines": [
                {
                    "id": "press1",
                    "name": "Press 1",
                    "ideal_cycle_s": 2,
                    "micro_stop_s": 30,
                    "startup_s": 60,
                    "products": {
                        "101": {"ideal_cycle_s": 1.5},
                        "102": {"ideal_cycle_s": 3, "name": "Bracket"},
                    },
                    # Its own entries: a new code, and 10 replaced (short form: any stop).
                    "reasons": {21: {"text": "Die crack", "states": ["fault"]}, 10: "Coil empty"},
                    "scrap_reasons": {103: {"text": "Burr", "category": "Edge/Burr"}},
                    "tags": _STATE_TAG,
                    **_MODBUS,
                },
                {"id": "press2", "ideal_cycle_s": 1, "tags": _STATE_TAG, **_MODBUS},
                {
                    "id": "press3",
                    "line": "line2",
                    "ideal_cycle_s": 4,
                    "product_tag": "product",
                    "products": {"A": {"ideal_cycle_s": 4}},
                    "tags": {**_STATE_TAG, "product": {"address": 1}},
                    **_MODBUS,
                },
            ],
            "lines": lines or {},
            "api": api or {},
            "oee": {"windows": list(windows)},
        }
    )


def state_changes(
    machine: str, steps: list[tuple[str, MachineState, int | None, str | None]]
) -> list[StateChange]:
    """StateChange events (time, state, reason code, reason) with consistent links."""
    out: list[StateChange] = []
    for seq, (at, state, code, reason) in enumerate(steps, start=1):
        prev = out[-1] if out else None
        ts = t(at)
        out.append(
            StateChange(
                machine=machine,
                state=state,
                previous=prev.state if prev else None,
                ts=ts,
                since_previous=prev.ts if prev else None,
                duration_s=(ts - prev.ts).total_seconds() if prev else None,
                seq=seq,
                reason_code=code,
                reason=reason,
            )
        )
    return out


PRESS1_STATES = state_changes(
    "press1",
    [
        ("06:30:00", RUN, None, None),
        ("06:50:00", FAULT, 20, "Jam"),
        ("06:55:00", RUN, None, None),
        ("07:10:00", IDLE, None, None),
        ("07:20:00", RUN, None, None),
        ("07:30:00", IDLE, None, None),
        ("07:30:20", RUN, None, None),
        ("07:40:00", SETUP, None, None),
        ("07:45:00", RUN, None, None),
    ],
)
PRESS2_STATES = state_changes(
    "press2",
    [("06:00:00", RUN, None, None), ("07:20:00", FAULT, None, None), ("07:25:00", RUN, None, None)],
)


def _count(machine: str, at: str, total: int, good: int, product: str | None = None) -> CountDelta:
    return CountDelta(machine, t(at), total, good, total - good, product)


# (ideal cycle: 101 -> 1.5 s, 102 -> 3 s, none -> press1's default 2 s)
PRESS1_COUNTS = [
    _count("press1", "06:40:00", 10, 10, "101"),
    _count("press1", "06:50:00", 360, 350, "101"),
    _count("press1", "07:00:00", 140, 140),
    _count("press1", "07:30:00", 380, 375, "101"),
    _count("press1", "07:40:00", 350, 350, "101"),
    _count("press1", "07:45:30", 10, 4, "102"),  # 30 s after the setup: start-up rejects
    _count("press1", "07:50:00", 80, 80, "102"),
    _count("press1", "07:55:00", 100, 100, "102"),
]
PRESS2_COUNTS = [
    _count("press2", "07:00:00", 1100, 1090),
    _count("press2", "07:50:00", 1500, 1500),
    _count("press2", "07:59:00", 540, 540),
]

HISTORY: list[Event] = [*PRESS1_STATES, *PRESS2_STATES, *PRESS1_COUNTS, *PRESS2_COUNTS]
