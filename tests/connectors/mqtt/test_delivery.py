"""MqttSink through the durable outbox (issue 5), against real Mosquitto processes that are
stopped, frozen (SIGSTOP) and killed (SIGKILL), and a gateway process killed with SIGKILL.
Every count is exact: the subscriber's messages are numbered (`…/count` with `total` 0,
1, …), so gaps, order and copies are counted, not eyeballed."""

from __future__ import annotations

import asyncio
import json
import logging
import signal
import sqlite3
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from connectors.mqtt.broker import free_port
from connectors.mqtt.message import unpack
from connectors.mqtt.payloads import MachineTopics, event_payload, state_payload, tags_payload
from connectors.mqtt.sink import MqttSink
from core.types import MachineRef, MachineState, Quality, ReasonAssigned, Sample, SampleBatch
from edge.config import MqttConfig
from edge.outbox import Journal, Outbox, Priority
from tests.connectors.line_report import line
from tests.connectors.mqtt.support import (
    T0,
    changes,
    count,
    make_sink,
    numbered,
    oee,
    ref,
    spawn_gateway,
    unique_site,
    wait_until,
)
from tests.fixtures.mosquitto import MosquittoBroker, MqttCollector, Received, frozen

OUTBOX_BYTES = 64 * 1024 * 1024
Factory = Callable[..., MosquittoBroker]


def depth(box: Outbox) -> int:
    return box.depth("mqtt").records


class Numbers:
    """The `total`s a collector received on one `…/count` topic, parsed as they come."""

    def __init__(self, collector: MqttCollector, topic: str) -> None:
        self.collector, self.topic, self.seen = collector, topic, 0
        self.all: list[int] = []

    def update(self) -> list[int]:
        got = self.collector.on(self.topic)
        self.all += [json.loads(m.payload)["total"] for m in got[self.seen :]]
        self.seen = len(got)
        return self.all

    def distinct(self) -> int:
        return len(set(self.update()))

    def first_copies(self) -> list[int]:
        seen: set[int] = set()
        return [x for x in self.update() if not (x in seen or seen.add(x))]  # type: ignore[func-returns-value]


def persistent_reader(broker: MosquittoBroker, topic: str, client_id: str) -> MqttCollector:
    """A QoS 1 subscriber with a persistent session that the broker has saved to disk
    (mosquitto saves on SIGTERM, not on SIGKILL): it survives a later SIGKILL of the broker,
    so the broker itself is not what loses messages. Returned started."""
    reader = MqttCollector(
        broker.host, broker.port, [topic], client_id=client_id, clean_session=False
    )
    reader.start().stop()
    broker.stop()
    broker.start()
    return reader.start()


def sigkill(broker: MosquittoBroker) -> None:
    assert broker.proc is not None
    broker.proc.kill()
    broker.proc.wait()
    broker.proc = None


async def test_records_wait_in_the_outbox_while_the_broker_is_down(
    mosquitto_factory: Factory, tmp_path: Path, outbox: Outbox
) -> None:
    site, port = unique_site(), free_port()
    t = MachineTopics("oee", ref(site))
    broker = mosquitto_factory(port=port, persistence_dir=tmp_path / "store")
    MqttCollector(
        broker.host, port, [t.count], client_id="r500", clean_session=False
    ).start().stop()
    broker.stop()  # the reader's session waits on disk

    async with make_sink(port, site, outbox=outbox) as sink:
        loop = asyncio.get_running_loop()
        start = loop.time()
        await sink.handle(numbered(500))
        took = loop.time() - start
        assert took < 0.5, f"handle took {took:.3f} s"  # one commit, no broker involved
        assert depth(outbox) == 500
        await asyncio.sleep(0.3)  # failed connection attempts meanwhile
        assert (sink.stats.published, sink.stats.acked, depth(outbox)) == (0, 0, 500)

        broker.start()
        with MqttCollector(
            broker.host, port, [t.count], client_id="r500", clean_session=False
        ) as reader:
            nums = Numbers(reader, t.count)
            await wait_until(lambda: len(nums.update()) >= 500, within=10)
            await wait_until(lambda: depth(outbox) == 0)
            await asyncio.sleep(0.2)  # room for a copy, if one were coming
            assert nums.update() == list(range(500))  # each once, in order, no gap
    assert sink.stats.acked == 500
    assert (sink.stats.republished, sink.stats.errors) == (0, 0)
    assert sink.stats.published == 502  # online, 500 records, offline


