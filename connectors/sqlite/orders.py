"""The order tables of the embedded store (issue 19; schema version 11 of
`connectors.sqlite.migrations`): a row per `OrderProgress` (a machine's order at each
publication, or none), and a row per `ChangeoverDone`. `doc` holds the JSON of the MQTT
payload (`connectors.common.orderdoc`), the columns what a query filters or sums on.
Times are integer milliseconds (UTC)."""

from __future__ import annotations

import json
import sqlite3
from datetime import datetime
from typing import Any

from connectors.common.orderdoc import changeover_document, order_document, progress_document
from connectors.sqlite.times import from_ms, to_ms
from core.orders import Changeover, ChangeoverDone, OrderCommand, OrderEdited, OrderProgress

__all__ = [
    "ORDER_COLUMNS", "changeover_row", "order_audit", "progress_row", "read_changeovers",
]  # fmt: skip

ORDER_COLUMNS = {
    "order_progress": (
        "machine", "ts", "order_id", "product", "status", "good", "reject", "scrap", "doc",
    ),
    "changeover": (
        "machine", "ts", "seq", "from_product", "to_product", "from_order", "to_order",
        "start", "end", "duration_s", "loss_s", "doc",
    ),
}  # fmt: skip


def _doc(doc: dict[str, Any]) -> str:
    return json.dumps(doc, ensure_ascii=False, separators=(",", ":"))


def progress_row(e: OrderProgress) -> tuple[Any, ...]:
    """The `order_progress` row of `e` (order, status and counts null: none ran)."""
    o, p = e.order, e.progress
    counts = (None, None, None) if p is None else (p.good, p.reject, p.scrap)
    return (
        e.machine, to_ms(e.ts), None if o is None else o.id, None if o is None else o.product,
        None if p is None else p.status, *counts, _doc(progress_document(e)),
    )  # fmt: skip


def changeover_row(e: ChangeoverDone) -> tuple[Any, ...]:
    """The `changeover` row of `e`."""
    c = e.changeover
    return (
        e.machine, to_ms(e.ts), e.seq, c.from_product, c.to_product, c.from_order, c.to_order,
        to_ms(c.start), to_ms(c.end), c.duration_s, e.loss_s, _doc(changeover_document(e)),
    )  # fmt: skip


def order_audit(e: OrderEdited | OrderCommand) -> tuple[str, str | None, Any, Any]:
    """(action, target, old, new) of the audit row of an order put or deleted through
    the API (`order`: old and new the order's fields) or an operator's command on one
    (`order_command`: new `{action}`); the target is the order's id."""
    if isinstance(e, OrderCommand):
        return "order_command", e.order, None, {"action": e.action}
    old = None if e.old is None else {"machine": e.old.machine, **order_document(e.old)}
    new = None if e.new is None else {"machine": e.new.machine, **order_document(e.new)}
    return "order", e.order, old, new


_CHANGEOVERS = (
    'SELECT machine, ts, seq, from_product, to_product, from_order, to_order, start, "end", '
    "duration_s, loss_s, doc FROM changeover WHERE start >= ? AND start < ?"
)


def _changeover(row: tuple[Any, ...]) -> ChangeoverDone:
    doc = json.loads(row[11])
    at_rate = doc.get("at_rate")
    c = Changeover(
        row[0], row[3], row[4], row[5], row[6], from_ms(row[7]), from_ms(row[8]), row[9],
        None if at_rate is None else datetime.fromisoformat(at_rate),
        doc.get("parts_to_rate"), doc.get("reason"),
    )  # fmt: skip
    return ChangeoverDone(row[0], from_ms(row[1]), c, doc.get("standard_s"), row[10], row[2])


def read_changeovers(
    conn: sqlite3.Connection, machine: str | None, start_ms: int, end_ms: int, limit: int
) -> list[ChangeoverDone]:
    """The changeovers (of `machine`, or all) that started in [start, end), by start;
    the first `limit`. Durations and losses as stored (unrounded)."""
    sql, params = _CHANGEOVERS, [start_ms, end_ms]
    if machine is not None:
        sql += " AND machine = ?"
    rows = conn.execute(
        sql + " ORDER BY start, machine, seq LIMIT ?",
        (*params, *([machine] if machine is not None else []), limit),
    ).fetchall()
    return [_changeover(r) for r in rows]
