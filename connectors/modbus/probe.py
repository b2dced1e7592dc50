"""``oee-edge modbus-read HOST ...``: read and decode registers from the command line.

For the OT engineer mapping tags: shows the decoded value next to the raw registers,
so a wrong type or byte order is obvious. Reads only, like the rest of the gateway.

    oee-edge modbus-read 127.0.0.1 --port 5020 --table holding --address 4 --type uint32
    oee-edge modbus-read 10.0.0.7 --tag speed=holding:4:float32:CDAB --tag run=coil:0
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence

from pydantic import ValidationError

from connectors.modbus.config import DataType, ModbusConnection, ModbusTag, RegisterTable, WordOrder
from connectors.modbus.decode import DecodeError, decode
from connectors.modbus.frames import BadAnswer, DeviceException, ReadCall
from connectors.modbus.link import LinkLost, LinkTimeout, ModbusLink
from connectors.modbus.plan import PlanError, ReadRequest, plan_reads

__all__ = ["add_arguments", "main"]

_TAG_HELP = (
    "NAME=TABLE:ADDRESS[:TYPE[:ORDER[:EXTRA]]], repeatable; EXTRA is the bit index of a "
    "bit type or the register count of a string (e.g. speed=holding:4:float32:CDAB)"
)


class ProbeError(Exception):
    """A one-line reason the probe failed (exit code 2)."""


_EPILOG = """\
Examples:
  oee-edge modbus-read 127.0.0.1 --port 5020 --address 0 --count 4
  oee-edge modbus-read 127.0.0.1 --port 5020 --table holding --address 4 --type uint32
  oee-edge modbus-read 10.0.0.7 --unit 2 --tag speed=holding:4:float32:CDAB --tag run=coil:0
  oee-edge modbus-read 10.0.0.7 --one-based --table input --address 1 --type int16

