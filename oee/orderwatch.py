"""What the order alarm rules (`oee.alarms.OrderRule`, kinds `order_late` and
`order_at_risk`) know of a machine's current order: its id, due time, status, and since
when the order has had that status. Pure: the alarm engine feeds it the order progress
(`watch`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

__all__ = ["OrderWatch", "watch"]


@dataclass(frozen=True, slots=True)
class OrderWatch:
    """The machine's current `order` (due at `due`) has had `status` since `since`."""

    order: str
    due: datetime
    status: str
    since: datetime


def watch(
    before: OrderWatch | None,
    order: str | None,
    due: datetime | None,
    status: str | None,
    at: datetime,
) -> OrderWatch | None:
    """The watch after a progress of `order` with `status` at `at` (None: no order): the
    status's first instant is kept while the order and its status stay. A late order's
    since is its due time when it is past due (it is late from then on)."""
    if order is None or due is None or status is None:
        return None
    if before is not None and (before.order, before.status) == (order, status):
        return before
    since = due if status == "late" and due <= at else at
    return OrderWatch(order, due, status, since)
