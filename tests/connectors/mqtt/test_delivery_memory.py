"""The MQTT delivery takes what the journal just committed from memory
(connectors.mqtt.fresh, issue 17) instead of reading it back, and reads the outbox again
whenever memory cannot be trusted to hold everything: at start, after a lost
connection. Against real Mosquitto processes and a real outbox whose reads are counted."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from pathlib import Path

from connectors.mqtt.broker import free_port
from connectors.mqtt.payloads import MachineTopics
from core.records import Entry
from edge.outbox import Outbox
from tests.connectors.mqtt.support import make_sink, numbered, ref, unique_site, wait_until
from tests.fixtures.mosquitto import MosquittoBroker

Factory = Callable[..., MosquittoBroker]


class CountedOutbox(Outbox):
    """A real outbox that counts the delivery's reads and removals."""

    peeks = 0
    acks = 0

    def peek(self, sink: str, limit: int, max_bytes: int | None = None, after: int = 0
             ) -> list[Entry]:  # fmt: skip
        self.peeks += 1
        return super().peek(sink, limit, max_bytes, after)

    def ack(self, sink: str, ids: object) -> int:
        self.acks += 1
        return super().ack(sink, ids)  # type: ignore[arg-type]


def totals(reader: object, topic: str) -> list[int]:
    return [json.loads(m.payload)["total"] for m in reader.on(topic)]  # type: ignore[attr-defined]


async def test_committed_records_go_out_without_being_read_back(
    mosquitto: MosquittoBroker, tmp_path: Path
) -> None:
    site = unique_site()
    t = MachineTopics("oee", ref(site))
    with (
        CountedOutbox(tmp_path / "outbox.sqlite", 1 << 30) as box,
        mosquitto.collector(t.count) as reader,
    ):
        # The config's default window of 100 (acknowledged records not yet removed count in it).
        async with make_sink(mosquitto.port, site, outbox=box, inflight=100) as sink:
            await wait_until(lambda: sink.connected)
            await wait_until(lambda: box.peeks >= 1)  # the first look: the queue's end
            peeks = box.peeks
            for i in range(0, 500, 10):  # 50 commits of 10
                await sink.handle(numbered(10, first=i))
            await wait_until(lambda: len(reader.on(t.count)) >= 500, within=10)
            await wait_until(lambda: box.depth("mqtt").records == 0)
            assert box.peeks == peeks  # not one record read back
            assert totals(reader, t.count) == list(range(500))
        # Removed in batches (50, or 0.25 s after the first), not once per round of acks.
        assert box.acks <= 25, box.acks
        assert (sink.stats.acked, sink.stats.republished) == (500, 0)


async def test_after_an_outage_the_outbox_is_read_then_memory_takes_over(
    mosquitto_factory: Factory, tmp_path: Path
) -> None:
    site, port = unique_site(), free_port()
    t = MachineTopics("oee", ref(site))
    broker = mosquitto_factory(port=port, persistence_dir=tmp_path / "store")
    with CountedOutbox(tmp_path / "outbox.sqlite", 1 << 30) as box:
        async with make_sink(port, site, outbox=box) as sink:
            await wait_until(lambda: sink.connected)
            with broker.collector(t.count, client_id="mem-r", clean_session=False) as reader:
                await sink.handle(numbered(100))
                await wait_until(lambda: len(reader.on(t.count)) >= 100)
                await wait_until(lambda: box.depth("mqtt").records == 0)  # all acknowledged
                broker.stop()  # the reader's session is saved
                await wait_until(lambda: not sink.connected)
                await sink.handle(numbered(300, first=100))  # kept in the outbox
                await asyncio.sleep(0.2)
                before = box.peeks
            broker.start()
            with broker.collector(t.count, client_id="mem-r", clean_session=False) as reader:
                await wait_until(lambda: box.depth("mqtt").records == 0, within=10)
                read_again = box.peeks - before
                assert read_again >= 3  # 300 records through a window of 100: from disk
                await sink.handle(numbered(100, first=400))
                await wait_until(lambda: len(reader.on(t.count)) >= 300, within=10)
                await wait_until(lambda: box.depth("mqtt").records == 0)
                assert box.peeks - before <= read_again + 1  # the last 100 from memory
                got = totals(reader, t.count)
        # The broker may hand its persistent subscriber again what that had not
        # acknowledged before the stop: the sink's own copies are `republished`.
        first = [n for i, n in enumerate(got) if n not in got[:i]]
        assert first == list(range(min(got), 500)) and min(got) <= 100  # none lost, in order
    assert sink.stats.republished == 0
