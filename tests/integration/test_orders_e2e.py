"""Orders end to end on real servers: the simulator makes product 101, sets up and makes
102; an order list (one order per product) is published to the intake topic on a real
Mosquitto (again, until taken: the same list twice changes nothing); the gateway runs
them from its queue. `…/order` carries each order's progress, `…/changeover` the setup
between them, with counts and times exactly those the simulator's polls gave; after a
restart the book and the counts are back."""

from __future__ import annotations

import asyncio
import json
from datetime import datetime
from pathlib import Path
from typing import Any

import paho.mqtt.publish as publish

from edge.config.loading import parse_config
from tests.fixtures.mosquitto import MqttCollector
from tests.fixtures.order_events import asyncapi_errors
from tests.integration.gateway import config_env, modbus_machines, running, wait_until

SCENARIO = Path(__file__).with_name("orders_scenario.yaml")
LINE = "orders"
ROOT = f"oee/plant/area1/{LINE}/m1"
CONFIG = """
gateway: {id: "gw-${LINE}", data_dir: "${DATA_DIR}"}
site: plant
area: area1
line: ${LINE}
api: {port: "${API_PORT}"}
oee: {windows: [1h], publish_interval_s: 0.25}
orders:
  ramp_fraction: 0.5
  ramp_window_s: 1
  changeover_standards: [{from: "101", to: "102", standard_s: 0.3}]
machines:""" + modbus_machines('"${MODBUS_PORT}"', {"m1": 0.1})
ORDERS = [
    {"id": "A-101", "product": "101", "quantity": 24, "due": "2099-01-01T00:00:00Z",
     "machine": "m1", "planned_start": "2026-01-01T06:00:00Z", "customer": "ACME"},
    {"id": "B-102", "product": "102", "quantity": 100, "due": "2099-01-01T00:00:00Z",
     "machine": "m1", "planned_start": "2026-01-01T08:00:00Z", "ideal_cycle_s": 0.1},
]  # fmt: skip


def ms(text: str) -> int:
    return round(datetime.fromisoformat(text).timestamp() * 1000)


def payloads(messages: list[Any], kind: str) -> list[dict[str, Any]]:
    return [json.loads(x.payload) for x in messages if x.topic == f"{ROOT}/{kind}"]


async def send_orders(gw: Any, port: int) -> None:
    """The list to the intake topic until the gateway has it (its subscription comes up
    with it): idempotent, so a list taken twice changes nothing."""
    body = json.dumps(ORDERS)
    for _ in range(40):
        await asyncio.to_thread(
            publish.single, "oee/plant/orders/in", body, qos=1, hostname="127.0.0.1", port=port
        )
        await asyncio.sleep(0.1)
        if {"A-101", "B-102"} <= set(gw.orders.book.orders):
            return
    raise AssertionError("the gateway never took the order list")


async def test_an_order_list_over_mqtt_runs_with_the_simulator_switching_products(  # type: ignore[no-untyped-def]
    simulator_factory, mosquitto, tmp_path: Path
) -> None:
    sim = simulator_factory(SCENARIO)
    env = config_env(tmp_path, sim.port, LINE)
    extra = f"mqtt: {{host: 127.0.0.1, port: {mosquitto.port}}}\n"
    cfg = parse_config(CONFIG + extra, "orders.yaml", env)
    with MqttCollector(mosquitto.host, mosquitto.port, [f"{ROOT}/#"]) as c:
        async with running(cfg) as gw:
            await send_orders(gw, mosquitto.port)
            await send_orders(gw, mosquitto.port)  # the same list again
            assert gw.orders.refused == 0
            await wait_until(
                lambda: gw.live.machines["m1"].state is not None
                and gw.live.machines["m1"].state.state.value == "planned_stop",
                30, "the script to play out",
            )  # fmt: skip
            await asyncio.to_thread(c.wait_count, 1, f"{ROOT}/changeover", 10)
            await asyncio.sleep(0.6)  # two more publications of `…/order`
        messages = list(c.messages)
        c.clear()
        # A restart (the same data directory): the book and the counts come back from
        # the outbox's checkpoints; the simulator makes no more parts.
        async with running(cfg) as gw:
            await asyncio.to_thread(c.wait_count, 1, f"{ROOT}/order", 10)
            again = gw.orders.book.runs
            assert (again["A-101"].good, again["A-101"].reject) == (24, 5)
        after = payloads(list(c.messages), "order")[0]

    for kind, message in (("order", "OrderProgress"), ("changeover", "Changeover")):
        for p in payloads(messages, kind):
            assert asyncapi_errors(message, p) == [], p
    assert {x.qos for x in messages if x.topic.endswith(("/order", "/changeover"))} == {1}
    counts = payloads(messages, "count")
    made = {p: [c for c in counts if c["product"] == p] for p in ("101", "102")}
    totals = {p: tuple(sum(c[k] for c in cs) for k in ("good", "reject")) for p, cs in made.items()}
    # The simulator's parts as its polls read them: 29 of 101 (5 rejects), 20 of 102.
    assert totals == {"101": (24, 5), "102": (16, 4)}

    orders = payloads(messages, "order")
    a = [o for o in orders if o["order"] and o["order"]["id"] == "A-101"][-1]
    assert (a["status"], a["source"]) == ("done", "queue")
    pa = a["progress"]
    assert (pa["good"], pa["reject"], pa["remaining"], pa["complete"], pa["on_time"]) == (
        24, 5, 0, True, True
    )  # fmt: skip
    assert ms(pa["started"]) == ms(made["101"][0]["ts"])
    assert ms(pa["finished"]) == ms(pa["ended"]) == ms(made["101"][-1]["ts"])
    b = orders[-1]  # the retained one: B runs on
    assert b["order"]["id"] == "B-102" and b["source"] == "queue"
    pb = b["progress"]
    assert (pb["good"], pb["reject"], pb["remaining"], pb["ended"]) == (16, 4, 84, None)
    assert ms(pb["started"]) == ms(made["102"][0]["ts"])

    events = payloads(messages, "event")
    setup = next(e for e in events if e["state"] == "setup")
    back = next(e for e in events if e["state"] == "running" and e["seq"] == setup["seq"] + 1)
    (co,) = payloads(messages, "changeover")
    assert (co["from_product"], co["to_product"], co["from_order"], co["to_order"]) == (
        "101", "102", "A-101", "B-102"
    )  # fmt: skip
    assert (ms(co["start"]), ms(co["end"])) == (ms(setup["ts"]), ms(back["ts"]))
    duration = (ms(back["ts"]) - ms(setup["ts"])) / 1000
    assert co["duration_s"] == round(duration, 3) and co["reason"] == "3"
    assert (co["standard_s"], co["loss_s"]) == (0.3, round(max(0.0, duration - 0.3), 3))
    assert co["at_rate"] is not None and ms(co["at_rate"]) >= ms(co["end"])
    before = [c for c in made["102"] if ms(c["ts"]) <= ms(co["at_rate"])]
    assert co["parts_to_rate"] == sum(c["total"] for c in before)
    assert (co["seq"], co["event_id"].endswith(":m1:o1")) == (1, True)
    assert after["order"]["id"] == "B-102" and after["source"] == "queue"
    assert (after["progress"]["good"], after["progress"]["reject"]) == (16, 4)
    assert after["progress"]["started"] == pb["started"]
