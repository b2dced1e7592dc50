"""The OPC UA simulator as a process: CLI summary, signals, exit codes, the fixture."""

from __future__ import annotations

import asyncio
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from pymodbus.client import AsyncModbusTcpClient

from tests.fixtures.opcua_simulator import OpcuaSimulatorFactory, kill_process
from tests.fixtures.ports import free_port
from tests.fixtures.simulator import REPO_ROOT
from tests.simulators.opcua_client import (
    read_machine,
    script_over,
    session,
    sha256_colons,
    sid,
)


async def same_values_over_both(url: str, modbus_port: int) -> None:
    """Both protocols show the same machines (one set of models, one clock)."""
    async with session(url) as client:
        await script_over(client)
        assert (await read_machine(client, "m2"))[5:10] == [65560, 65550, 65540, 24, 4]
    modbus = AsyncModbusTcpClient("127.0.0.1", port=modbus_port, timeout=2)
    assert await modbus.connect()
    rr = await modbus.read_holding_registers(4, count=8, device_id=2)
    modbus.close()
    assert rr.registers == [1, 24, 1, 14, 1, 4, 24, 4]  # 65560, 65550, 65540 as uint32


def test_cli_serves_both_protocols_and_stops_on_sigterm(tmp_path: Path) -> None:
    mb_port, ua_port = free_port(), free_port()
    args = f"test --protocol both --port {mb_port} --opcua-port {ua_port} --time-scale 3600"
    args += f" --opcua-pki {tmp_path} --opcua-security Basic256Sha256:SignAndEncrypt"
    args += " --opcua-security None --opcua-user op:pw"
    cmd = [sys.executable, "-m", "simulators", *args.split()]
    proc = subprocess.Popen(
        cmd, cwd=REPO_ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None
    lines = [proc.stdout.readline() for _ in range(11)]
    fp = sha256_colons((tmp_path / "own" / "cert.der").read_bytes())
    url = f"opc.tcp://127.0.0.1:{ua_port}/oee-edge/sim"
    assert lines == [
        "scenario 'test': seed 1, time scale 3600x\n",
        *(f"  modbus tcp 127.0.0.1:{mb_port} unit {u}   m{u} (script)\n" for u in (1, 2, 3)),
        f"  opc ua  {url}  m1 m2 m3 (script)\n",
        "  opc ua  namespace 2 = urn:oee-edge:simulator\n",
        "  opc ua  security Basic256Sha256:SignAndEncrypt, None\n",
        "  opc ua  logins anonymous, user op\n",
        f"  opc ua  certificate sha256 {fp}\n",
        f"  opc ua  pki {tmp_path} (client certificates: any)\n",
        "serving; Ctrl-C to stop\n",
    ]
    try:
        asyncio.run(same_values_over_both(url, mb_port))
    finally:
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=10)
    assert proc.returncode == 0, err
    assert out == "simulator stopped\n"


def test_cli_opcua_errors(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    from simulators.cli import build_parser, main

    def run(*argv: str) -> int:
        return main(build_parser().parse_args(["test", "--protocol", "opcua", *argv]))

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        assert run("--opcua-port", str(port)) == 1
    assert f"cannot listen on 127.0.0.1:{port}" in capsys.readouterr().err
    assert run("--opcua-security", "Basic128Rsa15") == 2
    assert "opcua.security[0]: must be one of" in capsys.readouterr().err
    assert run("--opcua-no-anonymous") == 2
    assert "allow_anonymous: false needs users" in capsys.readouterr().err
    garbage = tmp_path / "garbage.der"
    garbage.write_bytes(b"not a certificate")
    assert run("--opcua-user-cert", str(garbage), "--opcua-security", "all") == 2
    assert f"opcua.user_certificates: {garbage}: " in capsys.readouterr().err
    with pytest.raises(SystemExit):
        build_parser().parse_args(["test", "--opcua-user", "no-colon"])


async def test_fixture_restart_on_the_same_port_with_namespace_shift(
    opcua_simulator_factory: OpcuaSimulatorFactory,
) -> None:
    first = opcua_simulator_factory("test", time_scale=3600)
    async with session(first.url) as client:
        await script_over(client)
        assert await client.get_node(sid(2, "m1.Counters.Total")).read_value() == 50
    kill_process(first.process)
    assert first.process.returncode == -signal.SIGKILL
    again = opcua_simulator_factory(
        "test", port=first.port, time_scale=3600, extra_args=["--opcua-namespace-shift", "3"]
    )
    assert (again.url, again.pki_dir) == (first.url, first.pki_dir)
    async with session(again.url) as client:
        assert await client.get_namespace_index("urn:oee-edge:simulator") == 5
        await script_over(client, 5)
        assert await client.get_node(sid(5, "m1.Counters.Total")).read_value() == 50
    again.process.terminate()
    assert again.process.wait(timeout=10) == 0
