"""``oee-edge browse opc.tcp://...``: list a server's variables to map tags without another tool.

Connects exactly as the gateway does (same PKI folder under ``--data-dir``, same trust
rules), walks the address space and prints each variable's node id in the portable
``nsu=`` form, browse path, data type, current value and status; ``--format config``
prints a ``machines:`` snippet for the gateway's config. Reads only.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import re
import socket
import sys
from pathlib import Path
from typing import Any

from asyncua.ua.uaerrors import UaError
from pydantic import SecretStr, ValidationError

from connectors.opcua.browse import BrowseReport, browse
from connectors.opcua.browse_format import config_snippet, table, to_json
from connectors.opcua.client import POLICIES, close_client, describe_status, open_client
from connectors.opcua.config import OpcUaAuth, OpcUaConnection, OpcUaSecurity
from connectors.opcua.errors import OpcUaConnectError, OpcUaError
from connectors.opcua.nodeids import parse_node_ref
from connectors.opcua.pki import Pki

__all__ = ["add_arguments", "main"]

_EPILOG = """\
Examples:
  oee-edge browse opc.tcp://plc1:4840
  oee-edge browse opc.tcp://plc1:4840 --filter '*Counter*'
  oee-edge browse opc.tcp://plc1:4840 --node 'nsu=urn:oee-edge:simulator;s=m1' \\
      --format config --machine press1 > press1.yaml
  OPCUA_PASSWORD=... oee-edge browse opc.tcp://plc1:4840 --policy Basic256Sha256 \\
      --user operator --password-env OPCUA_PASSWORD
  oee-edge browse opc.tcp://plc1:4840 --policy Basic256Sha256 --trust-fingerprint 3A:5F:...

The filter is a case-insensitive glob on the browse path or the display name.
Secured connections use the gateway's PKI in DATA_DIR/pki: an untrusted server
certificate is saved to DATA_DIR/pki/rejected/ (move it to trusted/ to trust it).
Passwords are read from an environment variable or a file, never from the command line.
"""
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
_ENDPOINT = re.compile(r"^opc\.tcp://[^/:]+(:\d+)?(/.*)?$")
_FINGERPRINT = re.compile(r"^[0-9A-Fa-f]{2}(:?[0-9A-Fa-f]{2}){31}$")


class UsageError(Exception):
    """Options that cannot work together (exit code 2, one line)."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the browse options to ``parser``."""
    parser.epilog = _EPILOG
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.add_argument("endpoint", help="server endpoint, opc.tcp://host:port[/path]")
    parser.add_argument("--node", default="i=85", help="start node (default i=85, Objects)")
    parser.add_argument("--depth", type=int, default=6, help="levels below --node (default 6)")
    parser.add_argument("--filter", metavar="GLOB", help="only variables matching, e.g. '*Count*'")
    parser.add_argument(
        "--policy",
        default="None",
        choices=list(POLICIES),
        metavar="POLICY",
        help=f"security policy: {', '.join(POLICIES)} (default None)",
    )
    parser.add_argument("--mode", choices=["Sign", "SignAndEncrypt"], help="default SignAndEncrypt")
    parser.add_argument("--user", help="user name (password from --password-env/--password-file)")
    secret = parser.add_mutually_exclusive_group()
    secret.add_argument("--password-env", metavar="VAR", help="environment variable to read")
    secret.add_argument("--password-file", metavar="FILE", help="file holding the password")
    # Catches `--password X` (which argparse would otherwise echo back in its error).
    parser.add_argument("--password", help=argparse.SUPPRESS)
    parser.add_argument("--user-cert", metavar="CERT", help="user certificate (PEM/DER)")
    parser.add_argument("--user-key", metavar="KEY", help="its private key (PEM)")
    parser.add_argument("--data-dir", default="data", help="PKI in DATA_DIR/pki (default ./data)")
    parser.add_argument("--trust-fingerprint", metavar="SHA256", help="trust this server cert")
    parser.add_argument("--format", choices=["table", "json", "config"], default="table")
    parser.add_argument("--machine", help="machine id in the config snippet (default: machine)")
    parser.add_argument("--timeout", type=float, default=5.0, help="seconds (default 5)")


def main(args: argparse.Namespace) -> int:
    """Browse and print; 0 on success, 2 with one `error:` line, 130 on Ctrl-C."""
    # asyncua warns about every refused session and closed channel on its way out; the
    # one `error:` line already says what happened and what to do.
    log = logging.getLogger("asyncua")
    level = log.level
    log.setLevel(logging.CRITICAL)
    try:
        return _main(args)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # `| head`: the reader has all it wants
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    finally:
        log.setLevel(level)


def _main(args: argparse.Namespace) -> int:
    try:
        conn = _connection(args)
        machine = _machine(args)
        parse_node_ref(args.node)
        if args.depth < 0:
            raise UsageError("--depth must be 0 or more")
        report = asyncio.run(_browse(conn, Path(args.data_dir) / "pki", args))
    except (OpcUaError, UsageError) as exc:
        print(f"error: {str(exc)}", file=sys.stderr)
        return 2
    except ValidationError as exc:
        print(f"error: {_first_error(exc)}", file=sys.stderr)
        return 2
    _emit(report, conn, args, machine)
    return 0


