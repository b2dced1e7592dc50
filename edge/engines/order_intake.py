"""Orders sent to the intake topic (`orders.intake_topic`, docs/asyncapi.yaml
`orderIntake`): one JSON order object or a list of them, each checked against the
schema of `edge.config.orders.OrderIn` and against the configured machines. A refused
order is named by its place and field (`[2].due: …`), never half taken."""

from __future__ import annotations

import json
from collections.abc import Collection
from typing import Any

from pydantic import ValidationError

from edge.config.orders import OrderIn
from oee.orders import WorkOrder

__all__ = ["MAX_INTAKE_BYTES", "parse_orders"]

#: A message larger than this is refused unread: a plan of ~4,000 orders fits; parsing
#: one of hundreds of MB would hold the gateway for seconds.
MAX_INTAKE_BYTES = 1024 * 1024


def _where(index: int | None, loc: tuple[int | str, ...]) -> str:
    head = f"[{index}]" if index is not None else ""
    path = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in loc)
    return (head + path).lstrip(".") or "order"


def _one(item: Any, index: int | None, machines: Collection[str]) -> WorkOrder | str:
    try:
        order = OrderIn.model_validate(item)
    except ValidationError as exc:
        first = exc.errors()[0]
        return f"{_where(index, tuple(first['loc']))}: {first['msg']}"
    if order.machine not in machines:
        known = ", ".join(sorted(machines))
        return f"{_where(index, ('machine',))}: no machine '{order.machine}' (known: {known})"
    return order.to_order()


def parse_orders(payload: bytes, machines: Collection[str]) -> tuple[list[WorkOrder], list[str]]:
    """The valid orders of one intake message and an error for each refused one (its
    index in a list, the field and why). Heavy for a long list: run it off the event
    loop (the gateway does)."""
    if len(payload) > MAX_INTAKE_BYTES:
        size = f"{len(payload):,} bytes, more than {MAX_INTAKE_BYTES:,}"
        return [], [f"payload: {size}: send the orders in smaller lists"]
    try:
        doc = json.loads(payload)
    except (ValueError, UnicodeDecodeError) as exc:
        return [], [f"payload: not JSON ({exc})"]
    items, indexed = (doc, True) if isinstance(doc, list) else ([doc], False)
    orders: list[WorkOrder] = []
    errors: list[str] = []
    for i, item in enumerate(items):
        got = _one(item, i if indexed else None, machines)
        (errors if isinstance(got, str) else orders).append(got)  # type: ignore[arg-type]
    return orders, errors
