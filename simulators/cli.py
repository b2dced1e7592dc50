"""``oee-edge simulate SCENARIO`` (also ``python -m simulators SCENARIO``)."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import sys

from simulators.modbus_server import ModbusSimulator, serve_modbus
from simulators.scenario import Scenario, ScenarioError, load_scenario


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the ``simulate`` arguments to `parser`."""
    parser.add_argument(
        "scenario", help="scenario YAML file, or a bundled scenario name (demo, test)"
    )
    parser.add_argument(
        "--port", type=int, default=None, help="Modbus TCP port (0 = any free port)"
    )
    parser.add_argument(
        "--time-scale",
        type=float,
        default=None,
        help="simulated seconds per wall second (overrides the scenario)",
    )
    parser.add_argument("--host", default=None, help="address to listen on")


def main(args: argparse.Namespace) -> int:
    """Serve the scenario until SIGINT/SIGTERM; 0 on a clean stop, 2 on bad input."""
    try:
        scenario = load_scenario(args.scenario).with_overrides(
            port=args.port, time_scale=args.time_scale, host=args.host
        )
    except ScenarioError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    try:
        asyncio.run(_serve(scenario))
    except OSError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


async def _serve(scenario: Scenario) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    async with serve_modbus(scenario) as sim:
        _print_summary(sim)
        await stop.wait()
    print("simulator stopped", flush=True)


def _print_summary(sim: ModbusSimulator) -> None:
    s = sim.scenario
    print(f"scenario {s.name!r}: seed {s.seed}, time scale {s.time_scale:g}x", flush=False)
    for e in sim.endpoints:
        mode = "script" if sim.models[e.machine_id].params.script else "random"
        print(f"  modbus tcp {e.host}:{e.port} unit {e.unit_id:<3} {e.machine_id} ({mode})")
    print("serving; Ctrl-C to stop", flush=True)


def build_parser() -> argparse.ArgumentParser:
    """The standalone parser used by ``python -m simulators``."""
    parser = argparse.ArgumentParser(
        prog="python -m simulators", description="Serve simulated PLCs over Modbus TCP."
    )
    add_arguments(parser)
    return parser


def run() -> None:
    """Entry point of ``python -m simulators``."""
    with contextlib.suppress(KeyboardInterrupt):
        sys.exit(main(build_parser().parse_args()))
