"""A namespace the server registers seconds after it starts listening is picked up in
both modes, within the same session (a real asyncua server in a subprocess)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from core.types import Quality
from tests.fixtures.ports import free_port
from tests.integration.gateway import wait_until

from .late_namespace_server import NAMESPACE, STATE
from .test_source import source, streaming

SCRIPT = Path(__file__).with_name("late_namespace_server.py")
DELAY_S = 3.0
RECOVERY_BOUND_S = 12.0  # the retry runs every 1 s here; generous for a loaded machine


class LateServer:
    """The subprocess, and when it said what."""

    def __init__(self, proc: asyncio.subprocess.Process, url: str) -> None:
        self.proc, self.url = proc, url
        self.registered_at: float | None = None

    async def expect(self, line: str, within_s: float) -> float:
        """Wait for `line` on its stdout; the monotonic time it came."""
        assert self.proc.stdout is not None
        async with asyncio.timeout(within_s):
            while (got := (await self.proc.stdout.readline()).decode().strip()) != line:
                assert got, f"the server ended before printing {line}"
        return time.monotonic()


@contextlib.asynccontextmanager
async def late_server(delay_s: float) -> AsyncIterator[LateServer]:
    port = free_port()
    proc = await asyncio.create_subprocess_exec(
        sys.executable, str(SCRIPT), str(port), str(delay_s), stdout=asyncio.subprocess.PIPE
    )
    try:
        server = LateServer(proc, f"opc.tcp://127.0.0.1:{port}/late")
        await server.expect("LISTENING", 30)
        yield server
    finally:
        proc.terminate()
        await proc.wait()


@pytest.mark.parametrize("mode", ["subscription", "poll"])
async def test_a_namespace_registered_late_is_resolved_in_the_same_session(
    mode: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="connectors.opcua.source")
    async with late_server(DELAY_S) as server:
        src = source(tmp_path, server.url, {"state": STATE}, mode=mode)
        async with streaming(src) as got:
            registered_at = await server.expect("REGISTERED", DELAY_S + 30)
            assert got and got[-1].samples[0].quality is Quality.BAD  # the namespace is not there

            def good() -> bool:
                return got[-1].samples[0].quality is Quality.GOOD

            await wait_until(good, RECOVERY_BOUND_S, "the tag in the late namespace")
            recovered_s = time.monotonic() - registered_at
    print(f"{mode}: good {recovered_s:.2f} s after the namespace was registered")
    assert got[-1].samples[0].value == 3
    assert src.problems == {}
    assert src.stats.connects == 1 and src.stats.session_losses == 0  # the same session
    where = f"opcua m1 ({server.url}): tag state"
    logged = [(r.levelname, r.getMessage()) for r in caplog.records]
    assert logged[0][0] == "ERROR"
    assert logged[0][1].startswith(
        f"{where}: {STATE}: the server has no namespace '{NAMESPACE}' (it has 0: "
        "http://opcfoundation.org/UA/, "
    )
    assert logged[1:] == [("INFO", f"{where}: good again")]
