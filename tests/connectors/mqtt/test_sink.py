"""MqttSink against a real Mosquitto: exact topics, payloads, flags, wills and outages."""

from __future__ import annotations

import asyncio
import json
import logging
import random
import signal
import socket
from collections.abc import Iterable
from typing import Any, TypeVar

import pytest

from connectors.common.backoff import Backoff
from connectors.mqtt.broker import free_port
from connectors.mqtt.payloads import (
    MachineTopics,
    count_payload,
    event_payload,
    oee_payload,
    state_payload,
    tags_payload,
)
from core.types import Quality, Sample, SampleBatch
from edge.outbox import Outbox
from tests.connectors.mqtt.support import (
    T0,
    changes,
    count,
    make_sink,
    oee,
    ref,
    spawn_gateway,
    unique_site,
    wait_until,
)
from tests.fixtures.mosquitto import MosquittoBroker, MqttCollector, Received

T = TypeVar("T")


def first_copies(items: Iterable[T]) -> list[T]:
    """`items` without repeats, in order of first arrival.

    QoS 1 is at-least-once: a broker restart makes Mosquitto redeliver to a persistent
    session what it had not yet seen acknowledged (the sink itself sends each message
    once). Consumers drop such copies by `seq`; the tests do it by identity.
    """
    seen: set[T] = set()
    return [x for x in items if not (x in seen or seen.add(x))]  # type: ignore[func-returns-value]


def qos1(received: list[Received]) -> list[Received]:
    return [r for r in received if r.qos == 1]


def status(site: str) -> str:
    return f"oee/{site}/_gateway/gw1/status"


async def test_publishes_the_contract(mosquitto: MosquittoBroker, outbox: Outbox) -> None:
    site = unique_site()
    t = MachineTopics("oee", ref(site))
    sc = changes(1)[0]
    batch = SampleBatch("m1", T0, (Sample("speed", 12.5, Quality.GOOD, T0),))
    other = SampleBatch("m2", T0, (Sample("speed", 1.0, Quality.GOOD, T0),))
    with mosquitto.collector(f"oee/{site}/#") as live:
        async with make_sink(
            mosquitto.port, site, ("m1", "m2"), publish_tags={"m1"}, outbox=outbox
        ) as sink:
            await wait_until(lambda: sink.connected)
            await sink.handle([sc, count(), oee(), batch, other])
            got = await asyncio.to_thread(live.wait_count, 6)
            assert sink.stats.published == 6  # online + 5 (m2's batch is not published)
    # A live subscriber sees retain=0 (MQTT 3.1.1 forwards without the flag).
    assert got == [
        Received(status(site), b"online", False, 1),
        Received(t.state, state_payload(t, sc), False, 1),
        Received(t.event, event_payload(t, sc, outbox.stream), False, 1),
        Received(t.count, count_payload(t, count(), outbox.stream), False, 1),
        Received(t.oee("15m"), oee_payload(t, oee()), False, 1),
        Received(t.tags, tags_payload(t, batch), False, 0),
    ]
    assert live.messages[6:] == [Received(status(site), b"offline", False, 1)]
    # A late subscriber gets exactly the retained ones, flagged retained.
    with mosquitto.collector(f"oee/{site}/#") as late:
        retained = late.wait_count(3)
    assert sorted(retained) == sorted(
        [
            Received(status(site), b"offline", True, 1),
            Received(t.state, state_payload(t, sc), True, 1),
            Received(t.oee("15m"), oee_payload(t, oee()), True, 1),
        ]
    )


async def test_seq_in_order_per_machine(mosquitto: MosquittoBroker, outbox: Outbox) -> None:
    site = unique_site()
    events = [ev for pair in zip(changes(20, "m1"), changes(20, "m2"), strict=True) for ev in pair]
    with mosquitto.collector(f"oee/{site}/+/+/+/event") as live:
        async with make_sink(mosquitto.port, site, ("m1", "m2"), outbox=outbox) as sink:
            await wait_until(lambda: sink.connected)
            await sink.handle(events)
            got = await asyncio.to_thread(live.wait_count, 40)
    for m in ("m1", "m2"):
        t = MachineTopics("oee", ref(site, m))
        mine = [r.payload for r in got if r.topic == t.event]
        assert mine == [event_payload(t, ev, outbox.stream) for ev in events if ev.machine == m]
        docs = [json.loads(p) for p in mine]
        assert [d["seq"] for d in docs] == list(range(1, 21))
        assert [d["id"] for d in docs] == [f"{outbox.stream}:{m}:s{i}" for i in range(1, 21)]


