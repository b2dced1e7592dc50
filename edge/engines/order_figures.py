"""An order's figures for the order engine: its progress with the rates over the
machine's calendar (`oee.orders`, `oee.prodtime`) and its OEE while it ran."""

from __future__ import annotations

from datetime import datetime, timedelta

from edge.config.orders import OrdersConfig
from edge.engines.order_book import RunState
from oee.calendar import Calendar
from oee.orders import Progress, WorkOrder, progress
from oee.prodtime import current_rate, shift_rate

__all__ = ["order_oee", "progress_of"]


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


def order_oee(p: Progress, ideal_s: float | None) -> float | None:
    """OEE while the order ran (ISO 22400-2: good-part time over planned busy time): its
    good parts times the ideal cycle time over its planned production time (the
    calendar's, less breaks and its pauses: `Progress.production_s`). None without such
    time or an ideal cycle time."""
    if p.production_s <= 0 or not ideal_s:
        return None
    return max(0, p.good) * ideal_s / p.production_s
