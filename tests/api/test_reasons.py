"""The reason tree and `PUT /machines/{id}/stops/{start}/reason`, through a real Gateway:
its `emit` hands the assignment to the OEE engine, the live view and the store."""

from __future__ import annotations

import httpx

from core.types import StateChange
from edge.pipeline.gateway import Gateway
from tests.api.conftest import NOW, publish_live
from tests.api.expected import RANGE
from tests.api.plant import IDLE, RUN, t, z

SETUP_STOP = "/api/v1/machines/press1/stops/2026-11-03T07:40:00.000Z/reason"


async def test_reason_tree_of_a_machine_by_code(plant_client: httpx.AsyncClient) -> None:
    r = await plant_client.get("/api/v1/machines/press1/reasons")
    assert r.status_code == 200
    assert r.json() == [
        # press1's own 10 replaces the plant's; a short form may go to any stop.
        {"code": 10, "text": "Coil empty", "category": None, "states": ["idle", "setup", "fault"]},
        {"code": 20, "text": "Jam", "category": "Mechanical/Feeder", "states": ["fault"]},
        {"code": 21, "text": "Die crack", "category": None, "states": ["fault"]},
        {"code": 30, "text": "Changeover", "category": "Planned/Product", "states": ["setup"]},
    ]
    plant = (await plant_client.get("/api/v1/machines/press2/reasons")).json()
    assert [(x["code"], x["text"]) for x in plant] == [
        (10, "Material shortage"),
        (20, "Jam"),
        (30, "Changeover"),
    ]
    assert (await plant_client.get("/api/v1/machines/nope/reasons")).status_code == 404


async def test_reason_reaches_losses_states_and_the_live_figures(
    plant_client: httpx.AsyncClient, gateway: Gateway
) -> None:
    await publish_live(gateway)  # the engine holds the setup in its 1h window
    # `code`, the name before MQTT v2, is still accepted for `reason_code`.
    r = await plant_client.put(SETUP_STOP, json={"code": 30})
    assert r.status_code == 200
    assert r.json() == {
        "machine": "press1",
        "start": z("07:40:00"),
        "state": "setup",
        "reason_code": 30,
        "reason": "Changeover",
        "category": "Planned/Product",
        "previous_reason_code": None,
        "previous_reason": None,
        "source": "loopback",  # no keys configured: the loopback's name
    }
    # The store: history figures and the state intervals.
    losses = await plant_client.get("/api/v1/losses", params={"machine": "press1", **RANGE})
    assert losses.json()["pareto"][2] == {
        "machine": "press1",
        "state": "setup",
        "reason_code": 30,
        "reason": "Changeover",
        "count": 1,
        "seconds": 300.0,
        "share": 0.3333,  # 1 / 3, to 4 decimals
    }
    states = await plant_client.get(
        "/api/v1/machines/press1/states", params={"from": "2026-11-03T07:40:00Z"}
    )
    assert states.json()["intervals"][0] == {
        "state": "setup",
        "start": z("07:40:00"),
        "end": z("07:45:00"),
        "duration_s": 300.0,
        "reason": "Changeover",
        "reason_code": 30,
        "planned_kind": None,
        "planned_reason": None,
    }
    # The engine: its next figures carry the reason.
    await gateway.emit(gateway.engine.figures(NOW))
    live = (await plant_client.get("/api/v1/machines/press1/oee", params={"window": "1h"})).json()
    assert [(p["state"], p["reason_code"], p["reason"]) for p in live["pareto"]] == [
        ("idle", None, None),
        ("setup", 30, "Changeover"),
    ]


async def test_reason_of_the_current_stop_shows_on_the_machine(
    plant_client: httpx.AsyncClient, gateway: Gateway
) -> None:
    # press1 stops at 07:58:00.250 (handed to the gateway as its poll task would); the
    # path names the stop to the millisecond, as `since` shows it.
    stop = StateChange("press1", IDLE, RUN, t("07:58:00.250"), t("07:45:00"), 780.25, 10)
    await gateway.emit([stop])
    url = "/api/v1/machines/press1/stops/2026-11-03T07:58:00.250Z/reason"
    assert (await plant_client.put(url, json={"reason_code": 10})).status_code == 200
    machine = (await plant_client.get("/api/v1/machines/press1")).json()
    assert (machine["state"], machine["since"]) == ("idle", "2026-11-03T07:58:00.250Z")
    assert (machine["reason_code"], machine["reason"]) == (10, "Coil empty")
    # Cleared again: the answer names what it replaced.
    r = await plant_client.put(url, json={"reason_code": None})
    assert r.json() == {
        "machine": "press1",
        "start": "2026-11-03T07:58:00.250Z",
        "state": "idle",
        "reason_code": None,
        "reason": None,
        "category": None,
        "previous_reason_code": 10,
        "previous_reason": "Coil empty",
        "source": "loopback",
    }
    machine = (await plant_client.get("/api/v1/machines/press1")).json()
    assert (machine["reason_code"], machine["reason"]) == (None, None)


