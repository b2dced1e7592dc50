"""Alarms end to end on real servers: the simulator (a fault that lasts 7 s), a whole
gateway, Mosquitto, the HTTP API with keys, server-sent events, and a webhook receiver
process that is down when the alarm is raised and then answers 503 twice.

Seen: the alarm raised exactly 3 s after the fault began (`…/alarm`, the retained
`…/alarms`, SSE), acknowledged by the operate key's name, cleared at the fault's end;
the receiver gets all three changes, in order, once it is up; the store keeps the alarm."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path

import httpx

from edge.config.loading import parse_config
from tests.fixtures.mosquitto import MqttCollector
from tests.fixtures.ports import accepts, free_port
from tests.fixtures.sse import SseReader
from tests.integration.gateway import modbus_machines, running, wait_until

SCENARIO = Path(__file__).with_name("alarm_scenario.yaml")
REPO = Path(__file__).resolve().parents[2]
OPERATE, READ = "op-" + "o" * 20, "rd-" + "r" * 20
CONFIG = """
gateway: {{id: gw-alarms, data_dir: "{data}"}}
site: plant
area: area1
line: alarms
api:
  port: {api}
  keys:
    - {{name: line-3-tablet, key: {operate}, scope: operate}}
    - {{name: viewer, key: {read}, scope: read}}
mqtt: {{host: 127.0.0.1, port: {mqtt}}}
oee: {{windows: [1h], publish_interval_s: 0.25}}
alarms:
  rules:
    - {{name: long-fault, kind: stop, longer_than: 3s, severity: critical}}
  webhook:
    url: http://127.0.0.1:{hook}/alarms?token=abc
    headers: {{Authorization: "Bearer ${{HOOK_TOKEN}}"}}
    retry_min_s: 0.05
    retry_max_s: 0.2
