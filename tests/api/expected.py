"""Figures of the plant's history (tests/api/plant.py) worked out by hand, with the
arithmetic, for the OEE routes' tests."""

from __future__ import annotations

from typing import Any

from connectors.common.oeedetails import rounded as wire
from tests.api.plant import z

# Every figure below is the exact fraction, rounded as the API answers (v2: ratios to 4
# decimals, seconds to 3) by `wire`.
#: The fields an answer of a sliding window (or a range) has null: no shift, no day.
NO_PERIOD: dict[str, Any] = {"shift": None, "day": None, "planned": None, "note": None}

RANGE = {"from": "2026-11-03T06:40:00Z", "to": "2026-11-03T07:50:00Z"}
# How the routes answer RANGE: the period, computed from the store, nothing missing.
RANGE_HEAD: dict[str, Any] = {
    "window": None,
    "from": z("06:40:00"),
    "to": z("07:50:00"),
    "source": "history",
    "computed": True,
    "missing": [],
}

# press1 over [06:40, 07:50) (70 min = 4200 s), starting inside the run that began 06:30:
#   running 06:40-06:50   600 s
#   fault   06:50-06:55   300 s  breakdown, reason 20 Jam: 1 failure
#   running 06:55-07:00   300 s
#   running 07:00-07:10   break 07:00-07:15: planned stop 600 s
#   idle    07:10-07:15             planned stop 300 s
#   idle    07:15-07:20   300 s  idle (the break cut the stop)
#   running 07:20-07:30   600 s
#   idle    07:30-07:30:20  20 s  micro-stop (< 30 s between runs): run time, small stop
#   running 07:30:20-07:40 580 s
#   setup   07:40-07:45   300 s
#   running 07:45-07:50   300 s
# planned stop 900, PPT 4200 - 900 = 3300, run 600+300+600+20+580+300 = 2400.
# Counts in (06:40, 07:50] (the one at 06:40 is out, the one at 07:50 in):
#   06:50 360 (10 rejects) x 1.5 = 540 ideal, 525 good-ideal
#   07:00 140 (no product: 2 s) = 280, 280
#   07:30 380 (5 rejects) x 1.5 = 570, 562.5
#   07:40 350 x 1.5 = 525, 525
#   07:45:30 10 (6 start-up rejects) x 3 = 30, 12
#   07:50 80 x 3 = 240, 240
# total 1320, good 1299, reject 21; ideal 2185, fully productive 2144.5.
# A = 2400/3300, P = 2185/2400, Q = 2144.5/2185, OEE = 2144.5/3300.
# Losses (s): breakdowns 300, setup 300, idle 300, unknown 0, small stops 20,
#   speed 2400 - 20 - 2185 = 195, start-up rejects 6 x 3 = 18, production rejects
#   10 x 1.5 + 5 x 1.5 = 22.5; with 2144.5 they add up to 3300. Points: s / 3300.
PRESS1_LOSSES = wire(
    [
        {"name": "breakdowns", "factor": "availability", "seconds": 300.0, "points": 300 / 3300},
        {"name": "setup", "factor": "availability", "seconds": 300.0, "points": 300 / 3300},
        {"name": "idle", "factor": "availability", "seconds": 300.0, "points": 300 / 3300},
        {"name": "unknown", "factor": "availability", "seconds": 0.0, "points": 0.0},
        {"name": "small_stops", "factor": "performance", "seconds": 20.0, "points": 20 / 3300},
        {"name": "speed", "factor": "performance", "seconds": 195.0, "points": 195 / 3300},
        {"name": "startup_rejects", "factor": "quality", "seconds": 18.0, "points": 18 / 3300},
        {"name": "production_rejects", "factor": "quality", "seconds": 22.5, "points": 22.5 / 3300},
    ]
)
# Unplanned downtime: 300 s each of fault (Jam), idle, setup: a third each; ties by state.
PRESS1_PARETO = wire(
[
    {"state": "fault", "reason_code": 20, "reason": "Jam", "count": 1, "seconds": 300.0,
     "share": 1 / 3},
    {"state": "idle", "reason_code": None, "reason": None, "count": 1, "seconds": 300.0,
     "share": 1 / 3},
    {"state": "setup", "reason_code": None, "reason": None, "count": 1, "seconds": 300.0,
     "share": 1 / 3},
])  # fmt: skip


