"""`oee-edge` command line: run, demo, check, simulate, modbus-read, browse."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from typing import TypeAlias

from edge import __version__
from edge.config import Config
from edge.config.loading import ConfigError, load_config
from edge.logs.logfmt import LogFormat, setup_logging


def _setup_logging(level: str, fmt: LogFormat = "text") -> None:
    # pymodbus and asyncua are quietened there: they log every failed attempt, our
    # sources an outage once.
    setup_logging(level, fmt)


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
    if not args.connect:
        return 0
    from edge.cli import check_connect

    # The lines below say what failed; the sources' own outage logs would repeat it.
    _setup_logging("ERROR")
    logging.getLogger("connectors").setLevel(logging.CRITICAL)
    return check_connect.main(config, args.timeout)


def cmd_run(args: argparse.Namespace) -> int:
    from edge.cli.serve import Daemon, run_on_loop, tune_gc, until_signalled
    from edge.cli.startup import EXIT_CANNOT_START, StartupError, check_writable

    config = _load_or_report(args.config)
    if config is None:
        return 1
    _setup_logging(
        args.log_level or config.gateway.log_level, args.log_format or config.gateway.log_format
    )
    try:
        check_writable(config)
        tune_gc()
        daemon = Daemon(config, config_path=args.config)  # SIGHUP re-reads the file
        run_on_loop(until_signalled(daemon.run(), hangup=daemon.hangup), config.gateway.event_loop)
    except StartupError as e:
        for line in e.lines:
            print(f"{args.config}: cannot start: {line}", file=sys.stderr)
        return EXIT_CANNOT_START
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from edge.cli.demo import run_demo

    _setup_logging(args.log_level or "WARNING", args.log_format or "text")
    return run_demo(args)


_LEVELS = ["DEBUG", "INFO", "WARNING", "ERROR"]
_RAW = argparse.RawDescriptionHelpFormatter

EPILOG = """\
Examples:
  oee-edge demo                                  # simulated machines, broker, gateway, API
  oee-edge check config.yaml --connect           # validate, then try every connection once
  oee-edge run -c /etc/oee-edge/config.yaml
  oee-edge simulate demo --protocol both         # software PLCs over Modbus TCP and OPC UA
  oee-edge browse opc.tcp://plc1:4840            # find the node ids to map
  oee-edge modbus-read 10.0.0.7 --address 0 --count 4

Run `oee-edge COMMAND --help` for a command's options and more examples.
"""
RUN_EPILOG = """\
Examples:
  oee-edge run -c /etc/oee-edge/config.yaml
  oee-edge run -c config.yaml --log-level DEBUG
  oee-edge run -c config.yaml --log-format json   # one JSON object per line, for log shippers

