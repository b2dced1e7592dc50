"""The OEE time model beyond the headline figures, as one JSON-ready document.

Shared by the MQTT `…/oee/{window}` payload and the SQLite store's `oee.details` column,
so both carry the same names and shapes:

    {**OeeUpdate.details(),
     "losses": {name: {"factor": str, "seconds": float, "points": float | None}},
     "pareto": [{"state", "reason_code", "reason", "count", "seconds", "share"}, ...]}

Non-finite floats become None (JSON has no NaN or infinities). The Pareto keeps its
first `PARETO_LIMIT` entries (the biggest).
"""

from __future__ import annotations

import math

from edge.types import OeeUpdate

__all__ = ["PARETO_LIMIT", "details_document", "finite"]

PARETO_LIMIT = 10


def finite(x: float | None) -> float | None:
    """`x`, or None when it is None, NaN or infinite."""
    return x if x is None or math.isfinite(x) else None


def _detail(value: float | int | bool | None) -> float | int | bool | None:
    return finite(value) if isinstance(value, float) else value


def details_document(ev: OeeUpdate) -> dict[str, object]:
    """`details()`, `losses` and `pareto` of `ev`; empty when `ev` has no report."""
    report = ev.report
    if report is None:
        return {}
    doc: dict[str, object] = {k: _detail(v) for k, v in ev.details().items()}
    doc["losses"] = {
        loss.name: {
            "factor": loss.factor,
            "seconds": finite(loss.seconds),
            "points": finite(loss.points),
        }
        for loss in report.losses
    }
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