class EagerBroker(MosquittoBroker):
    """Mosquitto that writes every message to its subscribers at once (no limit on its
    outgoing QoS 1 window, default 20), so that it holds nothing in memory for them."""

    def _config(self) -> str:
        return super()._config() + "max_inflight_messages 0\n"


@pytest.fixture
def eager_broker(tmp_path: Path) -> Iterator[EagerBroker]:
    broker = EagerBroker(tmp_path, free_port(), tmp_path / "store")
    broker.start()
    try:
        yield broker
    finally:
        if broker.proc is not None:
            broker.proc.send_signal(signal.SIGCONT)
        broker.stop()


async def settled(nums: Numbers, quiet_s: float = 0.15) -> int:
    """Wait until nothing more arrives for `quiet_s`; how many arrived."""
    n = -1
    while n != len(nums.update()):
        n = len(nums.all)
        await asyncio.sleep(quiet_s)
    return n


async def test_broker_sigkilled_mid_stream_loses_nothing(
    eager_broker: EagerBroker, outbox: Outbox, capsys: pytest.CaptureFixture[str]
) -> None:
    """SIGKILL of the broker with records in flight, restart with persistence.

    Mosquitto keeps the state of its sessions in memory and saves it only now and then,
    so a SIGKILL at a random instant can lose what it had already acknowledged to the
    gateway and written towards the subscriber (paho, the subscriber, drops unread bytes
    when its PUBACK write hits the reset; measured: 4 to 13 of 2,000 in 7 runs of 12, all
    of them acknowledged to the gateway). That loss is the broker's, not the gateway's:
    here the broker is frozen (SIGSTOP) first, the subscriber reads all it was sent, and
    then the broker is killed; the gateway's window is in flight, unacknowledged."""
    site, broker = unique_site(), eager_broker
    port = broker.port
    t = MachineTopics("oee", ref(site))
    with persistent_reader(broker, t.count, "r2000") as reader:
        nums = Numbers(reader, t.count)
        async with make_sink(port, site, outbox=outbox) as sink:
            await wait_until(lambda: sink.connected)
            await sink.handle(numbered(2000))
            await wait_until(lambda: len(nums.update()) >= 600, within=10)
            with frozen(broker):
                before = await settled(nums)
                in_flight = sink._delivery.inflight
                sigkill(broker)
            await wait_until(lambda: not sink.connected)
            await asyncio.sleep(0.2)
            broker.start()
            try:
                await wait_until(lambda: nums.distinct() == 2000, within=20)
            except AssertionError:
                missing = sorted(set(range(2000)) - set(nums.update()))
                raise AssertionError(
                    f"missing {len(missing)}: {missing[:5]}..{missing[-5:]}, before {before}, "
                    f"depth {depth(outbox)}, {sink.stats}"
                ) from None
            await wait_until(lambda: depth(outbox) == 0)
            await asyncio.sleep(0.2)  # late copies
            assert (sink.stats.connects, sink.stats.disconnects) == (2, 1)
        got = nums.update()
    assert set(got) == set(range(2000))  # every one at least once: no gap
    assert nums.first_copies() == list(range(2000))  # and first seen in order
    dups = len(got) - 2000
    stats = sink.stats
    assert stats.acked == 2000
    # The window in flight went out again, once (paho's own copies are dropped on
    # connect). Mostly it never reached the frozen broker and the subscriber has no copy
    # at all; on a loaded box a record can reach the broker (and the subscriber) just
    # before the freeze, its PUBACK unread: QoS 1 is at least once, so a duplicate, but
    # never more than the window (seen once in CI with two test workers: 1 of 20).
    assert stats.republished == in_flight > 0
    assert dups <= in_flight, (dups, in_flight, stats)
    with capsys.disabled():
        print(
            f"\n[broker SIGKILL] killed after {before} of 2000 received, {in_flight} in flight; "
            f"subscriber got {len(got)}: {dups} duplicates, 0 lost"
        )


