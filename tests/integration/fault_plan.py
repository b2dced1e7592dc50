"""What the fault-injection and soak tests share: the gateway's config, the check that an
outage plan fits the scenario, the count at the end of a run and how its report is
published."""

from __future__ import annotations

import json
import os
import string
from pathlib import Path
from typing import Any

from simulators.scenario import Scenario
from tests.fixtures.fault_rig import Outage, Rig
from tests.integration.fault_ledger import Ledger, tally, transition_times
from tests.integration.gateway import modbus_machines

__all__ = ["MACHINES", "fit_plan", "publish", "rig_config", "settle"]

MACHINES = ["m1", "m2", "m3"]

# A string.Template for the fault rig (it fills in the ports, directories and database).
# Ideal cycle times are the scenarios' cycles in wall seconds (60x).
_CONFIG = """
gateway: {id: gw-faults, data_dir: "$data_dir", log_level: INFO}
site: plant
area: a1
line: faults
api: {port: $api_port}
oee: {windows: [$window], publish_interval_s: $publish_s}
mqtt: {port: $mqtt_port}
influxdb: {url: "$influx_url", api: v1, database: $database, flush_interval_s: 0.2}
machines:""" + modbus_machines(
    "$modbus_port", {"m1": 0.0333333333, "m2": 0.0166666667, "m3": 0.025}, timeout_s=0.5
)


def rig_config(window: str, publish_s: float) -> str:
    """The gateway's config for `fault_rig`: OEE over `window`, published every `publish_s`."""
    return string.Template(_CONFIG).safe_substitute(window=window, publish_s=publish_s)


# Outages during which nobody reads the machines: no state change may fall in them.
BLIND = ("simulator", "gateway-kill", "gateway-term", "crash-with-backlog")


def fit_plan(
    scenario: Scenario, outages: list[Outage], until_s: float, margin_s: float = 0.5
) -> list[str]:
    """Problems with the plan (empty: it fits). Sets each blind outage's `read_by_s` to
    the next state change, by which the gateway must read the machines again."""
    changes = transition_times(scenario, until_s)
    problems = []
    for o in outages:
        if o.kind not in BLIND:
            continue
        before = [t for t in changes if t <= o.at_s + margin_s]
        after = [t for t in changes if t > o.at_s + margin_s]
        if before and before[-1] > o.at_s - margin_s:
            problems.append(
                f"{o.kind} at {o.at_s} s: a state change at {before[-1]} s is too close"
            )
        o.read_by_s = after[0] if after else None
    return problems


def settle(
    rig: Rig, scenario: Scenario, until_s: float, quiet_within_s: float
) -> tuple[Ledger, list[str]]:
    """The end of a run: the gateway's final SIGTERM, the subscriber drained, every
    outage's recovery and the count (`tally`); the ledger, and every violation of the
    run (the rig's, the count's, a subscriber session the broker forgot)."""
    rig.stop_gateway()
    assert rig.subscriber is not None and rig.influx is not None
    rig.subscriber.wait_quiet(1.0, within_s=quiet_within_s)
    rig.finish()
    ledger = tally(scenario, until_s, rig.influx, rig.subscriber.arrivals(), MACHINES)
    violations = rig.violations + ledger.violations
    if rig.subscriber.sessions_lost:
        violations.append(
            f"the broker forgot the subscriber's session {rig.subscriber.sessions_lost}x"
        )
    return ledger, violations


def publish(name: str, report: dict[str, Any]) -> None:
    """Print the report, and merge it under `name` into the JSON file $OEE_FAULT_REPORT."""
    print(f"\n{name}:\n" + json.dumps(report, indent=1, sort_keys=True))
    path = os.environ.get("OEE_FAULT_REPORT")
    if not path:
        return
    target = Path(path)
    try:
        doc = json.loads(target.read_text()) if target.exists() else {}
    except ValueError:
        doc = {}
    doc[name] = report
    target.write_text(json.dumps(doc, indent=1, sort_keys=True) + "\n")
