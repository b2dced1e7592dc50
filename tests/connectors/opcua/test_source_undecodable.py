"""A tag whose value asyncua cannot decode reads bad on its own; the machine's other
tags go on, in the same session, in both modes (the server serves i=3708 encoded by the
specification, as open62541 does; see browse_server.py)."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from core.types import Quality
from edge.config import OpcUaTag
from tests.integration.gateway import wait_until

from .browse_server import NS_URI, ServerThread
from .test_source import source, streaming

TAGS: dict[str, str | OpcUaTag] = {
    "state": f"nsu={NS_URI};s=m1.State",
    "sessions": OpcUaTag(node="i=3708", index=0),
    "total": f"nsu={NS_URI};s=m1.Counters.Total",
}
PROBLEM = (
    "node i=3708 holds a value the OPC UA library cannot decode (Not enough data left in "
    "buffer, request for 1426063360, we have 136)"
)


@pytest.fixture(scope="module")
def server() -> Iterator[ServerThread]:
    srv = ServerThread(undecodable=True).start()
    yield srv
    srv.stop()


@pytest.mark.parametrize("mode", ["subscription", "poll"])
async def test_one_undecodable_tag_does_not_stop_the_others(
    mode: str, server: ServerThread, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    src = source(tmp_path, server.url, TAGS, mode=mode)
    async with streaming(src) as got:

        def others_read() -> bool:
            return bool(got) and got[-1].samples[0].quality is Quality.GOOD

        await wait_until(others_read, 10, "the tags that decode")
        count = len(got)
        await wait_until(lambda: len(got) >= count + 5, 10, "five more batches")
    last = {s.tag: (s.value, s.quality) for s in got[-1].samples}
    assert last == {
        "state": (1, Quality.GOOD),
        "sessions": (None, Quality.BAD),
        "total": (1234, Quality.GOOD),
    }
    assert all(b.error is None for b in got)
    assert src.problems == {"sessions": PROBLEM}
    assert (src.stats.connects, src.stats.session_losses) == (1, 0)
    logged = [(r.name, r.levelname, r.getMessage()) for r in caplog.records]
    where = f"opcua m1 ({server.url}): tag sessions"
    assert logged == [("connectors.opcua.source", "ERROR", f"{where}: {src.problems['sessions']}")]
