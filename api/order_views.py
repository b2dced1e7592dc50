"""The orders as the API shows them: each order of the running gateway's book with its
live progress (the `…/order` document, `connectors.common.orderdoc`, with its machine,
whether it is current, whether it is of the config, and the coverage of its time), and
the order engine the order routes act on."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from api.context import ApiContext, ApiError
from connectors.common.orderdoc import progress_document
from edge.engines.orders import OrderEngine

__all__ = ["coverage", "find_order", "order_engine", "order_row", "unknown_order"]


def order_engine(ctx: ApiContext) -> OrderEngine:
    """The running gateway's order engine (the book lives there), or a 503."""
    if ctx.control is None:
        raise ApiError(503, "read-only API: the order book is the running gateway's")
    engine = ctx.control.engines.get("orders")
    if not isinstance(engine, OrderEngine):
        raise ApiError(503, "the running gateway has no order engine")
    return engine


def unknown_order(order_id: str) -> ApiError:
    return ApiError(404, f"unknown order '{order_id}': the gateway's book holds no such order")


def find_order(engine: OrderEngine, order_id: str) -> None:
    """A 404 naming `order_id` unless the book holds it."""
    if order_id not in engine.book.orders:
        raise unknown_order(order_id)


def coverage(state_s: Mapping[str, float]) -> float | None:
    """The share of an order's time by state that was known (not `offline`), as the
    OEE figures' coverage; None before it ran."""
    total = sum(state_s.values())
    if total <= 0:
        return None
    return round((total - state_s.get("offline", 0.0)) / total, 4)


def order_row(engine: OrderEngine, order_id: str, now: datetime) -> dict[str, Any]:
    """`OrderRowOut` of a known order at `now`."""
    order = engine.book.orders[order_id]
    m = engine.machines[order.machine]
    current = m.current == order_id
    ev = engine.report(order_id, now, m.source if current else None)
    doc = progress_document(ev)
    doc["order"]["machine"] = order.machine
    doc["progress"]["coverage"] = coverage(ev.state_s)
    fixed = any(o.id == order_id for o in engine.fixed)
    return {**doc, "current": current, "fixed": fixed}
