"""The shift report's orders, changeovers and plan versus actual (issue 19) from what the
store kept (`core.orders.OrderTrack`, the `…/changeover` documents): pure, no I/O.

- **orders**: each order published on a machine in the shift, with the good and reject
  parts it gained in the shift (its count at its last publication in the shift less
  that at its last one before) and, as last published in the shift, its progress,
  status and whether it was on time;
- **changeovers**: each that started in the shift, as `…/changeover` carried it;
- **plan**: `oee.plan.plan_actual` over the shift of the orders published in it and
  those of the gateway's book that had not started by the shift's end (planned, not
  begun): each order's good count as published, complete at its `finished` time.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from api.report_build import Doc, r3, r4
from core.orders import OrderTrack
from oee.calendar import Calendar
from oee.orders import OrderRun, WorkOrder
from oee.plan import PlanActual, plan_actual

__all__ = ["PLAN_KEYS", "changeover_rows", "order_rows", "plan_doc", "plan_inputs"]

#: The plan's figures in the report (`oee.plan.PlanActual`'s names).
PLAN_KEYS = (
    "planned", "produced", "attainment", "volume_mix", "sequence", "sequence_orders",
    "in_window", "window_orders", "otd_count", "otd_quantity", "delivered_orders",
    "on_time_orders", "delivered_quantity", "on_time_quantity",
)  # fmt: skip
_RATIOS = {"attainment", "volume_mix", "sequence", "in_window", "otd_count", "otd_quantity"}


def _time(s: str | None) -> datetime | None:
    return None if s is None else datetime.fromisoformat(s)


def _counts(doc: Mapping[str, Any] | None) -> tuple[int, int]:
    p = (doc or {}).get("progress") or {}
    return p.get("good") or 0, p.get("reject") or 0


def order_rows(tracks: Iterable[OrderTrack]) -> list[Doc]:
    """A row per order published in the shift (see the module)."""
    rows = []
    for t in tracks:
        o, p = t.last["order"], t.last.get("progress") or {}
        (good, reject), (good0, reject0) = _counts(t.last), _counts(t.before)
        rows.append(
            {
                "machine": t.machine, "order": t.order, "product": o["product"],
                "quantity": o["quantity"], "due": o["due"], "customer": o.get("customer"),
                "good": good - good0, "reject": reject - reject0,
                "total_good": good, "percent": p.get("percent"), "status": t.last["status"],
                "finished": p.get("finished"), "on_time": p.get("on_time"),
            }
        )  # fmt: skip
    return rows


def changeover_rows(machine: str, docs: Iterable[Mapping[str, Any]]) -> list[Doc]:
    """A row per changeover that started in the shift."""
    keys = ("from_product", "to_product", "from_order", "to_order", "start", "end",
            "duration_s", "standard_s", "loss_s", "reason")  # fmt: skip
    return [{"machine": machine, **{k: d.get(k) for k in keys}} for d in docs]


def _order(doc: Mapping[str, Any], machine: str) -> WorkOrder:
    o = doc["order"]
    return WorkOrder(
        o["id"], o["product"], o["quantity"], datetime.fromisoformat(o["due"]), machine,
        _time(o.get("planned_start")), o.get("ideal_cycle_s"), o.get("customer"),
    )  # fmt: skip


def _increments(t: OrderTrack, quantity: int) -> list[tuple[datetime, int]]:
    """The order's good parts as (ts, n) increments: its count before the shift at that
    publication, then each publication's gain; the gain that completes it at the
    order's `finished` time (when that is earlier: it was done between publications)."""
    seen: list[tuple[datetime, int]] = []
    if t.before is not None and t.before.get("progress"):
        seen.append((datetime.fromisoformat(t.before["ts"]), _counts(t.before)[0]))
    seen += t.points
    finished = _time((t.last.get("progress") or {}).get("finished"))
    out, previous = [], 0
    for ts, good in seen:
        if good > previous:
            done = previous < quantity <= good and finished is not None
            out.append((min(ts, finished) if done and finished else ts, good - previous))
        previous = max(previous, good)
    return out


def plan_inputs(
    tracks: Sequence[OrderTrack], book: Iterable[tuple[WorkOrder, datetime | None]]
) -> tuple[list[WorkOrder], dict[str, OrderRun], dict[str, list[tuple[datetime, int]]]]:
    """(orders, runs, counts) for `plan_actual`: the orders published in the shift, then
    the book's (order, started) that are not among them and had not started."""
    orders: dict[str, WorkOrder] = {}
    runs: dict[str, OrderRun] = {}
    counts: dict[str, list[tuple[datetime, int]]] = {}
    for t in tracks:
        order = orders[t.order] = _order(t.last, t.machine)
        started = _time((t.last.get("progress") or {}).get("started"))
        runs[t.order] = OrderRun(started=started)
        counts[t.order] = _increments(t, order.quantity)
    for order, started in book:
        if order.id not in orders and started is None:
            orders[order.id] = order
    return list(orders.values()), runs, counts


def plan_doc(
    tracks: Sequence[OrderTrack],
    book: Iterable[tuple[WorkOrder, datetime | None]],
    start: datetime,
    end: datetime,
    now: datetime,
    calendar: Calendar,
) -> Doc:
    """Plan versus actual of the shift [start, end) as known at `now` (`oee.plan`)."""
    orders, runs, counts = plan_inputs(tracks, book)
    pa: PlanActual = plan_actual(orders, runs, counts, start, end, calendar=calendar, now=now)
    doc: Doc = {}
    for k in PLAN_KEYS:
        v = getattr(pa, k)
        doc[k] = r4(v) if k in _RATIOS else (r3(v) if isinstance(v, float) else v)
    doc["orders"] = [
        {"order": r.order, "planned": r3(r.planned), "produced": r.produced} for r in pa.orders
    ]
    return doc