async def test_in_flight_records_are_published_again_after_the_connection_is_lost(
    mosquitto_factory: Factory, tmp_path: Path, outbox: Outbox
) -> None:
    """Frozen broker: a window of 20 goes out and nothing is acked; the broker dies before
    reading them. After the restart the 20 go out again, once (not also paho's in-memory
    copies), then the rest: the subscriber gets 0..49 exactly once each."""
    site, port = unique_site(), free_port()
    t = MachineTopics("oee", ref(site))
    broker = mosquitto_factory(port=port, persistence_dir=tmp_path / "store")
    with persistent_reader(broker, t.count, "r50") as reader:
        nums = Numbers(reader, t.count)
        async with make_sink(port, site, outbox=outbox) as sink:
            await wait_until(lambda: sink.connected)
            with frozen(broker):
                await asyncio.sleep(0.05)
                await sink.handle(numbered(50))
                await wait_until(lambda: sink.stats.published == 1 + 20)
                await asyncio.sleep(0.2)
                assert (sink.stats.published, sink.stats.acked, depth(outbox)) == (21, 0, 50)
                sigkill(broker)
            await wait_until(lambda: not sink.connected)
            broker.start()
            await wait_until(lambda: depth(outbox) == 0, within=10)
            await wait_until(lambda: len(nums.update()) >= 50)
            await asyncio.sleep(0.2)
            assert (sink.stats.connects, sink.stats.disconnects) == (2, 1)
        got = nums.update()
    assert got == list(range(50))
    s = sink.stats
    assert (s.republished, s.acked) == (20, 50)


async def test_records_leave_the_outbox_only_when_acknowledged(
    mosquitto_factory: Factory, outbox: Outbox
) -> None:
    """QoS 1 waits for the PUBACK (a frozen broker answers nothing: 20 in flight, none
    acked); QoS 0 counts as delivered once paho wrote it."""
    site = unique_site()
    broker = mosquitto_factory()
    tags = SampleBatch("m1", T0, (Sample("speed", 1.5, Quality.GOOD, T0),))
    async with make_sink(broker.port, site, publish_tags={"m1"}, outbox=outbox) as sink:
        await wait_until(lambda: sink.connected)
        with frozen(broker):
            await asyncio.sleep(0.05)
            await sink.handle([tags, *numbered(50)])
            await wait_until(lambda: sink.stats.published == 1 + 1 + 20)
            await asyncio.sleep(0.3)
            s = sink.stats
            # online, the tags and a window of 20; only the tags (QoS 0) left the outbox.
            assert (s.published, s.acked, depth(outbox)) == (22, 1, 50)
        await wait_until(lambda: depth(outbox) == 0)
        assert (sink.stats.published, sink.stats.acked, sink.stats.republished) == (52, 51, 0)


