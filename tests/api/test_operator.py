"""The operator's input through the API, through a real Gateway (its `emit` hands each
change to the OEE engine, the live view and the SQLite store): scrap booked by hand, a
stop turned into planned time, and the audit of both. Figures worked out by hand from
the plant of tests/api/plant.py (shift early 06:00-14:00, break 07:00-07:15, NOW 08:00)."""

from __future__ import annotations

from pathlib import Path

import httpx

from connectors.sqlite.store import SqliteStore
from core.types import CountDelta, ScrapBooked
from edge.config import Config
from edge.pipeline.gateway import Gateway
from tests.api.conftest import NOW, make_config, plant_api, plant_gateway, publish_live
from tests.api.plant import t, z
from tests.api.test_scopes import ADMIN, KEYS, OPERATE, READ, bearer

SCRAP = "/api/v1/machines/press1/scrap"
SETUP = "/api/v1/machines/press1/stops/2026-11-03T07:42:00Z/planned"  # inside 07:40-07:45
MEETING = {"kind": "meeting", "reason": "Shift meeting"}
# press1's good parts in the shift so far (06:00-08:00): 10 + 350 + 140 + 375 + 350 + 4
# + 80 + 100 = 1409 (tests/api/plant.py PRESS1_COUNTS).
SHIFT_GOOD = 1409
# press1's 1h window [07:00, 08:00): the break 07:00-07:15 is planned, so planned
# production time is 45 min = 2700 s; downtime: idle 07:15-07:20 (300 s) and the setup
# 07:40-07:45 (300 s; the 20 s idle at 07:30 is a micro-stop, run time). Run 2100 s.
A_BEFORE = 2100 / 2700  # 0.7778
A_MEETING = 2100 / 2400  # the setup is planned time now: 0.875


async def live_oee(client: httpx.AsyncClient, gateway: Gateway) -> dict[str, object]:
    await gateway.emit(gateway.engine.figures(NOW, ["press1"]))
    r = await client.get("/api/v1/machines/press1/oee", params={"window": "1h"})
    data: dict[str, object] = r.json()
    return data


async def test_the_reject_reason_tree_of_a_machine(plant_client: httpx.AsyncClient) -> None:
    r = await plant_client.get("/api/v1/machines/press1/scrap-reasons")
    assert r.json() == [
        {"reason_code": 101, "text": "Scratch", "category": None},
        {"reason_code": 102, "text": "Dent", "category": "Surface"},
        {"reason_code": 103, "text": "Burr", "category": "Edge/Burr"},  # press1's own
    ]
    press2 = (await plant_client.get("/api/v1/machines/press2/scrap-reasons")).json()
    assert [x["reason_code"] for x in press2] == [101, 102]


async def test_scrap_moves_good_parts_to_reject_everywhere(
    plant_client: httpx.AsyncClient, gateway: Gateway, plant_store: SqliteStore
) -> None:
    await publish_live(gateway)
    before = await live_oee(plant_client, gateway)
    body = {"quantity": 5, "reason_code": 102, "product": "101", "note": "dented coil"}
    r = await plant_client.post(SCRAP, json=body)
    assert r.status_code == 200, r.text
    assert r.json() == {
        "machine": "press1",
        "ts": "2026-11-03T08:00:00.000Z",
        "quantity": 5,
        "reason_code": 102,
        "reason": "Dent",
        "category": "Surface",
        "product": "101",
        "note": "dented coil",
        "by": "loopback",
        "count_seq": 1,
        "seq": 1,
    }
    # The store: the count delta that moves the parts, and the booking.
    counts = await plant_store.count_history("press1", t("07:59:59"), t("08:00:01"))
    assert counts == [CountDelta("press1", NOW, 0, -5, 5, "101")]
    assert await plant_store.scrap("press1", t("06:00:00"), t("08:00:01")) == [
        ScrapBooked("press1", NOW, 5, 102, "Dent", "loopback", "Surface", "101",
                    "dented coil", 1, 1)
    ]  # fmt: skip
    # The engine: the 1h window (counts in (07:00, 08:00]) had 920 parts, 909 good
    # (380/375 and 350/350 of 101, 1.5 s each; 10/4, 80/80, 100/100 of 102, 3 s each);
    # now 904 of them are good. Q weighs parts by their ideal time: ideal total 570 + 525
    # + 30 + 240 + 300 = 1665 s, good 562.5 + 525 + 12 + 240 + 300 = 1639.5 s; the 5
    # parts of 101 take 7.5 s of it: 1632 / 1665 = 0.9802.
    after = await live_oee(plant_client, gateway)
    assert (before["total"], before["good"], before["reject"]) == (920, 909, 11)
    assert before["quality"] == round(1639.5 / 1665, 4)  # the API rounds ratios to 4 decimals
    assert (after["total"], after["good"], after["reject"]) == (920, 904, 16)
    assert after["quality"] == round(1632 / 1665, 4)
    # The audit: who, when, what.
    audit = (await plant_client.get("/api/v1/audit", params={"machine": "press1"})).json()
    assert audit == [
        {
            "ts": "2026-11-03T08:00:00.000Z",
            "machine": "press1",
            "line": None,
            "action": "scrap",
            "by": "loopback",
            "target": None,
            "old": None,
            "new": {"quantity": 5, "reason_code": 102, "reason": "Dent", "product": "101",
                    "note": "dented coil"},
        }
    ]  # fmt: skip