async def test_the_socket_sends_at_once(mosquitto: MosquittoBroker, outbox: Outbox) -> None:
    """Nagle's algorithm off: with it a small publish waited for the broker's delayed ACK
    (about 40 ms on loopback)."""
    async with make_sink(mosquitto.port, unique_site(), ("m1",), outbox=outbox) as sink:
        await wait_until(lambda: sink.connected)
        sock = sink._client.socket()
        assert sock is not None
        assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) == 1


async def test_last_will_when_the_gateway_dies(mosquitto: MosquittoBroker, tmp_path) -> None:
    site = unique_site()
    with mosquitto.collector(status(site)) as live:
        proc = await spawn_gateway(mosquitto.port, site, tmp_path / "gw.sqlite")
        live.wait_count(1)
        proc.send_signal(signal.SIGKILL)
        await proc.wait()
        got = live.wait_count(2)
    assert [(r.payload, r.qos) for r in got] == [(b"online", 1), (b"offline", 1)]
    with mosquitto.collector(status(site)) as late:
        assert late.wait_count(1) == [Received(status(site), b"offline", True, 1)]


async def test_unknown_machine_is_counted_not_published(
    mosquitto: MosquittoBroker, outbox: Outbox
) -> None:
    site = unique_site()
    async with make_sink(mosquitto.port, site, outbox=outbox) as sink:
        await wait_until(lambda: sink.connected)
        await sink.handle(changes(2, "nope"))
        assert (sink.stats.unknown_machine, sink.stats.published) == (2, 1)


async def test_broker_down_at_start(
    mosquitto_factory, tmp_path, caplog: pytest.LogCaptureFixture, outbox: Outbox
) -> None:
    """Messages handled before the broker exists arrive, in order, once it is up."""
    site, port, store = unique_site(), free_port(), tmp_path / "store"
    t = MachineTopics("oee", ref(site))
    broker = mosquitto_factory(port=port, persistence_dir=store)
    # A persistent session, so the broker queues for the reader while it is away.
    MqttCollector(
        broker.host, port, ["oee/#"], client_id="reader", clean_session=False
    ).start().stop()
    broker.stop()  # keeps the reader's session on disk

    evs = changes(5)
    caplog.set_level(logging.DEBUG, logger="connectors.mqtt.sink")
    async with make_sink(port, site, publish_tags={"m1"}, outbox=outbox) as sink:
        await sink.handle([*evs, count(), SampleBatch("m1", T0, ())])
        await asyncio.sleep(0.5)  # several failed attempts
        assert not sink.connected
        # Nothing goes to paho while the broker is down: all 12 wait in the outbox,
        # the QoS 0 tags too (the sink no longer drops them).
        assert (sink.stats.published, outbox.depth("mqtt").records) == (0, 12)
        broker.start()
        with MqttCollector(
            broker.host, port, ["oee/#"], client_id="reader", clean_session=False
        ) as reader:
            got = await asyncio.to_thread(
                reader.wait_for, lambda ms: len(qos1(first_copies(ms))) >= 12
            )
            await wait_until(lambda: sink.connected)
    expected = [Received(status(site), b"online", False, 1)]
    for ev in evs:
        expected.append(Received(t.state, state_payload(t, ev), False, 1))
        expected.append(Received(t.event, event_payload(t, ev, outbox.stream), False, 1))
    expected.append(Received(t.count, count_payload(t, count(), outbox.stream), False, 1))
    # The tags (QoS 0) reach the reader only if it was back before the sink: the broker
    # does not queue QoS 0 for a session that is away.
    assert qos1(first_copies(got)) == expected
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1 and "retrying in the background" in errors[0].getMessage()
    assert len([r for r in caplog.records if r.levelno == logging.DEBUG]) >= 2  # quiet retries
    assert any("is back after" in r.getMessage() for r in caplog.records)


async def test_broker_restart_mid_run(mosquitto_factory, tmp_path, outbox: Outbox) -> None:
    site, port = unique_site(), free_port()
    t = MachineTopics("oee", ref(site))
    broker = mosquitto_factory(port=port, persistence_dir=tmp_path / "store")
    reader = MqttCollector(
        broker.host, port, [f"oee/{site}/+/+/+/event"], client_id="r2", clean_session=False
    )
    with reader:
        async with make_sink(port, site, outbox=outbox) as sink:
            await wait_until(lambda: sink.connected)
            before, after = changes(3), changes(3, first_seq=4)
            await sink.handle(before)
            await asyncio.to_thread(reader.wait_count, 3)
            await asyncio.sleep(0.1)  # let the reader's PUBACKs reach the broker
            broker.stop()
            await wait_until(lambda: not sink.connected)
            await sink.handle(after)  # waits in the outbox during the outage
            broker.start()
            await wait_until(lambda: sink.connected)
            got = await asyncio.to_thread(reader.wait_for, lambda ms: len(first_copies(ms)) >= 6)
            assert (sink.stats.connects, sink.stats.disconnects) == (2, 1)
    assert first_copies(r.payload for r in got) == [
        event_payload(t, ev, outbox.stream) for ev in before + after
    ]
    with broker.collector(status(site)) as late:  # offline after the clean shutdown
        assert late.wait_count(1) == [Received(status(site), b"offline", True, 1)]


