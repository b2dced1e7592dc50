"""Interop: Debian's mbpoll (libmodbus, C) reads the simulator subprocess."""

from __future__ import annotations

import re
import subprocess
import time

from tests.fixtures.simulator import SimulatorFactory, SimulatorProcess

MBPOLL = "/usr/bin/mbpoll"
_VALUE = re.compile(r"^\[(\d+)\]:\s+(.+)$", re.MULTILINE)


def mbpoll(sim: SimulatorProcess, *args: str, unit: int = 1) -> subprocess.CompletedProcess[str]:
    cmd = [MBPOLL, "-m", "tcp", "-a", str(unit), "-0", "-1", "-o", "2", "-p", str(sim.port)]
    return subprocess.run([*cmd, *args, sim.host], capture_output=True, text=True, timeout=10)


def values(
    sim: SimulatorProcess, ref: int, count: int, kind: str = "4", **kw: int
) -> dict[int, str]:
    """Register number -> value text as mbpoll prints it."""
    extra = ["-B"] if kind.endswith("B") else []
    done = mbpoll(sim, "-t", kind.removesuffix("B"), *extra, "-r", str(ref), "-c", str(count), **kw)
    assert done.returncode == 0, done.stdout + done.stderr
    return {int(a): v.strip() for a, v in _VALUE.findall(done.stdout)}


def test_mbpoll_reads_the_test_pattern(simulator_factory: SimulatorFactory) -> None:
    sim = simulator_factory("test")
    assert values(sim, 100, 2) == {100: "53191 (-12345)", 101: "54321 (-11215)"}
    assert values(sim, 102, 1, "4:intB") == {102: "-123456789"}  # ABCD
    assert values(sim, 104, 1, "4:int") == {104: "-123456789"}  # CDAB (mbpoll's default)
    # mbpoll prints 32-bit integers signed: 3000000000 shows as 3000000000 - 2**32.
    assert values(sim, 110, 1, "4:intB") == {110: "-1294967296"}
    assert values(sim, 112, 1, "4:floatB") == {112: "3.14159"}
    assert values(sim, 114, 1, "4:float") == {114: "3.14159"}
    assert values(sim, 132, 4, "4:hex") == {
        132: "0x4F45",
        133: "0x452D",
        134: "0x5349",
        135: "0x4D31",
    }
    # Default 1-based references: reference 101 is register 100.
    done = subprocess.run(
        [MBPOLL, "-m", "tcp", "-a", "2", "-1", "-p", str(sim.port), "-r", "101", sim.host],
        capture_output=True,
        text=True,
        timeout=10,
    )
    assert "[101]: \t53191 (-12345)" in done.stdout


def test_mbpoll_reads_final_counts(simulator_factory: SimulatorFactory) -> None:
    sim = simulator_factory("test", time_scale=3600)  # the 180 s script takes 50 ms
    deadline = time.monotonic() + 5
    while values(sim, 0, 1)[0] != "5" and time.monotonic() < deadline:
        time.sleep(0.05)
    m1 = values(sim, 0, 4)
    assert m1 == {0: "5", 1: "8", 2: "90", 3: "102"}
    assert values(sim, 4, 3, "4:intB") == {4: "50", 6: "40", 8: "10"}
    assert values(sim, 10, 2) == {10: "50", 11: "10"}
    assert values(sim, 12, 1, "4:floatB") == {12: "0"}
    # m2 through the input registers: uint32 65560/65550/65540 are (1, 24), (1, 14), (1, 4).
    assert values(sim, 0, 12, "3", unit=2) == {
        0: "2", 1: "16", 2: "5", 3: "201",
        4: "1", 5: "24", 6: "1", 7: "14", 8: "1", 9: "4",
        10: "24", 11: "4",
    }  # fmt: skip
    assert values(sim, 0, 4, "0", unit=3) == {0: "0", 1: "1", 2: "0", 3: "0"}
    assert values(sim, 0, 4, "1", unit=3) == {0: "0", 1: "1", 2: "0", 3: "0"}


def test_mbpoll_gets_exceptions(simulator_factory: SimulatorFactory) -> None:
    sim = simulator_factory("test")
    done = mbpoll(sim, "-t", "4", "-r", "1000", "-c", "1")
    assert done.returncode != 0
    assert "Illegal data address" in done.stderr
    done = mbpoll(sim, "-t", "4", "-r", "0", "-c", "1", unit=9)
    assert done.returncode != 0
    assert "Target device failed to respond" in done.stderr
