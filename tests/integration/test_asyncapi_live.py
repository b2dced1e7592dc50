"""docs/asyncapi.yaml against what a real gateway publishes: the Modbus simulator, the
gateway (in-process, with its API) and a Mosquitto of its own, a subscriber on `#`.

Every message must match exactly one channel of the document, its payload must validate
against that channel's message schema (JSON Schema draft 7, `$ref`s resolved in the
document), its QoS must be the channel's, and its `machine`/`line`/`path` must be those
of its topic; every channel must have carried at least one message, except those the
document marks `x-published: false` (named here, so that list cannot grow unnoticed).
"""

from __future__ import annotations

import asyncio
import json
import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import jsonschema
import yaml

from core.types import (
    MachineState,
    ProductChanged,
    Quality,
    Sample,
    SampleBatch,
    StateChange,
    utc_now,
)
from edge.config import Config
from edge.config.loading import parse_config
from edge.pipeline.gateway import Gateway
from tests.fixtures.mosquitto import MqttCollector, Received
from tests.fixtures.order_events import CHANGEOVER, PROGRESS
from tests.fixtures.spc_events import CHART, FROZEN, MACHINE, POINT, VIOLATION
from tests.integration.gateway import (
    CONFIG,
    SCENARIO,
    config_env,
    modbus_machines,
    running,
    wait_until,
)

assert MACHINE == "m1"  # the SPC events are m1's
DOC = yaml.safe_load((Path(__file__).parents[2] / "docs" / "asyncapi.yaml").read_text())
LINE = "asyncapi"
# Channels no configuration of this version publishes (see their description).
UNPUBLISHED = {"{prefix}/{site}/{area}/{line}/{machine}/tag/{tag}"}


def resolve(ref: str) -> Any:
    node: Any = DOC
    for part in ref.removeprefix("#/").split("/"):
        node = node[part]
    return node


def topic_regex(channel: str, params: dict[str, Any]) -> re.Pattern[str]:
    """The channel's name as a regex: each `{param}` a group matching one topic level,
    or what the parameter's schema `pattern` allows (e.g. no machine id begins with `_`)."""

    def group(m: re.Match[str]) -> str:
        param = params[m.group(1)]
        schema = resolve(param["$ref"])["schema"] if "$ref" in param else param["schema"]
        schema = resolve(schema["$ref"]) if "$ref" in schema else schema
        body = schema.get("pattern", "^[^/]+$").removeprefix("^").removesuffix("$")
        return f"(?P<{m.group(1)}>{body})"

    return re.compile("^" + re.sub(r"\{(\w+)\}", group, channel) + "$")


CHANNELS = {
    name: (topic_regex(name, ch.get("parameters", {})), ch["subscribe"])
    for name, ch in DOC["channels"].items()
    if "subscribe" in ch  # the gateway publishes there (not: the order intake)
}


def validator(message_ref: str) -> jsonschema.Draft7Validator:
    """The message's payload schema, its `$ref`s resolved against the whole document."""
    schema = {"allOf": [{"$ref": message_ref + "/payload"}], "components": DOC["components"]}
    return jsonschema.Draft7Validator(schema)


def check(msg: Received) -> str:
    """The channel `msg` belongs to, after checking its payload, QoS and identity."""
    matches = [(name, m) for name, (rx, _) in CHANNELS.items() if (m := rx.match(msg.topic))]
    assert len(matches) == 1, f"{msg.topic} matches {[n for n, _ in matches]}"
    name, m = matches[0]
    op = CHANNELS[name][1]
    message = resolve(op["message"]["$ref"])
    json_payload = message.get("contentType", DOC["defaultContentType"]) == "application/json"
    payload: Any = json.loads(msg.payload) if json_payload else msg.payload.decode()
    errors = [e.message for e in validator(op["message"]["$ref"]).iter_errors(payload)]
    assert not errors, f"{msg.topic}: {errors}\n{payload}"
    assert msg.qos == op["bindings"]["mqtt"]["qos"], msg.topic
    if json_payload:
        own = m.groupdict()
        path = [own["site"], own["area"], own["line"]] + (
            [own["machine"]] if "machine" in own else []
        )
        assert payload["path"] == "/".join(path), msg.topic
        assert payload.get("machine", payload.get("line")) == path[-1], msg.topic
    return name


