"""`GET /api/v1/events`: server-sent events over a real uvicorn server, fed by a real
Gateway's `emit` (the pipeline's path into the live view) and by the reason route."""

from __future__ import annotations

import asyncio
import dataclasses
import json
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from api.app import create_app
from api.events import EventHub, StreamSettings, close_streams
from connectors.mqtt.payloads import MachineTopics, oee_payload
from connectors.sqlite.store import SqliteStore
from core.types import CountDelta, MachineState, Quality, Sample, SampleBatch, StateChange
from edge.config import Config, SqliteConfig
from edge.pipeline.gateway import Gateway
from edge.pipeline.live import LiveView
from tests.api.conftest import NOW, make_config, publish_live
from tests.api.plant import FAULT, RUN, t
from tests.fixtures.spc_events import FROZEN, POINT, VIOLATION, point
from tests.fixtures.sse import SseReader, serving

KEY = "s3cret-key-7d41c2"
PATH = "plant1/press/line1/press1"
FAULT_AT = t("07:58:00")


def _fault() -> StateChange:
    return StateChange("press1", FAULT, RUN, FAULT_AT, t("07:45:00"), 780.0, seq=10)


async def _open(client: httpx.AsyncClient, url: str, **headers: str) -> Any:
    """The stream response of `url` (to be closed with `aclose`)."""
    req = client.build_request("GET", url, headers=headers)
    return await client.send(req, stream=True)


@pytest.fixture
async def plant_url(
    plant_config: Config, plant_store: SqliteStore, gateway: Gateway
) -> AsyncIterator[str]:
    app = create_app(plant_config, gateway.live, plant_store, lambda: NOW, control=gateway)
    async with serving(app) as url:
        yield url


async def test_each_event_kind_with_its_mqtt_payload(plant_url: str, gateway: Gateway) -> None:
    async with httpx.AsyncClient(base_url=plant_url, timeout=5) as client:
        r = await _open(client, "/api/v1/events")
        assert r.status_code == 200
        assert r.headers["content-type"] == "text/event-stream; charset=utf-8"
        assert r.headers["cache-control"] == "no-cache"
        sse = SseReader(r)
        hello = await sse.next()
        assert (hello.event, hello.id, hello.retry) == ("hello", "1", 3000)
        assert hello.json() == {
            "v": 1,
            "gateway": "gw1",
            "machines": ["press1", "press2", "press3"],
            "windows": ["15m", "1h"],
            "heartbeat_s": 15.0,
            "queue_size": 1000,
            "last_event_id": None,
        }

        await gateway.emit([_fault()])
        # Raw tags reach the live view (as the pipeline's polls do) but not the stream.
        sample = Sample("state", 3, Quality.GOOD, NOW)
        gateway.live.apply(SampleBatch("press1", NOW, (sample,)))
        await gateway.emit([CountDelta("press1", NOW, 12, 10, 2, "101", seq=7)])

        state = await sse.next()
        assert (state.event, state.id) == ("state", "2")
        assert state.json() == {
            "v": 2,
            "machine": "press1",
            "path": PATH,
            "state": "fault",
            "previous": "running",
            "ts": "2026-11-03T07:58:00.000Z",
            "duration_s": 780.0,
            "reason": None,
            "reason_code": None,
            "seq": 10,
            "id": ":press1:s10",  # no outbox here, so no stream id before the colon
        }
        count = await sse.next()
        assert (count.event, count.id) == ("count", "3")
        assert count.json() == {
            "v": 2,
            "machine": "press1",
            "path": PATH,
            "total": 12,
            "good": 10,
            "reject": 2,
            "product": "101",
            "ts": "2026-11-03T08:00:00.000Z",
            "seq": 7,
            "id": ":press1:c7",
        }

        # An operator's reason for the current stop, through the API: `reason`.
        put = await client.put(
            "/api/v1/machines/press1/stops/2026-11-03T07:58:00Z/reason", json={"code": 20}
        )
        assert put.status_code == 200, put.text
        reason = await sse.next()
        assert (reason.event, reason.id) == ("reason", "4")
        data = reason.json()
        assert data.pop("ts")  # when the operator gave it (the wall clock)
        assert data == {
            "v": 2,
            "machine": "press1",
            "path": PATH,
            "stop_ts": "2026-11-03T07:58:00.000Z",
            "state": "fault",
            "reason_code": 20,
            "reason": "Jam",
            "category": "Mechanical/Feeder",
            "source": "loopback",
            "previous_reason_code": None,
            "previous_reason": None,
            "seq": 1,
            "id": ":press1:r1",
        }

        # A tick: every machine's figures of each window, then each line's.
        await publish_live(gateway)
        updates = [u for m in gateway.live.machines.values() for u in m.oee.values()]
        await gateway.emit(gateway.engine.line_figures(updates))
        oee = [await sse.next() for _ in range(6)]
        assert [(m.event, m.id) for m in oee] == [("oee", str(i)) for i in range(5, 11)]
        assert [(m.json()["machine"], m.json()["window"]) for m in oee] == [
            (machine, w) for machine in ("press1", "press2", "press3") for w in ("15m", "1h")
        ]
        press1_1h = gateway.live.machines["press1"].oee["1h"]
        topics = MachineTopics("oee", gateway.live.machines["press1"].ref)
        assert oee[1].json() == json.loads(oee_payload(topics, press1_1h))  # as on MQTT
        assert oee[1].json()["availability"] == round(press1_1h.availability or 0, 4)
        # The operator's reason is in the figures' Pareto: fault 07:58-08:00, "Jam".
        assert oee[1].json()["pareto"][2] == {
            "state": "fault",
            "reason_code": 20,
            "reason": "Jam",
            "count": 1,
            "seconds": 120.0,
            "share": 0.1667,  # 120 / 720, to 4 decimals
        }
        lines = [await sse.next() for _ in range(4)]
        assert [(m.event, m.json()["line"], m.json()["window"]) for m in lines] == [
            ("line_oee", "line1", "15m"),
            ("line_oee", "line1", "1h"),
            ("line_oee", "line2", "15m"),
            ("line_oee", "line2", "1h"),
        ]
        assert lines[1].json()["path"] == "plant1/press/line1"
        assert lines[1].json()["mode"] == "sum"
        await r.aclose()


