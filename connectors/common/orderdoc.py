"""The order documents every channel publishes (issue 19; README "MQTT", docs/asyncapi.yaml):
an order's progress on a machine (`…/order`, retained; an empty-order document when none
runs) and a completed changeover (`…/changeover`). The MQTT sink and the SQLite store
build them here, so both carry the same names and shapes.

Times are RFC 3339 UTC with milliseconds; seconds to 3 decimals, rates (good parts per
second of planned production time) and ratios to 6 significant digits; non-finite
numbers are null."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from connectors.common.spcdoc import sig
from connectors.common.timefmt import rfc3339
from core.orders import ChangeoverDone, OrderProgress, WorkOrder

__all__ = ["changeover_document", "order_document", "progress_document"]


def _ts(t: datetime | None) -> str | None:
    return None if t is None else rfc3339(t)


def _s(x: float | None) -> float | None:
    return None if x is None else round(x, 3)


def order_document(o: WorkOrder) -> dict[str, Any]:
    """An order's fields: `id`, `product`, `quantity`, `due`, `planned_start`,
    `ideal_cycle_s`, `customer` (the `order` of `…/order`; the audit's old and new)."""
    return {
        "id": o.id, "product": o.product, "quantity": o.quantity, "due": _ts(o.due),
        "planned_start": _ts(o.planned_start), "ideal_cycle_s": o.ideal_cycle_s,
        "customer": o.customer,
    }  # fmt: skip


def _order(ev: OrderProgress) -> dict[str, Any] | None:
    return None if ev.order is None else order_document(ev.order)


def progress_document(ev: OrderProgress) -> dict[str, Any]:
    """`ts`, `order` (null: none runs), `source`, the run and its figures (null then)."""
    p, run = ev.progress, ev.run
    doc: dict[str, Any] = {"ts": _ts(ev.ts), "order": _order(ev), "source": ev.source}
    if p is None or run is None:
        return {**doc, "status": None, "progress": None}
    return {
        **doc, "status": p.status,
        "progress": {
            "started": _ts(run.started), "ended": _ts(run.ended),
            "paused": [{"start": _ts(a), "end": _ts(b)} for a, b in run.paused],
            "good": p.good, "reject": p.reject, "scrap": p.scrap, "remaining": p.remaining,
            "percent": round(p.percent, 2), "production_s": _s(p.production_s),
            "rate_now": sig(p.rate_now), "rate_shift": sig(p.rate_shift),
            "eta_now": _ts(p.eta_now), "eta_shift": _ts(p.eta_shift),
            "eta_ideal": _ts(p.eta_ideal), "finished": _ts(p.finished),
            "complete": p.complete, "on_time": p.on_time,
            "state_s": {k: _s(v) for k, v in sorted(ev.state_s.items())},
            "oee": sig(ev.oee),
        },
    }  # fmt: skip


def changeover_document(ev: ChangeoverDone) -> dict[str, Any]:
    """One completed changeover: from/to product and order, start, end, duration, at
    rate again and the parts until then, reason, the standard and the loss over it."""
    c = ev.changeover
    return {
        "ts": _ts(ev.ts), "seq": ev.seq, "from_product": c.from_product,
        "to_product": c.to_product, "from_order": c.from_order, "to_order": c.to_order,
        "start": _ts(c.start), "end": _ts(c.end), "duration_s": _s(c.duration_s),
        "at_rate": _ts(c.at_rate), "parts_to_rate": c.parts_to_rate, "reason": c.reason,
        "standard_s": _s(ev.standard_s), "loss_s": _s(ev.loss_s),
    }  # fmt: skip
