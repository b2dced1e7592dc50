"""What people and other systems do to the order engine (`edge.engines.orders`): orders
sent to the intake topic or through the API (created, updated, deleted), and an
operator's start, pause, resume or end of an order (`OrderCommand`), with the checks the
API makes first (`conflict`, `refusal`: why a change does not apply, named)."""

from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import Literal

from core.orders import OrderCommand, OrderEdit, OrderEdited, OrderProgress, OrderSource
from edge.config import Config
from edge.engines.oee import ideal_cycle_s
from edge.engines.order_book import OrderBook, RunState
from edge.engines.order_figures import order_oee, progress_of
from edge.engines.order_intake import parse_orders
from edge.engines.order_machine import MachineOrders
from oee.orders import WorkOrder

__all__ = ["FIXED_ONCE_STARTED", "OrderActs", "OrderConflict", "Outcome"]

#: What an order is for: once it started, these no longer change (its parts were made
#: of that product on that machine); quantity, due, planned start, ideal cycle and
#: customer still may.
FIXED_ONCE_STARTED = ("machine", "product")
Outcome = Literal["created", "updated", "unchanged"]


class OrderConflict(Exception):
    """A change that does not apply to the order as it stands; `field` names what."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


def _iso(t: datetime) -> str:
    return t.isoformat().replace("+00:00", "Z")


def describe(run: RunState, current: bool) -> str:
    """How an order stands, for a refusal's message."""
    if run.ended is not None:
        return f"it ended at {_iso(run.ended)}"
    if run.started is None:
        return "it has not started"
    if run.paused_now:
        return f"it is paused since {_iso(run.paused[-1][0])}"
    return "it runs" if current else "it is not running"


