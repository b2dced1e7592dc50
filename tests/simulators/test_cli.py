"""`python -m simulators` / `oee-edge simulate`: summary output, clean exits, errors."""

from __future__ import annotations

import argparse
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
import yaml
from pymodbus.client import ModbusTcpClient

from simulators.cli import add_arguments, main
from simulators.scenario import Scenario, load_scenario
from tests.fixtures.opcua_simulator import kill_process
from tests.fixtures.ports import free_port
from tests.fixtures.simulator import REPO_ROOT, SimulatorFactory
from tests.simulators.expected import EXACT, LOOPING, Image, served_between


def parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    return parser.parse_args(argv)


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_serves_until_signal_and_exits_zero(sig: signal.Signals) -> None:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "simulators", "demo", "--port", str(port), "--time-scale", "5"],
        cwd=REPO_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    lines = [proc.stdout.readline() for _ in range(6)]
    proc.send_signal(sig)
    out, err = proc.communicate(timeout=10)
    assert proc.returncode == 0, err
    assert lines == [
        "scenario 'demo': seed 42, time scale 5x\n",
        f"  modbus tcp 127.0.0.1:{port} unit 1   press1 (random)\n",
        f"  modbus tcp 127.0.0.1:{port} unit 2   press2 (script)\n",
        f"  modbus tcp 127.0.0.1:{port} unit 3   packer1 (random)\n",
        f"  modbus tcp 127.0.0.1:{port} unit 4   filler1 (script)\n",
        "serving; Ctrl-C to stop\n",
    ]
    assert out == "simulator stopped\n"


def test_factory_process_terminates_cleanly(simulator_factory: SimulatorFactory) -> None:
    host, port, proc = simulator_factory(REPO_ROOT / "simulators" / "scenarios" / "test.yaml")
    socket.create_connection((host, port), timeout=2).close()
    proc.terminate()
    assert proc.wait(timeout=10) == 0


def test_bad_scenario_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(parse("no-such-scenario")) == 2
    assert "no such file and no bundled scenario" in capsys.readouterr().err
    bad = tmp_path / "bad.yaml"
    bad.write_text("machines: [{id: a, unit_id: 0}]\n")
    assert main(parse(str(bad))) == 2
    assert "machines[0].unit_id: must be >= 1 (got 0)" in capsys.readouterr().err
    assert main(parse("test", "--time-scale", "-1")) == 2


def test_port_in_use_exits_1(capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        assert main(parse("test", "--port", str(port))) == 1
    assert f"cannot listen on 127.0.0.1:{port}" in capsys.readouterr().err


def read_and_check(scenario: Scenario, port: int) -> dict[str, Image]:
    """Holding registers 0-13 of m1 and m2, each checked against the scenario's model
    at the wall times around its read."""
    client = ModbusTcpClient("127.0.0.1", port=port, timeout=2)
    assert client.connect()
    images: dict[str, Image] = {}
    try:
        for unit, machine in ((1, "m1"), (2, "m2")):
            before = time.time()
            rr = client.read_holding_registers(0, count=EXACT, device_id=unit)
            after = time.time()
            assert not rr.isError(), rr
            images[machine] = tuple(rr.registers)
            assert images[machine] in served_between(scenario, machine, before, after), machine
    finally:
        client.close()
    return images


def test_killed_and_restarted_with_the_same_epoch_continues_the_run(tmp_path: Path) -> None:
    path = tmp_path / "looping.yaml"
    path.write_text(yaml.safe_dump(LOOPING))
    epoch = time.time() - 25  # sim time 500 s at 20x: counters far from their start
    scenario = load_scenario(path).with_overrides(epoch=epoch)
    port = free_port()
    cmd = [sys.executable, "-m", "simulators", str(path), "--port", str(port)]
    cmd += ["--epoch", repr(epoch)]
    reads = []
    for _ in range(2):
        with tempfile.TemporaryFile() as err:
            proc = subprocess.Popen(cmd, cwd=REPO_ROOT, stdout=subprocess.PIPE, stderr=err)
            try:
                assert proc.stdout is not None
                lines = [proc.stdout.readline().decode() for _ in range(4)]
                err.seek(0)
                assert lines == [
                    f"scenario 'looping': seed 5, time scale 20x, epoch {epoch!r}\n",
                    f"  modbus tcp 127.0.0.1:{port} unit 1   m1 (script)\n",
                    f"  modbus tcp 127.0.0.1:{port} unit 2   m2 (random)\n",
                    "serving; Ctrl-C to stop\n",
                ], err.read().decode()
                reads.append(read_and_check(scenario, port))
            finally:
                kill_process(proc)  # SIGKILL: a crash, nothing saved
        assert proc.returncode == -signal.SIGKILL
    # The restarted process went on from where the killed one was, not from 0 (both
    # reads were exact above; a stop may span the restart, hence >=).
    first, second = ([total(image) for image in r.values()] for r in reads)
    assert first[0] >= 300 and first[1] >= 100
    assert second[0] >= first[0] and second[1] >= first[1]


def total(image: Image) -> int:
    """The uint32 total count (holding registers 4-5, high word first)."""
    return (image[4] << 16) | image[5]


def test_epoch_in_the_future_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(parse("test", "--epoch", str(time.time() + 3600))) == 2
    assert "error: epoch: must not be in the future (got " in capsys.readouterr().err
