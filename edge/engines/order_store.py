"""The order engine's checkpoints (`core.interfaces.Checkpointed`): per machine, under
`orders/{machine}` in the outbox's meta, its orders, their runs and which it runs,
committed with its `OrderProgress` (every publication) so a restart resumes the book
and the counts. Between publications every commit that changes a machine's runs (a count,
a state, a command, scrap) carries `orders/{machine}/runs` too: which order runs and
the runs it touched since, without their rate points (small: it goes with every poll
that counts parts). A restart lays it over the full checkpoint, so a crash between two
publications loses no part. Orders of the config are put back over the checkpoint's:
the config wins."""

from __future__ import annotations

import dataclasses
import json
import logging
from collections.abc import Mapping, Sequence
from datetime import timedelta
from typing import Any

from core.orders import ChangeoverDone, OrderCommand, OrderProgress
from core.types import CountDelta, Event, SampleBatch, ScrapBooked, StateChange
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


# Events after which a machine's runs may have changed since its last checkpoint.
_CHANGES = (CountDelta, StateChange, OrderCommand, ScrapBooked, SampleBatch)
_RUN_FIELDS = ("started", "ended", "good", "reject", "scrap", "paused", "state_s", "completed")


def checkpoint_key(machine: str) -> str:
    """The outbox meta key of `machine`'s orders."""
    return f"orders/{machine}"


def runs_key(machine: str) -> str:
    """The outbox meta key of the runs `machine` changed since its full checkpoint."""
    return f"orders/{machine}/runs"


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
    _ran: dict[str, str | None]  # per machine, the order it ran at its last checkpoint
    _tagged: dict[str, str]  # machine -> its order tag

    def checkpoint(self, events: Sequence[Event]) -> dict[str, str]:
        """Each machine with progress or a changeover among `events`: its orders; each
        whose runs may have changed otherwise: those runs (see the module docs)."""
        full = {e.machine for e in events if isinstance(e, OrderProgress | ChangeoverDone)}
        changed = {
            e.machine
            for e in events
            if isinstance(e, _CHANGES)
            and (not isinstance(e, SampleBatch) or e.machine in self._tagged)
        }  # a poll changes a run only through the order tag
        out: dict[str, str] = {}
        for m in full | changed:
            if m not in self.machines:
                continue
            if m in full:
                out[checkpoint_key(m)] = self._doc(m)
            runs = self._runs_doc(m)
            if runs is not None or m in full:
                out[runs_key(m)] = runs or "{}"
        return out

    def _runs_doc(self, machine: str) -> str | None:
        """Which order `machine` runs and the runs it touched since the last checkpoint
        (the one it ran then and the one it runs now); None when neither exists."""
        m = self.machines[machine]
        last = self._ran.get(machine)
        self._ran[machine] = m.current
        ids = [i for i in dict.fromkeys((last, m.current)) if i is not None and i in self.book.runs]
        if not ids:
            return None
        runs = {
            i: {k: v for k, v in self.book.runs[i].dump().items() if k in _RUN_FIELDS} for i in ids
        }
        doc = {"v": CHECKPOINT_VERSION, "current": m.current, "source": m.source, "runs": runs}
        return json.dumps(doc, separators=(",", ":"))

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
                self._overlay(m, json.loads(meta.get(runs_key(machine)) or "{}"))
            except (ValueError, KeyError, TypeError) as exc:
                log.error("orders of %s not restored: %s", machine, exc)
            self._ran[machine] = m.current
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

    def _overlay(self, m: MachineOrders, doc: dict[str, Any]) -> None:
        """The runs committed after the full checkpoint, laid over it."""
        if not doc:
            return
        if doc.get("v") != CHECKPOINT_VERSION:
            raise ValueError(f"runs version {doc.get('v')!r}")
        for order_id, fields in doc["runs"].items():
            run = self.book.runs.get(order_id)
            if run is not None:
                points = run.points
                loaded = RunState.load({**run.dump(), **fields})
                self.book.runs[order_id] = dataclasses.replace(loaded, points=points)
        m.current, m.source = doc["current"], doc["source"]
