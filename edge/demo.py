"""`oee-edge demo`: simulated machines, a broker, the gateway and the API — no set-up."""

from __future__ import annotations

import argparse
import asyncio
import socket
import tempfile
from importlib import resources

from edge.config import Config, CounterRule, MachineConfig
from edge.loading import parse_config
from edge.pipeline import Gateway
from edge.serve import run_gateway, until_signalled


def port_or_free(port: int) -> int:
    """`port` if nothing listens on it on loopback, else a free one."""
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
            return port
        except OSError:
            s.bind(("127.0.0.1", 0))
            return int(s.getsockname()[1])


def demo_config(
    data_dir: str, modbus_port: int, mqtt_port: int, api_port: int, time_scale: float = 1.0
) -> Config:
    """The bundled demo config; with a time scale, its times follow the simulator's clock."""
    text = resources.files("edge").joinpath("demo.yaml").read_text(encoding="utf-8")
    env = {
        "DATA_DIR": data_dir,
        "MODBUS_PORT": str(modbus_port),
        "MQTT_PORT": str(mqtt_port),
        "API_PORT": str(api_port),
    }
    config = parse_config(text, "demo.yaml", env)
    if time_scale == 1.0:
        return config
    return config.model_copy(update={"machines": [_scaled(m, time_scale) for m in config.machines]})


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
    # Poll as often in simulated time as at 1x, within what a Modbus poll loop can do.
    poll = max(0.05, m.modbus.poll_interval_s / k)
    return m.model_copy(
        update={
            "modbus": m.modbus.model_copy(update={"poll_interval_s": poll}),
            "ideal_cycle_s": m.ideal_cycle_s / k,
            "micro_stop_s": m.micro_stop_s / k,
            "state_rules": rules,
            "products": products,
        }
    )


def _banner(config: Config, broker_kind: str) -> str:
    assert config.mqtt is not None
    api = f"http://{config.api.host}:{config.api.port}"
    root = f"{config.mqtt.prefix}/{config.site}/{config.area}/{config.line}"
    machines = ", ".join(m.id for m in config.machines)
    return "\n".join(
        [
            "oee-edge demo is running (Ctrl-C to stop)",
            f"  machines   {machines} (simulated, Modbus TCP on 127.0.0.1:"
            f"{config.machines[0].modbus.port})",
            f"  dashboard  {api}/",
            f"  API        {api}/api/v1/machines   docs: {api}/docs",
            f"  MQTT       {broker_kind} on {config.mqtt.host}:{config.mqtt.port}, topics {root}/#",
            f"             mosquitto_sub -p {config.mqtt.port} -t '{config.mqtt.prefix}/#' -v",
            f"  store      SQLite in {config.gateway.data_dir}/oee.sqlite",
        ]
    )


async def demo(args: argparse.Namespace) -> None:
    from connectors.mqtt.broker import local_broker
    from simulators.modbus_server import serve_modbus
    from simulators.scenario import load_scenario

    data_dir = args.data_dir or tempfile.mkdtemp(prefix="oee-edge-demo-")
    scenario = load_scenario("demo")
    scenario = scenario.with_overrides(
        port=port_or_free(args.modbus_port), time_scale=args.time_scale
    )
    async with serve_modbus(scenario) as sim, local_broker(port_or_free(args.mqtt_port)) as broker:
        api_port = port_or_free(args.api_port)
        config = demo_config(data_dir, sim.port, broker.port, api_port, args.time_scale)
        print(_banner(config, broker.kind), flush=True)
        await run_gateway(config, Gateway(config))


def run_demo(args: argparse.Namespace) -> int:
    asyncio.run(until_signalled(demo(args)))
    print("oee-edge demo stopped.")
    return 0