async def test_keep_alive_comment_when_idle(plant_url: str, gateway: Gateway) -> None:
    # The heartbeat comes from the app's EventHub; 0.2 s instead of 15 s here.
    app_hub = EventHub(StreamSettings(heartbeat_s=0.2))
    async with httpx.AsyncClient(base_url=plant_url, timeout=5) as client:
        r = await _open(client, "/api/v1/events")
        sse = SseReader(r)
        assert (await sse.next()).json()["heartbeat_s"] == 15.0
        await r.aclose()
    async with _app_with(gateway, app_hub) as url, httpx.AsyncClient(base_url=url) as client:
        r = await _open(client, "/api/v1/events", **{"Last-Event-ID": "41"})
        sse = SseReader(r)
        hello = (await sse.next()).json()
        assert (hello["heartbeat_s"], hello["last_event_id"]) == (0.2, "41")
        loop = asyncio.get_running_loop()
        start = loop.time()
        beats = [await sse.next(within_s=1.0) for _ in range(2)]
        assert [(b.comment, b.fields) for b in beats] == [("keep-alive", [])] * 2
        assert 0.3 < loop.time() - start < 1.5
        await r.aclose()


def _app_with(gateway: Gateway, hub: EventHub) -> Any:
    assert gateway.history is not None
    app = create_app(gateway.config, gateway.live, gateway.history, lambda: NOW)
    app.state.events = hub
    return serving(app)


