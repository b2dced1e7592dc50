"""The order tables of the embedded store (issue 19; schema version 11 of
`connectors.sqlite.migrations`): a row per `OrderProgress` (a machine's order at each
publication, or none), and a row per `ChangeoverDone`. `doc` holds the JSON of the MQTT
payload (`connectors.common.orderdoc`), the columns what a query filters or sums on.
Times are integer milliseconds (UTC)."""

from __future__ import annotations

import json
from typing import Any

from connectors.common.orderdoc import changeover_document, progress_document
from connectors.sqlite.times import to_ms
from core.orders import ChangeoverDone, OrderProgress

__all__ = ["ORDER_COLUMNS", "changeover_row", "progress_row"]

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
