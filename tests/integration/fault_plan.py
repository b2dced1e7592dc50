"""What the fault-injection and soak tests share: the gateway's config, the check that an
outage plan fits the scenario, and how a run's report is published."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from simulators.scenario import Scenario
from tests.fixtures.fault_rig import Outage
from tests.integration.fault_ledger import transition_times

__all__ = ["CONFIG", "MACHINES", "fit_plan", "publish"]

MACHINES = ["m1", "m2", "m3"]

# A string.Template for the fault rig. Ideal cycle times are the scenarios' cycles in wall
# seconds (60x). m2 reads the 16-bit counter copies, so they wrap during the runs.
CONFIG = """
gateway: {id: gw-faults, data_dir: "$data_dir", log_level: INFO}
site: plant
area: a1
line: faults
api: {port: $api_port}
oee: {windows: [$window], publish_interval_s: $publish_s}
mqtt: {port: $mqtt_port}
influxdb: {url: "$influx_url", api: v1, database: $database, flush_interval_s: 0.2}
machines:
  - id: m1
    modbus: &mb {host: 127.0.0.1, port: $modbus_port, unit_id: 1, poll_interval_s: $poll_s,
                 timeout_s: 0.5, backoff_initial_s: 0.05, backoff_max_s: 0.2}
    tags: &tags
      code: {address: 0}
      reason: {address: 2}
      product: {address: 3}
      total: {address: 4, type: uint32}
      reject: {address: 8, type: uint32}
      total16: {address: 10}
      reject16: {address: 11}
    state_rules: &rules
      - {tag: code, map: {1: running, 2: idle, 3: fault, 4: setup, 5: planned_stop},
         reason_tag: reason}
    counters: {total: {tag: total}, reject: {tag: reject}}
    product_tag: product
    ideal_cycle_s: 0.0333333333
  - id: m2
    modbus: {<<: *mb, unit_id: 2}
    tags: *tags
    state_rules: *rules
    counters: {total: {tag: total16, bits: 16}, reject: {tag: reject16, bits: 16}}
    product_tag: product
    ideal_cycle_s: 0.0166666667
  - id: m3
    modbus: {<<: *mb, unit_id: 3}
    tags: *tags
    state_rules: *rules
    counters: {total: {tag: total}, reject: {tag: reject}}
    product_tag: product
    ideal_cycle_s: 0.025
"""

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