async def test_scrap_refusals_say_why(plant_client: httpx.AsyncClient) -> None:
    cases = [
        (
            {"quantity": SHIFT_GOOD + 1, "reason_code": 101},
            {
                "detail": "cannot book 1410 parts of press1 as scrap: the shift "
                "2026-11-03/early has 1409 good parts (since 2026-11-03T06:00:00.000Z)"
            },
        ),
        (
            {"quantity": 1, "reason_code": 7},
            {
                "detail": "reason_code 7 is not in the reject-reason tree of press1 "
                "(scrap_reasons); known codes: 101, 102, 103",
                "known": ["101", "102", "103"],
            },
        ),
        (
            {"quantity": 1, "reason_code": 101, "product": "999"},
            {
                "detail": "product '999' is not configured for press1; configured: 101, 102",
                "known": ["101", "102"],
            },
        ),
    ]
    for body, expected in cases:
        r = await plant_client.post(SCRAP, json=body)
        assert (r.status_code, r.json()) == (422, expected), body
    for bad in ({"quantity": 0, "reason_code": 101}, {"reason_code": 101}, {"quantity": 1}):
        assert (await plant_client.post(SCRAP, json=bad)).status_code == 422
    # All of the shift's good parts may go.
    r = await plant_client.post(SCRAP, json={"quantity": SHIFT_GOOD, "reason_code": 101})
    assert r.status_code == 200


async def test_a_stop_turned_into_planned_time_and_back(
    plant_client: httpx.AsyncClient, gateway: Gateway, plant_store: SqliteStore
) -> None:
    await publish_live(gateway)
    assert (await live_oee(plant_client, gateway))["availability"] == round(A_BEFORE, 4)
    r = await plant_client.put(SETUP, json=MEETING)
    assert r.status_code == 200, r.text
    assert r.json() == {
        "machine": "press1",
        "start": z("07:40:00"),
        "state": "setup",
        "kind": "meeting",
        "reason": "Shift meeting",
        "previous_kind": None,
        "previous_reason": None,
        "by": "loopback",
    }
    live = await live_oee(plant_client, gateway)
    assert live["availability"] == round(A_MEETING, 4)
    assert (live["planned_s"], live["run_s"]) == (2400.0, 2100.0)
    # History from the store: the same figures for [07:00, 08:00).
    hist = await plant_client.get(
        "/api/v1/machines/press1/oee",
        params={"from": "2026-11-03T07:00:00Z", "to": "2026-11-03T08:00:00Z"},
    )
    assert hist.json()["availability"] == round(A_MEETING, 4)
    # Undone: as before, and the answer names what it replaced.
    undo = await plant_client.delete(SETUP)
    assert (undo.json()["kind"], undo.json()["previous_kind"]) == (None, "meeting")
    assert undo.json()["previous_reason"] == "Shift meeting"
    assert (await live_oee(plant_client, gateway))["availability"] == round(A_BEFORE, 4)
    audit = (await plant_client.get("/api/v1/audit")).json()
    assert [(a["action"], a["target"], a["old"], a["new"]) for a in audit] == [
        ("planned", z("07:40:00"), {"kind": None, "reason": None},
         {"kind": "meeting", "reason": "Shift meeting"}),
        ("planned", z("07:40:00"), {"kind": "meeting", "reason": "Shift meeting"},
         {"kind": None, "reason": None}),
    ]  # fmt: skip


