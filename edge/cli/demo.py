"""`oee-edge demo`: simulated machines, a broker, the gateway and the API — no set-up."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import shutil
import socket
import sys
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path

from edge.cli.demo_calendar import DemoShifts, shift_times
from edge.cli.serve import run_gateway, until_signalled
from edge.cli.startup import EXIT_CANNOT_START, StartupError
from edge.config import (
    AlarmsConfig,
    BoolRule,
    CodeMapRule,
    Config,
    CounterRule,
    MachineConfig,
    OpcUaConnection,
    OpcUaTag,
)
from edge.config.loading import ConfigError, parse_config
from edge.config.orders import OrdersConfig
from edge.config.preflight import directory_problem
from edge.config.reading import load_yaml
from edge.config.spc import ChartConfig
from edge.pipeline.gateway import Gateway
from oee.states import MachineState


def port_or_free(port: int) -> int:
    """`port` if nothing listens on it on loopback, else a free one."""
    with socket.socket() as s:
        # As the servers themselves bind (Mosquitto, uvicorn, pymodbus): a port whose
        # last connections still linger in TIME_WAIT, as after a demo stopped a moment
        # ago, is free to listen on. Without it a quick restart moved every server to a
        # random port. A listener on the port still makes the bind fail.
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
            return port
        except OSError:
            s.bind(("127.0.0.1", 0))
            return int(s.getsockname()[1])


SIM_NAMESPACE = "urn:oee-edge:simulator"
# Demo tag name -> the simulator's OPC UA variable (docs/simulator.md).
_OPCUA_NODES = {
    "state_code": "State",
    "reason": "Reason",
    "product": "Product",
    "total": "Counters.Total",
    "good": "Counters.Good",
    "reject": "Counters.Reject",
    "total16": "Counters.Total16",
    "reject16": "Counters.Reject16",
    "speed": "Speed",
    "temperature": "Temperature",
    "fill_weight": "FillWeight",
    "fault": "Fault",
    "running": "Running",
}
# Which demo machines are read over OPC UA, per --protocol.
OPCUA_MACHINES = {
    "modbus": set(),
    "opcua": {"press1", "press2", "packer1", "filler1"},
    "mixed": {"packer1"},
}


def demo_config(
    data_dir: str,
    modbus_port: int,
    mqtt_port: int,
    api_port: int,
    time_scale: float = 1.0,
    *,
    opcua_endpoint: str | None = None,
    opcua_machines: set[str] | frozenset[str] = frozenset(),
    shifts: DemoShifts | None = None,
) -> Config:
    """The bundled demo config; with a time scale, its times follow the simulator's clock.

    Machines in `opcua_machines` are read from the OPC UA simulator at `opcua_endpoint`
    (by subscription) instead of over Modbus. The early shift begins at `shifts.start`
    (default: now, see `demo_shifts`).
    """
    text = _demo_yaml()
    env = {
        "DATA_DIR": data_dir,
        "MODBUS_PORT": str(modbus_port),
        "MQTT_PORT": str(mqtt_port),
        "API_PORT": str(api_port),
        **(shifts := shifts or demo_shifts()).env,
        **shifts.order_env(time_scale),
    }
    config = parse_config(text, "demo.yaml", env)
    machines = list(config.machines)
    if opcua_machines:
        assert opcua_endpoint is not None
        machines = [
            over_opcua(m, opcua_endpoint) if m.id in opcua_machines else m for m in machines
        ]
    if time_scale != 1.0:
        machines = [_scaled(m, time_scale) for m in machines]
        alarms = _scaled_alarms(config.alarms, time_scale)
        orders = _scaled_orders(config.orders, time_scale)
        config = config.model_copy(update={"alarms": alarms, "orders": orders})
    return config.model_copy(update={"machines": machines})


def _scaled_alarms(alarms: AlarmsConfig, k: float) -> AlarmsConfig:
    # A stop the simulator plays for 35 s lasts 35 / k s of the gateway's wall clock, so
    # the duration rules shrink alike (below their 1 s floor: the config is not re-checked).
    rules = [
        r.model_copy(update={"longer_than": r.longer_than / k}) if hasattr(r, "longer_than") else r
        for r in alarms.rules
    ]
    return alarms.model_copy(update={"rules": rules})


def _scaled_orders(orders: OrdersConfig, k: float) -> OrdersConfig:
    # The orders' ideal cycles, the at-risk margin and the windows shrink with the
    # simulator's clock (its due times already are, `DemoShifts.order_env`).
    fixed = [
        o.model_copy(update={"ideal_cycle_s": o.ideal_cycle_s / k}) if o.ideal_cycle_s else o
        for o in orders.fixed
    ]
    names = ("at_risk_margin_s", "rate_window_s", "ramp_window_s")
    windows = {n: getattr(orders, n) / k for n in names}
    return orders.model_copy(update={"fixed": fixed, **windows})


def _demo_yaml() -> str:
    return resources.files("edge.cli").joinpath("demo.yaml").read_text(encoding="utf-8")


def demo_shifts(now: datetime | None = None) -> DemoShifts:
    """The demo's shifts for a start at `now` (default: the current time), in the time
    zone of demo.yaml's calendar."""
    zone = load_yaml(_demo_yaml())["calendar"]["timezone"]
    return shift_times(now or datetime.now(UTC), zone)


