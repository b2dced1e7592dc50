"""The history jobs of the orders API (`api.offload`: a worker reads the store and builds
the answer off the event loop): the changeovers of a range or of one order, their
per-pair figures (`oee.changeovers.pair_stats`), and plan versus actual of a period
(`oee.plan.plan_actual`) over the good parts the store counted in each order's run."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from api.context import ApiError, from_store
from api.offload import Cpu
from connectors.common.orderdoc import changeover_document
from core.interfaces import ChangeoverHistory, HistoryReader
from core.orders import ChangeoverDone
from core.types import CountDelta
from edge.config.orders import OrdersConfig
from oee.calendar import Calendar
from oee.changeovers import pair_stats
from oee.orders import OrderRun, WorkOrder
from oee.plan import completed_at, plan_actual

__all__ = [
    "PlanQuery", "attribute", "changeovers_job", "matrix_job", "order_changeovers_job",
    "plan_job",
]  # fmt: skip

_NO_CHANGEOVERS = "the history store keeps no changeovers for the API"
Counts = dict[str, list[tuple[datetime, int]]]


def _store(reader: HistoryReader) -> ChangeoverHistory:
    if not isinstance(reader, ChangeoverHistory):
        raise ApiError(501, _NO_CHANGEOVERS)
    return reader


def _doc(e: ChangeoverDone) -> dict[str, Any]:
    return {"machine": e.machine, **changeover_document(e)}


async def _read(
    reader: HistoryReader, machine: str | None, start: datetime, end: datetime, limit: int
) -> list[ChangeoverDone]:
    store = _store(reader)
    return await from_store("changeovers", store.changeovers(start, end, machine, limit))


async def order_changeovers_job(
    reader: HistoryReader, cpu: Cpu, machine: str, start: datetime, end: datetime, limit: int,
    order: str,
) -> list[dict[str, Any]] | None:  # fmt: skip
    """The changeovers of `machine` into or out of `order` (None: the store keeps none)."""
    del cpu
    if not isinstance(reader, ChangeoverHistory):
        return None
    found = await _read(reader, machine, start, end, limit)
    return [_doc(c) for c in found if order in (c.changeover.from_order, c.changeover.to_order)]


async def changeovers_job(
    reader: HistoryReader, cpu: Cpu, machine: str | None, start: datetime, end: datetime,
    limit: int,
) -> dict[str, Any]:  # fmt: skip
    """`ChangeoversOut` of [start, end): the first `limit` and whether there are more."""
    del cpu
    found = await _read(reader, machine, start, end, limit + 1)
    return {"from_": start, "to": end, "changeovers": [_doc(c) for c in found[:limit]],
            "truncated": len(found) > limit}  # fmt: skip


async def matrix_job(
    reader: HistoryReader, cpu: Cpu, machine: str | None, start: datetime, end: datetime,
    limit: int, settings: OrdersConfig,
) -> dict[str, Any]:  # fmt: skip
    """`MatrixOut` of the changeovers that started in [start, end) (docs/OEE.md), each
    pair against its standard (`orders.changeover_standards`: exact, else `*` to it)."""
    found = await _read(reader, machine, start, end, limit + 1)
    items = [c.changeover for c in found[:limit]]
    pairs = {(c.from_product, c.to_product) for c in items}
    standards = {p: s for p in pairs if (s := settings.standard(*p)) is not None}

    def build() -> list[dict[str, Any]]:
        return [
            {
                "from_product": p.from_product,
                "to_product": p.to_product,
                "count": p.count,
                "median_s": round(p.median_s, 3),
                "p90_s": round(p.p90_s, 3),
                "trend_s_per_week": _r(p.trend_s_per_week, 3),
                "standard_s": p.standard_s,
                "loss_s": _r(p.loss_s, 3),
            }  # fmt: skip
            for p in pair_stats(items, standards)
        ]

    return {"from_": start, "to": end, "pairs": await cpu(build), "changeovers": len(items),
            "truncated": len(found) > limit}  # fmt: skip


def _r(x: float | None, digits: int) -> float | None:
    return None if x is None else round(x, digits)


def _in_run(run: OrderRun, ts: datetime) -> bool:
    """Whether a part counted at `ts` went to the order (as the order engine counts)."""
    if run.started is None or ts < run.started or (run.ended is not None and ts > run.ended):
        return False
    return not any(a <= ts and (b is None or ts < b) for a, b in run.paused)


def attribute(
    counts: Sequence[CountDelta], orders: Sequence[WorkOrder], runs: Mapping[str, OrderRun]
) -> Counts:
    """Each order's good parts as (ts, n): the machine's counts inside the order's run
    (from its start to its end, less its pauses)."""
    out: Counts = {o.id: [] for o in orders}
    mine = [(o, runs[o.id]) for o in orders if o.id in runs]
    for c in counts:
        o = next((o for o, r in mine if o.machine == c.machine and _in_run(r, c.ts)), None)
        if o is not None:
            out[o.id].append((c.ts, c.good))
    return out


@dataclass(frozen=True)
class PlanQuery:
    """Plan versus actual of [start, end) as known at `at`: `orders` and their `runs`,
    the calendar they are judged in, counts read from `since`."""

    orders: tuple[WorkOrder, ...]
    runs: dict[str, OrderRun]
    calendar: Calendar
    start: datetime
    end: datetime
    at: datetime
    since: datetime


async def plan_job(reader: HistoryReader, cpu: Cpu, q: PlanQuery) -> dict[str, Any]:
    """`oee.plan.plan_actual` of the period over the good parts of each order's run, with
    the orders decided in it and the late ones among them."""
    until = min(q.end, q.at)
    counts: list[CountDelta] = []
    for machine in sorted({o.machine for o in q.orders}):
        if q.since < until:
            read = reader.count_history(machine, q.since, until)
            counts += await from_store(f"count history of {machine}", read)

    def build() -> dict[str, Any]:
        per = attribute(counts, q.orders, q.runs)
        got = plan_actual(q.orders, q.runs, per, q.start, q.end, calendar=q.calendar, now=q.at)
        decided = [(o, _decided(o, per[o.id])) for o in q.orders]
        shown = [(o, d) for o, d in decided if q.start < d[0] <= until]
        return {
            **{k: getattr(got, k) for k in _FIGURES}, "start": got.start, "end": got.end,
            "at": got.at, "planned": round(got.planned, 3),
            **{k: _r(getattr(got, k), 4) for k in _RATIOS},
            "orders": [{"order": r.order, "planned": round(r.planned, 3),
                        "produced": r.produced} for r in got.orders],
            "delivered": [o.id for o, _ in shown],
            "late": [o.id for o, (_, on_time) in shown if not on_time],
            "unplanned": [o.id for o in q.orders if o.planned_start is None],
        }  # fmt: skip

    result: dict[str, Any] = await cpu(build)
    return result


_RATIOS = ("attainment", "volume_mix", "sequence", "in_window", "otd_count", "otd_quantity")
_FIGURES = (
    "produced", "sequence_orders", "window_orders", "delivered_orders", "on_time_orders",
    "delivered_quantity", "on_time_quantity",
)  # fmt: skip


def _decided(order: WorkOrder, counts: list[tuple[datetime, int]]) -> tuple[datetime, bool]:
    """When the order's delivery was decided, and whether on time (docs/OEE.md)."""
    done = completed_at(order, counts)
    return (done, True) if done is not None and done <= order.due else (order.due, False)
