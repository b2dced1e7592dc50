"""The start-up progress of the first connections: one INFO line when stderr is not a
terminal (a real gateway, some machines on closed ports), an updating line when it is
(a real `oee-edge run` on a pseudo-terminal)."""

from __future__ import annotations

import io
import logging
import os
import pty
import re
import select
import signal
import subprocess
import time
from pathlib import Path

import pytest

from edge.logs import logfmt
from edge.logs.progress import FirstConnects
from tests.fixtures.gateway_process import OEE_EDGE, REPO_ROOT
from tests.fixtures.ports import free_port
from tests.integration.gateway import SCENARIO, gateway_config, running, wait_until

ERASE = "\r\x1b[2K"

DEAD = """\
  - id: {id}
    modbus: {{host: 127.0.0.1, port: {port},
             backoff_initial_s: {backoff}, backoff_max_s: {backoff}}}
    tags: {{code: {{address: 0}}}}
    state_rules: [{{tag: code, map: {{1: running}}}}]
    ideal_cycle_s: 1
"""


async def test_one_info_line_once_every_machine_tried(
    simulator_factory, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    sim = simulator_factory(SCENARIO)
    ports = {"d2": free_port(), "d1": free_port()}  # nothing listens on these
    dead = "".join(DEAD.format(id=m, port=p, backoff=0.2) for m, p in ports.items())
    config = gateway_config(tmp_path, sim.port, dead, line="progress")
    caplog.set_level(logging.INFO, logger="edge.progress")
    async with running(config) as gw:
        await wait_until(lambda: gw.connecting.done, 10, "the first attempts")
        await wait_until(lambda: gw.poll_errors["d1"] >= 2, 15, "a second attempt")  # no repeat
    lines = [r.getMessage() for r in caplog.records if r.name == "edge.progress"]
    assert len(lines) == 1, lines
    assert [r.levelname for r in caplog.records if r.name == "edge.progress"] == ["INFO"]
    expected = (
        r"connected 3/5 machines in \d+\.\d s; failed: "
        rf"d1 \(cannot connect to 127\.0\.0\.1:{ports['d1']}\), "
        rf"d2 \(cannot connect to 127\.0\.0\.1:{ports['d2']}\)"
    )
    assert re.fullmatch(expected, lines[0]), lines[0]
    seconds = float(lines[0].split(" in ")[1].split(" s")[0])
    assert seconds < 5  # refused at once, read at once (5 s: a busy CI machine)


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_terminal_line_updates_in_place_and_gives_way_to_the_summary(
    caplog: pytest.LogCaptureFixture,
) -> None:
    out, clock = io.StringIO(), Clock()
    caplog.set_level(logging.INFO, logger="edge.progress")
    fc = FirstConnects(3, tty=True, stream=out, clock=clock)
    fc.start()
    fc.attempted("b", True, None)
    clock.now += 2.34
    fc.attempted("a", False, "cannot connect to 10.0.0.9:502")
    fc.attempted("a", True, None)  # a machine's later attempts do not count
    assert out.getvalue() == (
        f"{ERASE}connecting: 0/3 machines (0 ok, 0 failed)"
        f"{ERASE}connecting: 1/3 machines (1 ok, 0 failed)"
        f"{ERASE}connecting: 2/3 machines (1 ok, 1 failed)"
    )
    fc.attempted("c", True, None)
    assert out.getvalue().endswith(f"{ERASE}connecting: 3/3 machines (2 ok, 1 failed){ERASE}")
    assert [r.getMessage() for r in caplog.records] == [
        "connected 2/3 machines in 2.3 s; failed: a (cannot connect to 10.0.0.9:502)"
    ]
    fc.attempted("d", False, "late")  # after the summary: nothing more
    assert out.getvalue().endswith(ERASE) and len(caplog.records) == 1


def test_log_lines_do_not_tear_the_terminal_line() -> None:
    out = io.StringIO()
    root = logging.getLogger()
    saved = (list(root.handlers), root.level)
    try:
        logfmt.setup_logging("INFO", "text", stream=out)
        fc = FirstConnects(2, tty=True, stream=out)
        fc.start()
        logging.getLogger("connectors.modbus.source").warning("m1: cannot connect")
        text = out.getvalue()
    finally:
        root.handlers[:] = saved[0]
        root.setLevel(saved[1])
        fc.attempted("x", True, None)
        fc.attempted("y", True, None)  # closes the line: no status left for other tests
    status = "connecting: 0/2 machines (0 ok, 0 failed)"
    # Erased, the record on a line of its own, then the status drawn again below it.
    record = r"\S+ \S+ WARNING connectors\.modbus\.source: m1: cannot connect\n"
    expected = re.escape(f"{ERASE}{status}{ERASE}") + record + re.escape(status)
    assert re.fullmatch(expected, text), repr(text)


def test_failures_listed_are_capped() -> None:
    fc = FirstConnects(13, tty=False, clock=Clock())
    for i in range(13):
        fc.attempted(f"m{i:02d}", False, "connection refused")
    listed = ", ".join(f"m{i:02d} (connection refused)" for i in range(10))
    assert fc.summary() == f"connected 0/13 machines in 0.0 s; failed: {listed} and 3 more"


def test_oee_edge_run_on_a_terminal_draws_the_progress_line(
    simulator_factory, tmp_path: Path
) -> None:
    sim = simulator_factory(SCENARIO)
    closed = free_port()
    config = tmp_path / "gw.yaml"
    text = f"""
gateway: {{id: gw-tty, data_dir: "{tmp_path}"}}
site: plant
area: area1
line: tty
api: {{enabled: false}}
machines:
  - id: m1
    modbus: {{host: 127.0.0.1, port: {sim.port}, unit_id: 1}}
    tags: {{code: {{address: 0}}}}
    state_rules: [{{tag: code, map: {{1: running, 2: idle}}}}]
    ideal_cycle_s: 1
{DEAD.format(id="dead", port=closed, backoff=5)}"""
    config.write_text(text)
    master, slave = pty.openpty()
    proc = subprocess.Popen(
        [OEE_EDGE, "run", "-c", str(config)], cwd=REPO_ROOT,
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=slave,
    )  # fmt: skip
    os.close(slave)
    try:
        seen = _read_until(master, "connected 1/2 machines", within_s=15)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=15)
        os.close(master)
    assert proc.returncode == 0
    assert f"{ERASE}connecting: 0/2 machines (0 ok, 0 failed)" in seen
    assert f"{ERASE}connecting: 2/2 machines (1 ok, 1 failed){ERASE}" in seen
    summary = re.search(r"INFO    edge\.progress: (connected .*?)\r\n", seen)
    assert summary is not None, seen
    expected = (
        r"connected 1/2 machines in \d+\.\d s; "
        rf"failed: dead \(cannot connect to 127\.0\.0\.1:{closed}\)"
    )
    assert re.fullmatch(expected, summary[1])


def _read_until(fd: int, marker: str, within_s: float) -> str:
    """What the terminal showed until `marker` and the end of its line."""
    seen = b""
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.1)
        if ready:
            try:
                seen += os.read(fd, 4096)
            except OSError:  # the other end closed
                break
        text = seen.decode(errors="replace")
        if marker in text and "\n" in text[text.index(marker) :]:
            return text
    raise AssertionError(f"{marker!r} not shown within {within_s} s:\n{seen!r}")