async def test_a_stop_cut_short_keeps_the_rest_for_the_next_start(
    mosquitto_factory: Factory, tmp_path: Path
) -> None:
    """Stopped with the broker down, or frozen past `shutdown_timeout_s`, the sink returns
    at once and leaves what was not acknowledged in the outbox file; the next sink on that
    file sends it."""
    site, port, path = unique_site(), free_port(), tmp_path / "outbox.sqlite"
    t = MachineTopics("oee", ref(site))
    loop = asyncio.get_running_loop()
    with Outbox(path, max_bytes=OUTBOX_BYTES) as box:
        start = loop.time()
        async with make_sink(port, site, outbox=box, shutdown_timeout_s=0) as sink:
            await sink.handle(numbered(300))
        assert loop.time() - start < 1.0
        assert depth(box) == 300
    broker = mosquitto_factory(port=port)
    with broker.collector(t.count) as live:
        nums = Numbers(live, t.count)
        with Outbox(path, max_bytes=OUTBOX_BYTES) as box:
            async with make_sink(port, site, outbox=box, shutdown_timeout_s=0.3) as sink:
                await wait_until(lambda: depth(box) == 0)  # the 300 left by the first one
                with frozen(broker):
                    await asyncio.sleep(0.05)
                    await sink.handle(numbered(100, first=300))
                    await wait_until(lambda: sink.stats.published == 1 + 300 + 20)
                    start = loop.time()
                    await sink.close()  # the drain gives up after 0.3 s: no ack comes
                    assert loop.time() - start < 1.0
            assert depth(box) == 100
        # Thawed, the broker reads some of the window the second sink wrote before its
        # DISCONNECT (it stops at the first PUBACK it cannot send back): copies to come.
        await asyncio.sleep(0.2)
        with Outbox(path, max_bytes=OUTBOX_BYTES) as box:
            async with make_sink(port, site, outbox=box) as sink:
                await wait_until(lambda: depth(box) == 0)
            assert sink.stats.acked == 100
        await wait_until(lambda: nums.distinct() == 400)
        await asyncio.sleep(0.2)
        assert nums.first_copies() == list(range(400))
        assert len(nums.update()) - 400 <= 20  # at-least-once: copies of that window only


