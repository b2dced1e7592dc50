"""A sink whose server hangs never holds up the other sink or the acquisition: each
drains its own outbox queue, and the poll loop only commits to the local outbox."""

from __future__ import annotations

import asyncio
import contextlib
import json
from pathlib import Path

from tests.fixtures.influx import InfluxServer
from tests.fixtures.mosquitto import MqttCollector, frozen
from tests.fixtures.ports import silent_http_server
from tests.integration.gateway import gateway_config, running, wait_until

HUNG_S = 3.0
# Three machines that idle 2 s (the gateway reads its baselines), then make a part every
# 2 sim s at 60x, forever: 30 parts a second each, a count point per poll.
SCENARIO = """
name: busy
time_scale: 60
machines:
""" + "".join(
    f"""  - {{id: m{u}, unit_id: {u}, cycle_s: 2, product: 1,
      script: [{{state: idle, for_s: 120}}, {{state: running}}]}}
"""
    for u in (1, 2, 3)
)


def busy_scenario(tmp_path: Path) -> Path:
    path = tmp_path / "busy.yaml"
    path.write_text(SCENARIO)
    return path


def production_points(influxd: InfluxServer, db: str) -> int:
    rows = influxd.query("SELECT count(total) FROM production", db)
    return int(rows[0]["count"]) if rows else 0


async def test_a_hung_broker_does_not_hold_up_influxdb_or_the_polls(
    simulator_factory, mosquitto_factory, influxd: InfluxServer, tmp_path: Path
) -> None:
    sim = simulator_factory(busy_scenario(tmp_path))
    broker = mosquitto_factory()
    db = influxd.new_database()
    extra = (
        f"mqtt: {{port: {broker.port}}}\n"
        f"influxdb: {{url: '{influxd.url}', database: {db}, api: v1, flush_interval_s: 0.2}}\n"
    )
    config = gateway_config(tmp_path, sim.port, extra, line="hung-broker")
    async with running(config) as gw:
        mqtt = gw.sinks[0]
        assert gw.outbox is not None
        await wait_until(lambda: mqtt.connected, 10, "the broker")
        # The machines make parts from 2 s on: a count point per poll and machine.
        await wait_until(lambda: production_points(influxd, db) > 0, 10, "the first parts")
        with frozen(broker):  # connected, and never acknowledging
            points = production_points(influxd, db)
            parts = gw.live.machines["m1"].total
            await asyncio.sleep(HUNG_S)
            hung_points = production_points(influxd, db) - points
            hung_parts = gw.live.machines["m1"].total - parts
            waiting = gw.outbox.depth("mqtt").records
    # m1 makes 30 parts a second: 90 in 3 s; InfluxDB got points all along.
    assert hung_parts >= 80, hung_parts
    assert hung_points >= 30, hung_points
    assert waiting >= 30, waiting  # MQTT's records wait on disk, they did not block


async def test_a_hung_influxdb_does_not_hold_up_mqtt_or_the_polls(
    simulator_factory, mosquitto_factory, tmp_path: Path
) -> None:
    sim = simulator_factory(busy_scenario(tmp_path))
    broker = mosquitto_factory()
    influx = silent_http_server()
    url = f"http://127.0.0.1:{influx.getsockname()[1]}"
    extra = (
        f"mqtt: {{port: {broker.port}}}\n"
        f"influxdb: {{url: '{url}', database: d, api: v1, timeout_s: 30, "
        "flush_interval_s: 0.2}\n"
        "outbox: {stop_flush_s: 0.5}\n"
    )
    config = gateway_config(tmp_path, sim.port, extra, line="hung-influx")
    topic = "oee/plant/area1/hung-influx/m1/count"
    with contextlib.closing(influx), MqttCollector(broker.host, broker.port, [topic]) as c:
        async with running(config) as gw:
            assert gw.outbox is not None
            await wait_until(lambda: gw.sinks[0].connected, 10, "the broker")
            await wait_until(lambda: len(c.on(topic)) > 0, 10, "the first parts")
            seen = len(c.on(topic))
            await asyncio.sleep(HUNG_S)
            hung_counts = c.on(topic)[seen:]
            waiting = gw.outbox.depth("influxdb").records
    parts = sum(json.loads(m.payload)["total"] for m in hung_counts)
    assert len(hung_counts) >= 30 and parts >= 80, (len(hung_counts), parts)
    assert waiting >= 30, waiting  # InfluxDB's lines wait on disk
