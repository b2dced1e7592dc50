"""`oee-edge` command line: run, demo, check, simulate, modbus-read."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Sequence

from edge import __version__
from edge.config import Config
from edge.loading import ConfigError, load_config


def _setup_logging(level: str) -> None:
    logging.basicConfig(
        level=getattr(logging, level),
        format="%(asctime)s %(levelname)-7s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    # pymodbus logs every failed connect and timeout; our sources log an outage once.
    logging.getLogger("pymodbus").setLevel(logging.CRITICAL)
    # asyncua logs every lost connection and failed request, some at ERROR.
    logging.getLogger("asyncua").setLevel(logging.CRITICAL)


def _load_or_report(path: str) -> Config | None:
    """The config, or None after printing every problem with its path."""
    try:
        return load_config(path)
    except ConfigError as e:
        print(e, file=sys.stderr)
        return None


def cmd_check(args: argparse.Namespace) -> int:
    config = _load_or_report(args.config)
    if config is None:
        return 1
    tags = sum(len(m.tags) for m in config.machines)
    store = "InfluxDB " + config.influxdb.url if config.influxdb else "SQLite (embedded)"
    mqtt = f"{config.mqtt.host}:{config.mqtt.port}" if config.mqtt else "off"
    print(
        f"{args.config}: OK — gateway {config.gateway.id}, {len(config.machines)} machine(s), "
        f"{tags} tag(s), MQTT {mqtt}, store {store}"
    )
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    from edge.serve import run_gateway, tune_gc, until_signalled

    config = _load_or_report(args.config)
    if config is None:
        return 1
    _setup_logging(args.log_level or config.gateway.log_level)
    tune_gc()
    asyncio.run(until_signalled(run_gateway(config)))
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from edge.demo import run_demo

    _setup_logging(args.log_level or "WARNING")
    return run_demo(args)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="oee-edge",
        description="Edge gateway: PLC tags to machine states, counts and OEE.",
    )
    p.add_argument("--version", action="version", version=f"oee-edge {__version__}")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = sub.add_parser("run", help="run the gateway with a config file")
    run.add_argument("-c", "--config", required=True, help="YAML config file")
    run.add_argument("--log-level", choices=["DEBUG", "INFO", "WARNING", "ERROR"])
    run.set_defaults(func=cmd_run)

    check = sub.add_parser("check", help="validate a config, print every error with its path")
    check.add_argument("config")
    check.set_defaults(func=cmd_check)

    demo = sub.add_parser("demo", help="simulators + broker + gateway + API, no set-up")
    demo.add_argument("--api-port", type=int, default=8080)
    demo.add_argument("--mqtt-port", type=int, default=1883)
    demo.add_argument("--modbus-port", type=int, default=5020)
    demo.add_argument("--opcua-port", type=int, default=4840)
    demo.add_argument(
        "--protocol",
        choices=["mixed", "modbus", "opcua"],
        default="mixed",
        help="how the gateway reads the simulated machines (mixed: packer1 over OPC UA)",
    )
    demo.add_argument("--data-dir", default=None, help="default: a temporary directory")
    demo.add_argument("--time-scale", type=float, default=1.0)
    demo.add_argument("--log-level", choices=["DEBUG", "INFO", "WARNING", "ERROR"])
    demo.set_defaults(func=cmd_demo)

    from connectors.modbus import probe
    from simulators import cli as sim_cli

    simulate = sub.add_parser("simulate", help="serve simulated PLCs from a scenario")
    sim_cli.add_arguments(simulate)
    simulate.set_defaults(func=sim_cli.main)

    mb = sub.add_parser("modbus-read", help="read and decode Modbus registers")
    probe.add_arguments(mb)
    mb.set_defaults(func=probe.main)

    from connectors.opcua import browse_cli

    browse = sub.add_parser("browse", help="list an OPC UA server's variables (node ids, values)")
    browse_cli.add_arguments(browse)
    browse.set_defaults(func=browse_cli.main)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except KeyboardInterrupt:
        return 0


if __name__ == "__main__":
    sys.exit(main())
