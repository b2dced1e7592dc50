"""The orders API against a real Gateway and SQLite store (tests/api/orders_plant.py):
the book with each order's live progress, one order, orders put and imported (CSV and
JSON, all or nothing), deleted, and an operator's commands, with the audit of each.
Figures worked out by hand from the plant's day (docs/OEE.md "Progress of an order")."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.api.orders_plant import ORDERS, orders_plant, play_day, z
from tests.api.test_scopes import KEYS, NOT_OPERATE, OPERATE, READ, bearer

ORDERS_URL = "/api/v1/orders"
SINCE = {"from": "2026-12-08T00:00:00Z"}


def progress(**given: Any) -> dict[str, Any]:
    """A progress document: nothing happened yet but what is `given`."""
    return {
        "started": None, "ended": None, "paused": [], "good": 0, "reject": 0, "scrap": 0,
        "remaining": 0, "percent": 0.0, "production_s": 0.0, "rate_now": None,
        "rate_shift": None, "eta_now": None, "eta_shift": None, "eta_ideal": None,
        "finished": None, "complete": False, "on_time": None, "state_s": {}, "oee": None,
        "coverage": None, **given,
    }  # fmt: skip


def order(i: int, **changed: Any) -> dict[str, Any]:
    """ORDERS[i] as the API answers it (times in UTC, ideal cycle a float)."""
    o = ORDERS[i]
    doc = {
        "id": o["id"], "machine": o["machine"], "product": o["product"],
        "quantity": o["quantity"], "due": _utc(o["due"]),
        "planned_start": _utc(o["planned_start"]), "ideal_cycle_s": float(o["ideal_cycle_s"]),
        "customer": o.get("customer"),
    }  # fmt: skip
    return {**doc, **changed}


def _utc(local: str) -> str:
    """'2026-12-08T06:25:00+01:00' -> '2026-12-08T05:25:00.000Z' (December: UTC+1)."""
    hh = int(local[11:13]) - 1
    return f"{local[:11]}{hh:02d}{local[13:19]}.000Z"


# A: 600 good of 101 from 05:10 (its first part: a queued order starts there) to 05:30,
# when its count reached the quantity (it ended). production_s 1200 s; OEE = 600 x 1 s /
# 1200 s = 0.5; due 05:25: done late. The shift's rate (since 05:00): the points (05:10,
# 300) -> (05:30, 600) spread 300 parts over 1200 s = 0.25/s; the current rate (07:15-
# 07:30) has no points: null.
A = {
    "ts": z("07:30:00"), "order": order(0), "status": "done", "source": None,
    "current": False, "fixed": False,
    "progress": progress(
        started=z("05:10:00"), ended=z("05:30:00"), good=600, percent=100.0,
        production_s=1200.0, rate_shift=0.25, finished=z("05:30:00"), complete=True,
        on_time=False, state_s={"running": 1200.0}, oee=0.5, coverage=1.0,
    ),
}  # fmt: skip
# C: 100 good at 07:00 (its start), 50 at 07:20; now 07:30. production_s 1800 s; OEE =
# 150 x 2 / 1800 = 0.166667. The current rate over 07:15-07:30: 50 parts spread over
# 07:00-07:20, 300 s of it inside: 12.5 / 300 s = 1/24; the shift's the same (1200 s,
# 50 parts). Remaining 50 at 1/24 per s: 1200 s -> eta 07:50 (the break is 08:00); at the
# ideal 2 s: 100 s -> 07:31:40. Due 12:00 less the 1 h margin: on track.
C = {
    "ts": z("07:30:00"), "order": order(2), "status": "on_track", "source": "queue",
    "current": True, "fixed": False,
    "progress": progress(
        started=z("07:00:00"), good=150, remaining=50, percent=75.0, production_s=1800.0,
        rate_now=0.0416667, rate_shift=0.0416667, eta_now=z("07:50:00"),
        eta_shift=z("07:50:00"), eta_ideal=z("07:31:40"), state_s={"running": 1800.0},
        oee=0.166667, coverage=1.0,
    ),
}  # fmt: skip
# D (m2): queued, not started; expected at the ideal 1 s from its planned start 10:00.
D = {
    "ts": z("07:30:00"), "order": order(3), "status": "not_started", "source": "queue",
    "current": True, "fixed": False,
    "progress": progress(remaining=100, eta_ideal=z("10:01:40")),
}  # fmt: skip
CHANGEOVER_BC = {
    "machine": "m1", "ts": z("07:00:00"), "seq": 2, "from_product": "102",
    "to_product": "101", "from_order": "B", "to_order": "C", "start": z("06:06:00"),
    "end": z("06:45:00"), "duration_s": 2340.0, "at_rate": None, "parts_to_rate": None,
    "reason": "Die change", "standard_s": 1800.0, "loss_s": 540.0,
}  # fmt: skip


async def test_the_book_with_each_orders_live_progress(tmp_path: Path) -> None:
    async with orders_plant(tmp_path) as p:
        await play_day(p)
        rows = (await p.client.get(ORDERS_URL)).json()["orders"]
        assert [r["order"]["id"] for r in rows] == ["A", "B", "D", "C"]  # by due
        assert rows[0] == A and rows[2] == D and rows[3] == C
        b = rows[1]["progress"]  # 300 of 102 from 05:50 to 06:05: 300 x 3 / 900 s = 1.0
        assert (rows[1]["status"], b["on_time"], b["oee"], b["rate_shift"]) == (
            "done", True, 1.0, 0.166667
        )  # fmt: skip
        one = await p.client.get(f"{ORDERS_URL}/C")
        assert one.json() == {**C, "changeovers": [CHANGEOVER_BC]}
        assert (await p.client.get(f"{ORDERS_URL}/D")).json() == {**D, "changeovers": []}


async def test_the_book_filtered(tmp_path: Path) -> None:
    async with orders_plant(tmp_path) as p:
        await play_day(p)

        async def ids(**query: str) -> list[str]:
            r = await p.client.get(ORDERS_URL, params=query)
            assert r.status_code == 200, r.text
            return [x["order"]["id"] for x in r.json()["orders"]]

        assert await ids(machine="m2") == ["D"]
        assert await ids(status="done") == ["A", "B"]
        assert await ids(status="on_track", machine="m1") == ["C"]
        # Due in [07:00, 12:00): B (07:00) and D (11:00), not C (12:00).
        assert await ids(due_from="2026-12-08T07:00:00Z", due_to="2026-12-08T12:00:00Z") == [
            "B", "D"
        ]  # fmt: skip
        r = await p.client.get(ORDERS_URL, params={"machine": "m9"})
        assert (r.status_code, r.json()["detail"]) == (
            404, "unknown machine 'm9'; known machines: m1, m2"
        )  # fmt: skip
        r = await p.client.get(f"{ORDERS_URL}/Z-9")
        assert (r.status_code, r.json()) == (
            404, {"detail": "unknown order 'Z-9': the gateway's book holds no such order"}
        )  # fmt: skip


async def test_an_order_put_again_and_changed(tmp_path: Path) -> None:
    async with orders_plant(tmp_path) as p:
        await play_day(p)
        new = {"id": "E", "product": "103", "quantity": 40, "due": "2026-12-09T12:00:00Z",
               "machine": "m2"}  # fmt: skip
        r = await p.client.post(ORDERS_URL, json=new)
        assert (r.status_code, r.json()["outcome"]) == (201, "created")
        assert r.json()["order"] == {**new, "due": "2026-12-09T12:00:00.000Z",
                                     "planned_start": None, "ideal_cycle_s": None,
                                     "customer": None}  # fmt: skip
        r = await p.client.post(ORDERS_URL, json=new)  # the same order again
        assert (r.status_code, r.json()["outcome"]) == (200, "unchanged")
        r = await p.client.post(ORDERS_URL, json={**new, "machine": "m1"})  # not started
        assert (r.status_code, r.json()["outcome"]) == (200, "updated")
        # C has started: its quantity and due may change, its machine and product not.
        c = {**ORDERS[2], "quantity": 250}
        r = await p.client.post(ORDERS_URL, json=c)
        assert (r.status_code, r.json()["order"]["quantity"]) == (200, 250)
        r = await p.client.post(ORDERS_URL, json={**c, "machine": "m2"})
        assert (r.status_code, r.json()) == (409, {
            "detail": "order C started at 2026-12-08T07:00:00Z: its machine cannot change "
            "(m1 -> m2); quantity, due, planned_start, ideal_cycle_s and customer may",
            "known": ["machine"],
        })  # fmt: skip
        r = await p.client.post(ORDERS_URL, json={**new, "machine": "m7"})
        assert (r.status_code, r.json()["detail"]) == (
            422, "body.machine: no machine 'm7' (known: m1, m2)"
        )  # fmt: skip
        assert (await p.client.get(f"{ORDERS_URL}/C")).json()["order"]["machine"] == "m1"
        audit = (
            await p.client.get("/api/v1/audit", params={"from": "2026-12-08T00:00:00Z"})
        ).json()
        orders = [
            (a["target"], a["by"], a["old"] and a["old"]["machine"], a["new"]["machine"])
            for a in audit if a["action"] == "order"
        ]  # fmt: skip
        assert orders == [
            ("A", "loopback", None, "m1"), ("B", "loopback", None, "m1"),
            ("C", "loopback", None, "m1"), ("D", "loopback", None, "m2"),
            ("E", "loopback", None, "m2"), ("E", "loopback", "m2", "m1"),
            ("C", "loopback", "m1", "m1"),
        ]  # fmt: skip


BAD_CSV = (
    "id,product,quantity,due,machine,customer\n"
    "F-1,101,50,2026-12-09T12:00:00+01:00,m1,ACME\n"
    "F-2,101,many,2026-12-09T12:00:00+01:00,m1,\n"
    '"F-3",101,10,2026-12-09T12:00:00,m2,"Smith, Jones"\n'
    "F-4,102,10,2026-12-09T13:00:00Z,m2,\n"
)


async def test_a_csv_import_with_two_bad_rows_takes_nothing(tmp_path: Path) -> None:
    async with orders_plant(tmp_path) as p:
        await play_day(p)
        csv = {"Content-Type": "text/csv"}
        url = f"{ORDERS_URL}/import"
        r = await p.client.post(url, content=BAD_CSV, headers=csv)
        assert (r.status_code, r.json()) == (422, {
            "detail": "2 problem(s); nothing was taken",
            "errors": [
                {"row": 3, "field": "quantity", "message": "Input should be a valid integer, "
                 "unable to parse string as an integer"},
                {"row": 4, "field": "due", "message": "Input should have timezone info"},
            ],
        })  # fmt: skip
        assert (await p.client.get(f"{ORDERS_URL}/F-1")).status_code == 404  # none taken
        good = BAD_CSV.replace("many", "20").replace("12:00:00,m2", "12:00:00Z,m2")
        r = await p.client.post(url, content=good, headers=csv, params={"dry_run": "true"})
        assert r.json() == {"dry_run": True, "created": ["F-1", "F-2", "F-3", "F-4"],
                            "updated": [], "unchanged": []}  # fmt: skip
        assert (await p.client.get(f"{ORDERS_URL}/F-1")).status_code == 404  # a dry run
        r = await p.client.post(url, content=good, headers=csv)
        assert r.json()["created"] == ["F-1", "F-2", "F-3", "F-4"]
        f3 = (await p.client.get(f"{ORDERS_URL}/F-3")).json()["order"]
        assert (f3["customer"], f3["due"]) == ("Smith, Jones", "2026-12-09T12:00:00.000Z")
        # JSON rows are the list's indexes; a started order's product, an id twice.
        batch = [ORDERS[3], {**ORDERS[2], "product": "102"}, ORDERS[3], {"id": "G"}]
        r = await p.client.post(url, json=batch)
        assert r.status_code == 422
        assert [(e["row"], e["field"]) for e in r.json()["errors"]] == [
            (1, "product"), (2, "id"), (3, "product"), (3, "quantity"), (3, "due"),
            (3, "machine"),
        ]  # fmt: skip
        assert r.json()["errors"][1]["message"] == "order D is also on row 0"
        r = await p.client.post(url, content=b"id\n", headers={"Content-Type": "text/plain"})
        assert (r.status_code, r.json()) == (
            415, {"detail": "send application/json or text/csv, not 'text/plain'"}
        )  # fmt: skip


async def test_commands_change_which_order_runs(tmp_path: Path) -> None:
    async with orders_plant(tmp_path) as p:
        await play_day(p)
        url = "/api/v1/machines/m1/order"
        r = await p.client.post(url, json={"order": "C", "action": "resume"})
        assert (r.status_code, r.json()) == (
            409, {"detail": "cannot resume order C on m1: it runs"}
        )  # fmt: skip
        r = await p.client.post(url, json={"order": "A", "action": "start"})
        assert r.json()["detail"] == "cannot start order A on m1: it ended at 2026-12-08T05:30:00Z"
        r = await p.client.post(url, json={"order": "D", "action": "start"})
        assert (r.status_code, r.json()["detail"]) == (
            409, "cannot start order D on m1: it is for machine m2"
        )  # fmt: skip
        r = await p.client.post(url, json={"order": "X", "action": "start"})
        assert (r.status_code, r.json()["detail"]) == (
            404, "unknown order 'X': the gateway's book holds no such order"
        )  # fmt: skip
        # A new order of m1 started at 07:40: C is paused, E runs (the operator's).
        e = {"id": "E", "product": "103", "quantity": 40, "due": "2026-12-08T12:00:00Z",
             "machine": "m1"}  # fmt: skip
        assert (await p.client.post(ORDERS_URL, json=e)).status_code == 201
        p.clock.now = p.clock.now.replace(minute=40)
        r = await p.client.post(url, json={"order": "E", "action": "start"})
        assert r.status_code == 200, r.text
        assert (r.json()["current"], r.json()["source"]) == (True, "operator")
        assert r.json()["progress"]["started"] == z("07:40:00")
        c = (await p.client.get(f"{ORDERS_URL}/C")).json()
        assert (c["current"], c["source"], c["progress"]["paused"]) == (
            False, None, [{"start": z("07:40:00"), "end": None}]
        )  # fmt: skip
        # The live view's `…/order` source: the progress the engine published.
        assert p.gateway.orders.machines["m1"].current == "E"
        r = await p.client.post(url, json={"order": "C", "action": "resume"})
        assert r.json()["progress"]["paused"] == [{"start": z("07:40:00"), "end": z("07:40:00")}]
        r = await p.client.post(url, json={"order": "C", "action": "end"})
        assert (r.json()["status"], r.json()["progress"]["ended"]) == ("done", z("07:40:00"))
        audit = (
            await p.client.get("/api/v1/audit", params={"from": "2026-12-08T00:00:00Z"})
        ).json()
        assert [(a["target"], a["new"]) for a in audit if a["action"] == "order_command"] == [
            ("E", {"action": "start"}), ("C", {"action": "resume"}), ("C", {"action": "end"}),
        ]  # fmt: skip


async def test_only_an_order_not_started_is_deleted(tmp_path: Path) -> None:
    async with orders_plant(tmp_path) as p:
        await play_day(p)
        r = await p.client.delete(f"{ORDERS_URL}/C")
        assert (r.status_code, r.json()) == (409, {
            "detail": "order C started at 2026-12-08T07:00:00Z: only an order not started "
            "may be deleted; end it instead", "known": ["started"],
        })  # fmt: skip
        r = await p.client.delete(f"{ORDERS_URL}/D")
        assert (r.status_code, r.json()) == (200, D)
        assert (await p.client.get(f"{ORDERS_URL}/D")).status_code == 404
        assert p.gateway.orders.machines["m2"].current is None  # its queue is empty
        assert (await p.client.delete(f"{ORDERS_URL}/D")).status_code == 404


async def test_a_read_key_may_not_change_orders(tmp_path: Path) -> None:
    async with orders_plant(tmp_path, keys=KEYS, host="0.0.0.0") as p:
        writes = [
            ("POST", ORDERS_URL, ORDERS[0]), ("POST", f"{ORDERS_URL}/import", ORDERS),
            ("DELETE", f"{ORDERS_URL}/A", None),
            ("POST", "/api/v1/machines/m1/order", {"order": "A", "action": "start"}),
        ]  # fmt: skip
        for method, url, body in writes:
            r = await p.client.request(method, url, json=body, headers=bearer(READ))
            assert (r.status_code, r.json()) == (403, NOT_OPERATE), url
        assert (await p.client.get(ORDERS_URL, headers=bearer(READ))).json() == {"orders": []}
        r = await p.client.post(ORDERS_URL, json=ORDERS[0], headers=bearer(OPERATE))
        assert r.status_code == 201
        audit = (await p.client.get("/api/v1/audit", headers=bearer(READ))).json()
        # (and the product the order set on m1: `by` the order)
        assert [(a["action"], a["target"], a["by"]) for a in audit] == [
            ("order", "A", "line3-tablet"),
            ("product", None, "order A"),
        ]
