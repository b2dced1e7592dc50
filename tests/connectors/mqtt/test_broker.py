"""`local_broker` (for `oee-edge demo`): Mosquitto, and the embedded amqtt fallback."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path

import pytest

from connectors.mqtt.broker import LocalBroker, find_mosquitto, local_broker, mosquitto_conf
from connectors.mqtt.payloads import MachineTopics, state_payload
from edge.outbox import Outbox
from tests.connectors.mqtt.support import (
    changes,
    make_sink,
    ref,
    spawn_gateway,
    unique_site,
    wait_until,
)
from tests.fixtures.mosquitto import MqttCollector, Received


async def retained_and_will(
    broker: LocalBroker, outbox: Outbox, tmp: Path, will_qos: int = 1
) -> None:
    """A sink's retained state survives it; a SIGKILLed gateway's will says `offline`."""
    site = unique_site()
    t = MachineTopics("oee", ref(site))
    status = f"oee/{site}/_gateway/gw1/status"
    sc = changes(1)[0]
    async with make_sink(broker.port, site, outbox=outbox) as sink:
        await wait_until(lambda: sink.connected)
        await sink.handle([sc])
    proc = await spawn_gateway(broker.port, site, tmp / "gw.sqlite")

    def online() -> None:
        with MqttCollector(broker.host, broker.port, [status]) as c:
            c.wait_for(lambda ms: any(m.payload == b"online" for m in ms))

    await asyncio.to_thread(online)  # so `offline` below can only come from the will
    proc.send_signal(signal.SIGKILL)
    await proc.wait()

    def read() -> list[Received]:
        # Blocking waits run in a thread: the amqtt broker lives on this event loop.
        with MqttCollector(broker.host, broker.port, [t.state, status]) as c:
            return c.wait_for(
                lambda ms: (
                    any(m.topic == status and m.payload == b"offline" for m in ms)
                    and any(m.topic == t.state for m in ms)
                )
            )

    got = await asyncio.to_thread(read)
    assert Received(t.state, state_payload(t, sc), True, 1) in got
    assert Received(status, b"offline", True, will_qos) in got


async def test_prefers_mosquitto(outbox: Outbox, tmp_path: Path) -> None:
    assert find_mosquitto() is not None  # the test machine has Debian's mosquitto
    async with local_broker() as broker:
        host, port = broker
        assert (broker.kind, host, broker.host, broker.port) == (
            "mosquitto",
            "127.0.0.1",
            host,
            port,
        )
        await retained_and_will(broker, outbox, tmp_path)


async def test_embedded_amqtt_fallback(outbox: Outbox, tmp_path: Path) -> None:
    async with local_broker(kind="amqtt") as broker:
        assert broker.kind == "amqtt"
        # amqtt 0.12 keeps a retained will at QoS 0 (Mosquitto: the will's QoS 1); the
        # demo only needs the retained `offline`.
        await retained_and_will(broker, outbox, tmp_path, will_qos=0)


async def test_fixed_port_is_used_and_freed() -> None:
    from connectors.mqtt.broker import free_port

    port = free_port()
    for kind in ("mosquitto", "amqtt"):
        async with local_broker(port, kind=kind) as broker:  # type: ignore[arg-type]
            assert tuple(broker) == ("127.0.0.1", port)
        with pytest.raises(OSError):
            await asyncio.open_connection("127.0.0.1", port)


def test_the_brokers_we_configure_send_without_delay() -> None:
    """Mosquitto's default (Nagle on) held the gateway's messages for the receiver's
    delayed ACK: event p99 33-44 ms against 11 ms (docs/BENCHMARKS.md). The demo's, the
    tests' and the compose file's brokers all turn it off; the first two share
    `mosquitto_conf`, and every broker test runs it in a real Mosquitto."""
    root = Path(__file__).resolve().parents[3]
    deploy = (root / "deploy/mosquitto/mosquitto.conf").read_text().splitlines()
    assert "set_tcp_nodelay true" in deploy
    assert "set_tcp_nodelay true" in mosquitto_conf(1883).splitlines()
