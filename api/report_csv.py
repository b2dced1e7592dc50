"""The shift report as one flat CSV table (`GET …/report.csv`, docs/API.md "Shift report"):
one row per figure, loss, quality figure (of the machine and by product), defect Pareto
row, stop, scrap reason, alarm, note, flag, order, changeover and plan figure, each with
its `section`, so that a
spreadsheet filters it by section and machine (`_line`: the line). The last three
columns serve the quality sections: a Pareto row's `share` and `cumulative`, a product
row's `product`."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from typing import Any

__all__ = ["HEADER", "report_csv"]

HEADER = (
    "shift", "line", "section", "machine", "item", "value", "points", "start", "end",
    "duration_s", "state", "reason_code", "reason", "by", "share", "cumulative", "product",
)  # fmt: skip
_FIGURES = ("oee", "availability", "performance", "quality", "coverage")
_OUTPUT = ("good", "reject", "total", "target", "attainment")
_QUALITY = ("total", "good", "reject", "scrap_booked", "fpy", "scrap_rate", "oee_quality")
_PRODUCT = ("total", "good", "reject", "fpy", "scrap_rate", "ideal_cycle_s")
Row = dict[str, Any]


def report_csv(doc: dict[str, Any]) -> str:
    """The CSV text (RFC 4180, CRLF line ends) of a report document."""
    buf = io.StringIO()
    w = csv.DictWriter(buf, HEADER, extrasaction="raise")
    w.writeheader()
    for row in _rows(doc):
        w.writerow({"shift": doc["shift"]["id"], "line": doc["line"], **row})
    return buf.getvalue()


def _figures(machine: str, part: dict[str, Any]) -> Iterator[Row]:
    for k in _FIGURES:
        yield {"section": "figure", "machine": machine, "item": k, "value": part[k]}
    for k in _OUTPUT:
        value = (part["output"] or {}).get(k)
        yield {"section": "output", "machine": machine, "item": k, "value": value}
    for x in part["losses"]:
        yield {"section": "loss", "machine": machine, "item": x["name"],
               "value": x["seconds"], "points": x["points"]}  # fmt: skip
    q = part.get("quality_figures")  # None in a report kept before version 2
    if q is not None:
        yield from _quality(machine, q)


def _quality(machine: str, q: dict[str, Any]) -> Iterator[Row]:
    """FPY, scrap rate and counts (the line's with its RTY and the machines it left
    out), the same by product, then the defect Pareto ranked. `oee_quality` and a
    product's `ideal_cycle_s` are absent from a report kept before they were added:
    their rows are left out, not written empty."""
    for k in (*_QUALITY, "rty") if "rty" in q else _QUALITY:
        if k in q:
            yield {"section": "quality", "machine": machine, "item": k, "value": q[k]}
    for m in q.get("missing", ()):
        yield {"section": "quality", "machine": m, "item": "rty_missing"}
    for p in q["products"]:
        for k in (k for k in _PRODUCT if k in p):
            yield {"section": "product", "machine": machine, "item": k, "value": p[k],
                   "product": p["product"]}  # fmt: skip
    for rank, x in enumerate(q["pareto"], 1):
        yield {"section": "pareto", "machine": machine, "item": rank, "value": x["count"],
               "reason_code": x["reason_code"], "reason": x["reason"], "share": x["share"],
               "cumulative": x["cumulative"]}  # fmt: skip


def _rows(doc: dict[str, Any]) -> Iterator[Row]:
    yield from _figures("_line", doc)
    for m in doc["machines"]:
        yield from _figures(m["machine"], m)
    for s in doc["stops"]:
        yield {"section": "stop", "machine": s["machine"],
               "item": "planned" if s["planned"] else "unplanned", "start": s["start"],
               "end": s["end"], "duration_s": s["duration_s"], "state": s["state"],
               "reason_code": s["reason_code"], "reason": s["reason"], "by": s["by"]}  # fmt: skip
    for s in doc["scrap"]:
        yield {"section": "scrap", "machine": s["machine"],
               "item": "booked" if s["booked"] else "machine", "value": s["quantity"],
               "reason_code": s["reason_code"], "reason": s["reason"]}  # fmt: skip
    for a in doc["alarms"]:
        yield {"section": "alarm", "machine": a["machine"], "item": a["rule"],
               "start": a["raised"], "end": a["cleared"], "state": a["severity"],
               "reason": a["message"], "by": a["acked_by"]}  # fmt: skip
    if doc["notes"] is not None:
        n = doc["notes"]
        yield {"section": "note", "machine": "_line", "start": n["ts"], "reason": n["text"],
               "by": n["by"]}  # fmt: skip
    for f in doc["flags"]:
        yield {"section": "flag", "machine": f["machine"], "item": f["flag"], "value": f["value"]}
    yield from _orders(doc)


def _orders(doc: dict[str, Any]) -> Iterator[Row]:
    """An order's good parts in the shift (`value`), its progress at the shift's end in
    percent (`points`), status (`state`), `end` when done; a changeover's loss against
    the standard (`value`) and the standard (`points`); the plan's figures. Absent from
    a report kept before version 3."""
    for o in doc.get("orders", ()):
        yield {"section": "order", "machine": o["machine"], "item": o["order"],
               "value": o["good"], "points": o["percent"], "state": o["status"],
               "end": o["finished"], "product": o["product"]}  # fmt: skip
    for c in doc.get("changeovers", ()):
        yield {"section": "changeover", "machine": c["machine"],
               "item": f"{c['from_product']}>{c['to_product']}", "value": c["loss_s"],
               "points": c["standard_s"], "start": c["start"], "end": c["end"],
               "duration_s": c["duration_s"], "reason": c["reason"]}  # fmt: skip
    plan = doc.get("plan") or {}
    for k, v in plan.items():
        if k != "orders":
            yield {"section": "plan", "machine": "_line", "item": k, "value": v}
