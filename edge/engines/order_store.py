"""The order engine's checkpoints (`core.interfaces.Checkpointed`): per machine, under
`orders/{machine}` in the outbox's meta, its orders, their runs and which it runs,
committed with its `OrderProgress` (every publication) so a restart resumes the book
and the counts. Orders of the config are put back over the checkpoint's: the config
wins."""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from datetime import timedelta
from typing import Any

from core.orders import ChangeoverDone, OrderProgress
from core.types import Event
from edge.engines.order_book import OrderBook, RunState, order_doc, order_from_doc
from edge.engines.order_machine import MachineOrders
from oee.orders import WorkOrder

__all__ = ["CHECKPOINT_VERSION", "OrderStore", "checkpoint_key"]

log = logging.getLogger("edge.orders")
CHECKPOINT_VERSION = 1
# Points of a run older than this before the latest are kept one per `_THIN` in a
# checkpoint: the current rate needs the recent ones, the shift's rate fewer.
_RECENT = timedelta(hours=1)
_THIN = timedelta(minutes=10)


def checkpoint_key(machine: str) -> str:
    """The outbox meta key of `machine`'s orders."""
    return f"orders/{machine}"


def _thinned(run: RunState) -> dict[str, Any]:
    doc = run.dump()
    if not run.points:
        return doc
    cut, kept, last = run.points[-1][0] - _RECENT, [], None
    for t, n in run.points:
        if t >= cut or last is None or t - last >= _THIN:
            kept.append([t.isoformat(), n])
            last = t
    doc["points"] = kept
    return doc


class OrderStore:
    """`checkpoint` and `restore` of the order engine."""

    book: OrderBook
    machines: dict[str, MachineOrders]
    fixed: list[WorkOrder]

    def checkpoint(self, events: Sequence[Event]) -> dict[str, str]:
        """Each machine with progress or a changeover among `events`: its orders."""
        touched = {e.machine for e in events if isinstance(e, OrderProgress | ChangeoverDone)}
        return {checkpoint_key(m): self._doc(m) for m in touched if m in self.machines}

    def _doc(self, machine: str) -> str:
        m = self.machines[machine]
        ids = self.book.of_machine(machine)
        doc = {
            "v": CHECKPOINT_VERSION,
            "orders": [order_doc(self.book.orders[i]) for i in ids],
            "runs": {i: _thinned(self.book.runs[i]) for i in ids},
            "current": m.current, "source": m.source, "operator": m.operator,
            "held": m.held, "tag": m.tag, "seq": m.seq,
        }  # fmt: skip
        return json.dumps(doc, separators=(",", ":"))

    def restore(self, meta: Mapping[str, str]) -> None:
        """Take the checkpoints back (at start, before any event)."""
        for machine, m in self.machines.items():
            text = meta.get(checkpoint_key(machine))
            if text is None:
                continue
            try:
                self._load(m, json.loads(text))
            except (ValueError, KeyError, TypeError) as exc:
                log.error("orders of %s not restored: %s", machine, exc)
        for order in self.fixed:
            self.book.put(order)

    def _load(self, m: MachineOrders, doc: dict[str, Any]) -> None:
        if doc.get("v") != CHECKPOINT_VERSION:
            raise ValueError(f"version {doc.get('v')!r}")
        orders = [order_from_doc(d) for d in doc["orders"]]
        runs = {i: RunState.load(r) for i, r in doc["runs"].items()}
        for order in orders:
            self.book.put(order, runs.get(order.id, RunState()))
        m.current, m.source = doc["current"], doc["source"]
        m.operator, m.held, m.tag = doc["operator"], bool(doc["held"]), doc["tag"]
        m.seq = int(doc["seq"])
        m.announced = "\0"
