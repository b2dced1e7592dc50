"""The orders of the report plant's shift (tests/api/report_plant.py), as the order engine
would have published them, and the hand-computed report of them (tests/api/test_report.py).

Shift 2026-11-03/early 06:00-08:00 UTC, break 07:00-07:15; m1's counts are those of
report_plant (good 990 at 06:30, 600 at 07:30, 390 - 15 booked as scrap at 08:00).
- P-1 (product A, 1,290 by 07:30, planned from 05:00): started 05:30, 300 good (3
  rejects) when last published before the shift (05:59); complete at 06:30 with the
  990 of 06:30 (published 06:31: 1,290 good, 13 rejects, done, on time).
- changeover A -> B (P-1 -> P-2) over the fault 06:30-06:40: 600 s, standard 300 s.
- P-2 (product B, 1,000 by 07:45, planned from 06:40 at 2 s a part): started 06:40;
  600 good (10 rejects) at 07:31, 975 (25) at 08:00: late.
- P-3 (product C, 500 by 09:00, planned from 07:45 at 2 s a part) is in the config
  (`orders.fixed`): the gateway's book holds it, not started.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from core.orders import ChangeoverDone, OrderProgress
from core.types import Event
from oee.changeovers import Changeover
from oee.orders import OrderRun, Progress, Status, WorkOrder


def t(hh_mm: str) -> datetime:
    return datetime.fromisoformat(f"2026-11-03T{hh_mm}").replace(tzinfo=UTC)


P1 = WorkOrder("P-1", "A", 1290, t("07:30"), "m1", t("05:00"), None, "ACME")
P2 = WorkOrder("P-2", "B", 1000, t("07:45"), "m1", t("06:40"), 2.0)
P3 = {"id": "P-3", "product": "C", "quantity": 500, "due": "2026-11-03T09:00:00Z",
      "machine": "m1", "planned_start": "2026-11-03T07:45:00Z", "ideal_cycle_s": 2}  # fmt: skip


def _published(
    order: WorkOrder, at: str, good: int, reject: int, status: Status, started: str,
    finished: str | None = None,
) -> OrderProgress:  # fmt: skip
    """The `OrderProgress` the engine publishes at `at` (the figures the report reads)."""
    done = None if finished is None else t(finished)
    run = OrderRun(t(started), done, good, reject)
    p = Progress(
        order.id, t(at), good, reject, 0, max(0, order.quantity - good),
        100 * min(good, order.quantity) / order.quantity, 0.0, None, None, None, None, None,
        status, done, good >= order.quantity, None if done is None else done <= order.due,
    )  # fmt: skip
    return OrderProgress("m1", t(at), order, run, p, "queue")


_CHANGE = Changeover("m1", "A", "B", "P-1", "P-2", t("06:30"), t("06:40"), 600.0, t("06:45"),
                     150, "Jam")  # fmt: skip

ORDER_HISTORY: list[Event] = [
    _published(P1, "05:59", 300, 3, "on_track", "05:30"),
    _published(P1, "06:31", 1290, 13, "done", "05:30", "06:30"),
    ChangeoverDone("m1", t("06:45"), _CHANGE, 300.0, 300.0, 1),
    _published(P2, "07:31", 600, 10, "on_track", "06:40"),
    _published(P2, "08:00", 975, 25, "late", "06:40"),
]

ORDERS: list[dict[str, Any]] = [
    {"machine": "m1", "order": "P-1", "product": "A", "quantity": 1290,
     "due": "2026-11-03T07:30:00.000Z", "customer": "ACME", "good": 990, "reject": 10,
     "total_good": 1290, "percent": 100.0, "status": "done",
     "finished": "2026-11-03T06:30:00.000Z", "on_time": True},
    {"machine": "m1", "order": "P-2", "product": "B", "quantity": 1000,
     "due": "2026-11-03T07:45:00.000Z", "customer": None, "good": 975, "reject": 25,
     "total_good": 975, "percent": 97.5, "status": "late", "finished": None, "on_time": None},
]  # fmt: skip
CHANGEOVERS = [
    {"machine": "m1", "from_product": "A", "to_product": "B", "from_order": "P-1",
     "to_order": "P-2", "start": "2026-11-03T06:30:00.000Z", "end": "2026-11-03T06:40:00.000Z",
     "duration_s": 600.0, "standard_s": 300.0, "loss_s": 300.0, "reason": "Jam"},
]  # fmt: skip
# Plan versus actual of 06:00-08:00 (docs/OEE.md "Plan versus actual"; production time:
# the shift less the break 07:00-07:15, nothing outside the shift):
# - P-1's window 05:00 -> due 07:30 (no ideal cycle) holds 4,500 s, all in the shift:
#   planned 1,290; produced 990 (its count before the shift, 300, is not the shift's).
# - P-2's window 06:40 + 1,000 x 2 s = 2,000 s: 06:40-07:00, the break, 07:15-07:28:20:
#   planned 1,000; produced 600 + 375 = 975.
# - P-3's window 07:45 + 1,000 s: 900 s to 08:00, the rest at 06:00 the next day:
#   planned 500 x 900 / 1,000 = 450; produced 0.
# planned 2,740, produced 1,965: attainment = volume_mix = 1,965 / 2,740 = 0.7172.
# sequence: of the orders planned to start in the shift (P-2, P-3) only P-2 started: 1/1.
# in window: the windows ending in the shift are P-1's (started 05:30 >= 05:00, complete
# 06:30 <= 07:30: kept) and P-2's (not complete): 1/2.
# delivery: P-1 decided at 06:30 (on time), P-2 at its due 07:45 (late; 600 good by
# then): 1/2 by count; (1,290 + 600) / (1,290 + 1,000) = 0.8253 by quantity.
PLAN = {
    "planned": 2740.0, "produced": 1965, "attainment": 0.7172, "volume_mix": 0.7172,
    "sequence": 1.0, "sequence_orders": 1, "in_window": 0.5, "window_orders": 2,
    "otd_count": 0.5, "otd_quantity": 0.8253, "delivered_orders": 2, "on_time_orders": 1,
    "delivered_quantity": 2290, "on_time_quantity": 1890,
    "orders": [{"order": "P-1", "planned": 1290.0, "produced": 990},
               {"order": "P-2", "planned": 1000.0, "produced": 975},
               {"order": "P-3", "planned": 450.0, "produced": 0}],
}  # fmt: skip
