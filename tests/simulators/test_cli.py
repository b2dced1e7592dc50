"""`python -m simulators` / `oee-edge simulate`: summary output, clean exits, errors."""

from __future__ import annotations

import argparse
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from simulators.cli import add_arguments, main
from tests.fixtures.ports import free_port
from tests.fixtures.simulator import REPO_ROOT, SimulatorFactory


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
    lines = [proc.stdout.readline() for _ in range(5)]
    proc.send_signal(sig)
    out, err = proc.communicate(timeout=10)
    assert proc.returncode == 0, err
    assert lines == [
        "scenario 'demo': seed 42, time scale 5x\n",
        f"  modbus tcp 127.0.0.1:{port} unit 1   press1 (random)\n",
        f"  modbus tcp 127.0.0.1:{port} unit 2   press2 (random)\n",
        f"  modbus tcp 127.0.0.1:{port} unit 3   packer1 (random)\n",
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
