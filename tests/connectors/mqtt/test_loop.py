"""paho on the event loop (`connectors.mqtt.loop`, issue 17), against real Mosquitto
processes: no paho thread, the reconnect task's jittered delays after a SIGKILL of the
broker, a clean stop (also in the middle of a long delay), and the keepalive task
noticing a frozen broker."""

from __future__ import annotations

import asyncio
import logging
import random
import socket
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import paho.mqtt.client as paho
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from connectors.common.backoff import Backoff
from connectors.common.tls import TlsConfig
from connectors.mqtt.broker import free_port
from connectors.mqtt.client import drop_connection, tls_context
from connectors.mqtt.loop import GATHER_BYTES, LoopDriver
from connectors.mqtt.sink import MqttSink
from edge.config import MqttConfig
from edge.outbox import Journal, Outbox
from tests.connectors.mqtt.support import make_sink, numbered, ref, unique_site, wait_until
from tests.fixtures.mosquitto import MosquittoBroker, MqttCollector, frozen
from tests.fixtures.tls import server_tls

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


class CountingSocket:
    """paho's socket, counting the `send` calls made on it (and what each took)."""

    def __init__(self, sock: Any) -> None:
        self.sock = sock
        self.sends: list[tuple[int, int | str]] = []  # (offered, taken or the error)

    def send(self, data: bytes) -> int:
        try:
            n: int = self.sock.send(data)
        except OSError as exc:
            self.sends.append((len(data), type(exc).__name__))
            raise
        self.sends.append((len(data), n))
        return n

    def __getattr__(self, name: str) -> Any:
        return getattr(self.sock, name)


@pytest.mark.parametrize("tls", [False, True], ids=["tcp", "tls"])
async def test_one_send_per_flush_and_every_packet_in_order(
    mosquitto_factory: Factory, tmp_path: Path, tls: bool
) -> None:
    """Publishes made in one loop round leave in one `send` (paho alone: one per packet).
    A burst larger than `GATHER_BYTES` and than a small socket buffer is written in
    gathered sends, short writes and would-blocks (TLS: want-write) included, and every
    message reaches a subscriber once, in order."""
    extra = ""
    plain = None
    if tls:  # TLS on the broker's port; the subscriber on a plain listener
        certs = server_tls(tmp_path / "tls")
        plain = free_port()
        extra = (
            f"cafile {certs.ca_file}\ncertfile {certs.cert_file}\nkeyfile {certs.key_file}\n"
            f"listener {plain} 127.0.0.1\n"
        )
    broker = mosquitto_factory(extra_conf=extra)
    client = paho.Client(callback_api_version=CallbackAPIVersion.VERSION2, client_id="gather")
    client.max_inflight_messages_set(0)
    if tls:
        client.tls_set_context(tls_context(TlsConfig(ca_file=certs.ca_file)))
    small_buffer = False

    def opened(c: paho.Client, userdata: object, sock: Any) -> None:
        if small_buffer:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)

    client.on_socket_open = opened
    acked: list[int] = []
    client.on_publish = lambda c, u, mid, rc, props: acked.append(mid)
    connects: list[int] = []
    client.on_connect = lambda *_: connects.append(len(connects) + 1)
    driver = LoopDriver(
        client, "127.0.0.1", broker.port, 30, Backoff(0.1, 0.2), lambda why: None, name="t"
    )
    topic = f"{unique_site()}/gather"
    with MqttCollector(broker.host, plain or broker.port, [topic]).start() as sub:
        driver.start()
        await wait_until(lambda: connects == [1])
        counting = CountingSocket(client._sock)
        client._sock = counting  # type: ignore[assignment]
        for i in range(100):  # one loop round
            client.publish(topic, f"{i:04d}".encode() * 10, qos=1)
        await wait_until(lambda: len(acked) == 100)
        assert len(counting.sends) == 1, counting.sends
        assert counting.sends == [(counting.sends[0][0], counting.sends[0][0])], counting.sends
        assert counting.sends[0][0] > 100 * 40

        # The burst, on a connection with a 4 KiB send buffer.
        small_buffer = True
        client._sock = counting.sock
        drop_connection(client)
        await wait_until(lambda: connects == [1, 2])
        counting = CountingSocket(client._sock)
        client._sock = counting  # type: ignore[assignment]
        payload = bytes(range(256)) * 4
        for i in range(1000):  # 1 MB
            client.publish(topic, f"{i:06d}".encode() + payload, qos=1)
        await wait_until(lambda: len(acked) == 1100, within=20)
        got = sub.wait_count(1100, topic, timeout=10)
        await asyncio.sleep(0.2)
        got = sub.on(topic)
    await driver.stop_reconnecting()
    await driver.disconnect(1.0)
    assert [m.payload[:4] for m in got[:100]] == [f"{i:04d}".encode() for i in range(100)]
    assert [m.payload[:6] for m in got[100:]] == [f"{i:06d}".encode() for i in range(1000)]
    assert all(m.payload[6:] == payload for m in got[100:])
    taken = [n for _, n in counting.sends if isinstance(n, int)]
    assert sum(taken) > 1000 * 1030
    # Sends of GATHER_BYTES (and a packet) at most, fewer than one per packet.
    assert any(n != offered for offered, n in counting.sends), counting.sends  # it did block
    assert max(offered for offered, _ in counting.sends) <= GATHER_BYTES + 2000
    assert len(counting.sends) < 1000


async def test_a_callback_raising_in_a_gathered_write_drops_the_connection(
    mosquitto: MosquittoBroker, caplog: pytest.LogCaptureFixture
) -> None:
    """paho's QoS 0 `on_publish` runs while it counts a gathered send; if it raises, the
    bytes on the wire are ahead of paho's queue: the connection is dropped (and made
    again) rather than sending those packets a second time."""
    client = paho.Client(callback_api_version=CallbackAPIVersion.VERSION2, client_id="raising")
    connects: list[int] = []
    client.on_connect = lambda *_: connects.append(len(connects) + 1)
    published: list[int] = []

    def on_publish(c: paho.Client, u: object, mid: int, rc: object, props: object) -> None:
        published.append(mid)
        if len(published) == 1:
            raise RuntimeError("a bug in a callback")

    client.on_publish = on_publish
    driver = LoopDriver(
        client, "127.0.0.1", mosquitto.port, 30, Backoff(0.1, 0.2), lambda why: None, name="t"
    )
    driver.start()
    await wait_until(lambda: connects == [1])
    for i in range(3):
        client.publish(f"{unique_site()}/raising", str(i).encode(), qos=0)
    await wait_until(lambda: connects == [1, 2])
    await driver.stop_reconnecting()
    await driver.disconnect(1.0)
    assert len(published) == 1  # the other two were sent, never counted
    assert "a write ended before paho counted what was sent" in caplog.text