class OrderActs:
    """`intake`, `put_orders`, `delete`, `command` and their checks, of the order engine."""

    book: OrderBook
    machines: dict[str, MachineOrders]
    refused: int
    fixed: list[WorkOrder]
    config: Config
    _tagged: dict[str, str]

    def _once(self, key: str, msg: str, *args: object) -> None: ...

    def _account(self, m: MachineOrders, until: datetime) -> None: ...

    def _switch(self, m: MachineOrders, ts: datetime) -> None: ...

    def intake(self, payload: bytes) -> tuple[list[WorkOrder], list[str]]:
        """Orders sent to the intake topic: taken (idempotent by id), or refused, each
        refusal logged once and counted. The machines concerned publish at once."""
        return self.take_parsed(*parse_orders(payload, self.machines))

    def take_parsed(
        self, orders: list[WorkOrder], errors: list[str]
    ) -> tuple[list[WorkOrder], list[str]]:
        """What `parse_orders` made of an intake message (parsed off the event loop by
        the gateway): the orders taken, the refusals logged once and counted."""
        for err in errors:
            self.refused += 1
            self._once(f"intake:{err}", "order refused at the intake: %s", err)
        return [o for o in orders if self._take(o) is not None], errors

    def _take(self, order: WorkOrder) -> WorkOrder | None:
        """Put `order` in the book; the order it replaced (itself when new), None when it
        was known exactly so. Its machines publish at once."""
        before = self.book.orders.get(order.id)
        if not self.book.put(order):
            return None
        for mid in {order.machine, before.machine if before else order.machine}:
            self.machines[mid].announced = "\0"  # publish it again
        return before or order

    # --- the API's changes -----------------------------------------------------------

    def outcome(self, order: WorkOrder) -> Outcome:
        """What putting `order` would do."""
        before = self.book.orders.get(order.id)
        return "created" if before is None else "unchanged" if before == order else "updated"

    def conflict(self, order: WorkOrder) -> OrderConflict | None:
        """Why `order` cannot replace the book's order of its id (None: it can): an order
        of the config, or a started order's machine or product."""
        before = self.book.orders.get(order.id)
        if before is None or before == order:
            return None
        if order.id in {o.id for o in self.fixed}:
            return OrderConflict("id", f"order {order.id} is fixed in the config (orders.fixed): "
                                       "change it there")  # fmt: skip
        started = self.book.runs[order.id].started
        for name in FIXED_ONCE_STARTED:
            old, new = getattr(before, name), getattr(order, name)
            if started is not None and old != new:
                return OrderConflict(name, f"order {order.id} started at {_iso(started)}: its "
                                     f"{name} cannot change ({old} -> {new}); quantity, due, "
                                     "planned_start, ideal_cycle_s and customer may")  # fmt: skip
        return None

    def put_orders(self, orders: list[WorkOrder], ts: datetime, by: str) -> list[OrderEdited]:
        """Take `orders` (checked by `conflict`); the audit event of each that changed."""
        out = []
        for order in orders:
            before = self.book.orders.get(order.id)
            if self._take(order) is not None:
                edit: OrderEdit = "created" if before is None else "updated"
                out.append(OrderEdited(order.machine, ts, order.id, edit, by, before, order))
        return out

    def delete(self, order_id: str, ts: datetime, by: str) -> OrderEdited:
        """Drop an order not started (KeyError: unknown; OrderConflict: started, or of
        the config); its machine publishes at once."""
        order, run = self.book.orders[order_id], self.book.runs[order_id]
        if order_id in {o.id for o in self.fixed}:
            raise OrderConflict("id", f"order {order_id} is fixed in the config (orders.fixed)")
        if run.started is not None:
            why = f"order {order_id} started at {_iso(run.started)}"
            raise OrderConflict("started", f"{why}: only an order not started may be deleted; "
                                "end it instead")  # fmt: skip
        m = self.machines[order.machine]
        if m.current == order_id:  # queued next, not started: the queue moves on
            m.current, m.source = None, None
        if m.operator == order_id:
            m.operator, m.held = None, False
        self.book.remove(order_id)
        m.announced = "\0"
        return OrderEdited(order.machine, ts, order_id, "deleted", by, order, None)

    def refusal(self, machine: str, order_id: str, action: str) -> str | None:
        """Why `action` of the known order `order_id` does not apply on `machine` now
        (None: it does)."""
        why = self._why_not(machine, order_id, action)
        return None if why is None else f"cannot {action} order {order_id} on {machine}: {why}"

    def _why_not(self, machine: str, order_id: str, action: str) -> str | None:
        order, run, m = self.book.orders[order_id], self.book.runs[order_id], self.machines[machine]
        if machine in self._tagged:
            return f"the machine's order tag ({self._tagged[machine]}) decides which order runs"
        if order.machine != machine:
            return f"it is for machine {order.machine}"
        runs = m.current == order_id and run.started is not None and run.ended is None
        runs = runs and not run.paused_now
        state = describe(run, runs)
        complete = run.good >= order.quantity
        return {
            "start": "it is complete" if complete and run.ended is None else
                     state if run.ended is not None or runs else None,
            "pause": None if runs else state,
            "resume": state if not run.paused_now else "it is complete" if complete else None,
            "end": None if run.started is not None and run.ended is None else state,
        }[action]  # fmt: skip

    def report(self, order_id: str, now: datetime, source: OrderSource | None) -> OrderProgress:
        """The order's progress at `now` (`source`: why it runs, None: it does not)."""
        order, run = self.book.orders[order_id], self.book.runs[order_id]
        cal = self.config.calendar_for(order.machine)
        ideal = self._ideal(order.machine, order.product, order.id)
        # The ideal expected end: at the order's ideal cycle, else its product's.
        judged = dataclasses.replace(order, ideal_cycle_s=ideal)
        got = progress_of(judged, run, now, cal, self.config.orders)
        return OrderProgress(
            order.machine, now, order, run.run(), got, source, dict(run.state_s),
            order_oee(got, ideal),
        )  # fmt: skip

    def _ideal(self, machine: str, product: str, order_id: str | None) -> float:
        order = self.book.orders.get(order_id) if order_id is not None else None
        if order is not None and order.ideal_cycle_s is not None:
            return order.ideal_cycle_s
        return ideal_cycle_s(self.config.machine(machine), product)

    # --- the operator's commands -------------------------------------------------------

    def command(self, m: MachineOrders, e: OrderCommand) -> None:
        """An operator's start, pause, resume or end of an order."""
        order = self.book.orders.get(e.order)
        if order is None or order.machine != m.id or m.id in self._tagged:
            why = "unknown order" if order is None else "not this machine's or tag-driven"
            self._once(f"cmd:{m.id}:{e.order}", "%s: %s of %s ignored (%s)", m.id, e.action,
                       e.order, why)  # fmt: skip
            return
        run = self.book.runs[e.order]
        if e.action == "end":
            self._account(m, e.ts)
            run.started = run.started or e.ts
            run.ended = run.ended or e.ts
            if run.paused_now:
                run.paused[-1] = (run.paused[-1][0], e.ts)
            m.operator, m.held = (None, False) if m.operator == e.order else (m.operator, m.held)
        elif e.action == "pause":
            m.operator, m.held = e.order, True
        else:
            run.ended = None if e.action == "resume" else run.ended
            m.operator, m.held = e.order, False
        self._switch(m, e.ts)