machines:"""


def at(text: str) -> datetime:
    return datetime.fromisoformat(text)


async def test_a_lasting_fault_raises_is_acknowledged_and_clears(
    simulator_factory, mosquitto, tmp_path: Path
) -> None:
    sim = simulator_factory(SCENARIO)
    hook_port, received = free_port(), tmp_path / "hook.jsonl"
    text = CONFIG.format(
        data=tmp_path / "data", api=free_port(), operate=OPERATE, read=READ,
        mqtt=mosquitto.port, hook=hook_port,
    ) + modbus_machines(str(sim.port), {"m1": 0.0333333333})  # fmt: skip
    config = parse_config(text, "alarms.yaml", {"HOOK_TOKEN": "s3cret"})
    root = "oee/plant/area1/alarms/m1"
    api = f"http://127.0.0.1:{config.api.port}"
    receiver: subprocess.Popen[bytes] | None = None
    with MqttCollector(mosquitto.host, mosquitto.port, [f"{root}/#"]) as c:
        async with running(config) as gw, httpx.AsyncClient(base_url=api) as http:
            read = {"Authorization": f"Bearer {READ}"}
            await wait_until(lambda: gw.live.started, 10, "the gateway to start")
            async with http.stream("GET", "/api/v1/events", headers=read) as stream:
                sse = SseReader(stream)
                assert (await sse.next()).event == "hello"
                await wait_until(lambda: gw.live.machines["m1"].alarms, 15, "the alarm")
                (active,) = gw.live.machines["m1"].alarms
                listed = (await http.get("/api/v1/alarms?active=true", headers=read)).json()
                assert [a["id"] for a in listed["alarms"]] == [active.id]
                assert listed["alarms"][0]["message"] == "m1: fault (12) for 3 s"

                # A read key may not acknowledge; the operate key may, once.
                path = f"/api/v1/alarms/{active.id}/ack"
                assert (await http.post(path, headers=read)).status_code == 403
                op = {"Authorization": f"Bearer {OPERATE}"}
                acked = await http.post(path, headers=op)
                assert acked.status_code == 200, acked.text
                assert acked.json()["acked_by"] == "line-3-tablet"
                again = await http.post(path, headers=op)
                assert again.status_code == 409
                assert again.json()["detail"].startswith(
                    f"alarm '{active.id}' was acknowledged by line-3-tablet at "
                )
                unknown = await http.post("/api/v1/alarms/m1.x.1/ack", headers=op)
                assert unknown.status_code == 404
                assert unknown.json()["known"] == [active.id]

                await wait_until(lambda: not gw.live.machines["m1"].alarms, 15, "the clear")
                alarm_events = []
                while len(alarm_events) < 3:
                    msg = await sse.next()
                    if msg.event == "alarm":
                        alarm_events.append(msg.json())
            # Only now the receiver comes up, and fails twice more: nothing may be lost.
            assert not accepts(hook_port)
            cmd = [sys.executable, "-m", "tests.fixtures.webhook_receiver", str(hook_port),
                   str(received), "--fail-first", "2"]  # fmt: skip
            receiver = await asyncio.to_thread(subprocess.Popen, cmd, cwd=REPO)
            try:
                await wait_until(
                    lambda: received.exists() and len(received.read_bytes().splitlines()) >= 3,
                    15, "the webhook to deliver the three changes",
                )  # fmt: skip
                hook = next(s for s in gw.sinks if s.name == "webhook")
                stats = hook.stats  # type: ignore[attr-defined]
                assert (stats.delivered, stats.dropped) == (3, 0)
                assert stats.errors >= 1 and stats.retried == 2
                stored = (await http.get("/api/v1/alarms", headers=read)).json()["alarms"]
            finally:
                receiver.terminate()
                receiver.wait(5)
        await asyncio.to_thread(
            c.wait_for, lambda ms: len([m for m in ms if m.topic == f"{root}/alarm"]) >= 3
        )
        msgs = list(c.messages)

    events = [json.loads(m.payload) for m in msgs if m.topic == f"{root}/event"]
    fault = next(e for e in events if e["state"] == "fault")
    end = next(e for e in events if e["previous"] == "fault")
    changes = [json.loads(m.payload) for m in msgs if m.topic == f"{root}/alarm"]
    assert [(x["change"], x["seq"]) for x in changes] == [
        ("raised", 1), ("acknowledged", 2), ("cleared", 3)
    ]  # fmt: skip
    raised, acked, cleared = changes
    # Exact: raised 3.000 s after the fault's start, cleared at the fault's end.
    assert at(raised["raised"]) - at(fault["ts"]) == timedelta(seconds=3)
    assert raised["ts"] == raised["raised"] and cleared["cleared"] == end["ts"]
    assert cleared["ts"] == end["ts"] and cleared["active"] is False
    assert {x["id"] for x in changes} == {raised["id"]}
    assert (acked["acked_by"], cleared["acked_by"]) == ("line-3-tablet", "line-3-tablet")
    assert (raised["severity"], raised["kind"], raised["rule"]) == (
        "critical",
        "stop",
        "long-fault",
    )
    # The retained active set: one alarm, then an empty list.
    sets = [json.loads(m.payload) for m in msgs if m.topic == f"{root}/alarms"]
    assert [[a["id"] for a in s["alarms"]] for s in sets] == [[raised["id"]]] * 2 + [[]]
    assert all(m.retain is False or m.topic != f"{root}/alarm" for m in msgs)
    # SSE carries the same payloads as MQTT.
    assert alarm_events == changes
    # The webhook got the same three changes, in order, with the secret header.
    lines = [line.split(b"\t", 1) for line in received.read_bytes().splitlines()]
    assert {auth for auth, _ in lines} == {b"Bearer s3cret"}
    posted = [json.loads(body) for _, body in lines]
    assert [(p["change"], p["seq"], p["id"]) for p in posted] == [
        (x["change"], x["seq"], x["id"]) for x in changes
    ]
    assert posted[0]["path"] == "plant/area1/alarms/m1"
    # The store keeps the alarm as it stands.
    (kept,) = stored
    assert (kept["id"], kept["cleared"], kept["acked_by"]) == (
        raised["id"], cleared["cleared"], "line-3-tablet"
    )  # fmt: skip