Secrets (passwords, tokens, the API key) come from the environment: write ${VAR} in
the file. SIGINT/SIGTERM stop the gateway cleanly (exit code 0); SIGHUP re-reads the
file and restarts the pipeline in place (an invalid file is logged and changes nothing);
exit code 1 means an invalid config (every error is printed with its path) or one this
machine cannot start with, in one line naming the field ("cannot start: api.port: 8080
is in use ...", "cannot start: gateway.data_dir: ... is a file, not a directory ...").
"""
CHECK_EPILOG = """\
Examples:
  oee-edge check config.yaml
  oee-edge check config.yaml --connect
  oee-edge check /etc/oee-edge/config.yaml --connect --timeout 5

--connect then tries every connection once, all at the same time, and prints one line
each ("ok   modbus press1 10.0.0.7:502 (12 registers in 3.1 ms)" or "FAIL mqtt
10.0.0.9:1883: connection refused"): each Modbus machine is read once, each OPC UA
machine's nodes are read once (with its security settings), the MQTT broker and
InfluxDB are connected to with the configured credentials. Nothing is ever written.
Before those, the places the gateway writes (gateway.data_dir, outbox.path,
sqlite.path) are looked at as the user running check ("FAIL gateway.data_dir
/var/lib/oee-edge: is not writable by user ..."); nothing is created. The API's port
is not tried: the running gateway holds it.

Exit codes: 0 valid (and every connection works), 1 invalid config, 3 a connection or a
place failed.
"""
DEMO_EPILOG = """\
Examples:
  oee-edge demo                                  # open http://127.0.0.1:8080/
  oee-edge demo --protocol opcua                 # read every machine over OPC UA
  oee-edge demo --time-scale 30                  # the machines live 30x faster
  oee-edge demo --data-dir ./demo-data           # keep the store and outbox after it stops
  oee-edge demo --api-port 9000 --log-format json
  mosquitto_sub -p 1883 -t 'oee/#' -v            # (another terminal) what it publishes

The current shift (early) begins when the demo starts, so the shift's figures and its
timeline fill from the first minute; press1 publishes its raw tags (.../press1/tags);
press2 faults for 35 s from 15 s in. Each server takes the port given, or a free one
when that is in use (the banner says which). Without --data-dir the data lives in a
temporary directory that is removed when the demo stops (Ctrl-C, SIGTERM) or cannot
start. Exit codes: 0 stopped, 1 cannot start (one line saying why).
"""


def build_parser() -> argparse.ArgumentParser:
    """The `oee-edge` parser with every subcommand (each `--help` has examples)."""
    p = argparse.ArgumentParser(
        prog="oee-edge",
        description="Edge gateway: PLC tags to machine states, counts and OEE.",
        epilog=EPILOG,
        formatter_class=_RAW,
    )
    p.add_argument("--version", action="version", version=f"oee-edge {__version__}")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")
    _add_run(sub)
    _add_check(sub)
    _add_demo(sub)
    _add_tools(sub)
    return p


Subparsers: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"


def _add_log_format(parser: argparse.ArgumentParser, default: str, level_default: str) -> None:
    parser.add_argument(
        "--log-level", choices=_LEVELS, help=f"the lowest level logged; {level_default}"
    )
    parser.add_argument(
        "--log-format",
        choices=["text", "json"],
        help=f"text (one readable line per record) or json (one object per line); {default}",
    )


def _add_run(sub: Subparsers) -> None:
    run = sub.add_parser(
        "run", help="run the gateway with a config file", epilog=RUN_EPILOG, formatter_class=_RAW
    )
    run.add_argument("-c", "--config", required=True, help="YAML config file")
    _add_log_format(
        run,
        "default: the config's gateway.log_format (text)",
        "default: the config's gateway.log_level (INFO)",
    )
    run.set_defaults(func=cmd_run)


def _add_check(sub: Subparsers) -> None:
    check = sub.add_parser(
        "check",
        help="validate a config, print every error with its path (--connect: try connections)",
        epilog=CHECK_EPILOG,
        formatter_class=_RAW,
    )
    check.add_argument("config", help="YAML config file")
    check.add_argument(
        "--connect", action="store_true", help="then try every configured connection once"
    )
    check.add_argument(
        "--timeout",
        type=float,
        default=3.0,
        metavar="S",
        help="seconds each connection may take (default 3; the config's own if shorter)",
    )
    check.set_defaults(func=cmd_check)


def _port(text: str) -> int:
    port = int(text)  # argparse reports a ValueError as "invalid _port value: 'x'"
    if not 1 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"{port} is not a TCP port: write 1 to 65535")
    return port


def _time_scale(text: str) -> float:
    scale = float(text)
    if not 0.01 <= scale <= 1000:  # False for nan too
        raise argparse.ArgumentTypeError(f"{text}: write a factor from 0.01 to 1000")
    return scale


def _add_demo(sub: Subparsers) -> None:
    demo = sub.add_parser(
        "demo",
        help="simulators + broker + gateway + API, no set-up",
        description="Simulated machines, an MQTT broker, the gateway, its API and the live\n"
        "page on this machine, with no config file.",
        epilog=DEMO_EPILOG,
        formatter_class=_RAW,
    )
    ports = (
        ("--api-port", 8080, "the API and the live page (default 8080)"),
        ("--mqtt-port", 1883, "the local MQTT broker: Mosquitto, else embedded (default 1883)"),
        ("--modbus-port", 5020, "the Modbus TCP simulator (default 5020)"),
        ("--opcua-port", 4840, "the OPC UA simulator, with --protocol mixed/opcua (default 4840)"),
    )
    for flag, default, what in ports:
        demo.add_argument(
            flag, type=_port, default=default, metavar="PORT", help=f"{what}; a free one if taken"
        )
    demo.add_argument(
        "--protocol",
        choices=["mixed", "modbus", "opcua"],
        default="mixed",
        help="how the gateway reads the simulated machines: mixed (default: packer1 over "
        "OPC UA, the presses over Modbus), modbus or opcua (all of them)",
    )
    demo.add_argument(
        "--data-dir",
        default=None,
        metavar="DIR",
        help="keep the store, outbox and checkpoints here, and leave them there (default: "
        "a temporary directory, removed when the demo stops)",
    )
    demo.add_argument(
        "--time-scale",
        type=_time_scale,
        default=1.0,
        metavar="K",
        help="the simulated machines run K times faster than real time, 0.01 to 1000 "
        "(default 1; the shifts keep the wall clock)",
    )
    _add_log_format(demo, "default text", "default WARNING")
    demo.set_defaults(func=cmd_demo)


def _add_tools(sub: Subparsers) -> None:
    from connectors.modbus import probe
    from connectors.opcua import browse_cli
    from simulators import cli as sim_cli

    simulate = sub.add_parser("simulate", help="serve simulated PLCs from a scenario")
    sim_cli.add_arguments(simulate)
    simulate.set_defaults(func=sim_cli.main)

    mb = sub.add_parser("modbus-read", help="read and decode Modbus registers")
    probe.add_arguments(mb)
    mb.set_defaults(func=probe.main)

    browse = sub.add_parser("browse", help="list an OPC UA server's variables (node ids, values)")
    browse_cli.add_arguments(browse)
    browse.set_defaults(func=browse_cli.main)


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except KeyboardInterrupt:
        return 0


if __name__ == "__main__":
    sys.exit(main())
