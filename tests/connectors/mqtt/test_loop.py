"""paho on the event loop (`connectors.mqtt.loop`, issue 17), against real Mosquitto
processes: no paho thread, the reconnect task's jittered delays after a SIGKILL of the
broker, a clean stop (also in the middle of a long delay), and the keepalive task
noticing a frozen broker."""

from __future__ import annotations

import asyncio
import logging
import random
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from connectors.common.backoff import Backoff
from connectors.mqtt.broker import free_port
from connectors.mqtt.sink import MqttSink
from edge.config import MqttConfig
from edge.outbox import Journal, Outbox
from tests.connectors.mqtt.support import make_sink, numbered, ref, unique_site, wait_until
from tests.fixtures.mosquitto import MosquittoBroker, frozen

Factory = Callable[..., MosquittoBroker]
TASKS = {"mqtt-connect", "mqtt-keepalive", "mqtt-outbox-drain"}


def attempts(sink: MqttSink) -> list[float]:
    """The monotonic time of each connection attempt the sink makes from now on."""
    times: list[float] = []
    client = sink._client
    real = client.reconnect

    def reconnect() -> object:
        times.append(time.monotonic())
        return real()

    client.reconnect = reconnect  # type: ignore[method-assign]
    return times


def sink_tasks() -> set[str]:
    return {t.get_name() for t in asyncio.all_tasks() if t.get_name() in TASKS}


async def test_no_paho_thread_while_the_sink_runs(
    mosquitto: MosquittoBroker, outbox: Outbox
) -> None:
    before = {t.name for t in threading.enumerate()}
    async with make_sink(mosquitto.port, unique_site(), outbox=outbox) as sink:
        await wait_until(lambda: sink.connected)
        assert sink_tasks() == TASKS
        await sink.handle(numbered(300))
        await wait_until(lambda: outbox.depth("mqtt").records == 0)
        threads = {t.name for t in threading.enumerate()}
        assert [n for n in threads if n.startswith("paho-mqtt-client-")] == []
        # Only the event loop's worker threads (the outbox's blocking calls) are new.
        assert all(n.startswith("asyncio_") for n in threads - before), threads - before
        assert (sink.stats.published, sink.stats.acked) == (301, 300)
    assert sink_tasks() == set()


async def test_reconnects_after_the_backoff_s_delays_and_stops_cleanly(
    mosquitto_factory: Factory, outbox: Outbox
) -> None:
    """SIGKILL of the broker: the connect task waits each delay of the jittered backoff
    (reset by the last CONNACK) before each attempt; with the broker back it connects
    on the next one. Closing ends the tasks, and no attempt follows."""
    broker = mosquitto_factory()
    seed = 11
    backoff = Backoff(0.2, 0.8, rng=random.Random(seed))
    twin = Backoff(0.2, 0.8, rng=random.Random(seed))
    loop = asyncio.get_running_loop()
    sink = make_sink(broker.port, unique_site(), outbox=outbox, backoff=backoff)
    async with sink:
        await wait_until(lambda: sink.connected)
        tries = attempts(sink)
        assert broker.proc is not None
        broker.proc.kill()
        broker.proc.wait()
        killed = time.monotonic()
        await wait_until(lambda: len(tries) == 4, within=10)
        gaps = [b - a for a, b in zip([killed, *tries], tries, strict=False)]
        delays = [twin.next() for _ in range(4)]
        assert all(abs(g - d) < 0.06 for g, d in zip(gaps, delays, strict=True)), (gaps, delays)
        assert not sink.connected
        broker.start()
        await wait_until(lambda: sink.connected, within=5)
        assert len(tries) == 5  # the first after the restart: the delay drawn, then in
        assert (sink.stats.connects, sink.stats.disconnects) == (2, 1)
        start = loop.time()
    assert loop.time() - start < 1.0
    assert sink_tasks() == set()
    assert sink._client.socket() is None
    assert sink.stats.published == 3  # online twice, offline once
    broker.stop()
    await asyncio.sleep(1.0)  # longer than any delay: no attempt after the close
    assert len(tries) == 5


async def test_a_stop_in_a_long_delay_is_prompt(outbox: Outbox) -> None:
    """Nothing listens; the next attempt is 5 s away when the sink is closed."""
    loop = asyncio.get_running_loop()
    sink = make_sink(free_port(), unique_site(), outbox=outbox, backoff=Backoff(5.0, 5.0))
    tries = attempts(sink)
    async with sink:
        await wait_until(lambda: len(tries) == 1 and not sink._driver.connecting)
        await asyncio.sleep(0.2)
        start = loop.time()
    assert loop.time() - start < 0.5
    assert (len(tries), sink.stats.connects, sink_tasks()) == (1, 0, set())


async def test_the_keepalive_task_notices_a_frozen_broker(
    mosquitto_factory: Factory, tmp_path: Path, outbox: Outbox, caplog: pytest.LogCaptureFixture
) -> None:
    """No traffic, keepalive 2 s: paho pings after 2 s of silence (loop_misc, once a
    second, from the keepalive task) and gives the connection up 2 s after an
    unanswered ping; once thawed the broker takes the sink back. (The config allows 5 s
    at least; 2 s, set past its check, proves the same in 4-6 s instead of 10-12.)"""
    broker = mosquitto_factory()
    site = unique_site()
    caplog.set_level(logging.INFO, logger="connectors.mqtt")
    cfg = MqttConfig(host="127.0.0.1", port=broker.port).model_copy(update={"keepalive_s": 2})
    sink = MqttSink(
        cfg, "gw1", site, {"m1": ref(site)}, journal=Journal(outbox),
        backoff=Backoff(0.1, 0.2), shutdown_timeout_s=0.5,
    )  # fmt: skip
    loop = asyncio.get_running_loop()
    async with sink:
        await wait_until(lambda: sink.connected)
        with frozen(broker):
            start = loop.time()
            await wait_until(lambda: not sink.connected, within=8)
            lost_after = loop.time() - start
        await wait_until(lambda: sink.connected, within=15)
        assert (sink.stats.connects, sink.stats.disconnects) == (2, 1)
    assert 3.5 <= lost_after <= 6.5, lost_after  # ping at 2-3 s, given up 2 s later
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert errors == [
        f"MQTT broker 127.0.0.1:{broker.port}: connection lost: Keep alive timeout; "
        "retrying in the background"
    ]
