"""The webhook sink against a real receiver process: changes POSTed in order with the
secret header; a receiver that refuses with a 4xx gets each change once, dropped and
counted, logged once without the secret or the URL's query; a stop with the receiver down
leaves the changes in the outbox for the next start."""

from __future__ import annotations

import asyncio
import json
import logging
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from connectors.webhook.config import WebhookConfig
from connectors.webhook.sink import WebhookSink
from core.alarms import Alarm, AlarmChange
from core.types import MachineRef
from edge.outbox import Journal, Outbox
from tests.fixtures.outbox import open_outbox
from tests.fixtures.ports import accepts, free_port

REPO = Path(__file__).resolve().parents[3]
T0 = datetime(2026, 12, 7, 10, 0, tzinfo=UTC)
REF = MachineRef("s", "a", "l", "m1")


def change(seq: int) -> AlarmChange:
    a = Alarm(f"m1.r.{seq}", "m1", "r", "stop", "warning", "m1: fault for 20 s",
              T0 + timedelta(seconds=seq), value=20.0)  # fmt: skip
    return AlarmChange("m1", a.raised, "raised", a, (a,), seq)


@pytest.fixture
def receiver(tmp_path: Path) -> Iterator[tuple[int, Path, list[subprocess.Popen[bytes]]]]:
    """A port, the receiver's output file, and its processes (started by the test)."""
    started: list[subprocess.Popen[bytes]] = []
    yield free_port(), tmp_path / "got.jsonl", started
    for p in started:
        p.terminate()
        p.wait(5)


def start(port: int, out: Path, started: list[subprocess.Popen[bytes]], *extra: str) -> None:
    cmd = [sys.executable, "-m", "tests.fixtures.webhook_receiver", str(port), str(out), *extra]
    started.append(subprocess.Popen(cmd, cwd=REPO))
    for _ in range(200):
        if accepts(port):
            return
        started[-1].poll()
        assert started[-1].returncode is None, "the receiver did not start"
        time.sleep(0.02)
    raise AssertionError("the receiver does not accept connections")


def sink(port: int, outbox: Outbox) -> WebhookSink:
    cfg = WebhookConfig.model_validate({
        "url": f"http://127.0.0.1:{port}/hook?token=q-secret",
        "headers": {"Authorization": "Bearer h-secret"},
        "retry_min_s": 0.05, "retry_max_s": 0.1,
    })  # fmt: skip
    return WebhookSink(cfg, {"m1": REF}, journal=Journal(outbox), shutdown_timeout_s=0.5)


async def until(cond, what: str, within_s: float = 10.0) -> None:  # type: ignore[no-untyped-def]
    for _ in range(int(within_s / 0.02)):
        if cond():
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"not within {within_s} s: {what}")


async def test_in_order_with_the_secret_header(receiver, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    port, out, started = receiver
    outbox = open_outbox(tmp_path / "outbox.sqlite")
    try:
        async with sink(port, outbox) as s:
            await s.handle([change(i) for i in range(1, 6)])
            await asyncio.sleep(0.3)  # the receiver is down: retried, kept
            assert s.stats.errors >= 2 and s.stats.delivered == 0
            await asyncio.to_thread(start, port, out, started, "--fail-first", "1")
            await until(lambda: s.stats.delivered == 5, "five delivered")
        lines = [line.split(b"\t", 1) for line in out.read_bytes().splitlines()]
        assert [a for a, _ in lines] == [b"Bearer h-secret"] * 5
        posted = [json.loads(b) for _, b in lines]
        assert [(p["seq"], p["change"], p["id"]) for p in posted] == [
            (i, "raised", f"m1.r.{i}") for i in range(1, 6)
        ]
        assert posted[0] == {
            "v": 1, "path": "s/a/l/m1", "change": "raised", "ts": "2026-12-07T10:00:01.000Z",
            "seq": 1, "id": "m1.r.1", "machine": "m1", "rule": "r", "kind": "stop",
            "severity": "warning", "message": "m1: fault for 20 s", "value": 20.0,
            "raised": "2026-12-07T10:00:01.000Z", "cleared": None, "active": True,
            "acked_by": None, "acked_at": None,
        }  # fmt: skip
        assert s.stats.retried == 1 and outbox.depth("webhook").records == 0
    finally:
        outbox.close()


async def test_a_4xx_drops_each_change_once_logged_once(
    receiver, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:  # type: ignore[no-untyped-def]
    port, out, started = receiver
    start(port, out, started, "--status", "401")
    outbox = open_outbox(tmp_path / "outbox.sqlite")
    try:
        with caplog.at_level(logging.INFO, logger="connectors.webhook"):
            async with sink(port, outbox) as s:
                await s.handle([change(1), change(2), change(3)])
                await until(lambda: s.stats.dropped == 3, "three dropped")
        assert (s.stats.delivered, s.stats.retried) == (0, 0)
        assert outbox.depth("webhook").records == 0
        refused = [r.getMessage() for r in caplog.records if "refused" in r.getMessage()]
        assert refused == [
            f"webhook http://127.0.0.1:{port} refused an alarm change with HTTP 401: dropped "
            "(and every further one it refuses so)"
        ]
        assert "secret" not in caplog.text
    finally:
        outbox.close()


async def test_a_stop_while_down_keeps_the_changes(receiver, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    port, _, _ = receiver
    outbox = open_outbox(tmp_path / "outbox.sqlite")
    try:
        async with sink(port, outbox) as s:
            await s.handle([change(1), change(2)])
            await asyncio.sleep(0.2)
        assert s.stats.delivered == 0
        assert outbox.depth("webhook").records == 2
    finally:
        outbox.close()
