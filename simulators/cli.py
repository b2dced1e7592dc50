"""``oee-edge simulate SCENARIO`` (also ``python -m simulators SCENARIO``)."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
import sys
from pathlib import Path
from typing import Any

from simulators.modbus_server import ModbusSimulator, serve_modbus
from simulators.opcua_server import OpcuaSimulator, serve_opcua
from simulators.opcua_settings import OpcuaSettings
from simulators.scenario import Scenario, ScenarioError, load_scenario

_EPILOG = """\
Examples:
  oee-edge simulate demo                       # Modbus TCP on the scenario's port (5020)
  oee-edge simulate test --port 5021 --time-scale 60
  oee-edge simulate demo --protocol both --opcua-port 4840
  oee-edge simulate demo --protocol opcua --opcua-security Basic256Sha256 \\
      --opcua-user operator:secret --opcua-no-anonymous
  oee-edge simulate my-line.yaml --epoch 1767225600   # resume the same deterministic run

Bundled scenarios: demo, test (simulators/scenarios/). Stop with Ctrl-C.
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the ``simulate`` arguments (and the examples of its --help) to `parser`."""
    parser.epilog = _EPILOG
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.add_argument(
        "scenario", help="scenario YAML file, or a bundled scenario name (demo, test)"
    )
    parser.add_argument(
        "--protocol",
        choices=["modbus", "opcua", "both"],
        default="modbus",
        help="what to serve (default modbus)",
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
    parser.add_argument(
        "--epoch",
        type=float,
        default=None,
        metavar="UNIX_SECONDS",
        help="wall-clock time of sim time 0 (not in the future): a simulator restarted "
        "with the same epoch continues the same run (default: sim time 0 at start)",
    )
    ua = parser.add_argument_group("OPC UA (with --protocol opcua or both)")
    ua.add_argument(
        "--opcua-port",
        type=int,
        default=None,
        metavar="N",
        help="port (default: the scenario's opcua.port, else 4840; 0 = any free port)",
    )
    ua.add_argument(
        "--opcua-security",
        action="append",
        metavar="POLICY[:MODE]",
        help="offered security (repeatable; replaces the scenario's): None, all, "
        "Basic256Sha256, Aes128_Sha256_RsaOaep, Aes256_Sha256_RsaPss; without :Sign or "
        ":SignAndEncrypt a policy is offered in both modes",
    )
    ua.add_argument(
        "--opcua-pki",
        type=Path,
        default=None,
        metavar="DIR",
        help="folder of the server certificate (own/cert.der, own/key.pem), trusted/ and "
        "rejected/ client certificates (default ~/.local/state/oee-edge/simulator/pki)",
    )
    ua.add_argument(
        "--opcua-trust-clients",
        action="store_true",
        help="accept only client certificates found in PKI/trusted/",
    )
    ua.add_argument(
        "--opcua-user",
        action="append",
        type=_user_password,
        metavar="NAME:PASSWORD",
        help="allow this user name and password (repeatable)",
    )
    ua.add_argument(
        "--opcua-user-cert",
        action="append",
        metavar="PATH",
        help="allow the X.509 user certificate in this DER/PEM file (repeatable)",
    )
    ua.add_argument("--opcua-no-anonymous", action="store_true", help="refuse anonymous sessions")
    ua.add_argument(
        "--opcua-namespace-shift",
        type=int,
        default=0,
        metavar="N",
        help="register N dummy namespaces before the simulator's (moves its index)",
    )


def _user_password(text: str) -> tuple[str, str]:
    name, sep, password = text.partition(":")
    if not sep or not name:
        raise argparse.ArgumentTypeError(f"expected NAME:PASSWORD (got {text!r})")
    return name, password


def _opcua_overrides(args: argparse.Namespace) -> dict[str, Any]:
    overrides: dict[str, Any] = {}
    if args.opcua_port is not None:
        overrides["port"] = args.opcua_port
    if args.opcua_security:
        overrides["security"] = list(args.opcua_security)
    if args.opcua_trust_clients:
        overrides["trust_clients"] = True
    if args.opcua_no_anonymous:
        overrides["allow_anonymous"] = False
    if args.opcua_user:
        overrides["users"] = dict(args.opcua_user)
    if args.opcua_user_cert:
        overrides["user_certificates"] = list(args.opcua_user_cert)
    return overrides


def main(args: argparse.Namespace) -> int:
    """Serve the scenario until SIGINT/SIGTERM; 0 on a clean stop, 1 if a port is taken,
    2 on bad input."""
    # asyncua logs every session at INFO; keep its warnings and errors only.
    logging.getLogger("asyncua").setLevel(logging.WARNING)
    try:
        scenario = load_scenario(args.scenario).with_overrides(
            port=args.port,
            time_scale=args.time_scale,
            host=args.host,
            opcua=_opcua_overrides(args),
            namespace_shift=args.opcua_namespace_shift,
            epoch=args.epoch,
        )
        asyncio.run(_serve(scenario, args.protocol, args.opcua_pki))
    except ScenarioError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


async def _serve(scenario: Scenario, protocol: str, pki_dir: Path | None) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    async with contextlib.AsyncExitStack() as stack:
        modbus: ModbusSimulator | None = None
        opcua: OpcuaSimulator | None = None
        if protocol in ("modbus", "both"):
            modbus = await stack.enter_async_context(serve_modbus(scenario))
        if protocol in ("opcua", "both"):
            # With both, OPC UA shows the Modbus simulator's models on its clock.
            models = modbus.models if modbus else None
            clock = modbus.sim_time if modbus else None
            opcua = await stack.enter_async_context(
                serve_opcua(scenario, pki_dir=pki_dir, models=models, clock=clock)
            )
        _print_summary(scenario, modbus, opcua)
        await stop.wait()
    print("simulator stopped", flush=True)


def _print_summary(
    s: Scenario, modbus: ModbusSimulator | None, opcua: OpcuaSimulator | None
) -> None:
    # The epoch is printed in full (repr) so it can be pasted back into --epoch.
    epoch = "" if s.epoch is None else f", epoch {s.epoch!r}"
    print(f"scenario {s.name!r}: seed {s.seed}, time scale {s.time_scale:g}x{epoch}")
    if modbus is not None:
        for e in modbus.endpoints:
            mode = _mode(modbus.models[e.machine_id].params.script)
            print(f"  modbus tcp {e.host}:{e.port} unit {e.unit_id:<3} {e.machine_id} ({mode})")
    if opcua is not None:
        for line in opcua_summary(opcua):
            print(f"  opc ua  {line}")
    print("serving; Ctrl-C to stop", flush=True)


def _mode(script: object) -> str:
    return "script" if script else "random"


def opcua_summary(sim: OpcuaSimulator) -> list[str]:
    """The OPC UA lines of the startup summary (without the ``  opc ua  `` prefix)."""
    modes = {mid: _mode(m.params.script) for mid, m in sim.models.items()}
    if len(set(modes.values())) == 1:
        machines = " ".join(modes) + f" ({next(iter(modes.values()))})"
    else:
        machines = " ".join(f"{mid} ({mode})" for mid, mode in modes.items())
    s: OpcuaSettings = sim.settings
    lines = [
        f"{sim.url}  {machines}",
        f"namespace {sim.namespace_index} = {s.namespace_uri}",
        f"security {', '.join(s.security)}",
        f"logins {_logins(s)}",
    ]
    if sim.identity is not None:
        lines.append(f"certificate sha256 {sim.identity.fingerprint}")
        trust = "trusted/ only" if s.trust_clients else "any"
        lines.append(f"pki {sim.identity.pki_dir} (client certificates: {trust})")
    return lines


def _logins(s: OpcuaSettings) -> str:
    logins = ["anonymous"] if s.allow_anonymous else []
    logins += [f"user {name}" for name in s.users]
    logins += [f"certificate {path.name}" for path in s.user_certificates]
    return ", ".join(logins)


def build_parser() -> argparse.ArgumentParser:
    """The standalone parser used by ``python -m simulators``."""
    parser = argparse.ArgumentParser(
        prog="python -m simulators",
        description="Serve simulated PLCs over Modbus TCP and/or OPC UA.",
    )
    add_arguments(parser)
    return parser


def run() -> None:
    """Entry point of ``python -m simulators``."""
    with contextlib.suppress(KeyboardInterrupt):
        sys.exit(main(build_parser().parse_args()))