def over_opcua(m: MachineConfig, endpoint: str) -> MachineConfig:
    """`m` read from the OPC UA simulator: same tag names, rules and counters.

    Status bits with no variable of their own (setup, planned) are read off the
    state code instead, in the same place among the rules.
    """
    tags = {n: _node(m.id, n) for n in m.tags if n in _OPCUA_NODES}
    rules: list[object] = []
    for rule in m.state_rules:
        if isinstance(rule, BoolRule | CodeMapRule) and rule.tag not in tags:
            if not any(isinstance(r, CodeMapRule) and r.tag == "state_code" for r in rules):
                by_code = {4: MachineState.SETUP, 5: MachineState.PLANNED_STOP}
                rules.append(CodeMapRule(tag="state_code", map=by_code))
                tags["state_code"] = _node(m.id, "state_code")
            continue
        rules.append(rule)
    data = m.model_dump(exclude={"modbus", "tags", "state_rules"})
    conn = OpcUaConnection(endpoint=endpoint, publishing_interval_s=0.5)
    return MachineConfig.model_validate({**data, "opcua": conn, "tags": tags, "state_rules": rules})


def _node(machine: str, tag: str) -> OpcUaTag:
    return OpcUaTag(node=f"nsu={SIM_NAMESPACE};s={machine}.{_OPCUA_NODES[tag]}")


def _scaled(m: MachineConfig, k: float) -> MachineConfig:
    # The simulator runs k times faster than the wall clock the gateway measures with.
    rules = [
        r.model_copy(update={"within_s": r.within_s / k}) if isinstance(r, CounterRule) else r
        for r in m.state_rules
    ]
    products = {
        code: p.model_copy(update={"ideal_cycle_s": p.ideal_cycle_s / k})
        for code, p in m.products.items()
    }
    # Read as often in simulated time as at 1x, within what a poll loop can do.
    conn: dict[str, object] = {}
    if m.modbus is not None:
        poll = max(0.05, m.modbus.poll_interval_s / k)
        conn["modbus"] = m.modbus.model_copy(update={"poll_interval_s": poll})
    if m.opcua is not None:
        interval = max(0.05, m.opcua.publishing_interval_s / k)
        conn["opcua"] = m.opcua.model_copy(update={"publishing_interval_s": interval})
    return m.model_copy(
        update={
            **conn,
            "ideal_cycle_s": m.ideal_cycle_s / k,
            "micro_stop_s": m.micro_stop_s / k,
            "state_rules": rules,
            "products": products,
        }
    )