async def test_listener_is_removed_when_the_client_goes(plant_url: str, gateway: Gateway) -> None:
    live = gateway.live
    # The shift report's keeper listens for good (api.report_keeper); streams come and go.
    keeper = list(live.listeners)
    assert [f.__qualname__ for f in keeper] == ["ReportKeeper.seen"]
    async with httpx.AsyncClient(base_url=plant_url, timeout=5) as client:
        first, second = await _open(client, "/api/v1/events"), await _open(client, "/api/v1/events")
        readers = [SseReader(first), SseReader(second)]
        assert [(await sse.next()).event for sse in readers] == ["hello", "hello"]
        assert len(live.listeners) == 3
        await first.aclose()
        await _until(lambda: len(live.listeners) == 2)
        # The other client still gets events.
        await gateway.emit([_fault()])
        assert (await readers[1].next()).event == "state"
        await second.aclose()
        await _until(lambda: live.listeners == keeper)
    await gateway.emit([_fault()])  # nobody listens: nothing breaks


async def _until(check: Any, within_s: float = 3.0) -> None:
    for _ in range(int(within_s / 0.02)):
        if check():
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"not within {within_s} s")


async def test_a_client_that_falls_behind_is_dropped(gateway: Gateway) -> None:
    hub = EventHub(StreamSettings(queue_size=3))
    live = gateway.live
    async with _app_with(gateway, hub) as url, httpx.AsyncClient(base_url=url) as client:
        r = await _open(client, "/api/v1/events")
        sse = SseReader(r)
        assert (await sse.next()).json()["queue_size"] == 3
        # Five events in one go, before the stream can take any: the 4th does not fit.
        counts = [
            CountDelta("press1", NOW + timedelta(seconds=i), 1, 1, 0, seq=i) for i in range(5)
        ]
        for c in counts:
            live.apply(c)  # returns at once: the pipeline never waits for a client
        assert (hub.clients, hub.dropped_clients) == (1, 1)
        await asyncio.sleep(0)
        assert live.listeners == []  # detached at once: it holds no more events
        got = [await sse.next() for _ in range(4)]
        assert [(m.event, m.id) for m in got] == [
            ("count", "2"), ("count", "3"), ("count", "4"), ("overflow", "5"),
        ]  # fmt: skip
        assert [m.json()["seq"] for m in got[:3]] == [0, 1, 2]  # the oldest three, in order
        assert got[3].json() == {
            "v": 1,
            "queue_size": 3,
            "detail": "more than 3 events queued: reconnect and reload the current state",
        }
        assert await sse.ended()
        await r.aclose()
        assert (hub.clients, hub.dropped_clients) == (0, 1)


@pytest.fixture
async def keyed_url(tmp_path: Path) -> AsyncIterator[tuple[str, LiveView]]:
    config = make_config(host="0.0.0.0", api_key=KEY)
    live = LiveView.from_config(config)
    store = SqliteStore(SqliteConfig(path=tmp_path / "keyed.sqlite"))
    async with store, serving(create_app(config, live, store, lambda: NOW)) as url:
        yield url, live


async def test_the_key_is_required_when_configured(keyed_url: tuple[str, LiveView]) -> None:
    url, live = keyed_url
    async with httpx.AsyncClient(base_url=url, timeout=5) as client:
        for headers in ({}, {"Authorization": "Bearer wrong"}):
            r = await client.get("/api/v1/events", headers=headers)
            assert r.status_code == 401
            assert r.json() == {
                "detail": "missing or wrong API key: send 'Authorization: Bearer KEY' "
                "or 'X-API-Key: KEY'"
            }
        assert live.listeners == []
        r = await _open(client, "/api/v1/events", Authorization=f"Bearer {KEY}")
        assert r.status_code == 200
        sse = SseReader(r)
        assert (await sse.next()).event == "hello"
        live.apply(StateChange("press2", MachineState.IDLE, None, NOW, None, None, seq=1))
        state = await sse.next()
        assert (state.event, state.json()["path"]) == ("state", "plant1/press/line2/press2")
        await r.aclose()