async def _browse(conn: OpcUaConnection, pki_root: Path, args: argparse.Namespace) -> BrowseReport:
    pki = Pki(pki_root, pin_hint="pass --trust-fingerprint SHA256")
    client = await open_client(conn, pki, application_uri=_application_uri())
    try:
        return await browse(
            client,
            args.node,
            depth=args.depth,
            pattern=args.filter,
            max_per_read=conn.max_nodes_per_read,
        )
    except UaError as exc:
        code = getattr(exc, "code", None)
        why = describe_status(code) if isinstance(code, int) else str(exc) or type(exc).__name__
        raise OpcUaConnectError(f"{conn.endpoint}: browsing failed: {why}") from None
    except (OSError, TimeoutError) as exc:
        why = getattr(exc, "strerror", None) or str(exc) or "no answer"
        raise OpcUaConnectError(f"{conn.endpoint}: browsing failed: {why}") from None
    finally:
        await close_client(client)


def _application_uri() -> str:
    # Only used when the PKI has no certificate yet; after that the certificate's URI wins.
    return f"urn:oee-edge:{socket.gethostname()}"


def _connection(args: argparse.Namespace) -> OpcUaConnection:
    if args.password is not None:
        raise UsageError(
            "passwords are not accepted on the command line: use --password-env VAR "
            "or --password-file FILE"
        )
    if not _ENDPOINT.match(args.endpoint):
        raise UsageError(f"'{args.endpoint}' is not an OPC UA endpoint: write opc.tcp://host:port")
    fp = args.trust_fingerprint
    if fp is not None and not _FINGERPRINT.match(fp):
        raise UsageError(
            "--trust-fingerprint: write the 64 hex digits of a SHA-256 (colons optional)"
        )
    if args.mode is not None and args.policy == "None":
        raise UsageError(f"--mode {args.mode} needs a --policy, e.g. --policy Basic256Sha256")
    # mode None: SignAndEncrypt with a policy, None without (OpcUaSecurity decides).
    security = OpcUaSecurity(
        policy=args.policy, mode=args.mode, server_fingerprint=args.trust_fingerprint
    )
    return OpcUaConnection(
        endpoint=args.endpoint, security=security, auth=_auth(args), timeout_s=args.timeout
    )


def _auth(args: argparse.Namespace) -> OpcUaAuth:
    if (args.user_cert is None) != (args.user_key is None):
        raise UsageError("--user-cert and --user-key go together")
    if args.user is not None and args.user_cert is not None:
        raise UsageError("choose one identity: --user or --user-cert")
    has_secret = args.password_env is not None or args.password_file is not None
    if args.user is None:
        if has_secret:
            raise UsageError("--password-env/--password-file need --user")
        return OpcUaAuth(certificate=args.user_cert, private_key=args.user_key)
    if not has_secret:
        raise UsageError(f"--user {args.user} needs --password-env VAR or --password-file FILE")
    return OpcUaAuth(username=args.user, password=SecretStr(_password(args)))


def _password(args: argparse.Namespace) -> str:
    if args.password_env is not None:
        if args.password_env not in os.environ:
            raise UsageError(f"--password-env: environment variable {args.password_env} is not set")
        return os.environ[args.password_env]
    try:
        return Path(args.password_file).read_text(encoding="utf-8").rstrip("\r\n")
    except OSError as exc:
        raise UsageError(
            f"--password-file: cannot read {args.password_file}: {exc.strerror}"
        ) from None


def _machine(args: argparse.Namespace) -> str:
    machine = args.machine or "machine"
    if not _ID.match(machine):
        raise UsageError(f"--machine '{machine}': use letters, digits, _ . - (e.g. press1)")
    return machine


def _emit(
    report: BrowseReport, conn: OpcUaConnection, args: argparse.Namespace, machine: str
) -> None:
    if args.format == "json":
        sys.stdout.write(to_json(report))
    elif args.format == "config":
        sys.stdout.write(config_snippet(report, machine, _opcua_yaml(conn, args)))
    else:
        sys.stdout.write(table(report))
    sys.stdout.flush()
    print(_summary(report, args), file=sys.stderr)


def _summary(report: BrowseReport, args: argparse.Namespace) -> str:
    found = f"{len(report.variables)} variable(s)"
    if args.filter:
        found += f" matching '{args.filter}'"
    text = f"{found}; {report.nodes} node(s) browsed under {report.start}"
    if report.skipped:
        text += f"; {report.skipped} skipped (server diagnostics: --node i=2253 lists them)"
    if undecodable := sum(v.undecodable is not None for v in report.variables):
        text += f"; {undecodable} value(s) asyncua cannot decode (shown as <undecodable: TYPE>)"
    if report.unexpanded:
        text += (
            f"; depth limit {report.depth} reached: {report.unexpanded} object(s) not "
            f"browsed (raise --depth)"
        )
    return text


def _opcua_yaml(conn: OpcUaConnection, args: argparse.Namespace) -> dict[str, Any]:
    """The connection as config YAML; the password only as a `${...}` reference."""
    out: dict[str, Any] = {"endpoint": conn.endpoint}
    sec = conn.security
    if sec.policy != "None":
        out["security"] = {"policy": sec.policy, "mode": sec.effective_mode}
        if sec.server_fingerprint:
            out["security"]["server_fingerprint"] = sec.server_fingerprint
    if args.user is not None:
        ref = args.password_env or f"file:{Path(args.password_file).resolve()}"
        out["auth"] = {"username": args.user, "password": f"${{{ref}}}"}
    elif args.user_cert is not None:
        out["auth"] = {
            "certificate": str(Path(args.user_cert).resolve()),
            "private_key": str(Path(args.user_key).resolve()),
        }
    return out


def _first_error(exc: ValidationError) -> str:
    err = exc.errors()[0]
    where = ".".join(str(p) for p in err["loc"])
    msg = str(err["msg"]).removeprefix("Value error, ")
    return f"{where}: {msg}" if where else msg
