"""What the gateway cannot guarantee past the broker (docs/RELIABILITY.md, "What is not
guaranteed"): a PUBACK is the broker's word, not a subscriber's. Real Mosquitto.

- A message no one subscribes to yet is acknowledged, and dropped.
- A broker without persistence loses, at a restart, what it had queued for a persistent
  subscriber session that was away; with persistence (and a clean stop) it keeps it.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from edge.outbox import Outbox
from tests.connectors.mqtt.support import make_sink, numbered, totals, unique_site, wait_until
from tests.fixtures.mosquitto import MqttCollector
from tests.fixtures.ports import free_port


def _count_topic(site: str) -> str:
    return f"oee/{site}/area1/line1/m1/count"


async def _delivered(port: int, site: str, outbox: Outbox, n: int) -> None:
    """Publish `n` counts through a sink and wait until the broker acknowledged them all."""
    async with make_sink(port, site, outbox=outbox) as sink:
        await sink.handle(numbered(n))
        await wait_until(lambda: sink.stats.acked == n and outbox.depth("mqtt").records == 0)


async def test_a_message_no_one_subscribes_to_is_acknowledged_and_dropped(
    mosquitto, outbox: Outbox
) -> None:
    site = unique_site()
    await _delivered(mosquitto.port, site, outbox, 5)  # acknowledged: gone from the outbox
    topics = [_count_topic(site)]
    late = MqttCollector(mosquitto.host, mosquitto.port, topics, client_id=f"late-{site}")
    with late:
        await asyncio.sleep(0.5)
        assert late.messages == []  # a subscriber that comes later gets none of them


async def _queued_across_a_restart(
    mosquitto_factory, tmp_path: Path, outbox: Outbox, persistence: bool
) -> list[int]:
    """A persistent subscriber session that is away while 5 counts are acknowledged; the
    broker restarts (a clean stop); the totals the subscriber then gets."""
    site, port = unique_site(), free_port()
    store = tmp_path / "broker" if persistence else None
    broker = mosquitto_factory(port=port, persistence_dir=store)

    def reader() -> MqttCollector:
        topics = [_count_topic(site)]
        return MqttCollector(broker.host, port, topics, client_id="away", clean_session=False)

    reader().start().stop()  # the session and its subscription, then away
    await _delivered(port, site, outbox, 5)
    broker.stop()
    broker.start()
    with reader() as back:
        await asyncio.sleep(0.5)
        return totals(m.payload for m in back.messages)


async def test_a_broker_without_persistence_loses_what_it_queued_at_a_restart(
    mosquitto_factory, tmp_path: Path, outbox: Outbox
) -> None:
    assert await _queued_across_a_restart(mosquitto_factory, tmp_path, outbox, False) == []


async def test_a_broker_with_persistence_keeps_what_it_queued_across_a_clean_restart(
    mosquitto_factory, tmp_path: Path, outbox: Outbox
) -> None:
    got = await _queued_across_a_restart(mosquitto_factory, tmp_path, outbox, True)
    assert got == [0, 1, 2, 3, 4]