def _banner(
    config: Config, broker_kind: str, modbus_port: int, opcua: str | None, shifts: DemoShifts
) -> str:
    assert config.mqtt is not None
    api = f"http://{config.api.host}:{config.api.port}"
    root = f"{config.mqtt.prefix}/{config.site}/{config.area}/{config.line}"
    lines = ["oee-edge demo is running (Ctrl-C to stop)"]
    on_modbus = [m.id for m in config.machines if m.modbus is not None]
    on_opcua = [m.id for m in config.machines if m.opcua is not None]
    if on_modbus:
        lines.append(
            f"  machines   {', '.join(on_modbus)} "
            f"(simulated, Modbus TCP on 127.0.0.1:{modbus_port})"
        )
    if on_opcua:
        lines.append(f"  machines   {', '.join(on_opcua)} (simulated, OPC UA on {opcua})")
    return "\n".join(
        [
            *lines,
            f"  dashboard  {api}/",
            f"  API        {api}/api/v1/machines   docs: {api}/docs",
            f"  MQTT       {broker_kind} on {config.mqtt.host}:{config.mqtt.port}, topics {root}/#",
            f"             mosquitto_sub -p {config.mqtt.port} -t '{config.mqtt.prefix}/#' -v",
            *(f"  raw tags   {root}/{m.id}/tags" for m in config.machines if m.publish_tags),
            *(
                f"  SPC        {c.id}: {api}/api/v1/spc/charts/{c.id}, {_spc_topic(root, c)}"
                for c in config.spc.charts
            ),
            f"  shift      {shifts.describe()}",
            f"  store      SQLite in {config.sqlite_path}",
        ]
    )


def _spc_topic(root: str, chart: ChartConfig) -> str:
    return f"{root}/{chart.machine}/spc/{chart.id}"


async def demo(args: argparse.Namespace, data_dir: Path) -> None:
    """Serve the simulators, a broker, the gateway and its API until cancelled."""
    from connectors.mqtt.broker import local_broker
    from simulators.modbus_server import serve_modbus
    from simulators.opcua_server import serve_opcua
    from simulators.scenario import load_scenario

    on_opcua = OPCUA_MACHINES[args.protocol]
    scenario = load_scenario("demo").with_overrides(time_scale=args.time_scale)
    moved: list[str] = []  # the ports that were taken, for the banner

    def port(flag: str) -> int:
        asked = getattr(args, flag.replace("-", "_"))
        got = port_or_free(asked)
        if got != asked:
            moved.append(f"  note       --{flag} {asked} is in use: took {got}")
        return got

    async with contextlib.AsyncExitStack() as stack:
        sim = await stack.enter_async_context(serve_modbus(scenario, port=port("modbus-port")))
        endpoint = None
        if on_opcua:
            ua_sim = await stack.enter_async_context(
                serve_opcua(
                    scenario,
                    port=port("opcua-port"),
                    models=sim.models,  # one machine, seen over both protocols
                    clock=sim.sim_time,
                )
            )
            endpoint = ua_sim.url
        broker = await stack.enter_async_context(local_broker(port("mqtt-port")))
        api_port = port("api-port")
        shifts = demo_shifts()
        config = demo_config(
            str(data_dir), sim.port, broker.port, api_port, args.time_scale,
            opcua_endpoint=endpoint, opcua_machines=on_opcua, shifts=shifts,
        )  # fmt: skip
        print(_banner(config, broker.kind, sim.port, endpoint, shifts), *moved, sep="\n")
        sys.stdout.flush()
        await run_gateway(config, Gateway(config))


@contextlib.contextmanager
def demo_data_dir(given: str | None) -> Iterator[Path]:
    """`given` (kept as it is: the user's), else a temporary directory that is removed
    however the block ends: a stop (Ctrl-C, SIGTERM), a failed start, an error."""
    if given is not None:
        problem = directory_problem(Path(given), "--data-dir", create=True)
        if problem is not None:
            raise StartupError([f"--data-dir: {given} {problem}"])
        yield Path(given)
        return
    tmp = Path(tempfile.mkdtemp(prefix="oee-edge-demo-"))
    try:
        yield tmp
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def run_demo(args: argparse.Namespace) -> int:
    """`oee-edge demo`: 0 after Ctrl-C or SIGTERM, EXIT_CANNOT_START when it cannot start."""
    from simulators.scenario import ScenarioError

    try:
        with demo_data_dir(args.data_dir) as data_dir:
            asyncio.run(until_signalled(demo(args, data_dir)))
        kept = "kept in" if args.data_dir is not None else "removed:"
    except StartupError as e:
        for line in e.lines:
            print(f"oee-edge demo: cannot start: {line}", file=sys.stderr)
        return EXIT_CANNOT_START
    except (ConfigError, ScenarioError) as e:  # the bundled files, as these options fill them
        print(f"oee-edge demo: cannot start: {e}", file=sys.stderr)
        return EXIT_CANNOT_START
    print(f"oee-edge demo stopped (its data {kept} {data_dir}).")
    return 0
