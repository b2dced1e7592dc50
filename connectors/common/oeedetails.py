"""The OEE time model beyond the headline figures, as one JSON-ready document.

Shared by the MQTT `…/oee/{window}` payload and the SQLite store's `oee.details` column,
so both carry the same names and shapes:

    {**OeeUpdate.details(),
     "losses": {name: {"factor": str, "seconds": float, "points": float | None}},
     "pareto": [{"state", "reason_code", "reason", "count", "seconds", "share"}, ...]}

A line's (`line_details_document`, for `…/_line/oee/{window}` and `line_oee.details`) has
no Pareto; it lists each machine's ratios and the machines without figures instead:

    {**LineOeeUpdate.details(), "losses": {...},
     "machines": {id: {"availability", "performance", "quality", "oee"}},
     "missing": [id, ...]}

Non-finite floats become None (JSON has no NaN or infinities). The Pareto keeps its
first `PARETO_LIMIT` entries (the biggest).
"""

from __future__ import annotations

import math

from core.types import LineOeeUpdate, OeeUpdate

__all__ = ["PARETO_LIMIT", "details_document", "finite", "line_details_document"]

PARETO_LIMIT = 10


def finite(x: float | None) -> float | None:
    """`x`, or None when it is None, NaN or infinite."""
    return x if x is None or math.isfinite(x) else None


def _detail(value: float | int | bool | None) -> float | int | bool | None:
    return finite(value) if isinstance(value, float) else value


def _details_and_losses(ev: OeeUpdate | LineOeeUpdate) -> dict[str, object]:
    """`details()` and `losses` of an update with a report."""
    assert ev.report is not None
    doc: dict[str, object] = {k: _detail(v) for k, v in ev.details().items()}
    doc["losses"] = {
        loss.name: {
            "factor": loss.factor,
            "seconds": finite(loss.seconds),
            "points": finite(loss.points),
        }
        for loss in ev.report.losses
    }
    return doc


def details_document(ev: OeeUpdate) -> dict[str, object]:
    """`details()`, `losses` and `pareto` of `ev`; empty when `ev` has no report."""
    if ev.report is None:
        return {}
    doc = _details_and_losses(ev)
    doc["pareto"] = [
        {
            "state": r.state.value,
            "reason_code": r.reason_code,
            "reason": r.reason,
            "count": r.count,
            "seconds": finite(r.seconds),
            "share": finite(r.share),
        }
        for r in ev.pareto[:PARETO_LIMIT]
    ]
    return doc


def line_details_document(ev: LineOeeUpdate) -> dict[str, object]:
    """`details()` and `losses` of the line's summed report, each machine's ratios (in the
    line's order) and the machines without figures."""
    doc = _details_and_losses(ev)
    doc["machines"] = {
        r.machine: {
            "availability": finite(r.availability),
            "performance": finite(r.performance),
            "quality": finite(r.quality),
            "oee": finite(r.oee),
        }
        for r in ev.machines
    }
    doc["missing"] = list(ev.missing)
    return doc