async def test_a_planned_stop_survives_a_restart(
    plant_config: Config, plant_store: SqliteStore, gateway: Gateway
) -> None:
    async with plant_api(plant_config, plant_store, gateway) as c:
        assert (await c.put(SETUP, json=MEETING)).status_code == 200
    # A new gateway over the same store replays its history with the stop planned.
    again = plant_gateway(plant_config, plant_store)
    async with plant_api(plant_config, plant_store, again) as c:
        await publish_live(again)
        assert (await live_oee(c, again))["availability"] == round(A_MEETING, 4)


async def test_planned_refusals_say_why(plant_client: httpx.AsyncClient) -> None:
    running = "/api/v1/machines/press1/stops/2026-11-03T07:45:00Z/planned"  # a start
    r = await plant_client.put(running, json=MEETING)
    assert (r.status_code, r.json()) == (
        422,
        {
            "detail": "only a stop (idle, setup, fault, planned_stop) can count as planned "
            "time; press1 was running from 2026-11-03T07:45:00.000Z",
            "known": ["idle", "setup", "fault", "planned_stop"],
        },
    )
    inside = "/api/v1/machines/press1/stops/2026-11-03T07:50:00Z/planned"
    r = await plant_client.put(inside, json=MEETING)
    assert r.status_code == 404
    assert r.json()["detail"].startswith("no stop of press1 at 2026-11-03T07:50:00.000Z")
    for bad in ({"kind": "lunch", "reason": "x"}, {"kind": "meeting"}, {"reason": ""}):
        assert (await plant_client.put(SETUP, json=bad)).status_code == 422


async def test_an_operate_key_books_and_a_read_key_may_not(
    plant_config: Config, plant_store: SqliteStore, gateway: Gateway
) -> None:
    config = plant_config.model_copy(update={"api": make_config(keys=KEYS).api})
    body = {"quantity": 2, "reason_code": 101}
    async with plant_api(config, plant_store, gateway) as c:
        r = await c.post(SCRAP, json=body, headers=bearer(READ))
        assert (r.status_code, r.json()) == (
            403,
            {"detail": "API key 'viewer' has the read scope; "
                       "this route needs an operate or admin key"},
        )  # fmt: skip
        r = await c.post(SCRAP, json=body, headers=bearer(OPERATE))
        assert (r.status_code, r.json()["by"]) == (200, "line3-tablet")
        r = await c.put(SETUP, json=MEETING, headers=bearer(ADMIN))
        assert (r.status_code, r.json()["by"]) == (200, "ops")
        audit = await c.get("/api/v1/audit", headers=bearer(READ))  # a read: read scope
        assert [(a["action"], a["by"]) for a in audit.json()] == [
            ("scrap", "line3-tablet"),
            ("planned", "ops"),
        ]


async def test_audit_range_and_machine_refusals(plant_client: httpx.AsyncClient) -> None:
    r = await plant_client.get(
        "/api/v1/audit", params={"from": "2026-11-03T08:00:00Z", "to": "2026-11-03T07:00:00Z"}
    )
    assert (r.status_code, r.json()) == (422, {"detail": "`from` must be before `to`"})
    r = await plant_client.get("/api/v1/audit", params={"machine": "nope"})
    assert r.status_code == 422
    assert r.json()["detail"] == "unknown machine 'nope'; known: press1, press2, press3"


async def test_without_a_gateway_scrap_is_503(
    read_only_client: httpx.AsyncClient, tmp_path: Path
) -> None:
    r = await read_only_client.post(SCRAP, json={"quantity": 1, "reason_code": 101})
    assert (r.status_code, r.json()) == (
        503,
        {"detail": "read-only API: no running gateway to hand the change to"},
    )