async def test_clean_shutdown_is_quick_when_the_broker_is_down(outbox: Outbox) -> None:
    port = free_port()
    loop = asyncio.get_running_loop()
    start = loop.time()
    async with make_sink(
        port, unique_site(), reconnect_min_s=1.0, reconnect_max_s=1.0, outbox=outbox
    ) as s:
        await s.handle(changes(2))
        await asyncio.sleep(0.2)
    assert loop.time() - start < 2.5


async def test_mosquitto_sub_reads_the_contract(mosquitto_factory, outbox: Outbox) -> None:
    """The real mosquitto_sub CLI (Debian mosquitto-clients) sees our topics and payloads."""
    broker = mosquitto_factory()
    site = unique_site()
    t = MachineTopics("oee", ref(site))
    first, second = changes(2)
    async with make_sink(broker.port, site, outbox=outbox) as sink:
        await wait_until(lambda: sink.connected)
        await sink.handle([first, oee()])
        with broker.collector(t.oee("15m")) as c:  # the retained ones are in place
            await asyncio.to_thread(c.wait_count, 1)
        sub = await asyncio.create_subprocess_exec(
            "mosquitto_sub", "-h", "127.0.0.1", "-p", str(broker.port),
            "-t", "oee/#", "-v", "-C", "5", "-W", "10",
            stdout=asyncio.subprocess.PIPE,
        )  # fmt: skip
        assert sub.stdout is not None
        retained = [await asyncio.wait_for(sub.stdout.readline(), 5) for _ in range(3)]
        await sink.handle([second, count()])
        live = [await asyncio.wait_for(sub.stdout.readline(), 5) for _ in range(2)]
        assert await asyncio.wait_for(sub.wait(), 5) == 0

    def line(topic: str, payload: bytes) -> bytes:
        return topic.encode() + b" " + payload + b"\n"

    assert sorted(retained) == sorted(
        [
            line(status(site), b"online"),
            line(t.state, state_payload(t, first)),
            line(t.oee("15m"), oee_payload(t, oee())),
        ]
    )
    # `second` publishes state then event; -C 5 stops after the event.
    assert live == [
        line(t.state, state_payload(t, second)),
        line(t.event, event_payload(t, second, outbox.stream)),
    ]


class _Drawn(Backoff):
    """The sink's own backoff, keeping each delay it hands out."""

    def __init__(self, *args: Any, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self.drawn: list[float] = []

    def next(self) -> float:
        self.drawn.append(super().next())
        return self.drawn[-1]


async def test_reconnect_attempts_follow_the_jittered_backoff(
    caplog: pytest.LogCaptureFixture, outbox: Outbox
) -> None:
    """paho alone doubles a fixed delay, so gateways restarted together would retry in
    step; the sink waits the delays its jittered backoff draws."""
    caplog.set_level(logging.DEBUG, logger="connectors.mqtt.sink")
    seed = 7  # draws 0.1, 0.172, 0.3, 0.249, 0.3, 0.284, 0.247: off paho's 0.1, 0.2, 0.3...
    backoff = _Drawn(0.1, 0.3, rng=random.Random(seed))
    async with make_sink(free_port(), unique_site(), outbox=outbox, backoff=backoff):
        await asyncio.sleep(2.5)
    tries = [r.created for r in caplog.records if "connect" in r.getMessage()]
    gaps = [b - a for a, b in zip(tries, tries[1:], strict=False)]
    twin = Backoff(0.1, 0.3, rng=random.Random(seed))
    assert len(gaps) >= 6, gaps
    assert len(backoff.drawn) >= len(gaps) and backoff.drawn == [twin.next() for _ in backoff.drawn]
    # Each wait is the delay drawn at the failure before it (the first left out: the first
    # connection's setup is in it), never shorter; longer by the refused connect, which a
    # loaded box stretches by tens of ms (a 20 ms bound on both sides failed there).
    waits = list(zip(gaps[1:], backoff.drawn[1:], strict=False))
    assert all(d - 0.005 <= g <= d + 0.15 for g, d in waits), (gaps, backoff.drawn)