def config(tmp_path: Path, modbus_port: int, mqtt_port: int) -> Config:
    """The e2e gateway with m1's raw tags on `…/tags`, a reason for m3's fault and an
    alarm rule that m3's lasting fault raises (`…/alarm`, `…/alarms`)."""
    head = CONFIG.split("machines:")[0]
    machines = modbus_machines(
        '"${MODBUS_PORT}"',
        {"m1": 0.0333333333, "m2": 0.0166666667, "m3": 0.0166666667},
        m1_extra="publish_tags: true",
    )
    extra = (
        f"mqtt: {{host: 127.0.0.1, port: {mqtt_port}}}\n"
        "reasons: {60: {text: Crane, category: Logistics, states: [fault]}}\n"
        "scrap_reasons: {7: {text: Dent, category: Surface}}\n"
        "calendar: {timezone: UTC, shifts: [{name: a, start: '00:00', end: '12:00'}, "
        "{name: b, start: '12:00', end: '00:00'}]}\n"
        "alarms: {rules: [{name: fault-1s, kind: stop, longer_than: 1s}]}\n"
    )
    env = config_env(tmp_path, modbus_port, LINE)
    return parse_config(head + "machines:" + machines + extra, "asyncapi.yaml", env)


async def operator_input(http: httpx.AsyncClient, m3_stop: str) -> None:
    """An operator's input on every channel it has: m3's fault turned into planned time
    (`…/planned`), a part of m1 booked as scrap (`…/scrap`), the shift's notes
    (`…/_line/notes`), and the report of the shift before (`…/_line/report`)."""
    body = {"kind": "meeting", "reason": "Crane inspection"}
    r = await http.put(f"/api/v1/machines/m3/stops/{m3_stop}/planned", json=body)
    assert r.status_code == 200, r.text
    for _ in range(100):  # m1 needs a good part in the shift first
        r = await http.post("/api/v1/machines/m1/scrap", json={"quantity": 1, "reason_code": 7})
        if r.status_code == 200:
            break
        await asyncio.sleep(0.1)
    assert r.status_code == 200, r.text
    shift = utc_now().strftime("%Y-%m-%d") + ("/a" if utc_now().hour < 12 else "/b")
    r = await http.put(f"/api/v1/shifts/{shift}/notes", json={"text": "Crane checked"})
    assert r.status_code == 200, r.text
    # The report of the shift before (finished: built, kept and retained on `…/report`).
    now = utc_now()
    before = (
        (now - timedelta(days=1)).strftime("%Y-%m-%d") + "/b"
        if now.hour < 12
        else (now.strftime("%Y-%m-%d") + "/a")
    )
    r = await http.get(f"/api/v1/shifts/{before}/report")
    assert r.status_code == 200, r.text


async def held_then_accepted(gw: Gateway, api_port: int, messages: list[Received]) -> None:
    """m1's last poll (from its `…/tags`) again a moment later with its total a million
    parts on: held as suspect (`…/suspect`); accepted through the API (`…/decision`)."""
    polled = next(x for x in reversed(messages) if x.topic.endswith("/m1/tags"))
    values = {k: v["value"] for k, v in json.loads(polled.payload)["tags"].items()}
    values["total"] += 1_000_000
    now = utc_now()
    samples = tuple(Sample(k, v, Quality.GOOD, now) for k, v in values.items())
    await gw.take(gw.normalisers["m1"], SampleBatch("m1", now, samples))
    # Ours is the first held: a real poll during the hand-in can be held after it (the
    # counter back where the simulator has it: seen with two test workers).
    seq = min(gw.normalisers["m1"].pending)
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{api_port}") as http:
        r = await http.post(f"/api/v1/machines/m1/suspects/{seq}/accept")
        assert r.status_code == 200, r.text


def fault(state: StateChange | None) -> bool:
    return state is not None and state.state is MachineState.FAULT


def seen(messages: list[Received]) -> set[str]:
    return {name for name, (rx, _) in CHANNELS.items() for x in messages if rx.match(x.topic)}


