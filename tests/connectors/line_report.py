"""A two-machine line over the hour of `oee_report`, rolled up by hand (sum and bottleneck).

m1 is the worked example of `oee_report`: PPT 3600, run 1800 (30 s small stop), ideal
1500, fully productive 1425, 100 parts (95 good, 5 rejects: 2 at start-up), breakdown
600 (1 failure), idle 1200, speed 270, start-up rejects 30 s, production rejects 45 s.

m2, the same hour: 00:00-50:00 running, 50:00-60:00 setup; 200 parts (190 good, 10
production rejects), 12 s each:
  PPT 3600, run 3000, ideal 2400, fully productive 2280;
  A = 3000 / 3600, P = 2400 / 3000 = 0.8, Q = 2280 / 2400 = 0.95, OEE = 2280 / 3600.
  Losses (s): setup 600, speed 3000 - 2400 = 600, production rejects 10 x 12 = 120.

The line, "sum": window 7200, PPT 7200, run 4800, ideal 3900, fully productive 3705,
  300 parts, 285 good, 15 rejects (2 at start-up);
  A = 4800 / 7200, P = 3900 / 4800, Q = 3705 / 3900, OEE = 3705 / 7200.
  Losses (s): breakdowns 600, setup 600, idle 1200, small stops 30, speed 270 + 600 = 870,
  start-up rejects 30, production rejects 45 + 120 = 165; with 3705 they make 7200.
  1 failure: MTBF = 4800 / 1, MTTR = 600 / 1.
The line, "bottleneck" m2: A = 3000 / 3600, P = 2400 / 3000 (m2's), Q = the product of
  the machines' Q = (1425 / 1500) x (2280 / 2400), OEE = A x P x Q; the sums as above.
"""

from __future__ import annotations

from core.types import LineOeeUpdate, OeeUpdate
from edge.engines.lines import LineSpec, line_update
from oee.losses import Production, StateInterval, analyse
from tests.connectors.oee_report import HOUR, W0, W1, S, at, worked_update

M2_INTERVALS = [
    StateInterval(at(0), at(50), S.RUNNING),
    StateInterval(at(50), at(60), S.SETUP),
]
M2_PRODUCTIONS = [Production(at(49), 200, 190, 10, 12.0)]
SUM = LineSpec("line2", "press", ("m1", "m2"))
BOTTLENECK = LineSpec("line2", "press", ("m1", "m2"), "bottleneck", "m2")


def second_update(window: str = "1h") -> OeeUpdate:
    """m2's update of the hour."""
    report = analyse(M2_INTERVALS, M2_PRODUCTIONS, **HOUR)
    return OeeUpdate.of("m2", window, W0, W1, report)


def line(spec: LineSpec = SUM, window: str = "1h") -> LineOeeUpdate:
    """The line update of m1 and m2, by the function the engine and the API use."""
    u = line_update(spec, window, {"m1": worked_update(), "m2": second_update(window)})
    assert u is not None
    return u


M1_RATIOS = {"availability": 0.5, "performance": 1500 / 1800, "quality": 0.95,
             "oee": 1425 / 3600}  # fmt: skip
M2_RATIOS = {"availability": 3000 / 3600, "performance": 0.8, "quality": 0.95,
             "oee": 2280 / 3600}  # fmt: skip
SUM_RATIOS = {
    "availability": 4800 / 7200,
    "performance": 3900 / 4800,
    "quality": 3705 / 3900,
    "oee": 3705 / 7200,
}
_Q = (1425 / 1500) * (2280 / 2400)
BOTTLENECK_RATIOS = {
    "availability": 3000 / 3600,
    "performance": 2400 / 3000,
    "quality": _Q,
    "oee": 3000 / 3600 * (2400 / 3000) * _Q,
}
SUMS = {
    "run_s": 4800.0,
    "planned_s": 7200.0,
    "unknown_s": 0.0,
    "window_s": 7200.0,
    "total": 300,
    "good": 285,
    "reject": 15,
}
DETAILS = {
    "coverage": 1.0,
    "planned_stop_s": 0.0,
    "breakdown_s": 600.0,
    "setup_s": 600.0,
    "idle_s": 1200.0,
    "small_stop_s": 30.0,
    "speed_loss_s": 870.0,
    "ideal_s": 3900.0,
    "fully_productive_s": 3705.0,
    "startup_reject": 2,
    "performance_flagged": False,
    "failures": 1,
    "mtbf_s": 4800.0,
    "mttr_s": 600.0,
    "off_plan_run_s": 0.0,
    "off_plan_total": 0,
}
LOSS_SECONDS = {
    "breakdowns": ("availability", 600.0),
    "setup": ("availability", 600.0),
    "idle": ("availability", 1200.0),
    "unknown": ("availability", 0.0),
    "small_stops": ("performance", 30.0),
    "speed": ("performance", 870.0),
    "startup_rejects": ("quality", 30.0),
    "production_rejects": ("quality", 165.0),
}
LOSSES = {
    name: {"factor": factor, "seconds": s, "points": s / 7200}
    for name, (factor, s) in LOSS_SECONDS.items()
}


def wire(ratios: dict[str, float]) -> dict[str, float]:
    """Ratios as MQTT, SSE and REST send them: 4 decimals."""
    return {k: round(v, 4) for k, v in ratios.items()}


#: The line's losses as MQTT, SSE and REST send them (v2): a list in the six big losses'
#: order, points rounded to 4 decimals (600 / 7200 = 0.08333… -> 0.0833).
LOSS_LIST = [
    {"name": name, "factor": factor, "seconds": s, "points": round(s / 7200, 4)}
    for name, (factor, s) in LOSS_SECONDS.items()
]
#: The same, unrounded: the SQLite store's `details` keeps every digit.
LOSS_ROWS = [
    {"name": name, "factor": factor, "seconds": s, "points": s / 7200}
    for name, (factor, s) in LOSS_SECONDS.items()
]
