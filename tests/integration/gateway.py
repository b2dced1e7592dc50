"""Helpers to run the gateway in-process against real servers."""

from __future__ import annotations

import asyncio
import contextlib
import io
from collections.abc import AsyncIterator
from pathlib import Path

from edge.cli.serve import run_gateway
from edge.config import Config
from edge.config.loading import parse_config
from edge.pipeline.gateway import Gateway
from tests.fixtures.ports import free_port

SCENARIO = Path(__file__).with_name("e2e_scenario.yaml")

# The Modbus simulator's machines m1, m2, m3 (unit ids 1-3, one register map); m2 reads
# the 16-bit counter copies, so they wrap in a run. m1 defines the connection, tags and
# rules (`&mb`, `&tags`, `&rules`); the others alias them.
_MODBUS_M1 = """
  - id: m1
    modbus: &mb {{host: 127.0.0.1, port: {port}, unit_id: 1, poll_interval_s: 0.05,
                 {timeout}backoff_initial_s: 0.05, backoff_max_s: 0.2}}
    tags: &tags
      code: {{address: 0}}
      reason: {{address: 2}}
      product: {{address: 3}}
      total: {{address: {total}, type: uint32}}
      reject: {{address: 8, type: uint32}}
      total16: {{address: 10}}
      reject16: {{address: 11}}{more_tags}
    state_rules: &rules
      - {{tag: code, map: {{1: running, 2: idle, 3: fault, 4: setup, 5: planned_stop}},
         reason_tag: reason}}{m1_extra}"""
_MODBUS_OTHER = """
  - id: {id}
    modbus: {{<<: *mb, unit_id: {unit}}}
    tags: *tags
    state_rules: *rules"""
_MODBUS_COMMON = """
    counters: {counters}
    product_tag: product
    ideal_cycle_s: {ideal}"""
_COUNTERS_32 = "{total: {tag: total}, reject: {tag: reject}}"
_COUNTERS_16 = "{total: {tag: total16, bits: 16}, reject: {tag: reject16, bits: 16}}"


def modbus_machines(
    port: str,
    ideal_cycle_s: dict[str, float],
    *,
    timeout_s: float | None = None,
    more_tags: str = "",
    m1_extra: str = "",
    part_record: bool = False,
) -> str:
    """The `machines:` entries of the simulator's machines in `ideal_cycle_s` (m1 first),
    read from the Modbus `port` (as written in the YAML: a number or a placeholder).
    `more_tags` is one more tag of every machine, `m1_extra` one more line of m1's.
    `part_record`: the total count from the part record (holding 138, read with the fill
    weight at 136 in one request: docs/SPC.md "How readings become points"), not 4."""
    assert next(iter(ideal_cycle_s)) == "m1", "the other machines alias m1's settings"
    out = ""
    for m, ideal in ideal_cycle_s.items():
        if m == "m1":
            out += _MODBUS_M1.format(
                port=port,
                timeout="" if timeout_s is None else f"timeout_s: {timeout_s}, ",
                more_tags=f"\n      {more_tags}" if more_tags else "",
                m1_extra=f"\n    {m1_extra}" if m1_extra else "",
                total=138 if part_record else 4,
            )
        else:
            out += _MODBUS_OTHER.format(id=m, unit=m.removeprefix("m"))
        counters = _COUNTERS_16 if m == "m2" else _COUNTERS_32
        out += _MODBUS_COMMON.format(counters=counters, ideal=ideal)
    return out + "\n"


# Ideal cycle times are the simulator's cycle in wall seconds (sim runs at 60x).
CONFIG = """
gateway: {id: "gw-${LINE}", data_dir: "${DATA_DIR}"}
site: plant
area: area1
line: ${LINE}
api: {port: "${API_PORT}"}
oee: {windows: [1h], publish_interval_s: 0.25}
machines:""" + modbus_machines(
    '"${MODBUS_PORT}"',
    {"m1": 0.0333333333, "m2": 0.0166666667, "m3": 0.0166666667},
    more_tags="temperature: {address: 14, type: float32, order: CDAB}",
    m1_extra="reasons: {12: Sensor fault}",
)