async def test_the_current_stop_is_found_before_the_store_has_it(
    plant_client: httpx.AsyncClient, gateway: Gateway
) -> None:
    # Only the live view knows this stop yet (a store writing in batches lags behind).
    gateway.live.apply(StateChange("press2", IDLE, RUN, t("07:59:30"), t("07:25:00"), 2070.0, 4))
    url = "/api/v1/machines/press2/stops/2026-11-03T07:59:30Z/reason"
    r = await plant_client.put(url, json={"reason_code": 10})
    assert r.status_code == 200
    assert (r.json()["state"], r.json()["reason"]) == ("idle", "Material shortage")
    machine = (await plant_client.get("/api/v1/machines/press2")).json()
    assert (machine["reason_code"], machine["reason"]) == (10, "Material shortage")


async def test_start_in_another_offset_is_the_same_stop(plant_client: httpx.AsyncClient) -> None:
    url = "/api/v1/machines/press1/stops/2026-11-03T08:40:00+01:00/reason"
    r = await plant_client.put(url, json={"reason_code": 30})
    assert (r.status_code, r.json()["start"]) == (200, z("07:40:00"))


async def test_a_time_inside_the_stop_finds_it(plant_client: httpx.AsyncClient) -> None:
    # 07:42:30 lies inside the setup of 07:40-07:45; a whole second, without milliseconds.
    url = "/api/v1/machines/press1/stops/2026-11-03T07:42:30Z/reason"
    r = await plant_client.put(url, json={"reason_code": 30})
    assert r.status_code == 200
    assert (r.json()["start"], r.json()["state"], r.json()["reason"]) == (
        z("07:40:00"),
        "setup",
        "Changeover",
    )
    # Its last millisecond is still the stop; its end (07:45) is the running that follows.
    last = "/api/v1/machines/press1/stops/2026-11-03T07:44:59.999Z/reason"
    assert (await plant_client.put(last, json={"reason_code": 30})).json()["start"] == z("07:40:00")
    end = "/api/v1/machines/press1/stops/2026-11-03T07:45:00.001Z/reason"
    assert (await plant_client.put(end, json={"reason_code": 30})).status_code == 404


async def test_the_current_stop_by_a_time_inside_it(
    plant_client: httpx.AsyncClient, gateway: Gateway
) -> None:
    # Only the live view knows the stop of 07:59:30; 07:59:45 lies inside it.
    gateway.live.apply(StateChange("press2", IDLE, RUN, t("07:59:30"), t("07:25:00"), 2070.0, 4))
    url = "/api/v1/machines/press2/stops/2026-11-03T07:59:45Z/reason"
    r = await plant_client.put(url, json={"reason_code": 10})
    assert (r.status_code, r.json()["start"]) == (200, "2026-11-03T07:59:30.000Z")


async def test_replacing_a_reason_reports_the_previous_one(
    plant_client: httpx.AsyncClient,
) -> None:
    url = "/api/v1/machines/press1/stops/2026-11-03T06:50:00.000Z/reason"
    r = await plant_client.put(url, json={"reason_code": 21})
    body = r.json()
    assert (body["reason_code"], body["reason"], body["category"]) == (21, "Die crack", None)
    assert (body["previous_reason_code"], body["previous_reason"]) == (20, "Jam")