async def test_close_streams_ends_them_so_the_server_can_stop(gateway: Gateway) -> None:
    assert gateway.history is not None
    app = create_app(gateway.config, gateway.live, gateway.history, lambda: NOW)
    loop = asyncio.get_running_loop()
    async with httpx.AsyncClient(timeout=5) as client:
        async with serving(app) as url:
            r = await _open(client, url + "/api/v1/events")
            sse = SseReader(r)
            assert (await sse.next()).event == "hello"
            close_streams(app)  # what the daemon does before it stops the server
            assert await sse.ended(within_s=1.0)
            assert gateway.live.listeners == []
            # A stream opened while closing ends after its hello.
            late = SseReader(await _open(client, url + "/api/v1/events"))
            assert (await late.next()).event == "hello"
            assert await late.ended(within_s=1.0)
            stopping = loop.time()
        # uvicorn waits for every open response before it stops: none is left.
        assert loop.time() - stopping < 2.0


async def test_a_reloaded_gateway_ends_the_streams_of_the_old_one(gateway: Gateway) -> None:
    """The daemon's config reload points the API at a new gateway's live view: streams on
    the old one end (at their next keep-alive at the latest) and clients reconnect."""
    assert gateway.history is not None
    app = create_app(gateway.config, gateway.live, gateway.history, lambda: NOW)
    app.state.events = EventHub(StreamSettings(heartbeat_s=0.2))
    async with serving(app) as url, httpx.AsyncClient(base_url=url, timeout=5) as client:
        old = SseReader(await _open(client, "/api/v1/events"))
        assert (await old.next()).event == "hello"
        new_live = LiveView.from_config(gateway.config)
        app.state.ctx = dataclasses.replace(app.state.ctx, live=new_live)
        assert await old.ended(within_s=1.0)
        assert gateway.live.listeners == []
        new = SseReader(await _open(client, "/api/v1/events"))
        assert (await new.next()).event == "hello"
        assert len(new_live.listeners) == 1
        new_live.apply(_fault())
        assert (await new.next()).json()["state"] == "fault"
        close_streams(app)
        assert await new.ended()


async def test_spc_chart_states_and_violations(plant_url: str, gateway: Gateway) -> None:
    """SSE `spc` (the `…/spc/{chart}` payload after each point or change of limits) and
    `spc_violation`; a stream opened after a freeze still says who froze the limits
    (the live view's last limits change). Hand-built events (tests/fixtures/spc_events)."""

    def press1(e: Any) -> Any:
        return dataclasses.replace(e, machine="press1")

    await gateway.emit([press1(FROZEN)])  # before the stream
    async with httpx.AsyncClient(base_url=plant_url, timeout=5) as client:
        r = await _open(client, "/api/v1/events")
        sse = SseReader(r)
        assert (await sse.next()).event == "hello"
        await gateway.emit([press1(point(60, minutes=60.5)), press1(POINT), press1(VIOLATION)])
        first, second, violation = [await sse.next() for _ in range(3)]
        assert [m.event for m in (first, second, violation)] == ["spc", "spc", "spc_violation"]
        doc = first.json()
        assert (doc["machine"], doc["path"], doc["chart"], doc["seq"], doc["value"]) == (
            "press1", PATH, "filler1-weight", 60, 500.25
        )  # fmt: skip
        # No chart in this config: its id names it; the limits as frozen by "ana".
        assert (doc["name"], doc["unit"], doc["tag"], doc["spec"]) == (
            "filler1-weight", None, None, None
        )  # fmt: skip
        assert doc["limits"]["frozen_by"] == "ana" and doc["limits"]["excluded"] == [7, 12]
        assert doc["limits"]["center"] == 500.012  # 500.0123456 to 6 significant digits
        assert (second.json()["seq"], second.json()["violations"]) == (61, ["WE1"])
        assert violation.json() == {
            "v": 2, "machine": "press1", "path": PATH, "chart": "filler1-weight",
            "ts": "2026-12-07T09:01:00.000Z", "seq": 61, "rule": "WE1",
            "name": "1 point beyond 3σ", "points": [61], "side": "+", "value": 503.457,
            "phase": "II", "event_id": ":press1:filler1-weight:v61:WE1",
        }  # fmt: skip
        await r.aclose()