def config_env(data_dir: Path, modbus_port: int, line: str) -> dict[str, str]:
    """The environment CONFIG's `${...}` references are filled from."""
    return {
        "DATA_DIR": str(data_dir),
        "MODBUS_PORT": str(modbus_port),
        "API_PORT": str(free_port()),
        "LINE": line,
    }


def gateway_config(data_dir: Path, modbus_port: int, extra: str = "", line: str = "l1") -> Config:
    return parse_config(CONFIG + extra, "e2e.yaml", config_env(data_dir, modbus_port, line))


@contextlib.asynccontextmanager
async def running(config: Config) -> AsyncIterator[Gateway]:
    """Run the gateway (and its API) until the block exits; then stop it cleanly."""
    gateway = Gateway(config)
    task = asyncio.create_task(run_gateway(config, gateway), name="gateway-under-test")
    try:
        yield gateway
    finally:
        task.cancel()
        done, _ = await asyncio.wait({task}, timeout=20)
        if not done:
            raise AssertionError("the gateway did not stop within 20 s:\n" + task_stacks())
        with contextlib.suppress(asyncio.CancelledError):
            task.result()


def task_stacks() -> str:
    """Every asyncio task's stack, to show where a stuck shutdown waits."""
    out = io.StringIO()
    for t in asyncio.all_tasks():
        t.print_stack(file=out)
    return out.getvalue()


async def wait_until(predicate, within_s: float = 15.0, what: str = "condition") -> None:  # type: ignore[no-untyped-def]
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within_s
    while not predicate():
        if loop.time() > deadline:
            raise AssertionError(f"timed out after {within_s} s waiting for {what}")
        await asyncio.sleep(0.05)


SIM_NS = "urn:oee-edge:simulator"
# The e2e machines over OPC UA: same tag names, rules and ideal times as CONFIG.
OPCUA_MACHINE = """
  - id: {id}
    opcua: {{endpoint: "{endpoint}", mode: {mode}, publishing_interval_s: 0.05,
             poll_interval_s: 0.05, backoff_initial_s: 0.05, backoff_max_s: 0.3,
             watchdog_s: 0.5, timeout_s: 2, session_timeout_s: {session}{conn_extra}}}
    tags:
      code: nsu={ns};s={id}.State
      reason: nsu={ns};s={id}.Reason
      product: nsu={ns};s={id}.Product
      total: nsu={ns};s={id}.Counters.{total}
      reject: nsu={ns};s={id}.Counters.{reject}
      temperature: nsu={ns};s={id}.Temperature
    state_rules:
      - {{tag: code, map: {{1: running, 2: idle, 3: fault, 4: setup, 5: planned_stop}},
         reason_tag: reason}}
    counters: {{total: {{tag: total, bits: {bits}}}, reject: {{tag: reject, bits: {bits}}}}}
    product_tag: product
    ideal_cycle_s: {ideal}
    reasons: {{12: Sensor fault}}
"""
_OPCUA_COUNTERS = {
    "m1": ("Total", "Reject", 32, 0.0333333333),
    "m2": ("Total16", "Reject16", 16, 0.0166666667),
    "m3": ("Total", "Reject", 32, 0.0166666667),
}


def opcua_config(
    data_dir: Path,
    endpoint: str,
    *,
    mode: str = "subscription",
    machines: tuple[str, ...] = ("m1", "m2", "m3"),
    conn_extra: str = "",
    extra: str = "",
    line: str = "ua",
    session_timeout_s: float = 10,
) -> Config:
    """CONFIG's gateway with the e2e machines read from an OPC UA server at `endpoint`.

    `conn_extra` is spliced into each machine's `opcua:` mapping (e.g. security)."""
    head = CONFIG.split("machines:")[0]
    body = "".join(
        OPCUA_MACHINE.format(
            id=m, endpoint=endpoint, mode=mode, ns=SIM_NS, conn_extra=conn_extra,
            session=session_timeout_s,
            total=_OPCUA_COUNTERS[m][0], reject=_OPCUA_COUNTERS[m][1],
            bits=_OPCUA_COUNTERS[m][2], ideal=_OPCUA_COUNTERS[m][3],
        )
        for m in machines
    )  # fmt: skip
    env = config_env(data_dir, 0, line)
    return parse_config(head + "machines:" + body + extra, "e2e-opcua.yaml", env)
