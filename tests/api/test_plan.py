"""Plan versus actual and the changeovers through the API, against a real Gateway and
SQLite store (tests/api/orders_plant.py). Figures worked out by hand from the plant's
day, as docs/OEE.md "Plan versus actual" and "Changeovers" define them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from api.app import create_app
from core.orders import ChangeoverDone
from edge.pipeline.live import LiveView
from oee.changeovers import Changeover
from tests.api.orders_plant import orders_config, orders_plant, play_day, z

PLAN = "/api/v1/plan"
# The shift early of 2026-12-08 (05:00-13:00 UTC) as known at 07:30.
# Planned windows (docs/OEE.md "planned window": planned_start + quantity x ideal cycle
# of production time): A 05:00-05:10 (600 x 1 s), B 05:50-06:05 (300 x 3 s), C
# 07:00-07:06:40 (200 x 2 s), D 10:00-10:01:40 (100 x 1 s): all in the shift, so
# planned = 600 + 300 + 200 + 100 = 1200. Produced in (05:00, 07:30]: A 600, B 300, C
# 150 = 1050. attainment = volume_mix = 1050 / 1200 = 0.875 (each order made at most its
# plan). sequence: A, B, C planned to start in the shift and started (05:10, 05:50,
# 07:00) in the planned order: 3 / 3. in_window: the windows ending by 07:30 are A's,
# B's and C's; only B started no earlier than planned and completed (06:05) by its
# window's end (06:05): 1 / 3. Delivery: A completed at 05:30, after its due 05:25, so
# it was decided late at 05:25 with 300 good by then; B on time at 06:05; C and D are
# due later. otd_count = 1 / 2, otd_quantity = (300 + 300) / (600 + 300) = 0.6667.
FIGURES = {
    "at": z("07:30:00"), "planned": 1200.0, "produced": 1050, "attainment": 0.875,
    "volume_mix": 0.875, "sequence": 1.0, "sequence_orders": 3, "in_window": 0.3333,
    "window_orders": 3, "otd_count": 0.5, "otd_quantity": 0.6667, "delivered_orders": 2,
    "on_time_orders": 1, "delivered_quantity": 900, "on_time_quantity": 600,
    "orders": [
        {"order": "A", "planned": 600.0, "produced": 600},
        {"order": "B", "planned": 300.0, "produced": 300},
        {"order": "C", "planned": 200.0, "produced": 150},
        {"order": "D", "planned": 100.0, "produced": 0},
    ],
    "delivered": ["A", "B"], "late": ["A"], "unplanned": [],
}  # fmt: skip


def period(name: str, ident: str, start: str, end: str) -> dict[str, Any]:
    return {"period": name, "id": ident, "timezone": "Europe/Berlin", "start": start,
            "end": end, **FIGURES}  # fmt: skip


async def test_plan_of_a_shift_with_a_late_order(tmp_path: Path) -> None:
    async with orders_plant(tmp_path) as p:
        await play_day(p)
        r = await p.client.get(PLAN, params={"period": "shift"})
        assert r.status_code == 200, r.text
        assert r.json() == period("shift", "2026-12-08/early", z("05:00:00"), z("13:00:00"))
        # The same orders are all of the plant day (Berlin: 23:00 to 23:00 UTC) and of
        # its week (Monday 2026-12-07).
        r = await p.client.get(PLAN, params={"period": "day", "at": "2026-12-08"})
        day = period("day", "2026-12-08", "2026-12-07T23:00:00.000Z", z("23:00:00"))
        assert r.json() == day
        r = await p.client.get(PLAN, params={"period": "week", "at": "2026-12-08T12:00:00Z"})
        assert r.json() == period(
            "week", "2026-12-07", "2026-12-06T23:00:00.000Z", "2026-12-13T23:00:00.000Z"
        )
        # m2 alone: D, planned and not made; nothing to deliver or sequence yet.
        r = await p.client.get(PLAN, params={"period": "shift", "machine": "m2"})
        got = r.json()
        assert (got["planned"], got["produced"], got["attainment"], got["volume_mix"]) == (
            100.0, 0, 0.0, 0.0
        )  # fmt: skip
        assert (got["sequence"], got["in_window"], got["otd_count"], got["orders"]) == (
            None, None, None, [{"order": "D", "planned": 100.0, "produced": 0}]
        )  # fmt: skip


async def test_plan_refusals(tmp_path: Path) -> None:
    async with orders_plant(tmp_path) as p:
        r = await p.client.get(PLAN, params={"period": "shift", "at": "2026-12-08T14:00:00Z"})
        assert (r.status_code, r.json()) == (
            404, {"detail": "no shift runs at 2026-12-08T14:00:00.000Z in the plant's calendar"}
        )  # fmt: skip
        r = await p.client.get(PLAN, params={"period": "month"})
        assert r.status_code == 422
        r = await p.client.get(PLAN, params={"period": "day", "machine": "m9"})
        assert r.status_code == 404
    config = orders_config(tmp_path / "ro")
    app = create_app(config, LiveView.from_config(config), p.store, p.clock)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://g") as c:
        r = await c.get(PLAN, params={"period": "day"})
        assert (r.status_code, r.json()) == (
            503, {"detail": "read-only API: the order book is the running gateway's"}
        )  # fmt: skip


def _earlier(days_before: int, duration_s: float, seq: int) -> ChangeoverDone:
    """A changeover 101 -> 102 of m1 stored from an earlier week (started 05:31)."""
    start = datetime(2026, 12, 8, 5, 31, tzinfo=UTC) - timedelta(days=days_before)
    end = start + timedelta(seconds=duration_s)
    c = Changeover("m1", "101", "102", None, None, start, end, duration_s, None, None, None)
    return ChangeoverDone("m1", end, c, 300.0, duration_s - 300.0, seq)


async def test_the_changeovers_and_their_matrix(tmp_path: Path) -> None:
    async with orders_plant(tmp_path) as p:
        await p.store.handle([_earlier(14, 900.0, 1), _earlier(7, 720.0, 2)])
        await play_day(p)
        day = {"from": "2026-12-08", "to": "2026-12-08"}
        r = await p.client.get("/api/v1/changeovers", params={**day, "machine": "m1"})
        assert r.status_code == 200, r.text
        # A -> B: setup 05:31-05:40 = 540 s against the 101 -> 102 standard of 300 s; it
        # completed at 05:50, the ramp window (300 s) passed twice without the rate.
        # B -> C: setup 06:06-06:45 = 2340 s against `*` -> 101, 1800 s.
        assert r.json() == {
            "from": "2026-12-07T23:00:00.000Z", "to": z("23:00:00"), "truncated": False,
            "changeovers": [
                {"machine": "m1", "ts": z("05:50:00"), "seq": 1, "from_product": "101",
                 "to_product": "102", "from_order": "A", "to_order": "B",
                 "start": z("05:31:00"), "end": z("05:40:00"), "duration_s": 540.0,
                 "at_rate": None, "parts_to_rate": None, "reason": "Die change",
                 "standard_s": 300.0, "loss_s": 240.0},
                {"machine": "m1", "ts": z("07:00:00"), "seq": 2, "from_product": "102",
                 "to_product": "101", "from_order": "B", "to_order": "C",
                 "start": z("06:06:00"), "end": z("06:45:00"), "duration_s": 2340.0,
                 "at_rate": None, "parts_to_rate": None, "reason": "Die change",
                 "standard_s": 1800.0, "loss_s": 540.0},
            ],
        }  # fmt: skip
        # 101 -> 102 over three weeks: 900, 720, 540 s, one a week apart. median 720;
        # p90 (type 7): rank 0.9 x 2 = 1.8 -> 720 + 0.8 x 180 = 864; trend -180 s/week
        # (a straight line); loss 600 + 420 + 240 = 1260 s over the 300 s standard.
        r = await p.client.get(
            "/api/v1/changeovers/matrix", params={"from": "2026-11-20", "to": "2026-12-08"}
        )
        assert r.json() == {
            "from": "2026-11-19T23:00:00.000Z", "to": z("23:00:00"), "changeovers": 4,
            "truncated": False,
            "pairs": [
                {"from_product": "101", "to_product": "102", "count": 3, "median_s": 720.0,
                 "p90_s": 864.0, "trend_s_per_week": -180.0, "standard_s": 300.0,
                 "loss_s": 1260.0},
                {"from_product": "102", "to_product": "101", "count": 1, "median_s": 2340.0,
                 "p90_s": 2340.0, "trend_s_per_week": None, "standard_s": 1800.0,
                 "loss_s": 540.0},
            ],
        }  # fmt: skip
        r = await p.client.get("/api/v1/changeovers/matrix", params={"machine": "m2"})
        assert (r.json()["pairs"], r.json()["changeovers"]) == ([], 0)
