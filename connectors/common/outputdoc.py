"""The output document: one JSON shape of a machine's or line's output against target
(`core.types.OutputUpdate`, `LineOutputUpdate`) for MQTT `…/output`, server-sent events
and the API (docs/OEE.md "Targets and rate").

Ratios round to 4 decimals, seconds to 3, rates and part figures to 2 (integers stay).
"""

from __future__ import annotations

from connectors.common.oeedetails import finite
from connectors.common.timefmt import rfc3339
from core.types import LineOutputUpdate, Output, OutputUpdate, ShiftRef

__all__ = ["output_document", "output_figures", "shift_document"]


def _r(value: float | None, digits: int) -> float | None:
    v = finite(value)
    return None if v is None else round(v, digits)


def shift_document(s: ShiftRef) -> dict[str, object]:
    """`{"id": "2026-12-06/late", "name", "date", "start", "end", "timezone"}`."""
    return {
        "id": s.id,
        "name": s.name,
        "date": s.date,
        "start": rfc3339(s.start),
        "end": rfc3339(s.end),
        "timezone": s.timezone,
    }


def output_figures(o: Output) -> dict[str, object]:
    """The figures of `oee.targets.Output`, rounded, under their own names."""
    return {
        "good": o.good,
        "reject": o.reject,
        "total": o.total,
        "target": _r(o.target, 2),
        "target_source": o.target_source,
        "due": _r(o.due, 2),
        "planned_s": _r(o.planned_s, 3),
        "elapsed_s": _r(o.elapsed_s, 3),
        "remaining_s": _r(o.remaining_s, 3),
        "rate_per_h": _r(o.rate_per_h, 2),
        "rate_window_s": _r(o.rate_window_s, 3),
        "average_per_h": _r(o.average_per_h, 2),
        "expected": _r(o.expected, 2),
        "on_track": o.on_track,
    }


def output_document(ev: OutputUpdate | LineOutputUpdate) -> dict[str, object]:
    """`ts`, `final`, `shift`, (a machine's) `product` and `product_name` or (a line's)
    `machines`, then the figures."""
    body: dict[str, object] = {"ts": rfc3339(ev.ts), "final": ev.final}
    body["shift"] = shift_document(ev.shift)
    if isinstance(ev, OutputUpdate):
        body["product"] = ev.product
        body["product_name"] = ev.product_name
    else:
        body["machines"] = list(ev.machines)
    body.update(output_figures(ev.output))
    return body
