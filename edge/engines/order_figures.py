"""An order's figures for the order engine: its progress with the rates over the
machine's calendar (`oee.orders`, `oee.prodtime`) and its OEE while it ran."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta

from edge.config.orders import OrdersConfig
from edge.engines.order_book import RunState
from oee.calendar import Calendar
from oee.orders import Progress, WorkOrder, progress
from oee.prodtime import current_rate, shift_rate

__all__ = ["order_oee", "progress_of"]

# Time that is no planned busy time of the order: planned stops, and unknown time.
_NOT_BUSY = ("planned_stop", "offline")


def progress_of(
    order: WorkOrder, run: RunState, now: datetime, calendar: Calendar, settings: OrdersConfig
) -> Progress:
    """`oee.orders.progress` at `now`, with the current rate over `rate_window_s` and the
    shift's rate, both of the order's good count, less its pauses."""
    done = run.run()
    pauses = done.pauses_until(now)
    points = run.points
    rate_now = current_rate(points, calendar, now, window_s=settings.rate_window_s, exclude=pauses)
    rate_shift = shift_rate(points, calendar, now, exclude=pauses)
    margin = timedelta(seconds=settings.at_risk_margin_s)
    return progress(
        order, done, now, calendar=calendar, rate_now=rate_now, rate_shift=rate_shift,
        at_risk_margin=margin,
    )  # fmt: skip


def order_oee(state_s: Mapping[str, float], good: int, ideal_s: float | None) -> float | None:
    """OEE while the order ran (ISO 22400-2): good parts times the ideal cycle time over
    the order's planned busy time (its time in every state but planned stop and
    offline). None without such time or an ideal cycle time."""
    busy = sum(s for k, s in state_s.items() if k not in _NOT_BUSY)
    if busy <= 0 or not ideal_s:
        return None
    return max(0, good) * ideal_s / busy
