"""What a simulator served, computed from the scenario's own model (for epoch tests).

A server's registers are re-encoded every 50 ms, so a value read at wall time t was
computed at some sim time a little before t. `served_between` lists every register
image the model shows between two sim times; the one read must be among them.
"""

from __future__ import annotations

import copy

from simulators.model import MachineModel
from simulators.registers import live_registers
from simulators.scenario import Scenario

# Holding registers 0-13: state .. speed (14-15, the temperature, is a sine).
EXACT = 14
# Wall seconds before a read that the served image may be old (refresh period + load).
STALE_S = 0.5
# Images shorter than this (sim seconds) are not looked for.
RESOLUTION_S = 1e-6

Image = tuple[int, ...]


def served_between(
    scenario: Scenario, machine_id: str, wall_before: float, wall_after: float
) -> set[Image]:
    """Every image of holding registers 0-13 that `machine_id`'s model shows between
    the sim times of ``wall_before - STALE_S`` and `wall_after` (scenario with an epoch).

    The image only changes when a transition happens or a part completes, and both
    counts only grow with sim time: equal counts at both ends of an interval mean one
    image all through it. So bisecting until the counts agree finds every image.
    """
    lo = scenario.sim_time_at(wall_before - STALE_S)
    hi = scenario.sim_time_at(wall_after)
    base = scenario.model(machine_id)
    base.advance_to(lo)
    seen: set[Image] = set()

    def at(sim_t: float) -> tuple[int, int]:
        model: MachineModel = copy.deepcopy(base)
        model.advance_to(sim_t)
        snap = model.snapshot()
        seen.add(tuple(live_registers(snap)[:EXACT]))
        return model.transitions, snap.parts

    def walk(a: float, key_a: tuple[int, int], b: float, key_b: tuple[int, int]) -> None:
        if key_a == key_b or b - a < RESOLUTION_S:
            return
        mid = (a + b) / 2
        key_mid = at(mid)
        walk(a, key_a, mid, key_mid)
        walk(mid, key_mid, b, key_b)

    walk(lo, at(lo), hi, at(hi))
    return seen


# m1: a 100 s script played over and over (5 s of wall time per pass at 20x); m2:
# random mode. Both are exactly predictable from the seed.
LOOPING: dict[str, object] = {
    "seed": 5,
    "time_scale": 20,
    "port": 0,
    "machines": [
        {
            "id": "m1",
            "unit_id": 1,
            "cycle_s": 1,
            "reject_every": 7,
            "repeat": True,
            "script": [
                {"state": "running", "for_s": 45, "product": 11},
                {"state": "fault", "for_s": 10, "reason": 12},
                {"state": "setup", "for_s": 5, "reason": 3, "product": 12},
                {"state": "running", "for_s": 30},
                {"state": "idle", "for_s": 10, "reason": 7},
            ],
        },
        {
            "id": "m2",
            "unit_id": 2,
            "cycle_s": 2,
            "reject_rate": 0.1,
            "micro_stop_every_s": 20,
            "mtbf_s": 60,
            "mttr_s": 10,
        },
    ],
}
