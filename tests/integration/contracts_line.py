"""The hour of the contract test (tests/integration/test_oee_contracts.py), its line's
second machine and the line's figures with press1's (the worked example of docs/OEE.md),
by hand."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from core.types import CountDelta, Event, MachineState, StateChange

S = MachineState
T0 = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)  # Tuesday 10:00 in Berlin


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


# press2, the same hour: running, setup 09:40-09:50, running; 600 good parts at 09:20 and
# 100 (10 rejects) at 09:52, 3 s each. W 3600, planned stop 300 (coffee), PPT 3300, run
# 2700, setup 600, ideal 2100, fully productive 2070; speed 2700 - 2100 = 600, production
# rejects 30. The line (sum): W 7200, planned stop 600, PPT 6600, run 5400, ideal 4500,
# fully productive 4350, 1900 parts (1830 good, 70 rejects); breakdown 600 (1 failure),
# setup 600, small stops 20, speed 280 + 600 = 880, production rejects 120 + 30 = 150:
# with 4350 they make 6600. A = 5400/6600, P = 4500/5400, Q = 4350/4500, OEE = 4350/6600.
SCRIPT2: list[Event] = [
    StateChange("press2", S.RUNNING, None, at(0), None, None, 1),
    CountDelta("press2", at(20), 600, 600, 0),
    StateChange("press2", S.SETUP, S.RUNNING, at(40), at(0), 2400.0, 2),
    StateChange("press2", S.RUNNING, S.SETUP, at(50), at(40), 600.0, 3),
    CountDelta("press2", at(52), 100, 90, 10),
]
LINE_EXPECTED = {
    "availability": 5400 / 6600, "performance": 4500 / 5400, "quality": 4350 / 4500,
    "oee": 4350 / 6600, "run_s": 5400.0, "planned_s": 6600.0, "unknown_s": 0.0,
    "window_s": 7200.0, "total": 1900, "good": 1830, "reject": 70, "coverage": 1.0,
    "planned_stop_s": 600.0, "breakdown_s": 600.0, "setup_s": 600.0, "idle_s": 0.0,
    "small_stop_s": 20.0, "speed_loss_s": 880.0, "ideal_s": 4500.0,
    "fully_productive_s": 4350.0, "startup_reject": 0, "performance_flagged": False,
    "failures": 1, "mtbf_s": 5400.0, "mttr_s": 600.0,
}  # fmt: skip
LINE_LOSSES = {
    "breakdowns": 600.0,
    "setup": 600.0,
    "idle": 0.0,
    "unknown": 0.0,
    "small_stops": 20.0,
    "speed": 880.0,
    "startup_rejects": 0.0,
    "production_rejects": 150.0,
}
PRESS2_RATIOS = {"availability": 2700 / 3300, "performance": 2100 / 2700,
                 "quality": 2070 / 2100, "oee": 2070 / 3300}  # fmt: skip
