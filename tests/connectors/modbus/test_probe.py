"""`oee-edge modbus-read` against the real test server (the probe runs its own loop)."""

from __future__ import annotations

import argparse
import asyncio

import pytest

from connectors.modbus.probe import add_arguments, main
from tests.fixtures.ports import free_port

from .conftest import Server
from .hostile import Request, data_pdu, frame, hostile_server, silent


def parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="oee-edge modbus-read")
    add_arguments(parser)
    return parser.parse_args(list(argv))


async def run(*argv: str) -> int:
    # main() calls asyncio.run, so it runs in a thread while this loop serves.
    return await asyncio.to_thread(main, parse(*argv))


async def test_reads_one_value(modbus_server: Server, capsys: pytest.CaptureFixture[str]) -> None:
    port = str(modbus_server.port)
    rc = await run("127.0.0.1", "--port", port, "--address", "2", "--type", "uint32")
    assert rc == 0
    assert capsys.readouterr().out == "holding:2\t305419896\traw 1234 5678\n"


async def test_count_reads_consecutive_values(
    modbus_server: Server, capsys: pytest.CaptureFixture[str]
) -> None:
    port = str(modbus_server.port)
    rc = await run(
        "127.0.0.1",
        "--port",
        port,
        "--unit",
        "1",
        "--address",
        "0",
        "--count",
        "2",
        "--type",
        "int16",
    )
    assert rc == 0
    assert capsys.readouterr().out == "holding:0\t1234\traw 04D2\nholding:1\t-2\traw FFFE\n"


async def test_tags(modbus_server: Server, capsys: pytest.CaptureFixture[str]) -> None:
    rc = await run(
        "127.0.0.1",
        "--port",
        str(modbus_server.port),
        "--tag",
        "speed=holding:4:float32:CDAB",
        "--tag",
        "part=holding:11:string:ABCD:3",
        "--tag",
        "fault=holding:10:bit:ABCD:15",
        "--tag",
        "door=coil:0",
        "--tag",
        "nan=holding:20:float32",
    )
    assert rc == 0
    assert capsys.readouterr().out.splitlines() == [
        "speed\t21.5\traw 0000 41AC",
        "fault\tTrue\traw 8001",
        "part\t'PART-7'\traw 5041 5254 2D37",
        "nan\tBAD (raw value is nan)\traw 7FC0 0000",
        "door\tTrue\traw 1",
    ]


async def test_exception_response(
    modbus_server: Server, capsys: pytest.CaptureFixture[str]
) -> None:
    rc = await run("127.0.0.1", "--port", str(modbus_server.port), "--address", "500")
    assert rc == 2
    out = capsys.readouterr()
    assert (out.out, out.err) == ("", "error: holding 500+1: exception 2 (illegal_address)\n")


async def test_unreachable_host(capsys: pytest.CaptureFixture[str]) -> None:
    port = free_port()
    rc = await run("127.0.0.1", "--port", str(port), "--address", "0", "--timeout", "0.5")
    assert rc == 2
    assert capsys.readouterr().err == f"error: cannot connect to 127.0.0.1:{port}\n"


async def test_an_answer_with_another_function_code_is_refused(
    capsys: pytest.CaptureFixture[str],
) -> None:
    def input_registers(req: Request) -> bytes:
        return frame(req.tid, req.unit, data_pdu(req, fc=4))

    async with hostile_server(input_registers) as server:
        rc = await run("127.0.0.1", "--port", str(server.port), "--address", "0")
    assert rc == 2
    out = capsys.readouterr()
    assert (out.out, out.err) == (
        "",
        "error: holding 0+1: bad answer (function code 4, expected 3)\n",
    )


async def test_a_device_that_never_answers(capsys: pytest.CaptureFixture[str]) -> None:
    async with hostile_server(silent) as server:
        argv = ("--port", str(server.port), "--address", "0", "--timeout", "0.2")
        rc = await run("127.0.0.1", *argv)
    assert rc == 2
    assert capsys.readouterr().err == "error: holding 0+1: no answer within 0.2s\n"


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        ((), "error: say what to read: --address N (with --table/--type) or --tag\n"),
        (("--tag", "x"), "error: --tag 'x': write NAME=TABLE:ADDRESS[:TYPE[:ORDER]]\n"),
        (
            ("--tag", "x=holding"),
            "error: --tag x=holding: write TABLE:ADDRESS[:TYPE[:ORDER[:EXTRA]]]\n",
        ),
        (
            ("--address", "0", "--type", "string"),
            "error: --address: Value error, a string tag needs `length` (number of registers, "
            "2 chars each)\n",
        ),
        (
            ("--address", "0", "--one-based"),
            "error: tag 'holding:0' (holding 0): address 0 does not exist with 1-based "
            "addressing (addressing: 1)\n",
        ),
    ],
)
def test_usage_errors(
    argv: tuple[str, ...], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(parse("127.0.0.1", *argv)) == 2
    assert capsys.readouterr().err == message


def test_empty_tag_fields_keep_their_defaults() -> None:
    from connectors.modbus.probe import _parse_tag

    tag = _parse_tag("name", "holding:132:string::4")
    assert (tag.type, tag.order, tag.length) == ("string", "ABCD", 4)
    tag = _parse_tag("b", "holding:1:bit::3")
    assert (tag.type, tag.bit) == ("bit", 3)
