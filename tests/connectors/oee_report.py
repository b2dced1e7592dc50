"""A worked OEE example with a full loss report, and its hand-computed figures.

One hour, micro-stops under 60 s:
  00:00-25:00 running, 25:00-25:30 idle (30 s: a small stop), 25:30-30:00 running,
  30:00-40:00 fault (code 7 "Jam"), 40:00-60:00 idle (code 20 "No material").
  10 parts during start-up (8 good, 2 rejects), then 90 (87 good, 3 rejects); 15 s each.

  PPT = 3600 s, run = 1800 s (small stop included), ideal = 100 x 15 = 1500 s,
  fully productive = 95 x 15 = 1425 s;
  A = 1800 / 3600 = 0.5, P = 1500 / 1800, Q = 1425 / 1500 = 0.95, OEE = 1425 / 3600.
  Losses (s): breakdowns 600, idle 1200, small stops 30, speed 1800 - 30 - 1500 = 270,
  start-up rejects 2 x 15 = 30, production rejects 3 x 15 = 45; with 1425 they make 3600.
  One failure: MTBF = 1800 / 1, MTTR = 600 / 1.
  Pareto (downtime 1800 s): idle/20 1200 s (2/3), fault/7 600 s (1/3).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from core.types import MachineState, OeeUpdate
from oee.losses import Production, StateInterval, analyse, pareto

W0 = datetime(2026, 11, 25, 1, 0, tzinfo=UTC)
W1 = W0 + timedelta(hours=1)
HOUR: dict[str, Any] = {"window_start": W0, "window_end": W1, "micro_stop_s": 60.0}
"""`analyse` and `pareto` of the hour, with micro-stops under 60 s."""
S = MachineState


def at(minutes: float) -> datetime:
    """`minutes` into the hour."""
    return W0 + timedelta(minutes=minutes)


INTERVALS = [
    StateInterval(at(0), at(25), S.RUNNING),
    StateInterval(at(25), at(25.5), S.IDLE),
    StateInterval(at(25.5), at(30), S.RUNNING),
    StateInterval(at(30), at(40), S.FAULT, reason_code=7, reason="Jam"),
    StateInterval(at(40), at(60), S.IDLE, reason_code=20, reason="No material"),
]
PRODUCTIONS = [
    Production(at(10), 10, 8, 2, 15.0, startup=True),
    Production(at(29), 90, 87, 3, 15.0),
]


def worked_update(machine: str = "m1", window: str = "1h") -> OeeUpdate:
    """The OeeUpdate of the example, built the way the engine builds it."""
    report = analyse(INTERVALS, PRODUCTIONS, **HOUR)
    top = tuple(pareto(INTERVALS, **HOUR))
    return OeeUpdate.of(machine, window, W0, W1, report, top)


HEADLINE = {
    "availability": 0.5,
    "performance": 1500 / 1800,
    "quality": 0.95,
    "oee": 1425 / 3600,
    "run_s": 1800.0,
    "planned_s": 3600.0,
    "unknown_s": 0.0,
    "window_s": 3600.0,
    "total": 100,
    "good": 95,
    "reject": 5,
}
DETAILS = {
    "coverage": 1.0,
    "planned_stop_s": 0.0,
    "breakdown_s": 600.0,
    "setup_s": 0.0,
    "idle_s": 1200.0,
    "small_stop_s": 30.0,
    "speed_loss_s": 270.0,
    "ideal_s": 1500.0,
    "fully_productive_s": 1425.0,
    "startup_reject": 2,
    "performance_flagged": False,
    "failures": 1,
    "mtbf_s": 1800.0,
    "mttr_s": 600.0,
    "off_plan_run_s": 0.0,  # no calendar: never off plan
    "off_plan_total": 0,
}
LOSSES = [  # in the six big losses' order (the library's), each seconds / PPT 3600
    {"name": "breakdowns", "factor": "availability", "seconds": 600.0, "points": 600 / 3600},
    {"name": "setup", "factor": "availability", "seconds": 0.0, "points": 0.0},
    {"name": "idle", "factor": "availability", "seconds": 1200.0, "points": 1200 / 3600},
    {"name": "unknown", "factor": "availability", "seconds": 0.0, "points": 0.0},
    {"name": "small_stops", "factor": "performance", "seconds": 30.0, "points": 30 / 3600},
    {"name": "speed", "factor": "performance", "seconds": 270.0, "points": 270 / 3600},
    {"name": "startup_rejects", "factor": "quality", "seconds": 30.0, "points": 30 / 3600},
    {"name": "production_rejects", "factor": "quality", "seconds": 45.0, "points": 45 / 3600},
]
PARETO = [
    {
        "state": "idle",
        "reason_code": 20,
        "reason": "No material",
        "count": 1,
        "seconds": 1200.0,
        "share": 2 / 3,
    },
    {
        "state": "fault",
        "reason_code": 7,
        "reason": "Jam",
        "count": 1,
        "seconds": 600.0,
        "share": 1 / 3,
    },
]
DOCUMENT = {**DETAILS, "losses": LOSSES, "pareto": PARETO}


def wire(doc: object) -> object:
    """`doc` as MQTT, SSE and REST send it (v2): ratios 4 decimals, seconds 3."""
    from connectors.common.oeedetails import rounded

    return rounded(doc)