Reads only. Exit code 0 when every value was read, 2 on any error (one line each).
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the modbus-read options (and the examples of its --help) to ``parser``."""
    parser.epilog = _EPILOG
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.add_argument("host", help="device host name or IP address")
    parser.add_argument("--port", type=int, default=502)
    parser.add_argument("--unit", type=int, default=1, help="unit (device) id")
    parser.add_argument("--timeout", type=float, default=2.0, help="seconds")
    parser.add_argument("--one-based", action="store_true", help="addresses start at 1")
    parser.add_argument("--table", choices=[t.value for t in RegisterTable], default="holding")
    parser.add_argument("--address", type=int, help="first address (with --table)")
    parser.add_argument("--type", choices=[t.value for t in DataType], default=None)
    parser.add_argument("--order", choices=[o.value for o in WordOrder], default="ABCD")
    parser.add_argument("--bit", type=int, help="bit index for --type bit on a register")
    parser.add_argument("--length", type=int, help="registers for --type string")
    parser.add_argument("--count", type=int, default=1, help="consecutive values to read")
    parser.add_argument("--tag", action="append", default=[], help=_TAG_HELP)


def main(args: argparse.Namespace) -> int:
    """Run the probe; 0 when every value was read, 2 on any error (one line each)."""
    try:
        tags = _tags(args)
        conn = ModbusConnection(
            host=args.host,
            port=args.port,
            unit_id=args.unit,
            timeout_s=args.timeout,
            addressing=1 if args.one_based else 0,
        )
        plan = plan_reads(tags, conn)
        return asyncio.run(_probe(conn, plan))
    except (ProbeError, PlanError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except ValidationError as exc:  # the connection options
        print(f"error: {_first_error(exc)}", file=sys.stderr)
        return 2


def _tags(args: argparse.Namespace) -> dict[str, ModbusTag]:
    tags = {name: _parse_tag(name, spec) for name, spec in map(_split_name, args.tag)}
    if args.address is not None:
        tags.update(_range_tags(args))
    if not tags:
        raise ProbeError("say what to read: --address N (with --table/--type) or --tag")
    return tags


def _range_tags(args: argparse.Namespace) -> dict[str, ModbusTag]:
    spec: dict[str, object] = {"table": args.table, "order": args.order}
    extra = {"type": args.type, "bit": args.bit, "length": args.length}
    spec |= {k: v for k, v in extra.items() if v is not None}
    step = _validate("--address", {**spec, "address": args.address}).words
    tags = {}
    for i in range(max(1, args.count)):
        address = args.address + i * step
        tags[f"{args.table}:{address}"] = _validate("--address", {**spec, "address": address})
    return tags


def _validate(what: str, fields: dict[str, object]) -> ModbusTag:
    try:
        return ModbusTag.model_validate(fields)
    except ValidationError as exc:
        raise ProbeError(f"{what}: {_first_error(exc)}") from exc


def _split_name(text: str) -> tuple[str, str]:
    name, sep, spec = text.partition("=")
    if not sep or not name:
        raise ProbeError(f"--tag '{text}': write NAME=TABLE:ADDRESS[:TYPE[:ORDER]]")
    return name, spec


def _parse_tag(name: str, spec: str) -> ModbusTag:
    parts = spec.split(":")
    if len(parts) < 2 or len(parts) > 5 or not parts[1].isdigit():
        raise ProbeError(f"--tag {name}={spec}: write TABLE:ADDRESS[:TYPE[:ORDER[:EXTRA]]]")
    parts += [""] * (5 - len(parts))
    extra = "length" if parts[2] == "string" else "bit"
    named = zip(("table", "address", "type", "order", extra), parts, strict=True)
    # An empty field keeps its default: `holding:132:string::4` is an ABCD string.
    fields: dict[str, object] = {key: value for key, value in named if value}
    return _validate(f"--tag {name}={spec}", fields)


def _first_error(exc: ValidationError) -> str:
    err = exc.errors()[0]
    where = ".".join(str(p) for p in err["loc"])
    return f"{where}: {err['msg']}" if where else str(err["msg"])


async def _probe(conn: ModbusConnection, plan: tuple[ReadRequest, ...]) -> int:
    link = ModbusLink(conn.host, conn.port, conn.timeout_s)
    try:
        await link.open()
    except OSError:
        raise ProbeError(f"cannot connect to {conn.host}:{conn.port}") from None
    try:
        failed = [await _read_and_print(link, conn.unit_id, req) for req in plan]
    finally:
        link.close()
    return 2 if any(failed) else 0


async def _read_and_print(link: ModbusLink, unit: int, req: ReadRequest) -> bool:
    """Print each tag of ``req`` (or one error line); True if the read failed."""
    where = f"{req.table.value} {req.start}+{req.count}"
    try:
        values = await link.read(ReadCall(unit, req.table.function_code, req.start, req.count))
    except LinkTimeout:
        return _failed(f"{where}: no answer within {link.timeout_s:g}s")
    except LinkLost as exc:
        return _failed(f"{where}: connection lost ({exc})")
    except BadAnswer as exc:
        return _failed(f"{where}: bad answer ({exc})")
    except DeviceException as exc:
        return _failed(f"{where}: {exc}")
    for p in req.tags:
        raw = values[p.offset : p.offset + p.tag.words]
        print(f"{p.name}\t{_show(p.tag, raw)}\traw {_hex(req.table, raw)}")
    return False


def _failed(error: str) -> bool:
    print(f"error: {error}", file=sys.stderr)
    return True


def _show(tag: ModbusTag, raw: Sequence[int]) -> str:
    try:
        return repr(decode(tag, raw))
    except DecodeError as exc:
        return f"BAD ({exc})"


def _hex(table: RegisterTable, raw: Sequence[int]) -> str:
    if table.is_bit:
        return " ".join(str(int(b)) for b in raw)
    return " ".join(f"{r:04X}" for r in raw)