async def test_a_sigkilled_gateway_resumes_from_its_outbox(
    mosquitto_factory: Factory, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    site, path = unique_site(), tmp_path / "gw.sqlite"
    t = MachineTopics("oee", ref(site))
    broker = mosquitto_factory()
    with broker.collector(t.count) as live:
        nums = Numbers(live, t.count)
        proc = await spawn_gateway(broker.port, site, path, events=2000)
        assert proc.stdout is not None
        assert await asyncio.wait_for(proc.stdout.readline(), 10) == b"handled\n"
        await wait_until(lambda: len(nums.update()) >= 300, within=10)
        proc.send_signal(signal.SIGKILL)
        await proc.wait()
        before = len(nums.update())
        with Outbox(path, max_bytes=OUTBOX_BYTES) as box:
            left = depth(box)
            assert 0 < left < 2000 - 300 + 20
            async with make_sink(broker.port, site, outbox=box) as sink:
                await wait_until(lambda: depth(box) == 0, within=10)
            await wait_until(lambda: nums.distinct() == 2000)
            await asyncio.sleep(0.2)
        got = nums.update()
    assert set(got) == set(range(2000))
    assert nums.first_copies() == list(range(2000))
    dups = len(got) - 2000
    assert dups <= 20  # at most the killed gateway's window
    assert sink.stats.acked == left
    with capsys.disabled():
        print(
            f"\n[gateway SIGKILL] killed after {before} of 2000 received, {left} left in its "
            f"outbox; subscriber got {len(got)}, {dups} duplicates, 0 lost"
        )


async def test_retained_state_is_republished_after_a_broker_restart_without_persistence(
    mosquitto_factory: Factory, outbox: Outbox
) -> None:
    site = unique_site()
    t = MachineTopics("oee", ref(site))
    status = f"oee/{site}/_gateway/gw1/status"
    first, now = changes(2)
    broker = mosquitto_factory()  # persistence off: a restart forgets retained messages
    async with make_sink(broker.port, site, outbox=outbox) as sink:
        await wait_until(lambda: sink.connected)
        await sink.handle([first, now, oee()])
        await wait_until(lambda: depth(outbox) == 0)
        assert sink.stats.restated == 0
        broker.stop()
        await wait_until(lambda: not sink.connected)
        broker.start()
        await wait_until(lambda: sink.stats.connects == 2)
        await wait_until(lambda: sink.stats.acked == 5 + 1)
        with broker.collector(f"oee/{site}/#") as late:
            got = await asyncio.to_thread(late.wait_count, 2)
            await asyncio.sleep(0.2)
            assert late.messages == got
        assert sink.stats.restated == 1
    # The latest state (from `_states`), retained again; `online` from the new connection.
    # The OEE figures come back with the engine's next update.
    assert sorted(got) == sorted(
        [Received(t.state, state_payload(t, now), True, 1), Received(status, b"online", True, 1)]
    )


async def test_records_carry_their_priority(tmp_path: Path, outbox: Outbox) -> None:
    """TAGS for `…/tags`, OEE for `…/oee/*` and `_line/oee/*`, EVENTS for the rest."""
    site = unique_site()
    sc = changes(1)[0]
    reason = ReasonAssigned("m1", sc.ts, MachineState.IDLE, 7, "Wait", sc.ts)
    batch = SampleBatch("m1", T0, (Sample("s", 1.0, Quality.GOOD, T0),))
    update = replace(line(), area="area1", line="line1", window="1h")
    async with make_sink(free_port(), site, publish_tags={"m1"}, outbox=outbox) as sink:
        await sink.handle([sc, count(), oee(), batch, reason, update])
    db = sqlite3.connect(tmp_path / "outbox.sqlite")
    rows = [(unpack(d).topic, p) for d, p in db.execute("SELECT data, priority FROM outbox")]
    db.close()
    root = f"oee/{site}/area1/line1"
    assert rows == [
        (f"{root}/m1/state", Priority.EVENTS),
        (f"{root}/m1/event", Priority.EVENTS),
        (f"{root}/m1/count", Priority.EVENTS),
        (f"{root}/m1/oee/15m", Priority.OEE),
        (f"{root}/m1/tags", Priority.TAGS),
        (f"{root}/m1/reason", Priority.EVENTS),
        (f"{root}/m1/state", Priority.EVENTS),  # the current stop got its reason
        (f"{root}/_line/oee/1h", Priority.OEE),
    ]


async def test_unicode_topics_and_an_empty_tag_batch_arrive(
    mosquitto: MosquittoBroker, outbox: Outbox
) -> None:
    site = unique_site()
    machine = MachineRef(site, "Halle Ä", "Linie 1", "Presse-Ω")
    t = MachineTopics("oee", machine)
    sc = changes(1, "Presse-Ω")[0]
    empty = SampleBatch("Presse-Ω", T0, ())
    cfg = MqttConfig(host="127.0.0.1", port=mosquitto.port)
    with mosquitto.collector(f"oee/{site}/#") as live:
        sink = MqttSink(
            cfg, "gw1", site, {"Presse-Ω": machine}, {"Presse-Ω"}, journal=Journal(outbox),
            reconnect_min_s=0.1, reconnect_max_s=0.2,
        )  # fmt: skip
        async with sink:
            await wait_until(lambda: sink.connected)
            await sink.handle([sc, empty])
            got = await asyncio.to_thread(live.wait_count, 4)
    assert got[1:] == [
        Received(t.state, state_payload(t, sc), False, 1),
        Received(t.event, event_payload(t, sc, outbox.stream), False, 1),
        Received(t.tags, tags_payload(t, empty), False, 0),
    ]
    assert t.state == f"oee/{site}/Halle Ä/Linie 1/Presse-Ω/state"


async def test_the_drain_survives_an_outbox_that_fails_for_a_while(
    mosquitto_factory: Factory, outbox: Outbox, caplog: pytest.LogCaptureFixture
) -> None:
    """The outbox closed under the sink (a disk that went away): acks that came meanwhile
    are kept and applied once it is back, so nothing is sent twice and nothing lost."""
    site = unique_site()
    t = MachineTopics("oee", ref(site))
    broker = mosquitto_factory()
    caplog.set_level(logging.DEBUG, logger="connectors.mqtt.delivery")
    with broker.collector(t.count) as live:
        nums = Numbers(live, t.count)
        async with make_sink(broker.port, site, outbox=outbox, poll_s=0.05) as sink:
            await wait_until(lambda: sink.connected)
            with frozen(broker):
                await asyncio.sleep(0.05)
                await sink.handle(numbered(30))
                await wait_until(lambda: sink.stats.published == 1 + 20)
                outbox.close()
            await wait_until(lambda: len(nums.update()) >= 20)
            await asyncio.sleep(0.3)  # the acks came; the outbox cannot take them
            assert (sink.stats.acked, sink.stats.published) == (0, 21)
            # Not committed, so held in memory by the journal and committed once it can.
            await sink.handle(numbered(1, first=30))
            outbox.open()
            await wait_until(lambda: len(nums.update()) >= 31)
            await wait_until(lambda: depth(outbox) == 0)
            await asyncio.sleep(0.2)
        assert nums.update() == list(range(31))  # once each, in order
    assert (sink.stats.acked, sink.stats.republished) == (31, 0)
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 2, errors  # one per outage: the drain's, the journal's
    assert errors[0].startswith("MQTT outbox (mqtt): RuntimeError: the outbox ")
    assert errors[1].startswith("outbox: cannot be written (the outbox ")
    assert errors[1].endswith("is not open); holding 1 records")


@pytest.mark.parametrize(("qos", "kept"), [(1, True), (2, False)])
async def test_the_broker_keeps_the_session_across_reconnects(
    mosquitto_factory: Factory, tmp_path: Path, outbox: Outbox, qos: int, kept: bool
) -> None:
    """MQTT 3.1.1, clean session off, client id `oee-edge-{gateway_id}`: after a restart
    (with persistence) the broker still has the session. With QoS 2 the session is clean
    on purpose (the sink's docstring says why)."""
    site = unique_site()
    broker = mosquitto_factory(persistence_dir=tmp_path / "store")
    cfg = MqttConfig(host="127.0.0.1", port=broker.port, qos=qos)  # type: ignore[arg-type]
    sink = MqttSink(
        cfg, "gw1", site, {"m1": ref(site)}, journal=Journal(outbox),
        reconnect_min_s=0.1, reconnect_max_s=0.2,
    )  # fmt: skip
    async with sink:
        await wait_until(lambda: sink.connected)
        assert (sink.client_id, sink.persistent_session, sink.session_present) == (
            "oee-edge-gw1",
            kept,
            False,
        )
        broker.stop()
        await wait_until(lambda: not sink.connected)
        broker.start()
        await wait_until(lambda: sink.stats.connects == 2)
        assert sink.session_present is kept


async def test_records_the_full_outbox_refuses_are_counted_and_logged(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """The disk limit (edge.outbox): what does not fit is refused, counted per priority
    and logged at ERROR once (by the journal), then quietly until records fit again."""
    site = unique_site()
    caplog.set_level(logging.DEBUG, logger="edge.journal")
    probe = numbered(1)
    with Outbox(tmp_path / "small.sqlite", max_bytes=1) as box:
        async with make_sink(free_port(), site, outbox=box, shutdown_timeout_s=0) as sink:
            await sink.handle(probe)  # nothing fits in 1 byte
            size = len(sink._encoder.encode(probe, {}, {}, "")[0].data)
        assert box.stats.refused["events"] == 1
    with Outbox(tmp_path / "o.sqlite", max_bytes=3 * size) as box:
        async with make_sink(free_port(), site, outbox=box, shutdown_timeout_s=0) as sink:
            await sink.handle(numbered(5))  # 3 fit
            await sink.handle(numbered(2, first=5))  # none
            assert (box.stats.refused["events"], depth(box)) == (4, 3)
            box.ack("mqtt", [e.id for e in box.peek("mqtt", 3)])  # room again
            await sink.handle(numbered(1, first=7))
            assert (box.stats.refused["events"], depth(box)) == (4, 1)
    said = [(r.levelno, r.getMessage()) for r in caplog.records if r.name == "edge.journal"]
    assert said == [
        (logging.ERROR, "outbox full: 1 of 1 records refused"),
        (logging.ERROR, "outbox full: 2 of 5 records refused"),
        (logging.DEBUG, "outbox full: 2 of 2 records refused"),
        (logging.INFO, "the outbox takes records again"),
    ]
