"""The soak: the fault-injection harness for `OEE_SOAK_MINUTES` (default 60), with outages
on a schedule, every point counted at the end, and the gateway's memory watched.

`make soak` runs it (it is marked `soak`, which `make test` leaves out). The scenario
(soak_scenario.yaml) repeats every 30 s wall. In each pass the broker or influxd (in
turn) is killed while machines change state, and then, inside the long quiet segment,
in turn: the gateway (SIGKILL), the gateway with a backlog (both sinks down, SIGKILL,
restarted before they are back), the gateway (SIGTERM), the simulator. The gateway is
restarted in the first half only: the second half watches one gateway process's VmRSS
(sampled every 5 s) through broker, influxd and simulator outages, and its growth must
stay below `RSS_GROWTH_MAX_KB`. The run ends in the stop at the start of a pass, where
the counters are final, and the ledger must find nothing lost.
"""

from __future__ import annotations

import math
import os
import time
from pathlib import Path

import pytest

from simulators.scenario import load_scenario
from tests.fixtures.fault_rig import Outage, Rig
from tests.integration.fault_ledger import transition_times
from tests.integration.fault_plan import fit_plan, publish, rig_config, settle

SOAK = Path(__file__).with_name("soak_scenario.yaml")
MINUTES = float(os.environ.get("OEE_SOAK_MINUTES", "60"))
PERIOD_S = 30.0  # one pass of the scenario's scripts, wall seconds
RSS_EVERY_S = 5.0
# Once warmed up (the 1-minute OEE window full, the outbox's SQLite cache grown), a
# gateway that leaks nothing holds its RSS within a few MB; 16 MiB over half an hour is
# a leak of ~9 kB/s, which a day of outages would turn into more than the box has.
RSS_GROWTH_MAX_KB = 16 * 1024
# Which process dies in the quiet segment of a pass, in turn (first half only; the
# second half kills only the simulator there, so the gateway's memory is one series).
BLIND = (
    ("gateway-kill", 1.0),
    ("crash-with-backlog", 3.0),
    ("gateway-term", 0.5),
    ("simulator", 3.0),
)


def schedule(duration_s: float) -> list[Outage]:
    """Two outages per pass: broker or influxd at offset 3.5 s, then at 13 s the
    gateway or the simulator (see the module docstring)."""
    out = []
    for k in range(math.ceil(duration_s / PERIOD_S)):
        start = k * PERIOD_S
        out.append(Outage(("broker", "influxd")[k % 2], at_s=start + 3.5, down_s=3.0))
        blind, down = BLIND[k % len(BLIND)]
        if start + 13.0 + 15.0 > duration_s / 2:  # back up well before the second half
            blind, down = "simulator", 3.0
        out.append(Outage(blind, at_s=start + 13.0, down_s=down))
    return out


def rss_growth(samples: list[tuple[float, int, int]], from_s: float) -> dict[str, object]:
    """VmRSS from `from_s` on: growth = mean of the last 3 samples - mean of the first 3."""
    tail = [(t, pid, kb) for t, pid, kb in samples if t >= from_s]
    kbs = [kb for _, _, kb in tail]
    return {
        "samples": len(tail),
        "pids": sorted({pid for _, pid, _ in tail}),
        "first_kb": kbs[0] if kbs else None,
        "last_kb": kbs[-1] if kbs else None,
        "max_kb": max(kbs, default=None),
        "growth_kb": round(sum(kbs[-3:]) / 3 - sum(kbs[:3]) / 3) if len(kbs) >= 6 else None,
    }


@pytest.mark.soak
@pytest.mark.timeout(MINUTES * 60 + 600)
def test_soak(fault_rig) -> None:  # type: ignore[no-untyped-def]
    duration = MINUTES * 60
    end_s = math.ceil(duration / PERIOD_S) * PERIOD_S + 1.5  # inside the stop of a pass
    scenario = load_scenario(SOAK)
    outages = schedule(duration)
    problems = fit_plan(scenario, outages, end_s)
    if problems:
        pytest.fail("the outage schedule does not fit the scenario:\n" + "\n".join(problems))
    config = rig_config(window="1m", publish_s=1.0)
    t0 = time.monotonic()
    rig: Rig = fault_rig(SOAK, config, read_by_s=transition_times(scenario, end_s)[0])
    rig.sample_rss(RSS_EVERY_S)
    for outage in outages:
        rig.inject(outage)
    rig.sleep_until(end_s)
    rss = rss_growth(rig.rss, duration / 2)
    ledger, violations = settle(rig, scenario, end_s, quiet_within_s=30.0)
    if len(rss["pids"]) != 1 or rss["growth_kb"] is None:  # type: ignore[arg-type]
        violations.append(f"the second half's RSS is not one process's series: {rss}")
    elif rss["growth_kb"] > RSS_GROWTH_MAX_KB:  # type: ignore[operator]
        violations.append(f"RSS grew {rss['growth_kb']} kB in the second half: {rss}")
    recoveries = [o.recovery_s for o in rig.outages if o.recovery_s is not None]
    by_kind = {k: sum(o.kind == k for o in rig.outages) for k in {o.kind for o in rig.outages}}
    publish(
        "soak",
        {
            "minutes": MINUTES,
            "outages_by_kind": by_kind,
            "recovery_s_max": round(max(recoveries, default=0.0), 3),
            "outages": [o.as_dict() for o in rig.outages],
            **ledger.report,
            "rss_second_half": rss,
            "rss_growth_max_kb": RSS_GROWTH_MAX_KB,
            "duration_s": round(time.monotonic() - t0, 1),
            "violations": violations,
        },
    )
    assert not violations, "\n".join(violations)