async def test_each_refusal_says_why(plant_client: httpx.AsyncClient) -> None:
    base = "/api/v1/machines/press1/stops"
    cases = [
        (
            f"{base}/yesterday/reason",
            {"reason_code": 30},
            422,
            {
                "detail": "`at` 'yesterday' is not an RFC 3339 time with offset, "
                "e.g. 2026-11-03T07:40:30Z or 2026-11-03T07:40:30.500+01:00"
            },
        ),
        (
            f"{base}/2026-11-03T07:40:00/reason",  # no offset
            {"reason_code": 30},
            422,
            {
                "detail": "`at` '2026-11-03T07:40:00' is not an RFC 3339 time with offset, "
                "e.g. 2026-11-03T07:40:30Z or 2026-11-03T07:40:30.500+01:00"
            },
        ),
        (
            SETUP_STOP,
            {"reason_code": 99},
            422,
            {
                "detail": "reason 99 is not in the reason tree of press1; "
                "known codes: 10, 20, 21, 30",
                "known": ["10", "20", "21", "30"],
            },
        ),
        (
            "/api/v1/machines/press2/stops/2026-11-03T07:20:00Z/reason",
            {"reason_code": 21},  # press1's own code
            422,
            {
                "detail": "reason 21 is not in the reason tree of press2; known codes: 10, 20, 30",
                "known": ["10", "20", "30"],
            },
        ),
        (
            # 07:46 press1 runs (since 07:45): the nearest stops are the setup before
            # (07:40-07:45) and none after (press1 runs on to NOW).
            f"{base}/2026-11-03T07:46:00Z/reason",
            {"reason_code": 30},
            404,
            {
                "detail": "no stop of press1 at 2026-11-03T07:46:00.000Z (running from "
                "2026-11-03T07:45:00.000Z); before: setup from 2026-11-03T07:40:00.000Z to "
                "2026-11-03T07:45:00.000Z; after: none",
                "known": ["setup from 2026-11-03T07:40:00.000Z to 2026-11-03T07:45:00.000Z"],
            },
        ),
        (
            # 07:25 press1 runs (07:20-07:30); the micro-stop 07:30:00-07:30:20 is next,
            # the idle 07:10-07:20 before it.
            f"{base}/2026-11-03T07:25:00Z/reason",
            {"reason_code": 10},
            404,
            {
                "detail": "no stop of press1 at 2026-11-03T07:25:00.000Z (running from "
                "2026-11-03T07:20:00.000Z); before: idle from 2026-11-03T07:10:00.000Z to "
                "2026-11-03T07:20:00.000Z; after: idle from 2026-11-03T07:30:00.000Z to "
                "2026-11-03T07:30:20.000Z",
                "known": [
                    "idle from 2026-11-03T07:10:00.000Z to 2026-11-03T07:20:00.000Z",
                    "idle from 2026-11-03T07:30:00.000Z to 2026-11-03T07:30:20.000Z",
                ],
            },
        ),
        (
            SETUP_STOP,
            {"reason_code": 20},
            422,
            {
                "detail": "reason 20 (Jam) may be given to a stop in fault; "
                "press1 was setup from 2026-11-03T07:40:00.000Z",
                "known": ["fault"],
            },
        ),
        (
            f"{base}/2026-11-03T07:45:00Z/reason",
            {"reason_code": None},
            422,
            {
                "detail": "only a stop (idle, setup, fault, planned_stop) has a reason to "
                "clear; press1 was running from 2026-11-03T07:45:00.000Z",
                "known": ["idle", "setup", "fault", "planned_stop"],
            },
        ),
        (
            "/api/v1/machines/nope/stops/2026-11-03T07:40:00Z/reason",
            {"reason_code": 30},
            404,
            {
                "detail": "unknown machine 'nope'; known machines: press1, press2, press3",
                "known": ["press1", "press2", "press3"],
            },
        ),
    ]
    for url, body, status, expected in cases:
        r = await plant_client.put(url, json=body)
        assert (r.status_code, r.json()) == (status, expected), url


async def test_a_body_without_code_is_422(plant_client: httpx.AsyncClient) -> None:
    for body in ({}, {"code": "jam"}, {"code": 30, "extra": 1}):
        assert (await plant_client.put(SETUP_STOP, json=body)).status_code == 422


async def test_without_a_gateway_the_change_is_503(read_only_client: httpx.AsyncClient) -> None:
    r = await read_only_client.put(SETUP_STOP, json={"reason_code": 30})
    assert r.status_code == 503
    assert r.json() == {"detail": "read-only API: no running gateway to hand the change to"}


async def test_failing_store_is_503(client_with_closed_store: httpx.AsyncClient) -> None:
    url = "/api/v1/machines/press1/stops/2026-11-03T07:40:00Z/reason"
    r = await client_with_closed_store.put(url, json={"reason_code": None})
    assert r.status_code == 503
    assert r.json() == {"detail": "history store unavailable: the SQLite store is not open"}
