"""The OEE time model beyond the headline figures, as one JSON-ready document.

Shared by the MQTT `…/oee/{window}` payload and the SQLite store's `oee.details` column,
so both carry the same names and shapes:

    {**OeeUpdate.details(),
     "losses": [{"name", "factor", "seconds", "points"}, ...],  # the six big losses' order
     "pareto": [{"state", "reason_code", "reason", "count", "seconds", "share"}, ...]}

A line's (`line_details_document`, for `…/_line/oee/{window}` and `line_oee.details`) has
no Pareto; it lists each machine's ratios and the machines without figures instead:

    {**LineOeeUpdate.details(), "losses": [...],
     "machines": {id: {"availability", "performance", "quality", "oee"}},
     "missing": [id, ...]}

Non-finite floats become None (JSON has no NaN or infinities). The Pareto keeps its
first `PARETO_LIMIT` entries (the biggest). `rounded` rounds a document's floats to what
they mean (seconds to 3 decimals, ratios to 4), as every channel publishes them.
"""

from __future__ import annotations

import math
from typing import Any

from connectors.common.timefmt import rfc3339
from core.types import LineOeeUpdate, OeeUpdate, PlantDay, ShiftInstance

__all__ = [
    "PARETO_LIMIT", "SECONDS_DIGITS", "RATIO_DIGITS", "day_document", "details_document",
    "finite", "line_details_document", "period_documents", "rounded", "shift_document",
]  # fmt: skip

#: Seconds to the millisecond and ratios to 0.01 %: more digits would only be noise
#: (a window's times are exact to the microsecond, its counts to the part).
SECONDS_DIGITS = 3
RATIO_DIGITS = 4

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
    doc["losses"] = [
        {
            "name": loss.name,
            "factor": loss.factor,
            "seconds": finite(loss.seconds),
            "points": finite(loss.points),
        }
        for loss in ev.report.losses
    ]
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


def _is_seconds(key: str) -> bool:
    return key.endswith("_s") or key == "seconds"


def rounded(doc: Any, seconds: bool = False) -> Any:
    """`doc` (dicts, lists, numbers) with each float rounded to what it means: a value
    under a key ending in `_s` (or `seconds`, or inside such a dict, like `state_s`) to
    `SECONDS_DIGITS`, any other float (ratios, shares, points, coverage) to
    `RATIO_DIGITS`. Ints, bools, strings and None stay as they are."""
    if isinstance(doc, float):
        return round(doc, SECONDS_DIGITS if seconds else RATIO_DIGITS)
    if isinstance(doc, dict):
        return {k: rounded(v, seconds or _is_seconds(str(k))) for k, v in doc.items()}
    if isinstance(doc, list | tuple):
        return [rounded(v, seconds) for v in doc]
    return doc


def shift_document(s: ShiftInstance) -> dict[str, object]:
    """The agreed shift object: `{"id": "2026-12-06/late", "name", "date", "start", "end"}`."""
    assert s.day is not None
    return {
        "id": s.id,
        "name": s.name,
        "date": s.day.isoformat(),
        "start": rfc3339(s.start),
        "end": rfc3339(s.end),
    }


def day_document(d: PlantDay) -> dict[str, object]:
    """The plant day: `{"date": "2026-12-06", "start", "end"}` (23 or 25 h across DST)."""
    return {"date": d.id, "start": rfc3339(d.start), "end": rfc3339(d.end)}


def period_documents(
    window: str, shift: ShiftInstance | None, day: PlantDay | None
) -> dict[str, object]:
    """`shift` on the `shift` window's figures, `day` on the `day` window's; nothing on
    a sliding window's."""
    if window == "shift":
        return {"shift": None if shift is None else shift_document(shift)}
    if window == "day":
        return {"day": None if day is None else day_document(day)}
    return {}