async def test_published_messages_match_the_asyncapi_document(  # type: ignore[no-untyped-def]
    simulator_factory, mosquitto_factory, tmp_path: Path
) -> None:
    broker = mosquitto_factory()  # of its own: every message on `#` is this gateway's
    sim = simulator_factory(SCENARIO)
    cfg = config(tmp_path, sim.port, broker.port)
    reason_channel = "{prefix}/{site}/{area}/{line}/{machine}/reason"
    by_hand = {
        f"{{prefix}}/{{site}}/{{area}}/{{line}}/{{machine}}/{k}"
        for k in (
            "suspect",
            "decision",
            "scrap",
            "planned",
            "product",
            "spc/{chart}",
            "spc/{chart}/violation",
            "order",
            "changeover",
        )
    } | {
        "{prefix}/{site}/{area}/{line}/_line/notes",
        "{prefix}/{site}/{area}/{line}/_line/report",
    }
    others = set(CHANNELS) - UNPUBLISHED - {reason_channel} - by_hand
    with MqttCollector(broker.host, broker.port, ["#"]) as c:
        async with running(cfg) as gw:
            await wait_until(lambda: others <= seen(list(c.messages)), 20, "every channel")
            await wait_until(lambda: fault(gw.live.machines["m3"].state), 20, "m3's fault")
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{cfg.api.port}") as http:
                start = (await http.get("/api/v1/machines/m3")).json()["since"]
                r = await http.put(f"/api/v1/machines/m3/stops/{start}/reason", json={"code": 60})
                assert r.status_code == 200, r.text
                await operator_input(http, start)
            await asyncio.to_thread(c.wait_count, 1, f"oee/plant/area1/{LINE}/m3/reason")
            for topic in ("m3/planned", "m1/scrap", "_line/notes", "_line/report"):
                await asyncio.to_thread(c.wait_count, 1, f"oee/plant/area1/{LINE}/{topic}")
            await held_then_accepted(gw, cfg.api.port, list(c.messages))
            # The machines read their product from a tag, so `PUT …/product` (409) cannot
            # make the `…/product` it would publish: the event itself goes in.
            await gw.emit([ProductChanged("m2", utc_now(), None, "7", "loopback")])
            await asyncio.to_thread(c.wait_count, 1, f"oee/plant/area1/{LINE}/m2/product")
            # SPC on m1: frozen limits, a point beyond them and its WE1 (hand-built events
            # as the SPC engine emits them: this config has no chart).
            await gw.emit([FROZEN, POINT, VIOLATION])
            spc = f"oee/plant/area1/{LINE}/m1/spc/{CHART}"
            await asyncio.to_thread(c.wait_count, 1, f"{spc}/violation")
            await asyncio.to_thread(c.wait_count, 1, spc)
            # An order's progress and a changeover of m1 (hand-built: this config has no
            # orders, so its machines publish no `…/order`).
            await gw.emit([PROGRESS, CHANGEOVER])
            for kind in ("order", "changeover"):
                await asyncio.to_thread(c.wait_count, 1, f"oee/plant/area1/{LINE}/m1/{kind}")
            for kind in ("suspect", "decision"):
                await asyncio.to_thread(c.wait_count, 1, f"oee/plant/area1/{LINE}/m1/{kind}")
        # The clean stop's retained `offline` is part of the contract too.
        status = f"oee/plant/_gateway/gw-{LINE}/status"
        await asyncio.to_thread(
            c.wait_for, lambda ms: any(x.topic == status and x.payload == b"offline" for x in ms)
        )
    messages = list(c.messages)
    kinds = [check(x) for x in messages]
    assert set(kinds) == set(CHANNELS) - UNPUBLISHED
    oee = [json.loads(x.payload) for x in messages if re.search(r"/m\d/oee/", x.topic)]
    assert any("coverage" in p for p in oee), "no machine OEE with its loss report"
    assert {n for n, ch in DOC["channels"].items() if ch.get("x-published") is False} == UNPUBLISHED
    # What the broker kept: exactly the channels the document says are retained.
    with MqttCollector(broker.host, broker.port, ["#"]) as late:
        await asyncio.to_thread(late.wait_for, lambda ms: any(x.topic == status for x in ms))
        await asyncio.sleep(0.3)  # the rest of the retained burst
    assert all(x.retain for x in late.messages)
    retained = {n for n, (_, op) in CHANNELS.items() if op["bindings"]["mqtt"]["retain"]}
    assert {check(x) for x in late.messages} == retained - UNPUBLISHED


def fields(schema: dict[str, Any], key: str) -> set[str]:
    """The `properties` names (key "properties") or `required` ones of an `allOf` payload."""
    out: set[str] = set()
    for part in schema.get("allOf", [schema]):
        part = resolve(part["$ref"]) if "$ref" in part else part
        out |= set(part.get(key, []))
    return out


def test_every_payload_lists_exactly_its_fields() -> None:
    """`propertyNames` closes each payload; it must name only described fields, and every
    required one (a typo there would reject real messages or let any field through)."""
    for name, message in DOC["components"]["messages"].items():
        payload = message["payload"]
        if "allOf" not in payload:
            continue  # Status: a plain string
        allowed = set(payload["propertyNames"]["enum"])
        assert fields(payload, "required") <= allowed <= fields(payload, "properties"), name