# press1 over [06:40, 07:50): see above (run 2400, PPT 3300, ideal 2185,
# good-ideal 2144.5, 1320 parts, 21 rejects, 6 start-up, 1 failure, 20 s small stops).
# press2 over [06:40, 07:50):
#   running 06:40-07:00 1200 s; 07:00-07:15 in the break: planned stop 900 s;
#   running 07:15-07:20 300 s; fault 07:20-07:25 300 s (1 failure); running 07:25-07:50 1500 s
#   run 3000, PPT 3300; counts 07:00 1100 (10 rejects) and 07:50 1500, 1 s each:
#   ideal 2600, good-ideal 2590. A = 3000/3300, P = 2600/3000, Q = 2590/2600.
PRESS1_RATIOS = wire(
    {
        "availability": 2400 / 3300,
        "performance": 2185 / 2400,
        "quality": 2144.5 / 2185,
        "oee": 2144.5 / 3300,
    }
)
PRESS2_RATIOS = wire(
    {
        "availability": 3000 / 3300,
        "performance": 2600 / 3000,
        "quality": 2590 / 2600,
        "oee": 2590 / 3300,
    }
)
# line1 (summed): the ratios of the sums below, not the mean of the machines' ratios.
LINE_RATIOS = wire(
    {
        "availability": 5400 / 6600,
        "performance": 4785 / 5400,
        "quality": 4734.5 / 4785,
        "oee": 4734.5 / 6600,
    }
)
# The sums: window 8400, planned stop 1800, PPT 6600, run 5400, breakdown 600, setup 300,
# idle 300, small stops 20, ideal 4785, good-ideal 4734.5, speed 5400 - 20 - 4785 = 595.
SUMS = wire(
    {
        "window_s": 8400.0,
        "run_s": 5400.0,
        "planned_s": 6600.0,
        "unknown_s": 0.0,
        "total": 3920,
        "good": 3889,
        "reject": 31,
        "coverage": 1.0,
        "planned_stop_s": 1800.0,
        "breakdown_s": 600.0,
        "setup_s": 300.0,
        "idle_s": 300.0,
        "small_stop_s": 20.0,
        "speed_loss_s": 595.0,
        "ideal_s": 4785.0,
        "fully_productive_s": 4734.5,
        "startup_reject": 6,
        "failures": 2,
        "mtbf_s": 2700.0,  # 5400 / 2
        "mttr_s": 300.0,  # 600 / 2
        "off_plan_run_s": 0.0,  # the range lies in the early shift
        "off_plan_total": 0,
    }
)
# Rejects: start-up 6 x 3 s = 18; production 22.5 (press1) + 10 x 1 s (press2) = 32.5.
LINE_LOSSES = wire(
    [
        {"name": "breakdowns", "factor": "availability", "seconds": 600.0, "points": 600 / 6600},
        {"name": "setup", "factor": "availability", "seconds": 300.0, "points": 300 / 6600},
        {"name": "idle", "factor": "availability", "seconds": 300.0, "points": 300 / 6600},
        {"name": "unknown", "factor": "availability", "seconds": 0.0, "points": 0.0},
        {"name": "small_stops", "factor": "performance", "seconds": 20.0, "points": 20 / 6600},
        {"name": "speed", "factor": "performance", "seconds": 595.0, "points": 595 / 6600},
        {"name": "startup_rejects", "factor": "quality", "seconds": 18.0, "points": 18 / 6600},
        {"name": "production_rejects", "factor": "quality", "seconds": 32.5, "points": 32.5 / 6600},
    ]
)


def r4(*ratios: float) -> tuple[float, ...]:
    """Ratios as the API answers them: 4 decimals."""
    return tuple(round(x, 4) for x in ratios)
